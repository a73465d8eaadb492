"""Job store: credits (never overdrawn under concurrency), recovery, purge dates, statistics."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from terrapole.errors import InvalidInput, NotFound
from terrapole.jobs.states import InvalidTransition, State
from terrapole.jobs.store import CreditExceeded, JobStore


@pytest.fixture(params=["sqlite", "postgresql"])
def jobs(request: pytest.FixtureRequest, tmp_path: Path) -> JobStore:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobs.db'}"
    else:
        url = request.getfixturevalue("pg_dsn")
    store = JobStore(url, default_credit=1000.0)
    with store.engine.begin() as con:  # the PostgreSQL server is shared by the session
        for table in ("tp_openeo_jobs", "tp_job_logs", "tp_jobs", "tp_credits"):
            con.exec_driver_sql(f"DELETE FROM {table}")
    return store


def test_credit_accounting(jobs: JobStore) -> None:
    assert jobs.credit("ana").left == 1000.0  # the default, on first use
    job = jobs.submit("burn", "ana", {"seconds": 1}, 300.0)
    assert jobs.credit("ana").reserved == 300.0 and jobs.credit("ana").left == 700.0
    jobs.start(job.id)
    jobs.report(job.id, stage="BURN", progress=50, cpu_s=400.0)  # over its estimate: reserves more
    assert jobs.credit("ana").reserved == 400.0
    jobs.finish(job.id, State.SUCCESSFUL, cpu_s=420.0, retention=timedelta(days=2))
    credit = jobs.credit("ana")
    assert (credit.used, credit.reserved, credit.left) == (420.0, 0.0, 580.0)
    with pytest.raises(CreditExceeded, match="estimated at 600 CPU·s but 'ana' has 580 CPU·s"):
        jobs.submit("burn", "ana", {}, 600.0)
    assert len(jobs.find("ana")) == 1  # the refused job was not recorded
    jobs.set_credit("ana", 2000.0)
    assert jobs.credit("ana").left == 1580.0


def test_twenty_concurrent_submissions_never_overdraw(jobs: JobStore) -> None:
    """Each asks 100 of a 1000 credit: exactly 10 are accepted, whatever the interleaving."""
    accepted, refused = [], []
    barrier = threading.Barrier(20)

    def submit() -> None:
        barrier.wait()
        try:
            accepted.append(jobs.submit("burn", "bob", {}, 100.0))
        except CreditExceeded:
            refused.append(1)

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(accepted) == 10 and len(refused) == 10
    assert jobs.credit("bob").left == 0.0


def test_recover_marks_running_jobs_crashed_and_returns_queued_ones(jobs: JobStore) -> None:
    running = jobs.submit("burn", "ana", {}, 1.0)
    jobs.start(running.id)
    queued = jobs.submit("burn", "ana", {}, 1.0)
    assert jobs.recover() == [queued.id]
    crashed = jobs.get(running.id)
    assert crashed.state is State.CRASHED and "server stopped" in (crashed.reason or "")
    assert crashed.finished is not None
    assert [line.level for line in jobs.logs(running.id)][-1] == "ERROR"


def test_states_are_enforced_and_purge_dates_kept(jobs: JobStore) -> None:
    job = jobs.submit("burn", "ana", {}, 1.0)
    with pytest.raises(InvalidTransition):
        jobs.finish(job.id, State.SUCCESSFUL)  # never ran
    jobs.start(job.id)
    done = jobs.finish(job.id, State.SUCCESSFUL, cpu_s=1.0, retention=timedelta(days=30))
    assert done.expires is not None and done.finished is not None
    assert abs((done.expires - done.finished) - timedelta(days=30)) < timedelta(seconds=1)
    with pytest.raises(InvalidTransition):
        jobs.dismiss(job.id)
    assert jobs.expired(datetime.now(UTC)) == []
    later = datetime.now(UTC) + timedelta(days=31)
    assert [j.id for j in jobs.expired(later)] == [job.id]
    jobs.mark_purged(job.id)
    assert jobs.expired(later) == [] and jobs.get(job.id).purged


def test_statistics_per_process(jobs: JobStore) -> None:
    for owner, state in [
        ("ana", State.SUCCESSFUL),
        ("bob", State.FAILED),
        ("ana", State.SUCCESSFUL),
    ]:
        job = jobs.submit("burn", owner, {}, 1.0)
        jobs.start(job.id)
        jobs.finish(job.id, state, cpu_s=2.0)
    (row,) = jobs.statistics()
    assert (row["process"], row["jobs"], row["users"], row["successful"], row["failed"]) == (
        "burn", 3, 2, 2, 1)  # fmt: skip
    assert row["success_rate"] == pytest.approx(2 / 3) and row["cpu_s"] == 6.0


def test_resolve_by_unique_prefix(jobs: JobStore) -> None:
    first = jobs.submit("burn", "ana", {}, 1.0)
    second = jobs.submit("burn", "ana", {}, 1.0)
    assert jobs.resolve(first.id).id == first.id
    shared = 0
    while first.id[shared] == second.id[shared]:
        shared += 1
    assert jobs.resolve(first.id[: shared + 1]).id == first.id
    with pytest.raises(InvalidInput, match="start of several job ids"):
        jobs.resolve(first.id[:shared])
    with pytest.raises(NotFound):
        jobs.resolve("zz%")  # not an id start; % is not a wildcard
