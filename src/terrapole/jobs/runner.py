"""The thin I/O shell around the job state machine: submit to Dask, watch, publish, purge.

Jobs are Dask tasks (one per job; see :mod:`terrapole.jobs.worker`) on the cluster of
:func:`terrapole.cube.cluster.dask_client` — a LocalCluster started on the first job, or
the configured external scheduler. A task that raises means its worker died (process errors
come back as values), so the job is ``crashed`` with the reason; with a LocalCluster the
scheduler is told not to retry such tasks elsewhere (``allowed-failures`` 0).
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import Future as Settled
from datetime import datetime, timedelta
from pathlib import Path

import dask
from distributed import Client, Future

from terrapole.access import AccessService, Principal
from terrapole.access.view import VisibleCatalogue
from terrapole.catalog.store import Store
from terrapole.config import Settings
from terrapole.cube.cluster import open_client
from terrapole.errors import NotFound, TerrapoleError, Unauthorized
from terrapole.jobs.process import Process
from terrapole.jobs.results import publish, unpublish
from terrapole.jobs.states import State
from terrapole.jobs.store import Job, JobStore
from terrapole.jobs.worker import Outcome, execute
from terrapole.jsontypes import Json
from terrapole.storage import Storage

logger = logging.getLogger(__name__)


class JobRunner:
    """Submit, follow, dismiss and purge jobs of the registered processes."""

    def __init__(
        self, settings: Settings, store: Store, storage: Storage, access: AccessService,
        processes: dict[str, Process],
    ) -> None:  # fmt: skip
        self.settings = settings
        self.store, self.storage, self.access = store, storage, access
        self.processes = processes
        self.jobs = JobStore(settings.database_url, default_credit=settings.job_credit_cpu_s)
        self._lock = threading.Lock()
        self._client: Client | None = None
        self._close: Callable[[], None] | None = None
        self._futures: dict[str, Future[Outcome]] = {}
        self._settled: dict[str, Settled[None]] = {}  # resolved by _finalise
        self._settled_lock = threading.Lock()

    # -- lifecycle --------------------------------------------------------------------
    def recover(self) -> list[str]:
        """After a restart: running jobs are marked crashed; accepted ones are queued again,
        but for those of a process this server no longer offers, which fail (a server that
        stopped offering one must still start): those are crashed with the reason."""
        accepted = self.jobs.recover()
        queued = []
        for job_id in accepted:
            job = self.jobs.get(job_id)
            if job.process not in self.processes:
                reason = f"process {job.process!r} is no longer offered here"
                self.jobs.finish(job_id, State.CRASHED, reason=reason)
                continue
            self._enqueue(job)
            queued.append(job_id)
        return queued

    def close(self) -> None:
        """Stop the cluster this runner started (jobs still queued stay accepted)."""
        with self._lock:
            if self._close is not None:
                self._close()
            self._client, self._close = None, None
        self.jobs.close()

    def client(self) -> Client:
        """The Dask client, starting the cluster on first use."""
        with self._lock:
            if self._client is None:
                with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
                    self._client, self._close = open_client(self.settings)
            return self._client

    # -- the operations ---------------------------------------------------------------
    def process(self, process_id: str) -> Process:
        """A registered process, or NotFound."""
        try:
            return self.processes[process_id]
        except KeyError:
            raise NotFound("process", process_id) from None

    def quote(self, process_id: str, inputs: Json, principal: Principal) -> tuple[Json, float]:
        """Validated inputs and the estimate in CPU·s (nothing recorded).

        The process reads its inputs through what ``principal`` may see: a restricted input is
        answered as an unknown one.
        """
        process = self.process(process_id)
        checked = process.validate(inputs)
        visible = VisibleCatalogue(self.store, self.access.hidden_for(principal))
        return checked, float(process.estimate(checked, visible))

    def submit(self, process_id: str, principal: Principal, inputs: Json) -> Job:
        """Check, price against the credit, record and queue a job."""
        if principal.anonymous:
            raise Unauthorized("running a process needs an API token (Authorization: Bearer ...)")
        checked, estimate = self.quote(process_id, inputs, principal)
        job = self.jobs.submit(process_id, principal.name, checked, estimate)
        self._enqueue(job)
        return job

    def get(self, job_id: str, principal: Principal) -> Job:
        """A job its owner (or an admin) may see; NotFound for anyone else."""
        job = self.jobs.get(job_id)
        if job.owner != principal.name and not principal.admin:
            raise NotFound("job", job_id)
        return job

    def dismiss(self, job_id: str, principal: Principal) -> Job:
        """Cancel a queued or running job (a running one stops at its next progress report)."""
        before = self.get(job_id, principal)  # only its owner or an admin
        job = self.jobs.dismiss(before.id)
        future = self._futures.get(job_id)
        # a queued task is dropped; a running one is left to stop itself, so that its outcome
        # (the CPU it used) still comes back
        if before.state is State.ACCEPTED and future is not None and not future.done():
            future.cancel()
        return job

    def settled(self, job_id: str) -> Settled[None]:
        """A future done once this runner has concluded the job's task: its final state and
        the CPU·s it used are recorded (a dismissed job is concluded when it has stopped).

        Done at once for a job this runner is not running. Wait on it (``result(timeout)``,
        or ``asyncio.wrap_future`` under ``asyncio.shield``) rather than polling the store.
        """
        with self._settled_lock:
            future = self._settled.get(job_id)
        if future is None:
            future = Settled()
            future.set_result(None)
        return future

    def purge(self, now: datetime | None = None) -> list[str]:
        """Delete the results of jobs past their purge date; returns their ids."""
        purged = []
        for job in self.jobs.expired(now):
            unpublish(job, self.store, self.storage)
            self.jobs.mark_purged(job.id)
            purged.append(job.id)
        return purged

    # -- the I/O around a task --------------------------------------------------------
    def _enqueue(self, job: Job) -> None:
        process = self.process(job.process)
        folder = str(self.storage.new_staging(f"job-{job.id[:12]}-"))
        future = self.client().submit(
            execute, job.id, process, job.inputs, self.settings.model_dump_json(), folder,
            key=f"job-{job.id}", pure=False,
        )  # fmt: skip
        self._futures[job.id] = future
        with self._settled_lock:
            self._settled[job.id] = Settled()
        future.add_done_callback(lambda f: self._finalise(job.id, f, Path(folder)))

    def _finalise(self, job_id: str, future: Future[Outcome], folder: Path) -> None:
        try:
            self._conclude(job_id, future, folder)
        except Exception:  # never lose a job in the callback thread
            logger.exception("job %s: finalising failed", job_id)
            job = self.jobs.get(job_id)
            if not job.done:
                self.jobs.finish(job_id, State.CRASHED, reason="finalising the job failed")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            self._futures.pop(job_id, None)
            with self._settled_lock:
                settled = self._settled.pop(job_id, None)
            if settled is not None and settled.set_running_or_notify_cancel():
                settled.set_result(None)

    def _conclude(self, job_id: str, future: Future[Outcome], folder: Path) -> None:
        if future.status == "cancelled":
            return  # dismissed before it ran
        if future.status == "error":
            job = self.jobs.get(job_id)
            if not job.done:
                reason = f"the worker running it died or failed: {future.exception()!r}"
                self.jobs.finish(job_id, State.CRASHED, reason=reason)
            return
        outcome: Outcome = future.result()
        job = self.jobs.get(job_id)
        if outcome.cancelled or job.done:  # dismissed (or crashed) meanwhile: still charge it
            self.jobs.account(job_id, outcome.cpu_s)
            return
        if outcome.error is not None or outcome.result is None:
            self.jobs.finish(job_id, State.FAILED, reason=outcome.error, cpu_s=outcome.cpu_s)
            return
        self.jobs.report(job_id, stage="PUBLICATION", progress=99.0, cpu_s=outcome.cpu_s)
        self.jobs.log(job_id, "stage PUBLICATION")
        try:
            outputs = publish(job, self.process(job.process), outcome.result, folder,
                              self.store, self.storage, self.access)  # fmt: skip
        except TerrapoleError as exc:
            self.jobs.finish(job_id, State.FAILED, reason=f"publishing the result: {exc}",
                             cpu_s=outcome.cpu_s)  # fmt: skip
            return
        retention = timedelta(days=self.settings.job_retention_days)
        self.jobs.finish(job_id, State.SUCCESSFUL, outputs=outputs, cpu_s=outcome.cpu_s,
                         retention=retention)  # fmt: skip
