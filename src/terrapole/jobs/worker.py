"""What runs inside a Dask worker for one job: the process, with progress and CPU accounting.

CPU·s are the worker thread's own CPU time (``time.thread_time``): the process computes with
Dask's synchronous scheduler inside this one task, so every cycle it spends is on this thread;
a process that starts a child program (CARS) adds the child's CPU·s with ``use_cpu``.
Errors of the process are returned (with the CPU used) rather than raised, so that a raised
task error means the worker itself went wrong.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import dask

from terrapole.access import AccessService
from terrapole.access.view import VisibleCatalogue
from terrapole.catalog.store import ReadStore, Store, open_store
from terrapole.config import Settings
from terrapole.errors import SourceUnavailable, StoreUnavailable, TerrapoleError
from terrapole.jobs.process import Cancelled, Process, Result
from terrapole.jobs.states import InvalidTransition, State
from terrapole.jobs.store import JobStore
from terrapole.jsontypes import Json
from terrapole.storage import Storage, open_storage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """How a run ended: a result, or an error message, or cancelled; and the CPU·s used."""

    cpu_s: float
    result: Result | None = None
    error: str | None = None
    cancelled: bool = False


@lru_cache(maxsize=4)
def _jobs(database_url: str) -> JobStore:
    return JobStore(database_url)


@lru_cache(maxsize=4)
def _catalogue(settings_json: str) -> Store:
    return open_store(Settings.model_validate_json(settings_json))


@lru_cache(maxsize=4)
def _access(database_url: str) -> AccessService:
    # no cached restrictions (ttl 0): a job checks them as they stand when it runs; a cache
    # here would keep, for its ttl, what an earlier job or estimate in this process read
    return AccessService(database_url, ttl=0.0)


def visible_to_owner(job_id: str, jobs: JobStore, settings_json: str) -> VisibleCatalogue:
    """The catalogue as the job's owner may see it now (checked again when the job runs: a
    restriction or a revocation since the submission applies)."""
    settings = Settings.model_validate_json(settings_json)
    access = _access(settings.database_url)
    owner = access.principal_named(jobs.get(job_id).owner)
    return VisibleCatalogue(_catalogue(settings_json), access.hidden_for(owner))


class WorkerContext:
    """The :class:`~terrapole.jobs.process.JobContext` of a job running in this worker."""

    def __init__(
        self, job_id: str, folder: Path, store: ReadStore, storage: Storage, jobs: JobStore
    ) -> None:
        self.job_id, self.folder, self.store, self.storage = job_id, folder, store, storage
        self.jobs = jobs
        self.started = time.thread_time()
        self.outside = 0.0
        self._stage = ""

    def cpu_s(self) -> float:
        """CPU seconds this job has used so far."""
        return time.thread_time() - self.started + self.outside

    def use_cpu(self, cpu_s: float) -> None:
        """Count CPU·s of a child process."""
        self.outside += cpu_s

    def stage(self, name: str, progress: float) -> None:
        """Record stage, % and CPU·s; stop here when the job was dismissed."""
        job = self.jobs.report(self.job_id, stage=name, progress=progress, cpu_s=self.cpu_s())
        if job.state is State.DISMISSED:
            raise Cancelled(self.job_id)
        if name != self._stage:
            self._stage = name
            self.jobs.log(self.job_id, f"stage {name}")

    def log(self, message: str) -> None:
        """Add a line to the job's log."""
        self.jobs.log(self.job_id, message)


def execute(
    job_id: str, process: Process, inputs: Json, settings_json: str, folder: str
) -> Outcome:
    """Run one job in this worker (the task the runner submits)."""
    settings = Settings.model_validate_json(settings_json)
    jobs = _jobs(settings.database_url)
    try:
        jobs.start(job_id)
    except InvalidTransition:  # dismissed before a worker took it
        return Outcome(cpu_s=0.0, cancelled=True)
    context = WorkerContext(
        job_id, Path(folder), visible_to_owner(job_id, jobs, settings_json),
        open_storage(settings), jobs,
    )  # fmt: skip
    try:
        with dask.config.set(scheduler="sync"):
            result = process.run(context, inputs)
    except Cancelled:
        return Outcome(cpu_s=context.cpu_s(), cancelled=True)
    except (TerrapoleError, ValueError, OSError) as exc:
        return Outcome(cpu_s=context.cpu_s(), error=user_reason(job_id, exc))
    except Exception:  # a bug: the trace goes to the server's log, not to the job's owner
        logger.exception("job %s: internal error", job_id)
        jobs.log(job_id, "internal error: the details are in the server's log", level="ERROR")
        return Outcome(cpu_s=context.cpu_s(), error=f"internal error (job {job_id})")
    return Outcome(cpu_s=context.cpu_s(), result=result)


def user_reason(job_id: str, exc: Exception) -> str:
    """Why a job failed, as its owner may read it: the process's own message, but never the
    server's paths (a file error names its file) nor its database's text (StoreUnavailable)."""
    if isinstance(exc, StoreUnavailable | SourceUnavailable) or (
        isinstance(exc, OSError) and not isinstance(exc, TerrapoleError)
    ):
        logger.warning("job %s failed: %s", job_id, exc)
        what = "the catalogue" if isinstance(exc, StoreUnavailable) else "a file"
        return f"{what} could not be read or written (job {job_id})"
    return str(exc)
