"""Settings: read from TERRAPOLE_* variables and terrapole.toml (in that order of precedence),
bad values refused naming the setting, and every setting read by the code it configures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from terrapole.config import Settings, load_settings
from terrapole.errors import ConfigError

from .conftest import S2_COLLECTION, S2_ITEMS, s2_collection

SRC = Path(__file__).resolve().parents[1] / "src" / "terrapole"


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder, where a terrapole.toml may be written."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_settings_come_from_the_environment(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERRAPOLE_DATA_DIR", str(in_tmp / "srv"))
    monkeypatch.setenv("TERRAPOLE_PORT", "9001")
    monkeypatch.setenv("TERRAPOLE_LOG_LEVEL", "debug")
    monkeypatch.setenv("TERRAPOLE_PRODUCTION_CHAINS", '["snow", "water"]')
    monkeypatch.setenv("TERRAPOLE_LANDCOVER_TRAINING", str(in_tmp / "polygons.geojson"))
    settings = load_settings()
    assert settings.data_dir == in_tmp / "srv"
    assert settings.database_url == f"sqlite:///{(in_tmp / 'srv').resolve()}/terrapole.db"
    assert settings.port == 9001 and settings.log_level == "DEBUG"
    assert settings.production_chains == ["snow", "water"]
    assert settings.landcover_training == in_tmp / "polygons.geojson"


def test_settings_come_from_terrapole_toml_below_the_environment(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (in_tmp / "terrapole.toml").write_text(
        'port = 8100\ndefault_limit = 25\nproduction_chains = ["indices"]\n'
        'public_url = "https://eo.example.org/hub/"\n'
    )
    settings = load_settings()
    assert settings.port == 8100 and settings.default_limit == 25
    assert settings.production_chains == ["indices"]
    assert settings.public_url == "https://eo.example.org/hub"
    monkeypatch.setenv("TERRAPOLE_PORT", "8200")
    assert load_settings().port == 8200  # the environment wins over the file
    assert load_settings(port=8300).port == 8300  # and an explicit value over both


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("TERRAPOLE_PORT", "70000", "TERRAPOLE_PORT"),
        ("TERRAPOLE_PORT", "eighty", "TERRAPOLE_PORT"),
        ("TERRAPOLE_LOG_LEVEL", "chatty", "TERRAPOLE_LOG_LEVEL"),
        ("TERRAPOLE_PUBLIC_URL", "eo.example.org", "TERRAPOLE_PUBLIC_URL"),
        ("TERRAPOLE_DEFAULT_LIMIT", "0", "TERRAPOLE_DEFAULT_LIMIT"),
        ("TERRAPOLE_DATABASE_URL", "mysql://db/eo", "database_url must start with"),
    ],
)
def test_a_bad_value_is_a_config_error_naming_the_setting(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=re.escape(named)):
        load_settings()


def test_a_bad_value_in_terrapole_toml_names_the_setting(in_tmp: Path) -> None:
    (in_tmp / "terrapole.toml").write_text("dask_workers = 0\n")
    with pytest.raises(ConfigError, match="TERRAPOLE_DASK_WORKERS") as raised:
        load_settings()
    assert raised.value.setting == "TERRAPOLE_DASK_WORKERS"


def test_an_unknown_setting_in_terrapole_toml_is_refused_by_name(in_tmp: Path) -> None:
    (in_tmp / "terrapole.toml").write_text("default_workers = 4\n")
    with pytest.raises(ConfigError, match="TERRAPOLE_DEFAULT_WORKERS"):
        load_settings()


def test_default_limit_may_not_exceed_max_limit(in_tmp: Path) -> None:
    with pytest.raises(ConfigError, match="default_limit must not exceed max_limit"):
        load_settings(default_limit=50, max_limit=20)


def _reads(name: str) -> list[Path]:
    """The source files outside config.py that read the setting (``x.name`` or ``x.name()``)."""
    pattern = re.compile(rf"\.{name}\b")
    return [
        path
        for path in SRC.rglob("*.py")
        if path.name != "config.py" and pattern.search(path.read_text())
    ]


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_read_by_the_code(name: str) -> None:
    """A setting nothing reads is a promise the code does not keep (issue 19: default_limit)."""
    assert _reads(name), f"no module reads the setting {name!r}: wire it or remove it"


def test_default_limit_is_the_page_size_of_a_stac_search_without_limit(tmp_path: Path) -> None:
    from terrapole.app import create_app
    from terrapole.catalog.loader import load_paths

    app = create_app(Settings(data_dir=tmp_path, default_limit=3))
    report = load_paths(app.state.services.store, [S2_COLLECTION, S2_ITEMS])
    assert not report.rejected and report.loaded == 101
    with TestClient(app) as client:
        assert len(client.get("/stac/search").json()["features"]) == 3
        assert len(client.get("/stac/search", params={"limit": 10}).json()["features"]) == 10
        page = client.post("/stac/search", json={}).json()
        assert len(page["features"]) == 3
        following = next(link for link in page["links"] if link["rel"] == "next")
        assert "limit" not in following["body"]  # the next page is the default size too
        second = client.post("/stac/search", json=following["body"]).json()
        assert len(second["features"]) == 3
        assert {f["id"] for f in second["features"]}.isdisjoint(f["id"] for f in page["features"])
        assert len(client.post("/stac/search", json={"limit": 10}).json()["features"]) == 10
        items = client.get(f"/stac/collections/{s2_collection()['id']}/items").json()
        assert len(items["features"]) == 3
