"""Usage statistics: events recorded in batches into a daily rollup, and their aggregates.

Searches, downloads and tile requests are *recorded* (:class:`UsageRecorder`): each event is
added to an in-memory tally and written in batches, by a background thread, into
``tp_usage_daily``, one row per day x kind x service x collection x profile x entity x user. The
table is therefore its own daily rollup: it grows with the number of distinct (day, key) pairs,
never with the number of requests, and :func:`prune` drops the days past the retention. Jobs,
orders and sign-ups are not recorded twice: their facts are read from the tables that already
hold them (``tp_jobs`` through the jobs pillar, ``tp_orders`` and ``tp_users`` here).

Privacy: who is stored as the principal's user, entity and profile ids, never an address; and
:func:`aggregate` groups by day, kind, service, collection, profile or entity only, so no
listing per user comes out (the number of distinct users of each group does).
"""

from __future__ import annotations

import csv
import io
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from terrapole import db
from terrapole.access.tables import (
    entities,
    memberships,
    orders,
    token_owners,
    usage_daily,
    users,
)
from terrapole.errors import InvalidInput

logger = logging.getLogger(__name__)

RECORDED = ("search", "download", "tile")
"""Kinds of events the web adapter records; the others are read from their own tables."""
KINDS = (*RECORDED, "job", "order", "signup")
DIMENSIONS = ("day", "kind", "service", "collection", "profile", "entity")
"""What aggregates may be grouped by (``kind`` always is: counts of kinds never add up)."""
MAX_DAYS = 3660
MAX_PENDING = 50_000
"""Distinct tallies kept in memory while the database is unreachable; beyond, events drop."""

Area = Callable[[str, str], float | None]
"""``(collection, item) -> km²`` of the item's footprint, or None when not known."""


@dataclass(frozen=True)
class Who:
    """Whom usage is counted for: ids only ('' for an anonymous caller)."""

    user_id: str = ""
    entity_id: str = ""
    profile: str = ""


ANYONE = Who()


@dataclass
class Tally:
    """What a group of events adds up to."""

    count: int = 0
    succeeded: int = 0
    failed: int = 0
    files: int = 0
    bytes: int = 0
    km2: float = 0.0
    cpu_s: float = 0.0

    def add(self, other: Tally) -> None:
        """Add ``other`` into this tally."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass(frozen=True)
class Event:
    """One search, download or tile request, as the web adapter saw it."""

    kind: str
    service: str
    principal: str = ""  # the principal's name ('' anonymous), resolved to ids when written
    collection: str = ""
    item: str = ""  # a downloaded item, whose footprint gives the km²
    files: int = 0
    bytes: int = 0
    failed: bool = False
    at: datetime | None = None  # now, when not given


@dataclass(frozen=True)
class Fact:
    """A tally for one day x kind x service x collection x who: what every source yields."""

    day: date
    kind: str
    service: str
    collection: str
    who: Who
    tally: Tally


@dataclass
class UsageRow:
    """One aggregate: its group (the dimensions asked for, and kind), sums and distinct users."""

    group: dict[str, str]
    tally: Tally = field(default_factory=Tally)
    users: int = 0

    @property
    def success_rate(self) -> float | None:
        """Share of the finished requests or jobs that succeeded (None: none finished)."""
        done = self.tally.succeeded + self.tally.failed
        return round(self.tally.succeeded / done, 4) if done else None

    def as_dict(self) -> dict[str, Any]:
        """The row as JSON and CSV show it."""
        t = self.tally
        return {**self.group, "count": t.count, "users": self.users, "succeeded": t.succeeded,
                "failed": t.failed, "success_rate": self.success_rate, "files": t.files,
                "bytes": t.bytes, "km2": round(t.km2, 3), "cpu_s": round(t.cpu_s, 3)}  # fmt: skip


def _now() -> datetime:
    return datetime.now(UTC)


# -- who ----------------------------------------------------------------------------------
def resolve(engine: sa.Engine, names: Iterable[str]) -> dict[str, Who]:
    """The ids behind principals' names: a token's owner (or the user of a session), the entity
    they are a member of (the first by id when several) and its profile (or theirs).

    A token that belongs to no user is counted as ``token:<name>``, with no entity.
    """
    wanted = {n for n in names if n}
    found: dict[str, Who] = {"": ANYONE}
    if not wanted:
        return found
    with db.reading(engine) as con:
        owners = dict(
            con.execute(
                sa.select(token_owners.c.token_name, token_owners.c.user_id).where(
                    token_owners.c.token_name.in_(wanted)
                )
            ).all()
        )
        # a session's principal is named "user:<id>" (a user id alone is taken as well)
        bare = {n: n.removeprefix("user:") for n in wanted - set(owners)}
        known = set(
            con.execute(sa.select(users.c.id).where(users.c.id.in_(set(bare.values()))))
            .scalars()
            .all()
        )
        user_of = {**{n: u for n, u in bare.items() if u in known}, **owners}
        member_rows = con.execute(
            sa.select(
                memberships.c.user_id,
                memberships.c.entity_id,
                memberships.c.profile,
                entities.c.profile.label("entity_profile"),
            )  # fmt: skip
            .join(entities, entities.c.id == memberships.c.entity_id)
            .where(memberships.c.user_id.in_(set(user_of.values())))
            .where(memberships.c.status == "member")
            .order_by(memberships.c.entity_id)
        ).all()
    first: dict[str, Who] = {}
    for row in member_rows:
        first.setdefault(row.user_id, Who(row.user_id, row.entity_id,
                                          row.profile or row.entity_profile))  # fmt: skip
    for name in wanted:
        user = user_of.get(name)
        found[name] = first.get(user, Who(user)) if user else Who(f"token:{name}")
    return found


# -- recording ----------------------------------------------------------------------------
_Key = tuple[date, str, str, str, str, str]  # day, kind, service, collection, item, principal


class UsageRecorder:
    """Tallies events in memory and writes them in batches; never raises into the caller.

    :meth:`record` costs a lock and a dict update. A daemon thread (started by the first
    event) calls :meth:`flush` every ``interval_s`` seconds; :meth:`close` flushes what is left.
    A failed write keeps the tallies for the next flush (up to :data:`MAX_PENDING` keys).
    """

    def __init__(
        self,
        engine: sa.Engine,
        *,
        area: Area | None = None,
        interval_s: float = 5.0,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.engine = engine
        self._area = area
        self._interval = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._pending: dict[_Key, Tally] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.dropped = 0

    def record(self, event: Event) -> None:
        """Count ``event`` (in memory; written by the next flush)."""
        day = (event.at or self._clock()).astimezone(UTC).date()
        key = (day, event.kind, event.service, event.collection, event.item, event.principal)
        ok = not event.failed
        add = Tally(1, int(ok), int(event.failed), event.files, event.bytes)
        with self._lock:
            tally = self._pending.get(key)
            if tally is None:
                if len(self._pending) >= MAX_PENDING:
                    self.dropped += 1
                    return
                tally = self._pending[key] = Tally()
            tally.add(add)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="usage", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()

    def flush(self) -> int:
        """Write the pending tallies; the number of rollup rows touched (0 on failure)."""
        with self._flushing:
            with self._lock:
                pending, self._pending = self._pending, {}
            if not pending:
                return 0
            try:
                facts = self._facts(pending)
                _merge(self.engine, facts)
            except Exception:  # a statistics write must never take a request down with it
                logger.warning("usage statistics not written; kept for the next flush",
                               exc_info=True)  # fmt: skip
                with self._lock:
                    for key, tally in pending.items():
                        self._pending.setdefault(key, Tally()).add(tally)
                return 0
            return len(facts)

    def _facts(self, pending: Mapping[_Key, Tally]) -> list[Fact]:
        who = resolve(self.engine, {key[5] for key in pending})
        merged: dict[tuple[date, str, str, str, Who], Tally] = {}
        for (day, kind, service, collection, item, principal), tally in pending.items():
            into = merged.setdefault((day, kind, service, collection, who[principal]), Tally())
            into.add(tally)
            if item and kind == "download" and self._area is not None:
                into.km2 += self._km2(collection, item) * tally.count
        return [Fact(d, k, s, c, w, t) for (d, k, s, c, w), t in merged.items()]

    def _km2(self, collection: str, item: str) -> float:
        """The item's footprint in km²; 0 where it cannot be known (a missing item...)."""
        assert self._area is not None
        try:
            return self._area(collection, item) or 0.0
        except Exception:  # an unreadable footprint costs the statistic its km², nothing more
            logger.debug("no footprint for %s/%s", collection, item, exc_info=True)
            return 0.0

    def close(self) -> None:
        """Stop the thread and write what is left."""
        self._stop.set()
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=self._interval + 5)
        self._stop = threading.Event()  # a later event starts a new thread (a restarted app)
        self.flush()


def _merge(engine: sa.Engine, facts: Sequence[Fact]) -> None:
    """Add the facts into the rollup rows (insert, or add to the row of the same key)."""
    rows = [
        {"day": f.day, "kind": f.kind, "service": f.service, "collection": f.collection,
         "profile": f.who.profile, "entity_id": f.who.entity_id, "user_id": f.who.user_id,
         "count": f.tally.count, "succeeded": f.tally.succeeded, "failed": f.tally.failed,
         "files": f.tally.files, "bytes": f.tally.bytes, "km2": f.tally.km2}
        for f in facts
    ]  # fmt: skip
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    statement = insert(usage_daily)
    sums = ("count", "succeeded", "failed", "files", "bytes", "km2")
    statement = statement.on_conflict_do_update(
        index_elements=[c.name for c in usage_daily.primary_key.columns],
        set_={name: usage_daily.c[name] + statement.excluded[name] for name in sums},
    )
    with engine.begin() as con:
        con.execute(statement, rows)


def prune(engine: sa.Engine, before: date) -> int:
    """Delete the rollup rows of the days before ``before`` (retention); the number deleted."""
    with engine.begin() as con:
        return con.execute(usage_daily.delete().where(usage_daily.c.day < before)).rowcount


# -- reading ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """The days ``start`` to ``end``, both included (UTC)."""

    start: date
    end: date

    @property
    def since(self) -> datetime:
        """The first instant of the period."""
        return datetime.combine(self.start, time(), UTC)

    @property
    def until(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.end + timedelta(days=1), time(), UTC)


def period(start: str | None, end: str | None, *, today: date | None = None) -> Period:
    """The period of ``start``..``end`` (ISO dates; default: the last 30 days to today)."""
    today = today or _now().date()

    def day(name: str, value: str | None, default: date) -> date:
        if not value:
            return default
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise InvalidInput(name, f"{value!r} is not a date (YYYY-MM-DD)") from exc

    last = day("end", end, today)
    first = day("start", start, last - timedelta(days=29))
    if last >= date.max:  # the period's end is the next midnight
        raise InvalidInput("end", f"{last} is past the last supported day")
    if first > last:
        raise InvalidInput("start", f"{first} is after end {last}")
    if (last - first).days >= MAX_DAYS:
        raise InvalidInput("start", f"a period spans at most {MAX_DAYS} days")
    return Period(first, last)


def dimensions(by: str | Sequence[str] | None) -> tuple[str, ...]:
    """The grouping asked for (``"day,collection"`` or a list), checked; ``kind`` added."""
    asked = [p.strip() for p in by.split(",")] if isinstance(by, str) else list(by or ["day"])
    unknown = [d for d in asked if d and d not in DIMENSIONS]
    if unknown:
        raise InvalidInput("by", f"{unknown[0]!r} is not one of {', '.join(DIMENSIONS)} "
                                 "(aggregates only: no listing per user)")  # fmt: skip
    chosen = [d for d in DIMENSIONS if d in asked or d == "kind"]
    return tuple(chosen)


def recorded_facts(engine: sa.Engine, span: Period) -> list[Fact]:
    """The rollup rows of the period."""
    t = usage_daily.c
    query = sa.select(usage_daily).where(t.day >= span.start, t.day <= span.end)
    with db.reading(engine) as con:
        rows = con.execute(query).mappings().all()
    return [
        Fact(r["day"], r["kind"], r["service"], r["collection"],
             Who(r["user_id"], r["entity_id"], r["profile"]),
             Tally(r["count"], r["succeeded"], r["failed"], r["files"], r["bytes"], r["km2"]))
        for r in rows
    ]  # fmt: skip


def order_facts(engine: sa.Engine, span: Period) -> list[Fact]:
    """Orders created in the period (service: their kind), with their km²; refused or
    cancelled ones count as failed, delivered or closed ones as succeeded."""
    o = orders.c
    query = sa.select(o.kind, o.state, o.entity_id, o.owner, o.profile, o.km2, o.created)
    query = query.where(o.created >= span.since, o.created < span.until)
    with db.reading(engine) as con:
        rows = con.execute(query).all()
    facts = []
    for r in rows:
        failed = r.state in ("refused", "cancelled")
        succeeded = r.state in ("delivered", "closed")
        tally = Tally(1, int(succeeded), int(failed), km2=r.km2)
        day = _utc(r.created).date()
        facts.append(Fact(day, "order", r.kind, "", Who(r.owner, r.entity_id, r.profile), tally))
    return facts


def signup_facts(engine: sa.Engine, span: Period) -> list[Fact]:
    """Accounts created in the period; verified ones count as succeeded."""
    u = users.c
    query = sa.select(u.id, u.verified, u.created)
    query = query.where(u.created >= span.since, u.created < span.until)
    with db.reading(engine) as con:
        rows = con.execute(query).all()
    return [
        Fact(_utc(r.created).date(), "signup", "accounts", "", Who(r.id),
             Tally(1, int(r.verified), 0))
        for r in rows
    ]  # fmt: skip


def _utc(value: datetime) -> datetime:
    """SQLite gives naive datetimes back: they were written in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def aggregate(
    engine: sa.Engine, span: Period, by: Sequence[str], *, extra: Iterable[Fact] = ()
) -> list[UsageRow]:
    """The usage of ``span`` grouped by ``by`` (see :func:`dimensions`), all sources merged:
    the recorded rollup, orders, sign-ups, and ``extra`` (the jobs pillar's facts)."""
    by = dimensions(by)
    facts = [*recorded_facts(engine, span), *order_facts(engine, span),
             *signup_facts(engine, span), *extra]  # fmt: skip
    groups: dict[tuple[str, ...], tuple[UsageRow, set[str]]] = {}
    for fact in facts:
        if not span.start <= fact.day <= span.end:
            continue
        values = {"day": fact.day.isoformat(), "kind": fact.kind, "service": fact.service,
                  "collection": fact.collection, "profile": fact.who.profile,
                  "entity": fact.who.entity_id}  # fmt: skip
        key = tuple(values[d] for d in by)
        if key not in groups:
            groups[key] = (UsageRow(dict(zip(by, key, strict=True))), set())
        row, seen = groups[key]
        row.tally.add(fact.tally)
        if fact.who.user_id:
            seen.add(fact.who.user_id)
    out = []
    for key in sorted(groups):
        row, seen = groups[key]
        row.users = len(seen)
        out.append(row)
    return out


def to_csv(rows: Sequence[UsageRow], by: Sequence[str]) -> str:
    """The rows as CSV, one header line then one line per aggregate."""
    by = dimensions(by)
    columns = [*by, "count", "users", "succeeded", "failed", "success_rate", "files", "bytes",
               "km2", "cpu_s"]  # fmt: skip
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        data = row.as_dict()
        writer.writerow({c: "" if data[c] is None else data[c] for c in columns})
    return buffer.getvalue()
