"""The machinery failing: a worker killed mid-job, a server restarted with jobs running."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from terrapole.catalog.model import SearchQuery
from terrapole.jobs.results import results_collection
from terrapole.jobs.states import State

from . import gate
from .conftest import make_app


def _wait_for(predicate: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def test_a_killed_worker_crashes_its_job_with_the_cpu_so_far_and_no_result(tmp_path: Path) -> None:
    app = make_app(tmp_path, dask_workers=1, dask_processes=True)
    runner = app.state.jobs
    principal = app.state.services.access.authenticate(
        "Bearer " + app.state.services.access.create_token("ana", groups=[])
    )
    try:
        job = runner.submit("burn", principal, {"seconds": 20})
        _wait_for(lambda: runner.jobs.get(job.id).progress >= 20)  # two stages burnt
        pids = runner.client().run(os.getpid)
        for pid in pids.values():
            os.kill(pid, signal.SIGKILL)
        _wait_for(lambda: runner.jobs.get(job.id).done)
        crashed = runner.jobs.get(job.id)
        assert crashed.state is State.CRASHED
        assert "worker" in (crashed.reason or "")
        assert crashed.cpu_s >= 3.0  # at least the two stages reported (2 s each) are accounted
        store = app.state.services.store
        found = store.search(SearchQuery(collections=(results_collection("ana"),))).items
        assert found == []  # nothing catalogued
        assert runner.jobs.credit("ana").reserved == 0.0  # the credit is not held any more
    finally:
        runner.close()


def test_a_restart_marks_running_jobs_crashed_and_runs_queued_ones(tmp_path: Path) -> None:
    first = make_app(tmp_path, dask_workers=1, dask_processes=False)
    runner = first.state.jobs
    access = first.state.services.access
    principal = access.authenticate("Bearer " + access.create_token("ana", groups=[]))
    try:
        running = runner.submit("burn", principal, {"seconds": 10, "sleep": True, "hold": 1})
        gate.reached(running.id)  # held running, however long the second server takes to start
        queued = runner.jobs.submit("burn", "ana", {"seconds": 0.1, "sleep": False, "fail": False},
                                    1.0)  # recorded, not yet given to a cluster  # fmt: skip
        second = make_app(tmp_path, dask_workers=1, dask_processes=False)
        second.state.jobs.processes["burn"] = runner.processes["burn"]
        with TestClient(second):  # its start-up recovers
            after = second.state.jobs.jobs
            job = after.get(running.id)
            assert job.state is State.CRASHED
            assert job.reason == "the server stopped while the job was running"
            _wait_for(lambda: after.get(queued.id).state is State.SUCCESSFUL)
    finally:
        gate.release_all()
        runner.close()


def test_a_server_that_no_longer_offers_a_queued_jobs_process_still_starts(tmp_path: Path) -> None:
    """A queued job of a process the restarted server lacks (CARS gone, a test process) stopped
    the start-up with NotFound; it is crashed with the reason and the server serves."""
    first = make_app(tmp_path, dask_workers=1, dask_processes=False)
    queued = first.state.jobs.jobs.submit("burn", "ana", {"seconds": 0.1}, 1.0)
    first.state.jobs.close()
    second = make_app(tmp_path, dask_workers=1, dask_processes=False)
    del second.state.jobs.processes["burn"]
    try:
        with TestClient(second) as client:
            assert client.get("/healthz").status_code == 200
            job = second.state.jobs.jobs.get(queued.id)
            assert job.state is State.CRASHED
            assert job.reason == "process 'burn' is no longer offered here"
    finally:
        second.state.jobs.close()
