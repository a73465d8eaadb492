"""The Storage protocol: keys are ``collection/item/file`` paths, values are files.

Callers name :class:`Storage` only and get one from :func:`terrapole.storage.open_storage`;
:class:`~terrapole.storage.local.LocalStorage` is the one implementation today. Each method
says what an S3-compatible implementation would do, so that one can be added without touching
callers; ``tests/storage/test_contract.py`` holds every implementation to the same contract.

Writers (COG makers, GDAL, external commands) need real files, so staging is always a local
folder: writers fill it, :meth:`Storage.publish` moves or uploads it. Readers (rasterio, a
``FileResponse``, CARS) need real files too, so :meth:`Storage.local_path` and
:meth:`Storage.localise` give local files.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from terrapole.errors import InvalidInput


def key_parts(key: str) -> tuple[str, ...]:
    """The parts of a storage key; InvalidInput unless it is ``part/part/...`` as documented.

    Refused: empty, absolute (``/etc/passwd``), ``..`` or any part starting with a dot, empty
    parts (``a//b``, a trailing ``/``), NUL characters: a key never leaves the storage's root
    and names one object, the same one in every implementation.
    """
    parts = tuple(key.split("/"))
    if not key or "\0" in key or any(not p or p.startswith(".") for p in parts):
        raise InvalidInput("key", f"{key!r} is not a storage key")
    return parts


class Storage(Protocol):
    """Asset bytes, addressed by key; writes land atomically, a whole item folder at a time.

    A key is a relative POSIX path of non-empty parts, none ``.``, ``..`` or starting with a
    dot (those names are the storage's own); any other key raises ``InvalidInput``.
    """

    def new_staging(self, what: str = "") -> Path:
        """A new empty local folder owned by this process, ``what`` starting its name.

        The caller fills it and removes it (or publishes it). Local: under ``<root>/.staging``
        on the storage's own disk, so that publishing is a rename. S3: under a local scratch
        root given at construction, owned the same way (a lock held for the process's life).
        """
        ...

    def clean_stale_staging(self) -> list[str]:
        """Remove what processes that died left in staging; returns the names removed.

        Folders of live processes are kept. A publish its process died in leaves, once
        cleaned, either the previous files or the new ones under its prefix, never a mix or
        nothing. S3: the same for the local scratch root, plus aborting the dead process's
        multipart uploads and settling its parked objects.
        """
        ...

    def publish(self, staged: Path, prefix: str) -> AbstractContextManager[None]:
        """Put the files of ``staged`` at ``prefix`` in place of the old ones, atomically.

        The staged folder is consumed. Inside the ``with`` body the new files are in place; if
        the body raises, the previous files under ``prefix`` (or none) are restored and the
        exception propagates. Local: two renames on one disk, so readers never see a mix.
        S3 (no atomic rename): copy the old objects to a parked prefix, upload the new ones,
        delete old keys the new set lacks; on failure copy the parked ones back. Readers may
        see a mix during the upload unless items point at a versioned prefix.
        """
        ...

    def local_path(self, key: str) -> Path:
        """A readable local file holding ``key``'s bytes (raises NotFound if none).

        Local: the stored file itself. S3: a copy in a local read-through cache (keyed by key
        and ETag), downloaded on first use.
        """
        ...

    def localise(self, item: dict[str, Any]) -> dict[str, Any]:
        """Point an item's stored-asset hrefs (``/assets/<key>``) at local files, in place.

        Each such href becomes ``str(local_path(key))`` (NotFound if a file is missing); other
        hrefs are left alone. Returns ``item``. S3: the same, through the read-through cache.
        """
        ...

    def exists(self, key: str) -> bool:
        """Whether ``key`` holds a file (a prefix holding files is not one)."""
        ...

    def delete_prefix(self, prefix: str) -> None:
        """Remove the file at ``prefix`` or every file under it (no error if none)."""
        ...

    def list(self, prefix: str) -> list[str]:
        """The keys of the files under ``prefix``, sorted ([] if none)."""
        ...
