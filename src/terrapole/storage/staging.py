"""Staging folders owned by a live process, and the removal of those a dead one left behind.

Every entry of ``<root>/.staging`` is named after the process that made it:
``<owner>-<what><random>``, the owner being ``p<pid>.<random>``. Before its first entry an owner
creates ``<root>/.locks/<owner>.lock`` and holds an exclusive ``flock`` on it for as long as it
lives: the kernel releases the lock when the process dies, however it dies (``kill -9``
included), and a forked child inherits it, so the entries stay owned while any of them lives.
:meth:`StagingArea.clean_stale` tries each owner's lock without waiting; when it gets it, the
owner is gone: its entries are removed (an item folder parked aside during a publish is put
back first when its place is empty) and so is the lock file. Entries named without an owner
(made before owners existed) are removed once untouched for :data:`UNOWNED_AGE_S`.

PIDs alone would not do: a PID is reused, and a process in another PID namespace (a container
sharing the data folder) has its own; a held lock belongs to the live process whatever its PID.
"""

from __future__ import annotations

import atexit
import fcntl
import logging
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path

from terrapole.errors import InvalidInput
from terrapole.storage.base import key_parts

logger = logging.getLogger(__name__)

STAGING = ".staging"
LOCKS = ".locks"
UNOWNED_AGE_S = 24 * 3600
PARKED_FILES = "files"  # inside a parked entry: the item folder that was replaced
PARKED_KEY = "restore-to"  # inside a parked entry: the storage key it came from

_OWNER = re.compile(r"p\d+\.[0-9a-f]{8}")
_owners: dict[tuple[int, Path], tuple[str, int]] = {}  # (pid, storage root) -> (owner, fd)
_owners_lock = threading.Lock()


def _reset_after_fork() -> None:
    global _owners_lock
    _owners_lock = threading.Lock()  # another thread may have held it at the fork


os.register_at_fork(after_in_child=_reset_after_fork)


@atexit.register
def _release_owners() -> None:
    """At a normal exit, drop this process's lock files that guard no entry any more."""
    for (pid, root), (owner, _) in list(_owners.items()):
        if pid == os.getpid() and not any((root / STAGING).glob(f"{owner}-*")):
            (root / LOCKS / f"{owner}.lock").unlink(missing_ok=True)


def owner_of(name: str) -> str | None:
    """The owner a staging entry's name carries, None for an entry of an older version."""
    owner = name.split("-", 1)[0]
    return owner if _OWNER.fullmatch(owner) and owner != name else None


def _same_file(fd: int, path: Path) -> bool:
    try:
        here = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (held.st_dev, held.st_ino)


class StagingArea:
    """The staging folder of a storage root: owned entries, and the cleaning of stale ones."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / STAGING
        self.locks = root / LOCKS

    def owner(self) -> str:
        """This process's owner name, its lock taken (and kept) on first use."""
        key = (os.getpid(), self.root)
        with _owners_lock:
            if key not in _owners:
                _owners[key] = self._lock_new_owner()
            return _owners[key][0]

    def _lock_new_owner(self) -> tuple[str, int]:
        self.locks.mkdir(parents=True, exist_ok=True)
        while True:
            owner = f"p{os.getpid()}.{secrets.token_hex(4)}"
            path = self.locks / f"{owner}.lock"
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                continue
            # a cleaner may open the file between its creation and this lock, take the lock
            # first and delete the file: then ours is on an unlinked file, so try another name
            fcntl.flock(fd, fcntl.LOCK_EX)
            if _same_file(fd, path):
                return owner, fd
            os.close(fd)

    def create(self, what: str = "") -> Path:
        """A new empty folder owned by this process; the caller removes it when done."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=self.folder, prefix=f"{self.owner()}-{what}"))

    def park(self, key: str, folder: Path) -> Path:
        """Move ``folder`` (the files of ``key``) aside; restored by a cleaner if its owner dies.

        Returns the parked entry: its ``files`` are the folder; remove the entry when done.
        """
        entry = self.create("parked-")
        (entry / PARKED_KEY).write_text(key)
        os.replace(folder, entry / PARKED_FILES)
        return entry

    def clean_stale(self) -> list[str]:
        """Remove what dead owners left (and old unowned entries); returns the names removed."""
        if not self.folder.is_dir():
            return []
        by_owner: dict[str | None, list[Path]] = {}
        for entry in sorted(self.folder.iterdir()):
            by_owner.setdefault(owner_of(entry.name), []).append(entry)
        removed = [e.name for e in by_owner.pop(None, []) if self._remove_unowned(e)]
        lock_files = sorted(self.locks.glob("*.lock")) if self.locks.is_dir() else []
        owners = set(by_owner) | {p.stem for p in lock_files if _OWNER.fullmatch(p.stem)}
        for owner in sorted(o for o in owners if o is not None):
            removed += self._clean_owner(owner, by_owner.get(owner, []))
        if removed:
            logger.info("removed %d stale staging entr(ies): %s", len(removed), removed)
        return removed

    def _clean_owner(self, owner: str, entries: list[Path]) -> list[str]:
        """The entries of ``owner`` if it is dead, and its lock file; none while it lives."""
        path = self.locks / f"{owner}.lock"
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            # owners take their lock before making anything: without one, the owner is gone
            # (another cleaner is finishing with these entries)
            return [e.name for e in entries if self._remove(e)]
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return []  # alive (or a child of it is)
            if not _same_file(fd, path):
                return []  # another cleaner removed it meanwhile
            removed = [e.name for e in entries if self._remove(e)]
            path.unlink(missing_ok=True)
            return removed
        finally:
            os.close(fd)

    def _remove(self, entry: Path) -> bool:
        parked = entry / PARKED_FILES
        key_file = entry / PARKED_KEY
        if parked.is_dir() and key_file.is_file():
            self._restore(key_file.read_text(), parked)
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        return not entry.exists()

    def _restore(self, key: str, parked: Path) -> None:
        """Put a parked item folder back if nothing took its place (the publish died between)."""
        try:
            target = self.root.joinpath(*key_parts(key))
        except InvalidInput:
            return
        if target.exists():
            return  # the new files made it in: the parked ones are the old version
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(parked, target)
            logger.warning("restored %s, left aside by a publish that did not finish", key)
        except OSError:  # another cleaner restored it first
            pass

    def _remove_unowned(self, entry: Path) -> bool:
        try:
            age = time.time() - entry.stat().st_mtime
        except FileNotFoundError:
            return False
        return age > UNOWNED_AGE_S and self._remove(entry)


def clean_stale_staging(root: str | Path) -> list[str]:
    """Remove the staging debris dead processes left under the storage ``root`` (if any)."""
    return StagingArea(Path(root).resolve()).clean_stale()
