"""The job system: submit -> running latency with a backlog, small-job throughput, overhead.

Starts a JobRunner (SQLite store, LocalCluster of ``--workers`` worker processes) and measures:
- latency: ``--jobs`` small jobs submitted at once (a backlog of that many): the time each
  submit call takes while the backlog grows (checking, pricing against the credit, recording,
  queueing), and each job's submit -> running time (queue wait included); p50 and p95;
- throughput: small jobs finished per minute over the same run (each publishes a small result);
- overhead: one job of ``--long-s`` seconds of numpy work run directly (same process) and as a
  job; overhead = (job wall time - direct time) / direct time. Target <= 5 %.

    python benchmarks/jobs.py --jobs 1000 --long-s 60
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import cloudpickle
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from terrapole.access import AccessService  # noqa: E402
from terrapole.access.policy import Principal  # noqa: E402
from terrapole.catalog.store import Store, open_store  # noqa: E402
from terrapole.config import Settings  # noqa: E402
from terrapole.jobs.process import File, JobContext, Parameter, Process, Result  # noqa: E402
from terrapole.jobs.runner import JobRunner  # noqa: E402
from terrapole.storage import LocalStorage  # noqa: E402

Json = dict[str, Any]
SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}


class Work(Process):
    """``rounds`` rounds of NDVI-like numpy work on a 1000 x 1000 array, in 10 stages."""

    id: ClassVar[str] = "work"
    title: ClassVar[str] = "numpy work"
    description: ClassVar[str] = "benchmark process"
    parameters: ClassVar[tuple[Parameter, ...]] = (
        Parameter("rounds", "Rounds", {"type": "integer", "minimum": 0}),
    )
    outputs: ClassVar[dict[str, Json]] = {}
    stages: ClassVar[tuple[str, ...]] = ("WORK",)

    def estimate(self, inputs: Json, store: Store) -> float:
        return 1.0

    def run(self, context: JobContext, inputs: Json) -> Result:
        rng = np.random.default_rng(0)
        red, nir = rng.random((1000, 1000)), rng.random((1000, 1000))
        total = 0.0
        for n in range(inputs["rounds"]):
            if n % max(1, inputs["rounds"] // 10) == 0:
                context.stage("WORK", 100 * n / max(1, inputs["rounds"]))
            total += float(np.nanmean((nir - red) / (nir + red + n)))
        out = context.folder / "total.json"
        out.write_text(f"{total}")
        now = datetime.now(UTC)
        return Result(geometry=SQUARE, start=now, end=now,
                      files=[File("total", out, "application/json", "sum")])  # fmt: skip


cloudpickle.register_pickle_by_value(sys.modules[__name__])


def direct_seconds(rounds: int, folder: Path) -> float:
    """The same work called in this process, no job system."""
    context = SimpleNamespace(folder=folder, stage=lambda *a: None, log=lambda *a: None)
    start = time.perf_counter()
    Work().run(context, {"rounds": rounds})  # type: ignore[arg-type]
    return time.perf_counter() - start


def wait(runner: JobRunner, ids: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while any(not runner.jobs.get(i).done for i in ids):
        if time.monotonic() > deadline:
            raise TimeoutError("jobs did not finish")
        time.sleep(0.2)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--long-s", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), dask_workers=args.workers,
                            job_credit_cpu_s=1e9)  # fmt: skip
        store = open_store(settings)
        access = AccessService(settings.database_url)
        runner = JobRunner(settings, store, LocalStorage(settings.assets_dir), access,
                           {"work": Work()})  # fmt: skip
        user = Principal(name="bench", groups=frozenset(), admin=False)
        # calibrate: rounds per second of direct work
        probe = direct_seconds(200, Path(tmp))
        rounds_per_s = 200 / probe
        runner.client()  # start the cluster before timing
        warm = runner.submit("work", user, {"rounds": 1})
        wait(runner, [warm.id], 120)

        start = time.perf_counter()
        ids, calls = [], []
        for _ in range(args.jobs):
            before = time.perf_counter()
            ids.append(runner.submit("work", user, {"rounds": 0}).id)
            calls.append(time.perf_counter() - before)
        submitted = time.perf_counter() - start
        wait(runner, ids, 3600)
        elapsed = time.perf_counter() - start
        jobs = sorted((runner.jobs.get(i) for i in ids), key=lambda j: j.started)  # type: ignore[arg-type, return-value]
        assert all(j.state.value == "successful" for j in jobs), {j.state for j in jobs}
        latency = [(j.started - j.created).total_seconds() for j in jobs]  # type: ignore[operator]
        print(
            f"{args.jobs} small jobs on {args.workers} worker processes: submitted in "
            f"{submitted:.2f} s ({args.jobs / submitted:.0f}/s), all done in {elapsed:.1f} s"
        )
        print(
            f"  submit -> running (queue wait included): p50 {percentile(latency, 50):.2f} s, "
            f"p95 {percentile(latency, 95):.2f} s"
        )
        print(
            f"  submit call with the backlog growing to {args.jobs}: p50 "
            f"{1000 * percentile(calls, 50):.1f} ms, p95 {1000 * percentile(calls, 95):.1f} ms"
        )
        print(f"  throughput: {60 * args.jobs / elapsed:.0f} small jobs/min")

        rounds = int(rounds_per_s * args.long_s)
        direct = direct_seconds(rounds, Path(tmp))
        begin = time.perf_counter()
        long_job = runner.submit("work", user, {"rounds": rounds})
        wait(runner, [long_job.id], 10 * args.long_s + 120)
        through_jobs = time.perf_counter() - begin
        done = runner.jobs.get(long_job.id)
        queued = (done.started - done.created).total_seconds()  # type: ignore[operator]
        ran = (done.finished - done.started).total_seconds()  # type: ignore[operator]
        print(
            f"\none job of {rounds} rounds: direct {direct:.2f} s, as a job {through_jobs:.2f} s "
            f"(submit -> running {queued:.2f} s, running -> finished with publication {ran:.2f} s,"
            f" CPU measured {done.cpu_s:.2f} s)\n  overhead vs the direct call "
            f"{100 * (through_jobs - direct) / direct:+.1f} %; the job system's own share (wall "
            f"time beyond the job's CPU) {100 * (through_jobs - done.cpu_s) / done.cpu_s:.1f} %"
        )
        runner.close()
        access.close()
        store.close()


if __name__ == "__main__":
    main()
