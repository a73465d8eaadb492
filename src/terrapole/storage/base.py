"""The Storage protocol: keys are ``collection/item/file`` paths, values are files."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol


class Storage(Protocol):
    """Asset bytes, addressed by key; writes land atomically, a whole item folder at a time."""

    def staging(self) -> AbstractContextManager[Path]:
        """A private scratch folder, removed on exit unless committed with ``commit``."""
        ...

    def publish(self, staged: Path, prefix: str) -> AbstractContextManager[None]:
        """Swap the staged folder in at ``prefix``; restore the old files if the body raises."""
        ...

    def local_path(self, key: str) -> Path:
        """A readable local file for ``key`` (raises NotFound)."""
        ...

    def localise(self, item: dict[str, Any]) -> dict[str, Any]:
        """Point an item's stored-asset hrefs at files readers can open, in place."""
        ...

    def exists(self, key: str) -> bool:
        """Whether ``key`` holds a file."""
        ...

    def delete_prefix(self, prefix: str) -> None:
        """Remove every file under ``prefix`` (no error if none)."""
        ...

    def list(self, prefix: str) -> list[str]:
        """Keys under ``prefix``, sorted."""
        ...
