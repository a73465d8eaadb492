"""Archive orders and tasking requests: drafted with their km², quoted, moved through the
workflow of :mod:`terrapole.access.order_workflow` with the quota debited and refunded.

Every move is one transaction: the order's state is changed only if it is still the state
the move was checked against, the ledger entry (debit at submission, refund on refusal or
cancellation) and the history line are written with it, so a refused move leaves nothing
behind. Who is a member of which entity, and which profile it has, is the accounts'
business: the caller passes the entity and profile it resolved.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from terrapole import db
from terrapole.access import quotas
from terrapole.access.areas import archive_km2, tasking_km2
from terrapole.access.order_workflow import (
    DEBITED,
    REFUNDED,
    Actor,
    InvalidOrderTransition,
    Role,
    State,
    check_transition,
)
from terrapole.access.pricing import Family, Kind, PriceTable, Quote, quarter, quote
from terrapole.access.profiles import Profile
from terrapole.access.profiles import profile as to_profile
from terrapole.access.tables import order_history, orders
from terrapole.errors import InvalidInput, NotFound

MODES = ("mono", "stereo", "tristereo")
PRIORITIES = ("standard", "high")
_NOTE_MAX = 2000


@dataclass(frozen=True)
class TaskingRequest:
    """A new acquisition: where (AOI ≥ 100 km²), when, by which sensor and how."""

    aoi: dict[str, Any]
    start: date
    end: date
    sensor: Family
    mode: str = "mono"
    max_cloud: int = 20
    priority: str = "standard"
    note: str = ""

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInput("period", f"ends ({self.end}) before it starts ({self.start})")
        if self.mode not in MODES:
            raise InvalidInput("mode", f"{self.mode!r} is none of {', '.join(MODES)}")
        if isinstance(self.max_cloud, bool) or not 0 <= self.max_cloud <= 100:
            raise InvalidInput(
                "max_cloud", f"a percentage 0-100 is required, not {self.max_cloud!r}"
            )
        if self.priority not in PRIORITIES:
            raise InvalidInput("priority", f"{self.priority!r} is none of {', '.join(PRIORITIES)}")
        if len(self.note) > _NOTE_MAX:
            raise InvalidInput("note", f"at most {_NOTE_MAX} characters")

    def to_json(self) -> dict[str, Any]:
        """The request's parameters as stored (the AOI apart)."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "sensor": self.sensor.value,
            "mode": self.mode,
            "max_cloud": self.max_cloud,
            "priority": self.priority,
            "note": self.note,
        }


@dataclass(frozen=True)
class Order:
    """An order as stored."""

    id: str
    kind: Kind
    state: State
    entity_id: str
    owner: str
    profile: Profile
    family: Family
    period: str
    request: dict[str, Any]
    aoi: dict[str, Any] | None
    km2: float
    quota_km2: float | None = None
    overage_km2: float | None = None
    price_eur: float | None = None
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def quota(self) -> quotas.Quota:
        """The quota the order draws on."""
        return quotas.Quota(self.entity_id, self.profile, self.family, self.period)


@dataclass(frozen=True)
class Step:
    """One line of an order's history."""

    start: State | None
    finish: State
    actor: str
    role: str
    at: datetime
    note: str


def _order(row: sa.Row[Any]) -> Order:
    return Order(
        row.id, Kind(row.kind), State(row.state), row.entity_id, row.owner, Profile(row.profile),
        Family(row.family), row.period, row.request, row.aoi, row.km2, row.quota_km2,
        row.overage_km2, row.price_eur, row.created, row.updated,
    )  # fmt: skip


class OrderBook:
    """Orders over one database, with the quotas ledger they debit."""

    def __init__(self, engine: sa.Engine, table: PriceTable | None = None) -> None:
        self.engine = engine
        self.table = table or PriceTable()
        self.ledger = quotas.Ledger(engine, self.table)

    # -- drafts -----------------------------------------------------------------------------

    def draft_archive(
        self,
        actor: Actor,
        *,
        entity_id: str,
        profile: Profile,
        family: Family,
        collection_id: str,
        footprints: dict[str, dict[str, Any]],
        aoi: dict[str, Any] | None = None,
        search: dict[str, Any] | None = None,
        when: datetime | None = None,
    ) -> Order:
        """A draft order of archive products (their footprints ∩ the AOI, in km²).

        ``footprints`` maps the ordered item ids (from the caller's view of the catalogue, or
        the result of ``search``) to their geometries.
        """
        if not collection_id:
            raise InvalidInput("collection", "an archive order names its collection")
        areas = archive_km2(footprints, aoi)
        request: dict[str, Any] = {
            "collection": collection_id,
            "items": sorted(areas),
            "km2_by_item": areas,
            "search": search,
        }
        return self._create(actor, Kind.ARCHIVE, entity_id, profile, family, request, aoi,
                            sum(areas.values()), when)  # fmt: skip

    def draft_tasking(
        self,
        actor: Actor,
        *,
        entity_id: str,
        profile: Profile,
        request: TaskingRequest,
        when: datetime | None = None,
    ) -> Order:
        """A draft tasking request (its AOI's km², at least 100)."""
        km2 = tasking_km2(request.aoi)
        return self._create(actor, Kind.TASKING, entity_id, profile, request.sensor,
                            request.to_json(), request.aoi, km2, when)  # fmt: skip

    def _create(
        self,
        actor: Actor,
        kind: Kind,
        entity_id: str,
        profile: Profile,
        family: Family,
        request: dict[str, Any],
        aoi: dict[str, Any] | None,
        km2: float,
        when: datetime | None,
    ) -> Order:
        if not entity_id:
            raise InvalidInput("entity", "an order is made for an entity")
        profile = to_profile(profile)
        if family not in set(Family):
            raise InvalidInput("family", f"{family!r} is none of {', '.join(Family)}")
        now = datetime.now(UTC)
        order = Order(
            uuid.uuid4().hex, kind, State.DRAFT, entity_id, actor.user_id, Profile(profile),
            Family(family), quarter(when or now), request, aoi, km2, created=now, updated=now,
        )  # fmt: skip
        with self.engine.begin() as con:
            values = {**order.__dict__, "kind": kind.value, "state": order.state.value,
                      "profile": order.profile.value, "family": order.family.value}  # fmt: skip
            con.execute(sa.insert(orders).values(values))
            self._record(con, order.id, None, State.DRAFT, actor.user_id, Role.OWNER, "")
        return order

    # -- reading ----------------------------------------------------------------------------

    def get(self, actor: Actor, order_id: str) -> Order:
        """The order, for its owner, its entity's referent or an operator (others: NotFound)."""
        with db.reading(self.engine) as con:
            row = con.execute(sa.select(orders).where(orders.c.id == order_id)).one_or_none()
        if row is None or not actor.roles(owner=row.owner, entity_id=row.entity_id):
            raise NotFound("order", order_id)
        return _order(row)

    def owned_by(self, actor: Actor) -> list[Order]:
        """The orders ``actor`` made, oldest first."""
        query = sa.select(orders).where(orders.c.owner == actor.user_id)
        with db.reading(self.engine) as con:
            rows = con.execute(query.order_by(orders.c.created, orders.c.id)).all()
        return [_order(r) for r in rows]

    def find(self, actor: Actor, *, entity_id: str | None = None) -> list[Order]:
        """The orders ``actor`` may read (own, of entities they lead, all for an operator),
        newest first; with ``entity_id``, that entity's only."""
        query = sa.select(orders).order_by(orders.c.created.desc(), orders.c.id)
        if entity_id is not None:
            query = query.where(orders.c.entity_id == entity_id)
        if not actor.operator:
            query = query.where(
                sa.or_(orders.c.owner == actor.user_id, orders.c.entity_id.in_(actor.referent_of))
            )
        with db.reading(self.engine) as con:
            return [_order(row) for row in con.execute(query)]

    def history(self, actor: Actor, order_id: str) -> list[Step]:
        """The order's moves, oldest first."""
        self.get(actor, order_id)
        with db.reading(self.engine) as con:
            rows = con.execute(
                sa.select(order_history)
                .where(order_history.c.order_id == order_id)
                .order_by(order_history.c.n)
            ).all()
        return [
            Step(State(r.start) if r.start else None, State(r.finish), r.actor, r.role, r.at,
                 r.note)
            for r in rows
        ]  # fmt: skip

    def quote(self, actor: Actor, order_id: str) -> Quote:
        """What the order would cost if submitted now, against the quota left now."""
        order = self.get(actor, order_id)
        left = self.ledger.balance(order.quota).remaining_km2
        return quote(km2=order.km2, remaining_km2=left, profile=order.profile,
                     family=order.family, kind=order.kind, table=self.table)  # fmt: skip

    # -- moves ------------------------------------------------------------------------------

    def submit(self, actor: Actor, order_id: str, *, accept_price_eur: float = 0.0) -> Order:
        """Submit a draft: its km² are debited from the quota, the rest priced.

        An order beyond the quota is submitted only when ``accept_price_eur`` (the price the
        user accepted from :meth:`quote`) covers the overage's price now; otherwise
        :class:`~terrapole.access.quotas.QuotaExceeded`, and the order stays a draft.
        """
        if not math.isfinite(accept_price_eur) or accept_price_eur < 0:
            raise InvalidInput(
                "accept_price_eur", f"a price ≥ 0 is required, not {accept_price_eur!r}"
            )
        return self._move(actor, order_id, State.SUBMITTED, "", accept_price_eur)

    def move(self, actor: Actor, order_id: str, finish: State | str, note: str = "") -> Order:
        """Any move but submission and delivery (approve, accept, plan, close, refuse, cancel).

        An order is delivered with its items by :class:`terrapole.access.delivery.Delivery`,
        never by a bare move: no path marks an order delivered without them.
        """
        try:
            target = State(finish)
        except ValueError:
            raise InvalidInput("state", f"{finish!r} is none of {', '.join(State)}") from None
        if target is State.SUBMITTED:
            raise InvalidInput("state", "an order is submitted with submit(), which debits it")
        if target is State.DELIVERED:
            raise InvalidInput(
                "state", "an order is delivered with its items (access.delivery.Delivery)"
            )
        return self._checked_move(actor, order_id, target, note)

    def _mark_delivered(self, actor: Actor, order_id: str, note: str = "") -> Order:
        """The move to ``delivered``, for :class:`~terrapole.access.delivery.Delivery` only,
        once it has written the order's items (it takes them back if this move fails)."""
        return self._checked_move(actor, order_id, State.DELIVERED, note)

    def _checked_move(self, actor: Actor, order_id: str, finish: State, note: str) -> Order:
        if len(note) > _NOTE_MAX:
            raise InvalidInput("note", f"at most {_NOTE_MAX} characters")
        return self._move(actor, order_id, finish, note, None)

    def _move(
        self, actor: Actor, order_id: str, finish: State, note: str, accepted: float | None
    ) -> Order:
        with self.engine.begin() as con:
            query = sa.select(orders).where(orders.c.id == order_id)
            if con.dialect.name == "postgresql":
                query = query.with_for_update()
            row = con.execute(query).one_or_none()
            roles = actor.roles(owner=row.owner, entity_id=row.entity_id) if row else frozenset()
            if row is None or not roles:
                raise NotFound("order", order_id)
            order = _order(row)
            role = check_transition(order_id, order.kind, order.state, finish, roles)
            changes: dict[str, Any] = {"state": finish.value, "updated": datetime.now(UTC)}
            if finish is State.SUBMITTED:
                assert accepted is not None
                changes |= self._debit(con, actor, order, accepted)
            elif finish in REFUNDED and order.state in DEBITED:
                quotas.refund(con, order.quota, order_id=order.id, actor=actor.user_id,
                              reason=f"order {finish} by its {role}")  # fmt: skip
            done = con.execute(
                sa.update(orders)
                .where(orders.c.id == order_id, orders.c.state == order.state.value)
                .values(changes)
            )
            if done.rowcount != 1:  # another move won the race: roll back ours
                raise InvalidOrderTransition(order_id, order.state, finish)
            self._record(con, order_id, order.state, finish, actor.user_id, role, note)
            return _order(con.execute(sa.select(orders).where(orders.c.id == order_id)).one())

    def _debit(
        self, con: sa.Connection, actor: Actor, order: Order, accepted: float
    ) -> dict[str, Any]:
        now = quotas.balance(con, order.quota, self.table)
        priced = quote(km2=order.km2, remaining_km2=now.remaining_km2, profile=order.profile,
                       family=order.family, kind=order.kind, table=self.table)  # fmt: skip
        if priced.overage_km2 > 0 and accepted + 0.005 < priced.price_eur:
            raise quotas.QuotaExceeded(order.entity_id, order.family, order.period, order.km2,
                                       max(now.remaining_km2, 0.0))  # fmt: skip
        quotas.debit(con, order.quota, order_id=order.id, km2=order.km2, actor=actor.user_id,
                     reason=f"{order.kind} order submitted", allow_overage=True,
                     table=self.table)  # fmt: skip
        return {"quota_km2": priced.quota_used, "overage_km2": priced.overage_km2,
                "price_eur": priced.price_eur}  # fmt: skip

    @staticmethod
    def _record(
        con: sa.Connection, order_id: str, start: State | None, finish: State, actor: str,
        role: Role, note: str,
    ) -> None:  # fmt: skip
        con.execute(sa.insert(order_history).values(
            order_id=order_id, start=start.value if start else None, finish=finish.value,
            actor=actor, role=role.value, at=datetime.now(UTC), note=note,
        ))  # fmt: skip
