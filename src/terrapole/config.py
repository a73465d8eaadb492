"""Settings: one object from TERRAPOLE_* environment variables and an optional terrapole.toml."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from terrapole.errors import ConfigError

MAX_ITEM_BYTES = 1_000_000  # default of the TERRAPOLE_MAX_ITEM_BYTES setting
DEFAULT_LIMIT = 10  # default of the TERRAPOLE_DEFAULT_LIMIT setting

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseSettings):
    """Everything terrapole can be configured with; passed down, never read from globals.

    Example:
        >>> Settings(data_dir=Path("/srv/terrapole")).database_url
        'sqlite:////srv/terrapole/terrapole.db'
    """

    model_config = SettingsConfigDict(
        env_prefix="TERRAPOLE_", toml_file="terrapole.toml", extra="forbid"
    )

    data_dir: Path = Field(default=Path("data"), description="where the database and assets live")
    database_url: str = Field(
        default="",
        description="sqlite:///PATH (embedded default) or postgresql://... (pgstac store)",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str | None = Field(
        default=None,
        description="external base URL (scheme://host[:port][/prefix]) for links behind a proxy",
    )
    log_level: LogLevel = "INFO"
    basemap_url: str | None = Field(
        default=None,
        description="XYZ or WMTS (REST) tile URL template of the portal's basemap, with "
        "{z}/{x}/{y} or {TileMatrix}/{TileCol}/{TileRow}; bundled Natural Earth countries if unset",
    )
    basemap_attribution: str = Field(
        default="", description="attribution shown under the configured basemap (its licence)"
    )
    default_limit: int = Field(
        default=DEFAULT_LIMIT, ge=1, description="page size of a STAC search that gives no limit"
    )
    max_limit: int = Field(default=10_000, ge=1, description="largest page size a search may ask")
    max_bulk_items: int = Field(default=100_000, ge=1, description="largest bulk transaction")
    count_exact_limit: int = Field(
        default=10_000,
        ge=0,
        description="searches count their matches exactly up to this many and estimate beyond",
    )
    statement_timeout_s: float = Field(
        default=60.0,
        gt=0,
        description="longest a catalogue query may run on PostgreSQL before it is cancelled",
    )
    max_item_bytes: int = Field(
        default=MAX_ITEM_BYTES,
        ge=10_000,
        description="largest STAC item document (bytes of JSON) a load or transaction accepts",
    )
    insitu_max_upload_bytes: int = Field(
        default=200_000_000,
        ge=1,
        description="largest body (bytes) the in-situ admin import accepts (413 beyond)",
    )
    deposit_max_file_bytes: int = Field(
        default=5_000_000_000,
        ge=1,
        description="largest file (bytes) a long-tail deposit accepts",
    )
    ingest_roots: list[Path] = Field(
        default_factory=list,
        description="folders ingest may read from (required for API ingest; CLI: any if empty)",
    )
    ingest_workers: int = Field(default=2, ge=1, description="processes writing COGs in parallel")
    dask_scheduler: str | None = Field(
        default=None,
        description="external Dask scheduler address (tcp://host:8786); a LocalCluster if unset",
    )
    dask_workers: int = Field(default=2, ge=1, description="LocalCluster worker processes")
    dask_threads: int = Field(default=1, ge=1, description="threads per LocalCluster worker")
    dask_processes: bool = Field(
        default=True, description="LocalCluster workers as processes (false: threads, for tests)"
    )
    dask_gdal_cache_mb: int | None = Field(
        default=None,
        ge=16,
        description="GDAL block cache of each LocalCluster worker process in MB (unset: GDAL's "
        "default, 5 % of the RAM each); smaller caps the workers' memory, slows COG making",
    )
    production_chains: list[str] = Field(
        default_factory=list,
        description="chains the server runs by themselves (cadence, after ingest); none if empty",
    )
    landcover_training: Path | None = Field(
        default=None,
        description="GeoJSON training polygons ('class', 'name', 'color') of the landcover chain",
    )
    job_credit_cpu_s: float = Field(
        default=30_000.0, ge=0, description="CPU·s each user may spend on jobs (admins can change)"
    )
    cars_command: str | None = Field(
        default=None,
        description="the CNES CARS command of the stereo DSM service (found beside Python or "
        "on PATH when unset; the service is offered only where CARS is found)",
    )
    job_retention_days: float = Field(
        default=30.0, gt=0, description="days a job's results are kept before the purge"
    )
    production_interval_s: float = Field(
        default=600.0, gt=0, description="how often the server looks for due production work"
    )
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server of the account mails (verification, reset); unset: the mails "
        "and their links are written to the log",
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="port of the SMTP server")
    smtp_from: str = Field(
        default="terrapole@localhost", description="sender address of the account mails"
    )
    smtp_starttls: bool = Field(default=True, description="upgrade the SMTP session with STARTTLS")
    smtp_user: str | None = Field(default=None, description="SMTP login (none: no AUTH)")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password")
    oidc_issuer: str | None = Field(
        default=None,
        description="issuer URL of the OpenID Connect provider users may sign in with (its "
        "discovery document is {issuer}/.well-known/openid-configuration); unset: OIDC is off",
    )
    oidc_client_id: str = Field(default="", description="this server's client id at the provider")
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="this server's client secret at the provider (none: public)"
    )
    oidc_scopes: str = Field(
        default="openid email profile", description="scopes asked for at sign-in (with openid)"
    )
    oidc_title: str = Field(
        default="OpenID Connect",
        max_length=100,
        description="name of the provider on the login button ('Sign in with <title>')",
    )
    usage_retention_days: int = Field(
        default=730, ge=1, description="days of usage statistics kept before the prune"
    )
    prune_interval_s: float = Field(
        default=3600.0,
        ge=0,
        description="how often the server deletes stale login failures, sessions, mailed links "
        "and old usage rows; 0: never (run `terrapole prune` from cron instead)",
    )
    mail_language: Literal["en", "fr"] = Field(
        default="en",
        description="language of the order mails to a recipient who chose none (accounts keep "
        "no language yet)",
    )
    datacite_url: str | None = Field(
        default=None,
        description="DataCite REST API of the DOI provider (https://api.datacite.org, or "
        "https://api.test.datacite.org for the test instance); unset: records get local "
        "identifiers",
    )
    datacite_prefix: str = Field(
        default="", description="the DOI prefix of the DataCite repository (10.xxxx)"
    )
    datacite_repository_id: str = Field(
        default="", description="the DataCite repository id (HTTP Basic user of the REST API)"
    )
    datacite_password: SecretStr | None = Field(
        default=None, description="the DataCite repository password"
    )
    datacite_timeout_s: float = Field(
        default=30.0, gt=0, description="longest wait for one DataCite answer"
    )
    doi_landing_base: str | None = Field(
        default=None,
        description="public URL the DOIs resolve to, the record id appended (default "
        "<public_url>/records/)",
    )

    @property
    def assets_dir(self) -> Path:
        """Where asset files are stored (``<data_dir>/assets``)."""
        return self.data_dir / "assets"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Order: explicit arguments, then environment, then terrapole.toml."""
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("oidc_issuer")
    @classmethod
    def _check_oidc_issuer(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http:// for a local test provider)")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _check_oidc(self) -> Settings:
        if self.oidc_issuer and not self.oidc_client_id:
            raise ValueError("oidc_client_id is required when oidc_issuer is set")
        if self.oidc_issuer and "openid" not in self.oidc_scopes.split():
            raise ValueError("oidc_scopes must contain 'openid'")
        return self

    @field_validator("datacite_url", "doi_landing_base")
    @classmethod
    def _check_http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http:// for a local test server)")
        return value

    @model_validator(mode="after")
    def _check_datacite(self) -> Settings:
        if not self.datacite_url:
            return self
        if not re.fullmatch(r"10\.\d{4,9}", self.datacite_prefix):
            raise ValueError("datacite_prefix must be a DOI prefix like 10.5072 with datacite_url")
        if not self.datacite_repository_id or self.datacite_password is None:
            raise ValueError(
                "datacite_repository_id and datacite_password are required with datacite_url"
            )
        return self

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir.resolve()}/terrapole.db"
        if not self.database_url.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError(
                "database_url must start with sqlite:/// or postgresql:// "
                f"(got {self.database_url.split(':', 1)[0]!r})"
            )
        if self.default_limit > self.max_limit:
            raise ValueError("default_limit must not exceed max_limit")
        return self

    @property
    def backend(self) -> Literal["sqlite", "pgstac"]:
        """Which catalogue store the database URL selects."""
        return "sqlite" if self.database_url.startswith("sqlite") else "pgstac"

    @property
    def sqlite_path(self) -> Path:
        """Filesystem path of the embedded database (only for the sqlite backend)."""
        return Path(self.database_url.removeprefix("sqlite:///"))


def load_settings(**overrides: object) -> Settings:
    """Build settings; a validation failure becomes a ConfigError naming the setting."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        name = f"TERRAPOLE_{where.upper()}" if first["loc"] else where
        raise ConfigError(name, first["msg"]) from exc
    logging.getLogger("terrapole").setLevel(settings.log_level)
    return settings
