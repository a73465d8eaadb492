"""Where asset bytes live: one small interface, a local directory by default."""

from terrapole.storage.base import Storage
from terrapole.storage.local import LocalStorage
from terrapole.storage.staging import clean_stale_staging


def open_storage(root: str) -> Storage:
    """The storage for ``root`` (a local folder; S3-compatible URLs come with scale-out)."""
    if "://" in root and not root.startswith("file://"):
        from terrapole.errors import ConfigError

        raise ConfigError("storage", f"{root!r}: only local folders are supported for now")
    return LocalStorage(root.removeprefix("file://"))


__all__ = ["LocalStorage", "Storage", "clean_stale_staging", "open_storage"]
