"""Running CNES CARS (the ``[dsm]`` extra) as a child process: its configuration, the seeds'
stages read from its log, its CPU time, and stopping it.

CARS runs as its own command (``cars config.json``), in its own process group, so that a
dismissed job kills it with all its workers, and so that its CPU time, which is not the job
worker's, can be counted: from the process tree while it runs, exactly from ``wait4`` when it
ends. Its main log (``<out>/logs/*_default.log``) tells where it is; :func:`read_line` maps those
lines onto DSM-OPT's stages:

- TIE-POINT: CARS's ``tie_points`` task (SIFT matches between the epipolar images);
- BUNDLE ADJUSTMENT: ``generate_disparity_grids``, where CARS corrects the right image's epipolar
  grid by the matches (the relative orientation the tie points refine) and bounds the disparity;
- DENSE MATCHING: ``disparity_to_depth_maps`` and the first ``rasterize_point_cloud`` run (CARS
  computes lazily, so dense matching and triangulation happen inside that task);
- POST-PROCESSING: DSM filling and formatting.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from terrapole.jsontypes import Json

# (pattern, stage) in the order CARS logs them; the first that matches a line wins
MARKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Started task tie_points\b"), "TIE-POINT"),
    (re.compile(r"Started task generate_disparity_grids\b"), "BUNDLE ADJUSTMENT"),
    (re.compile(r"Started task (disparity_to_depth_maps|rasterize_point_cloud)\b"),
     "DENSE MATCHING"),
    (re.compile(r"MonoBand Filling|Starting formatting pipeline"), "POST-PROCESSING"),
)  # fmt: skip
PERCENT = re.compile(r"(\d{1,3})% complete")
MATCHES = re.compile(r"Number of matches kept for epipolar error correction: (\d+) matches")
EPIPOLAR = re.compile(r"Epipolar error after correction: mean = (-?[\d.]+) pix\., "
                      r"standard deviation = ([\d.]+) pix")  # fmt: skip
FAILURE = re.compile(r"CARS terminated with following error: (.*)")


@dataclass(frozen=True)
class Mark:
    """What one log line says: a stage entered, a % within the stage, or a figure."""

    stage: str | None = None
    percent: float | None = None
    figures: Json | None = None
    error: str | None = None


def read_line(line: str) -> Mark | None:
    """The news in one line of CARS's main log, or None."""
    for pattern, stage in MARKS:
        if pattern.search(line):
            return Mark(stage=stage)
    if found := PERCENT.search(line):
        return Mark(percent=float(found.group(1)))
    if found := MATCHES.search(line):
        return Mark(figures={"terrapole:tie_points": int(found.group(1))})
    if found := EPIPOLAR.search(line):
        return Mark(figures={"terrapole:epipolar_error_std_px": float(found.group(2))})
    if found := FAILURE.search(line):
        return Mark(error=found.group(1).strip())
    return None


def find_command(configured: str | None = None) -> str | None:
    """The ``cars`` command: the configured one, else the one beside this Python, else PATH."""
    if configured:
        return shutil.which(configured)
    beside = Path(sys.executable).parent / "cars"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("cars")


@dataclass(frozen=True)
class Sensor:
    """One image of the pair in sensor geometry, with its geometric model (RPC)."""

    image: Path
    geomodel: Path


def configuration(
    left: Sensor, right: Sensor, out: Path, *, resolution: float, dem: Path | None = None,
    roi: Json | None = None, workers: int = 1,
) -> Json:  # fmt: skip
    """The CARS 1.x configuration for one pair at full resolution.

    The subsampled first passes of CARS's default pipeline are left out: on a small extract
    they find too few tie points (a 500 px crop at 1/4 gives 18 matches, under the 90 CARS
    needs) and stop with an empty DSM.
    """
    sensors = {name: {"image": str(s.image), "geomodel": {"path": str(s.geomodel)}}
               for name, s in (("left", left), ("right", right))}  # fmt: skip
    inputs: Json = {"sensors": sensors, "pairing": [["left", "right"]]}
    if dem is not None:
        inputs["initial_elevation"] = str(dem)
    if roi is not None:
        inputs["roi"] = roi
    orchestrator: Json = (
        {"mode": "sequential"} if workers <= 1
        else {"mode": "multiprocessing", "nb_workers": workers}
    )  # fmt: skip
    return {
        "input": inputs,
        "pipeline": ["surface_modeling", "tie_points", "formatting"],
        "orchestrator": orchestrator,
        "output": {"directory": str(out), "resolution": resolution},
    }


def environment(parent: dict[str, str]) -> dict[str, str]:
    """The environment CARS runs in: the worker's, without its malloc tuning.

    Dask workers get ``MALLOC_MMAP_THRESHOLD_`` (ours: 64 MiB) and ``MALLOC_TRIM_THRESHOLD_``;
    with them CARS 1.3 dies of a segmentation fault as dense matching starts (seen on the
    Ventoux pair), so they are left out; the thread limits stay.
    """
    return {k: v for k, v in parent.items() if not k.startswith("MALLOC_")}


def _tree_cpu_s(pid: int) -> float:
    """CPU·s of a running process and its live children (what ``wait4`` will count, so far)."""
    try:
        root = psutil.Process(pid)
        total = 0.0
        for process in [root, *root.children(recursive=True)]:
            times = process.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
        return total
    except psutil.Error:
        return 0.0


class LogFollower:
    """Reads the lines CARS adds to its main log, as it writes them."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self._buffer = ""
        self._handle: Any = None

    def lines(self) -> list[str]:
        """The complete lines written since the last call."""
        if self._handle is None:
            found = sorted((self.out / "logs").glob("*_default.log"))
            if not found:
                return []
            self._handle = found[0].open(encoding="utf-8", errors="replace")
        self._buffer += self._handle.read()
        *complete, self._buffer = self._buffer.split("\n")
        return complete

    def close(self) -> None:
        """Close the log file."""
        if self._handle is not None:
            self._handle.close()


@dataclass(frozen=True)
class Finished:
    """How CARS ended: its exit status and the CPU·s of its whole process tree."""

    returncode: int
    cpu_s: float


def run(
    command: str, config: Path, on_line: Callable[[str], None],
    on_tick: Callable[[float], None], poll_s: float = 1.0,
) -> Finished:  # fmt: skip
    """Run ``command config``; ``on_line`` gets each new line of its main log and ``on_tick``
    its CPU·s so far, every ``poll_s``. Whatever either raises (a dismissed job) kills CARS and
    its workers before it propagates."""
    out = Path(json.loads(config.read_text())["output"]["directory"])
    argv = [command, str(config)]
    if setpriv := shutil.which("setpriv"):  # CARS dies with the worker that started it
        argv = [setpriv, "--pdeathsig", "KILL", *argv]
    with (config.parent / "cars.out").open("wb") as output:
        process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True, cwd=config.parent,
                                   env=environment(dict(os.environ)))  # fmt: skip
    follower = LogFollower(out)
    try:
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            for line in follower.lines():
                on_line(line)
            if pid:
                process.returncode = os.waitstatus_to_exitcode(status)
                return Finished(process.returncode, usage.ru_utime + usage.ru_stime)
            on_tick(_tree_cpu_s(process.pid))
            time.sleep(poll_s)
    except BaseException:
        _kill(process)
        raise
    finally:
        follower.close()


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.returncode is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
