"""Real processes for the crash tests: a staging owner to kill, and waiting on /proc."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
WAIT_S = 60.0
TERRAPOLE = Path(sys.executable).with_name("terrapole")

# makes a staging folder in the storage root argv[1], prints it, then lives until stdin closes;
# argv[2]: "fork": a forked child does that while the process that made it exits at once;
# "park:KEY": the folder is KEY's files moved aside, as a publish does before its swap
OWNER = """
import os, sys
from pathlib import Path
from terrapole.storage.staging import StagingArea
area = StagingArea(Path(sys.argv[1]))
mode = sys.argv[2]
if mode.startswith("park:"):
    folder = area.park(mode[5:], area.root / mode[5:])
else:
    folder = area.create("live-")
if mode == "fork" and os.fork() != 0:
    os._exit(0)
print(os.getpid(), folder, flush=True)
sys.stdin.read()
"""


@dataclass
class Owner:
    """A process owning one staging folder."""

    process: subprocess.Popen[str]
    pid: int
    folder: Path

    def kill(self) -> None:
        """``kill -9``, then wait until it is gone."""
        os.kill(self.pid, 9)
        wait_for(lambda: not alive(self.pid), f"process {self.pid} to die")


@contextmanager
def staging_owner(root: Path, mode: str = "live") -> Iterator[Owner]:
    """A live process owning a staging folder of the storage ``root`` until the block ends."""
    args = [sys.executable, "-c", OWNER, str(root), mode]
    process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdin is not None
    pid, folder = process.stdout.readline().split(" ", 1)
    owner = Owner(process, int(pid), Path(folder.strip()))
    try:
        yield owner
    finally:
        process.stdin.close()
        process.wait()
        process.stdout.close()
        if alive(owner.pid):
            wait_for(lambda: not alive(owner.pid), f"process {owner.pid} to exit")


def _stat(pid: int) -> tuple[str, int] | None:
    """State and parent of ``pid`` from /proc, None once it has gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie nobody reaped yet does not)."""
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def descendants(pid: int) -> list[int]:
    """The live processes below ``pid``."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) and stat[0] not in "ZX":
            parents[int(entry.name)] = stat[1]
    found, frontier = [], [pid]
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def wait_for(condition: Callable[[], T], what: str, timeout_s: float = WAIT_S) -> T:
    """Poll ``condition`` until it is true; fail naming ``what`` if it never becomes so."""
    deadline = time.monotonic() + timeout_s
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
    return result


def start_cli(data_dir: Path, *args: str) -> subprocess.Popen[bytes]:
    """``terrapole ARGS`` on ``data_dir`` in a process of its own, its output discarded."""
    env = {**os.environ, "TERRAPOLE_DATA_DIR": str(data_dir)}
    return subprocess.Popen([TERRAPOLE, *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
