"""Local-directory storage: ``<root>/<collection>/<item>/<file>``, staged then renamed."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from terrapole.errors import NotFound
from terrapole.storage.base import key_parts
from terrapole.storage.staging import PARKED_FILES, StagingArea


class LocalStorage:
    """The :class:`~terrapole.storage.base.Storage` of files under one root folder.

    A ``.staging`` folder on the same disk makes publishing a rename. ``root`` and
    ``staging_root`` are this implementation's own (its tests look at them); callers name
    ``Storage`` and do not use them. Staging folders belong to the process that made them
    (see :mod:`terrapole.storage.staging`): :meth:`clean_stale_staging` removes those of dead
    processes.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.staging_area = StagingArea(self.root)
        self.staging_root = self.staging_area.folder
        self.staging_root.mkdir(exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key_parts(key))

    def new_staging(self, what: str = "") -> Path:
        """A scratch folder on the storage's disk, owned by this process; the caller removes it.

        ``what`` starts its name (after the owner), to tell what it holds.
        """
        return self.staging_area.create(what)

    def clean_stale_staging(self) -> list[str]:
        """Remove the staging folders of processes that died (``kill -9``, power loss)."""
        return self.staging_area.clean_stale()

    @contextmanager
    def publish(self, staged: Path, prefix: str) -> Iterator[None]:
        """Put the staged files at ``prefix``; if the body raises, put the old ones back.

        Two renames on one disk: readers see either the old folder or the new one, never a mix.
        The old folder waits in a parked staging entry: if this process dies before the first
        rename is followed by the second, the next cleaning of stale staging puts it back.
        """
        target = self._path(prefix)
        target.parent.mkdir(parents=True, exist_ok=True)
        parked = self.staging_area.park(prefix, target) if target.exists() else None
        os.replace(staged, target)
        try:
            yield
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            if parked is not None:
                os.replace(parked / PARKED_FILES, target)
            raise
        finally:
            if parked is not None:
                shutil.rmtree(parked, ignore_errors=True)

    def local_path(self, key: str) -> Path:
        """The file of ``key``; NotFound when absent."""
        path = self._path(key)
        if not path.is_file():
            raise NotFound("asset", key)
        return path

    def localise(self, item: dict[str, Any]) -> dict[str, Any]:
        """Point an item's stored-asset hrefs (``/assets/<key>``) at the local files, in place."""
        for asset in item.get("assets", {}).values():
            href = asset.get("href", "")
            if href.startswith("/assets/"):
                asset["href"] = str(self.local_path(href.removeprefix("/assets/")))
        return item

    def exists(self, key: str) -> bool:
        """Whether ``key`` holds a file."""
        return self._path(key).is_file()

    def delete_prefix(self, prefix: str) -> None:
        """Remove the folder or file at ``prefix``."""
        path = self._path(prefix)
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()

    def list(self, prefix: str) -> list[str]:
        """Keys of the files under ``prefix``."""
        base = self._path(prefix)
        if not base.is_dir():
            return []
        return sorted(
            str(p.relative_to(self.root).as_posix()) for p in base.rglob("*") if p.is_file()
        )
