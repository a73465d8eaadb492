"""openEO batch jobs: a job is created (stored, not run) and started later; starting it submits
a terrapole job of the process-graph service, whose state the openEO job then reports."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from terrapole.access.policy import Principal
from terrapole.errors import NotFound
from terrapole.jobs.states import State
from terrapole.jobs.store import Job, JobStore, as_utc
from terrapole.jobs.tables import openeo_jobs
from terrapole.jsontypes import Json

STATUS = {State.ACCEPTED: "queued", State.RUNNING: "running", State.SUCCESSFUL: "finished",
          State.FAILED: "error", State.CRASHED: "error", State.DISMISSED: "canceled"}  # fmt: skip


@dataclass(frozen=True)
class BatchJob:
    """An openEO batch job and, once started, the terrapole job running it."""

    id: str
    owner: str
    title: str | None
    description: str | None
    process: Json
    created: datetime
    job: Job | None

    @property
    def status(self) -> str:
        """created, queued, running, finished, error or canceled."""
        return "created" if self.job is None else STATUS[self.job.state]


class BatchJobs:
    """Create, read, update, start and delete openEO batch jobs (their own table)."""

    def __init__(self, jobs: JobStore) -> None:
        self.jobs = jobs
        self.engine = jobs.engine

    def create(self, owner: str, process: Json, title: str | None, description: str | None) -> str:
        """Store a new job (status created); returns its id."""
        job_id = uuid.uuid4().hex
        with self.engine.begin() as con:
            con.execute(openeo_jobs.insert().values(
                id=job_id, owner=owner, title=title, description=description, process=process,
                created=datetime.now(UTC), job_id=None))  # fmt: skip
        return job_id

    def _batch(self, row: Any) -> BatchJob:
        job = self.jobs.get(row.job_id) if row.job_id else None
        return BatchJob(row.id, row.owner, row.title, row.description, row.process,
                        as_utc(row.created) or datetime.now(UTC), job)  # fmt: skip

    def get(self, job_id: str, principal: Principal) -> BatchJob:
        """A job its owner (or an admin) may see; NotFound for anyone else."""
        with self.engine.connect() as con:
            row = con.execute(sa.select(openeo_jobs).where(openeo_jobs.c.id == job_id)).first()
        if row is None or (row.owner != principal.name and not principal.admin):
            raise NotFound("job", job_id)
        return self._batch(row)

    def list(self, principal: Principal) -> list[BatchJob]:
        """The caller's jobs, newest first."""
        query = sa.select(openeo_jobs).where(openeo_jobs.c.owner == principal.name)
        with self.engine.connect() as con:
            rows = con.execute(query.order_by(openeo_jobs.c.created.desc())).all()
        return [self._batch(row) for row in rows]

    def update(self, ident: str, **values: Any) -> None:
        """Change title, description or process (only while the job is not started)."""
        with self.engine.begin() as con:
            con.execute(openeo_jobs.update().where(openeo_jobs.c.id == ident).values(**values))

    def started(self, job_id: str, terrapole_job: str) -> None:
        """Link the job to the terrapole job running it."""
        self.update(job_id, job_id=terrapole_job)

    def delete(self, job_id: str) -> None:
        """Forget a job (its terrapole job, if any, stays in the job history)."""
        with self.engine.begin() as con:
            con.execute(openeo_jobs.delete().where(openeo_jobs.c.id == job_id))
