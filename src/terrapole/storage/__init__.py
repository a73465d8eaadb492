"""Where asset bytes live: the :class:`Storage` protocol, a local directory by default.

Callers name ``Storage`` and get one from :func:`open_storage`; the implementations
(``LocalStorage`` today, an S3-compatible one later) are chosen here and nowhere else.
"""

from __future__ import annotations

from pathlib import Path

from terrapole.config import Settings
from terrapole.errors import ConfigError
from terrapole.storage.base import Storage
from terrapole.storage.local import LocalStorage


def open_storage(where: Settings | str | Path) -> Storage:
    """The storage of ``settings`` (its assets folder), or of a root folder or ``file://`` URL.

    The one constructor callers use: ``open_storage(settings)``; the folder is made if missing.
    """
    root = str(where.assets_dir) if isinstance(where, Settings) else str(where)
    if "://" in root and not root.startswith("file://"):
        raise ConfigError("storage", f"{root!r}: only local folders are supported for now")
    return LocalStorage(root.removeprefix("file://"))


__all__ = ["LocalStorage", "Storage", "open_storage"]
