"""The km² quotas ledger: per entity, quota family and quarter, debits and credits.

remaining = allowance − debits + credits. A debit takes what the quota has left (the rest is
the order's overage, priced by :mod:`terrapole.access.pricing`), or is refused whole when the
order may not go beyond it. Concurrent debits of one quota never overdraw it: each runs in a
transaction that first locks the quota's balance row (``SELECT ... FOR UPDATE`` on
PostgreSQL; on SQLite every write transaction begins ``BEGIN IMMEDIATE``, see
:func:`terrapole.db.create_engine`, so writers run one at a time), then reads the ledger
and writes the entry. A refused debit writes nothing.

The functions taking a ``connection`` run inside the caller's transaction (an order's state
change and its debit commit together); :class:`Ledger` opens its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from terrapole import db
from terrapole.access.pricing import Family, PriceTable, check_quarter
from terrapole.access.profiles import Profile
from terrapole.access.tables import quota_balances, quota_ledger
from terrapole.errors import InvalidInput, TerrapoleError

DEBIT, CREDIT = "debit", "credit"


class QuotaExceeded(TerrapoleError):
    """An order needs more km² than the quota has left and may not go beyond it."""

    def __init__(self, entity_id: str, family: str, period: str, km2: float, left: float):
        super().__init__(
            f"{km2:.1f} km² asked, {left:.1f} km² left of entity {entity_id}'s {family} quota "
            f"for {period}"
        )
        self.entity_id, self.family, self.period = entity_id, family, period
        self.km2, self.left = km2, left


@dataclass(frozen=True)
class Balance:
    """A quota's state: what was granted, debited and credited, and what is left."""

    entity_id: str
    family: Family
    period: str
    allowance_km2: float
    debited_km2: float
    credited_km2: float

    @property
    def remaining_km2(self) -> float:
        """allowance − debits + credits."""
        return self.allowance_km2 - self.debited_km2 + self.credited_km2


@dataclass(frozen=True)
class Entry:
    """One line of the ledger."""

    entity_id: str
    family: Family
    period: str
    order_id: str
    entry: str
    km2: float
    overage_km2: float
    actor: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class Quota:
    """Which quota: an entity of a profile, a family, a quarter."""

    entity_id: str
    profile: Profile
    family: Family
    period: str

    def __post_init__(self) -> None:
        check_quarter(self.period)
        if not self.entity_id:
            raise InvalidInput("entity", "an entity id is required")


def _where(quota: Quota) -> sa.ColumnElement[bool]:
    return sa.and_(
        quota_ledger.c.entity_id == quota.entity_id,
        quota_ledger.c.family == quota.family.value,
        quota_ledger.c.period == quota.period,
    )


def _lock(con: sa.Connection, quota: Quota, table: PriceTable) -> float:
    """Make sure the quota's balance row exists, lock it (PostgreSQL), return its allowance."""
    values = {
        "entity_id": quota.entity_id,
        "family": quota.family.value,
        "period": quota.period,
        "allowance_km2": table.allowance(quota.profile, quota.family, quota.period),
        "created": datetime.now(UTC),
    }
    dialect = postgresql if con.dialect.name == "postgresql" else sqlite
    con.execute(dialect.insert(quota_balances).values(values).on_conflict_do_nothing())
    key = sa.and_(
        quota_balances.c.entity_id == quota.entity_id,
        quota_balances.c.family == quota.family.value,
        quota_balances.c.period == quota.period,
    )
    query = sa.select(quota_balances.c.allowance_km2).where(key)
    if con.dialect.name == "postgresql":
        query = query.with_for_update()
    return float(con.execute(query).scalar_one())


def _balance(con: sa.Connection, quota: Quota, allowance: float) -> Balance:
    sums = con.execute(
        sa.select(quota_ledger.c.entry, sa.func.coalesce(sa.func.sum(quota_ledger.c.km2), 0.0))
        .where(_where(quota))
        .group_by(quota_ledger.c.entry)
    ).all()
    totals = {entry: float(km2) for entry, km2 in sums}
    return Balance(
        quota.entity_id,
        quota.family,
        quota.period,
        allowance,
        totals.get(DEBIT, 0.0),
        totals.get(CREDIT, 0.0),
    )


def balance(con: sa.Connection, quota: Quota, table: PriceTable) -> Balance:
    """The quota's balance, its row locked until the caller's transaction ends."""
    return _balance(con, quota, _lock(con, quota, table))


def debit(
    con: sa.Connection,
    quota: Quota,
    *,
    order_id: str,
    km2: float,
    actor: str,
    reason: str,
    allow_overage: bool,
    table: PriceTable,
) -> Entry:
    """Debit ``km2`` of an order from the quota, in the caller's transaction.

    The entry holds the km² the quota covered and the overage beyond it; with
    ``allow_overage`` False an order larger than what is left raises :class:`QuotaExceeded`
    and writes nothing.
    """
    if not math.isfinite(km2) or km2 <= 0:
        raise InvalidInput("km2", f"a debit is of a positive area, not {km2!r}")
    now = balance(con, quota, table)
    left = max(now.remaining_km2, 0.0)
    if km2 > left + 1e-9 and not allow_overage:
        raise QuotaExceeded(quota.entity_id, quota.family, quota.period, km2, left)
    covered = min(km2, left)
    return _write(con, quota, order_id, DEBIT, covered, km2 - covered, actor, reason)


def refund(con: sa.Connection, quota: Quota, *, order_id: str, actor: str, reason: str) -> Entry:
    """Credit back what an order's debits took and earlier refunds did not return."""
    _lock(con, quota, PriceTable())  # the row exists: the allowance given here is not used
    rows = con.execute(
        sa.select(quota_ledger.c.entry, quota_ledger.c.km2, quota_ledger.c.overage_km2).where(
            _where(quota), quota_ledger.c.order_id == order_id
        )
    ).all()
    sign = {DEBIT: 1.0, CREDIT: -1.0}
    owed = sum(sign[entry] * km2 for entry, km2, _ in rows)
    overage = sum(sign[entry] * over for entry, _, over in rows)
    if owed <= 0 and overage <= 0:
        raise InvalidInput("order", f"order {order_id} holds nothing of this quota to refund")
    return _write(con, quota, order_id, CREDIT, max(owed, 0.0), max(overage, 0.0), actor, reason)


def grant(con: sa.Connection, quota: Quota, *, km2: float, actor: str, reason: str) -> Entry:
    """Credit ``km2`` to a quota outside any order (an admin's grant)."""
    if not math.isfinite(km2) or km2 <= 0:
        raise InvalidInput("km2", f"a grant is of a positive area, not {km2!r}")
    _lock(con, quota, PriceTable())
    return _write(con, quota, "", CREDIT, km2, 0.0, actor, reason)


def _write(
    con: sa.Connection,
    quota: Quota,
    order_id: str,
    entry: str,
    km2: float,
    overage: float,
    actor: str,
    reason: str,
) -> Entry:
    row = Entry(
        quota.entity_id,
        quota.family,
        quota.period,
        order_id,
        entry,
        km2,
        overage,
        actor,
        datetime.now(UTC),
        reason[:500],
    )
    values = {**row.__dict__, "family": quota.family.value}
    con.execute(sa.insert(quota_ledger).values(values))
    return row


class Ledger:
    """The quotas ledger over one database: balances and entries, each call its own
    transaction."""

    def __init__(self, engine: sa.Engine, table: PriceTable | None = None) -> None:
        self.engine = engine
        self.table = table or PriceTable()

    def balance(self, quota: Quota) -> Balance:
        """The quota's balance now (allowance from the table when nothing was debited yet)."""
        with db.reading(self.engine) as con:
            stored = con.execute(
                sa.select(quota_balances.c.allowance_km2).where(
                    quota_balances.c.entity_id == quota.entity_id,
                    quota_balances.c.family == quota.family.value,
                    quota_balances.c.period == quota.period,
                )
            ).scalar_one_or_none()
            allowance = (
                float(stored)
                if stored is not None
                else self.table.allowance(quota.profile, quota.family, quota.period)
            )
            return _balance(con, quota, allowance)

    def debit(
        self,
        quota: Quota,
        *,
        order_id: str,
        km2: float,
        actor: str,
        reason: str,
        allow_overage: bool = False,
    ) -> Entry:
        """Debit an order's km² in a transaction of its own (see :func:`debit`)."""
        with self.engine.begin() as con:
            return debit(
                con,
                quota,
                order_id=order_id,
                km2=km2,
                actor=actor,
                reason=reason,
                allow_overage=allow_overage,
                table=self.table,
            )

    def refund(self, quota: Quota, *, order_id: str, actor: str, reason: str) -> Entry:
        """Refund an order in a transaction of its own (see :func:`refund`)."""
        with self.engine.begin() as con:
            return refund(con, quota, order_id=order_id, actor=actor, reason=reason)

    def grant(self, quota: Quota, *, km2: float, actor: str, reason: str) -> Entry:
        """Grant km² to a quota in a transaction of its own (see :func:`grant`)."""
        with self.engine.begin() as con:
            return grant(con, quota, km2=km2, actor=actor, reason=reason)

    def entries(self, quota: Quota) -> list[Entry]:
        """The quota's ledger, oldest first."""
        with db.reading(self.engine) as con:
            rows = con.execute(
                sa.select(quota_ledger).where(_where(quota)).order_by(quota_ledger.c.n)
            ).all()
        return [
            Entry(
                r.entity_id,
                Family(r.family),
                r.period,
                r.order_id,
                r.entry,
                r.km2,
                r.overage_km2,
                r.actor,
                r.at,
                r.reason,
            )
            for r in rows
        ]
