"""Jobs, their logs and the users' CPU credits, kept in the database.

One class does every read and write; it knows no HTTP and no Dask. Submitting checks the
owner's credit and records the job in one serialised transaction (SQLite: ``BEGIN IMMEDIATE``;
PostgreSQL: the owner's credit row locked ``FOR UPDATE``), so concurrent submissions can never
overdraw a credit.

Accounting: a job in progress reserves the larger of its estimate and the CPU it has used so
far; a finished job counts what it used. What is left = credit - used - reserved.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from terrapole import db
from terrapole.errors import InvalidInput, NotFound, TerrapoleError
from terrapole.jobs.states import TERMINAL, State, check_transition
from terrapole.jobs.tables import credits, job_logs, jobs
from terrapole.jsontypes import Json


class CreditExceeded(TerrapoleError):
    """A job's estimate is more than what is left of its owner's credit."""

    def __init__(self, owner: str, estimate: float, left: float) -> None:
        super().__init__(
            f"this job is estimated at {estimate:,.0f} CPU·s but {owner!r} has {left:,.0f} CPU·s "
            "left of their credit; make the zone or period smaller, or ask an admin for more"
        )
        self.owner, self.estimate, self.left = owner, estimate, left


@dataclass(frozen=True)
class JobOutputs:
    """What a job published: its result item and the hrefs of the item's assets.

    Stored as the jobs table's JSON ``outputs`` (``{}`` before anything is published,
    ``{"collection", "item", "assets"}`` after); keys this class does not know, written by
    another release, are kept in ``extra`` and written back as they were.
    """

    collection: str | None = None
    item: str | None = None
    assets: dict[str, str] = field(default_factory=dict)  # asset key -> server-relative href
    extra: Json = field(default_factory=dict)

    @property
    def published(self) -> bool:
        """Whether the job has a result item."""
        return self.collection is not None and self.item is not None

    def to_json(self) -> Json:
        """The ``outputs`` column's document."""
        doc: Json = dict(self.extra)
        if self.collection is not None:
            doc["collection"] = self.collection
        if self.item is not None:
            doc["item"] = self.item
        if self.assets or self.published:  # a published job's, even empty, as ever written
            doc["assets"] = dict(self.assets)
        return doc

    @classmethod
    def from_json(cls, doc: Json | None) -> JobOutputs:
        """Read the ``outputs`` column's document (any release's)."""
        known = {"collection", "item", "assets"}
        doc = doc or {}
        return cls(
            collection=doc.get("collection"),
            item=doc.get("item"),
            assets={str(k): str(v) for k, v in (doc.get("assets") or {}).items()},
            extra={k: v for k, v in doc.items() if k not in known},
        )


@dataclass(frozen=True)
class Job:
    """One job as stored."""

    id: str
    process: str
    owner: str
    state: State
    stage: str
    progress: float
    inputs: Json
    outputs: JobOutputs
    estimate_cpu_s: float
    cpu_s: float
    reason: str | None
    created: datetime
    started: datetime | None
    finished: datetime | None
    expires: datetime | None
    purged: bool

    @property
    def done(self) -> bool:
        """True once the job can change no more."""
        return self.state in TERMINAL


@dataclass(frozen=True)
class Credit:
    """A user's CPU credit and what is used and reserved of it (CPU·s)."""

    owner: str
    credit: float
    used: float
    reserved: float

    @property
    def left(self) -> float:
        """What new jobs may still be estimated at."""
        return max(0.0, self.credit - self.used - self.reserved)


@dataclass(frozen=True)
class LogLine:
    """One line of a job's log."""

    at: datetime
    level: str
    message: str


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes: they were written in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _job(row: Any) -> Job:
    return Job(
        id=row.id, process=row.process, owner=row.owner, state=State(row.state), stage=row.stage,
        progress=row.progress, inputs=row.inputs, outputs=JobOutputs.from_json(row.outputs),
        estimate_cpu_s=row.estimate_cpu_s, cpu_s=row.cpu_s, reason=row.reason,
        created=as_utc(row.created) or datetime.now(UTC), started=as_utc(row.started),
        finished=as_utc(row.finished), expires=as_utc(row.expires), purged=row.purged,
    )  # fmt: skip


class JobStore:
    """Every read and write of jobs, logs and credits."""

    def __init__(self, database_url: str, *, default_credit: float = 30_000.0) -> None:
        self.engine = db.open_engine(database_url)
        self.sqlite = self.engine.dialect.name == "sqlite"
        self.default_credit = default_credit

    def close(self) -> None:
        """Dispose of the connection pool."""
        self.engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[sa.Connection]:
        with self.engine.begin() as con:
            yield con

    # -- credits ----------------------------------------------------------------------
    def _ensure_credit_row(self, con: sa.Connection, owner: str) -> None:
        dialect = postgresql if not self.sqlite else sqlite
        statement = dialect.insert(credits).values(owner=owner, credit_cpu_s=self.default_credit)
        con.execute(statement.on_conflict_do_nothing(index_elements=["owner"]))

    def _credit(self, con: sa.Connection, owner: str, lock: bool = False) -> Credit:
        self._ensure_credit_row(con, owner)
        query = sa.select(credits.c.credit_cpu_s).where(credits.c.owner == owner)
        amount = con.execute(query.with_for_update() if lock else query).scalar_one()
        active = [s.value for s in State if s not in TERMINAL]
        reserved = con.execute(
            sa.select(sa.func.coalesce(sa.func.sum(
                sa.case((jobs.c.cpu_s > jobs.c.estimate_cpu_s, jobs.c.cpu_s),
                        else_=jobs.c.estimate_cpu_s)), 0.0))
            .where(jobs.c.owner == owner, jobs.c.state.in_(active))
        ).scalar_one()  # fmt: skip
        used = con.execute(
            sa.select(sa.func.coalesce(sa.func.sum(jobs.c.cpu_s), 0.0)).where(
                jobs.c.owner == owner, jobs.c.state.not_in(active)
            )
        ).scalar_one()
        return Credit(owner, float(amount), float(used), float(reserved))

    def credit(self, owner: str) -> Credit:
        """The owner's credit (created at the default on first use)."""
        with self._tx() as con:
            return self._credit(con, owner)

    def set_credit(self, owner: str, cpu_s: float) -> Credit:
        """Set the owner's total credit."""
        if cpu_s < 0:
            raise InvalidInput("credit", f"must be >= 0 CPU·s, not {cpu_s}")
        with self._tx() as con:
            self._ensure_credit_row(con, owner)
            con.execute(credits.update().where(credits.c.owner == owner).values(credit_cpu_s=cpu_s))
            return self._credit(con, owner)

    # -- jobs -------------------------------------------------------------------------
    def submit(self, process: str, owner: str, inputs: Json, estimate_cpu_s: float) -> Job:
        """Record an accepted job, or raise :class:`CreditExceeded` (and record nothing)."""
        now = datetime.now(UTC)
        job_id = uuid.uuid4().hex
        with self._tx() as con:
            left = self._credit(con, owner, lock=True).left
            if estimate_cpu_s > left:
                raise CreditExceeded(owner, estimate_cpu_s, left)
            con.execute(jobs.insert().values(
                id=job_id, process=process, owner=owner, state=State.ACCEPTED.value, stage="",
                progress=0.0, inputs=inputs, outputs={}, estimate_cpu_s=estimate_cpu_s,
                cpu_s=0.0, created=now, purged=False,
            ))  # fmt: skip
            con.execute(job_logs.insert().values(
                job_id=job_id, at=now, level="INFO",
                message=f"accepted: {process}, estimated {estimate_cpu_s:,.0f} CPU·s",
            ))  # fmt: skip
        return self.get(job_id)

    def get(self, job_id: str) -> Job:
        """One job, or NotFound."""
        with self.engine.connect() as con:
            row = con.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
        if row is None:
            raise NotFound("job", job_id)
        return _job(row)

    def resolve(self, ident: str) -> Job:
        """A job by its id or by a prefix of it that only one job has (as the CLI shows ids)."""
        query = sa.select(jobs).where(jobs.c.id.startswith(ident, autoescape=True)).limit(2)
        with self.engine.connect() as con:
            rows = con.execute(query).all()
        if len(rows) != 1:
            if rows:
                raise InvalidInput("job id", f"{ident!r} is the start of several job ids")
            raise NotFound("job", ident)
        return _job(rows[0])

    def find(
        self, owner: str | None = None, *, process: str | None = None, limit: int = 100,
        offset: int = 0,
    ) -> list[Job]:  # fmt: skip
        """Jobs, newest first (of one owner when given)."""
        query = sa.select(jobs).order_by(jobs.c.created.desc(), jobs.c.id).limit(limit)
        if owner is not None:
            query = query.where(jobs.c.owner == owner)
        if process is not None:
            query = query.where(jobs.c.process == process)
        with self.engine.connect() as con:
            return [_job(r) for r in con.execute(query.offset(offset))]

    def _move(self, con: sa.Connection, job_id: str, finish: State, **values: Any) -> Job:
        row = con.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
        if row is None:
            raise NotFound("job", job_id)
        check_transition(job_id, State(row.state), finish)
        con.execute(jobs.update().where(jobs.c.id == job_id).values(state=finish.value, **values))
        return _job(con.execute(sa.select(jobs).where(jobs.c.id == job_id)).one())

    def start(self, job_id: str) -> Job:
        """accepted -> running."""
        with self._tx() as con:
            job = self._move(con, job_id, State.RUNNING, started=datetime.now(UTC))
            self._log(con, job_id, "INFO", "running")
            return job

    def report(self, job_id: str, *, stage: str, progress: float, cpu_s: float) -> Job:
        """Stage, % and CPU·s so far of a running job (ignored once it is done)."""
        with self._tx() as con:
            con.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.state == State.RUNNING.value)
                .values(stage=stage, progress=max(0.0, min(100.0, progress)), cpu_s=cpu_s)
            )
        return self.get(job_id)

    def account(self, job_id: str, cpu_s: float) -> None:
        """Record the CPU·s a job used, also once it is done (a dismissed job stops later)."""
        with self._tx() as con:
            con.execute(
                jobs.update().where(jobs.c.id == job_id, jobs.c.cpu_s < cpu_s).values(cpu_s=cpu_s)
            )

    def finish(
        self, job_id: str, state: State, *, outputs: JobOutputs | None = None,
        reason: str | None = None, cpu_s: float | None = None,
        retention: timedelta | None = None,
    ) -> Job:  # fmt: skip
        """Move to a terminal state; results expire after ``retention`` (if any)."""
        now = datetime.now(UTC)
        values: Json = {"finished": now, "reason": reason}
        if outputs is not None:
            values["outputs"] = outputs.to_json()
        if cpu_s is not None:
            values["cpu_s"] = cpu_s
        if state is State.SUCCESSFUL:
            values["progress"] = 100.0
        if retention is not None:
            values["expires"] = now + retention
        with self._tx() as con:
            job = self._move(con, job_id, state, **values)
            self._log(con, job_id, "ERROR" if reason and state is not State.SUCCESSFUL else "INFO",
                      f"{state}" + (f": {reason}" if reason else ""))  # fmt: skip
            return job

    def dismiss(self, job_id: str, reason: str = "dismissed by its owner") -> Job:
        """Cancel a job that is not done (a running one stops at its next progress report)."""
        return self.finish(job_id, State.DISMISSED, reason=reason)

    def recover(self) -> list[str]:
        """After a restart: running jobs -> crashed (with the reason); ids of accepted jobs."""
        with self._tx() as con:
            running = con.execute(
                sa.select(jobs.c.id).where(jobs.c.state == State.RUNNING.value)
            ).scalars()
            for job_id in list(running):
                self._move(con, job_id, State.CRASHED, finished=datetime.now(UTC),
                           reason="the server stopped while the job was running")  # fmt: skip
                self._log(con, job_id, "ERROR", "crashed: the server stopped while it ran")
            accepted = con.execute(
                sa.select(jobs.c.id)
                .where(jobs.c.state == State.ACCEPTED.value)
                .order_by(jobs.c.created)
            ).scalars()
            return list(accepted)

    # -- logs -------------------------------------------------------------------------
    def _log(self, con: sa.Connection, job_id: str, level: str, message: str) -> None:
        con.execute(job_logs.insert().values(
            job_id=job_id, at=datetime.now(UTC), level=level, message=message))  # fmt: skip

    def log(self, job_id: str, message: str, level: str = "INFO") -> None:
        """Append a line to a job's log."""
        with self._tx() as con:
            self._log(con, job_id, level, message)

    def logs(self, job_id: str) -> list[LogLine]:
        """A job's log, oldest first."""
        self.get(job_id)
        query = sa.select(job_logs).where(job_logs.c.job_id == job_id).order_by(job_logs.c.n)
        with self.engine.connect() as con:
            return [LogLine(as_utc(r.at) or r.at, r.level, r.message) for r in con.execute(query)]

    # -- purge and statistics ---------------------------------------------------------
    def expired(self, now: datetime | None = None) -> list[Job]:
        """Finished jobs whose results are past their purge date and not purged yet."""
        moment = now or datetime.now(UTC)
        query = sa.select(jobs).where(
            jobs.c.expires.is_not(None), jobs.c.expires <= moment, jobs.c.purged.is_(False)
        )
        with self.engine.connect() as con:
            return [_job(r) for r in con.execute(query)]

    def mark_purged(self, job_id: str) -> None:
        """Record that a job's results were deleted."""
        with self._tx() as con:
            con.execute(jobs.update().where(jobs.c.id == job_id).values(purged=True))
            self._log(con, job_id, "INFO", "results purged")

    def statistics(self) -> list[Json]:
        """Per process: jobs, distinct users, successes, failures, success rate, CPU·s."""
        ok = sa.case((jobs.c.state == State.SUCCESSFUL.value, 1), else_=0)
        bad = sa.case((jobs.c.state.in_([State.FAILED.value, State.CRASHED.value]), 1), else_=0)
        query = sa.select(
            jobs.c.process, sa.func.count().label("jobs"),
            sa.func.count(sa.distinct(jobs.c.owner)).label("users"),
            sa.func.sum(ok).label("successful"), sa.func.sum(bad).label("failed"),
            sa.func.coalesce(sa.func.sum(jobs.c.cpu_s), 0.0).label("cpu_s"),
        ).group_by(jobs.c.process).order_by(jobs.c.process)  # fmt: skip
        with self.engine.connect() as con:
            rows = con.execute(query).mappings().all()
        out = []
        for r in rows:
            ended = int(r["successful"] or 0) + int(r["failed"] or 0)
            rate = (int(r["successful"] or 0) / ended) if ended else None
            out.append({**dict(r), "success_rate": rate})
        return out
