"""The jobs' share of the usage statistics, read from ``tp_jobs`` (never recorded twice):
per day of creation x process x owner, the count, successes, failures (failed or crashed) and
CPU·s."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from terrapole import db
from terrapole.access.usage import Fact, Period, Tally, resolve
from terrapole.jobs.states import State
from terrapole.jobs.tables import jobs

_FAILED = (State.FAILED.value, State.CRASHED.value)


def job_facts(engine: sa.Engine, span: Period) -> list[Fact]:
    """Jobs created in ``span``, as usage facts (service: the process id)."""
    j = jobs.c
    day: sa.ColumnElement[Any]
    if engine.dialect.name == "sqlite":  # stored as UTC text
        day = sa.func.date(j.created)
    else:  # the UTC day, whatever the session's time zone
        day = sa.cast(sa.func.timezone("UTC", j.created), sa.Date)
    query = (
        sa.select(
            day.label("day"),
            j.process,
            j.owner,
            j.state,
            sa.func.count().label("n"),
            sa.func.sum(j.cpu_s).label("cpu_s"),
        )  # fmt: skip
        .where(j.created >= span.since, j.created < span.until)
        .group_by(day, j.process, j.owner, j.state)
    )
    with db.reading(engine) as con:
        rows = con.execute(query).all()
    who = resolve(engine, {r.owner for r in rows})
    facts = []
    for r in rows:
        when = r.day if not isinstance(r.day, str) else datetime.fromisoformat(r.day).date()
        ok = r.state == State.SUCCESSFUL.value
        bad = r.state in _FAILED
        tally = Tally(r.n, r.n if ok else 0, r.n if bad else 0, cpu_s=float(r.cpu_s or 0.0))
        facts.append(Fact(when, "job", r.process, "", who[r.owner], tally))
    return facts
