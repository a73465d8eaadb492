"""Orders: the pure workflow table, and the order book on SQLite and PostgreSQL (drafts with
their km², quotes, submission debiting the quota, refunds, roles, history, nothing written by a
refused move)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import shapely
import sqlalchemy as sa
from shapely.geometry import mapping

from terrapole.access.order_workflow import (
    TERMINAL,
    TRANSITIONS,
    Actor,
    InvalidOrderTransition,
    Role,
    State,
    check_transition,
)
from terrapole.access.orders import OrderBook, TaskingRequest
from terrapole.access.pricing import Family, Kind
from terrapole.access.profiles import Profile
from terrapole.access.quotas import QuotaExceeded
from terrapole.access.tables import order_history, orders, quota_ledger
from terrapole.errors import Forbidden, InvalidInput, NotFound

OWNER = Actor("alice")
REFERENT = Actor("rita", referent_of=frozenset({"lab-1"}))
OPERATOR = Actor("oscar", operator=True)
STRANGER = Actor("mallory", referent_of=frozenset({"lab-2"}))


def _box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    return dict(mapping(shapely.box(west, south, east, north)))


# -- the pure table --------------------------------------------------------------------------


def test_terminal_states_lead_nowhere() -> None:
    for kind in Kind:
        for state in TERMINAL:
            assert TRANSITIONS[kind][state] == {}


def test_the_happy_paths_are_in_the_table() -> None:
    path = [State.DRAFT, State.SUBMITTED, State.APPROVED, State.ACCEPTED, State.PLANNED,
            State.DELIVERED, State.CLOSED]  # fmt: skip
    for start, finish in zip(path, path[1:], strict=False):
        assert finish in TRANSITIONS[Kind.TASKING][start]
    assert State.DELIVERED in TRANSITIONS[Kind.ARCHIVE][State.ACCEPTED]
    assert State.PLANNED not in TRANSITIONS[Kind.ARCHIVE][State.ACCEPTED]
    assert State.DELIVERED not in TRANSITIONS[Kind.TASKING][State.ACCEPTED]


@pytest.mark.parametrize(
    ("start", "finish", "roles", "expected"),
    [
        (State.DRAFT, State.SUBMITTED, {Role.OWNER}, Role.OWNER),
        (State.SUBMITTED, State.APPROVED, {Role.REFERENT}, Role.REFERENT),
        (State.SUBMITTED, State.APPROVED, {Role.OWNER, Role.REFERENT}, Role.REFERENT),
        (State.APPROVED, State.ACCEPTED, {Role.OPERATOR}, Role.OPERATOR),
        (State.DELIVERED, State.CLOSED, {Role.OWNER, Role.OPERATOR}, Role.OWNER),
    ],
)
def test_the_right_role_may_move(
    start: State, finish: State, roles: set[Role], expected: Role
) -> None:
    assert check_transition("o", Kind.TASKING, start, finish, frozenset(roles)) is expected


@pytest.mark.parametrize(
    ("start", "finish", "roles"),
    [
        (State.SUBMITTED, State.APPROVED, {Role.OWNER}),  # no self-approval
        (State.SUBMITTED, State.APPROVED, {Role.OPERATOR}),  # the referent approves first
        (State.APPROVED, State.ACCEPTED, {Role.REFERENT}),
        (State.DRAFT, State.SUBMITTED, {Role.REFERENT, Role.OPERATOR}),
        (State.ACCEPTED, State.CANCELLED, {Role.OWNER}),  # too late for the owner
    ],
)
def test_the_wrong_role_is_forbidden(start: State, finish: State, roles: set[Role]) -> None:
    with pytest.raises(Forbidden, match=f"from {start} to {finish}"):
        check_transition("o", Kind.TASKING, start, finish, frozenset(roles))


@pytest.mark.parametrize(
    ("kind", "start", "finish"),
    [
        (Kind.TASKING, State.DRAFT, State.APPROVED),
        (Kind.TASKING, State.SUBMITTED, State.ACCEPTED),
        (Kind.TASKING, State.ACCEPTED, State.DELIVERED),
        (Kind.ARCHIVE, State.ACCEPTED, State.PLANNED),
        (Kind.ARCHIVE, State.CLOSED, State.DRAFT),
        (Kind.ARCHIVE, State.CANCELLED, State.SUBMITTED),
    ],
)
def test_moves_out_of_order_are_invalid(kind: Kind, start: State, finish: State) -> None:
    every = frozenset(Role)
    with pytest.raises(InvalidOrderTransition, match=f"cannot go from {start} to {finish}"):
        check_transition("o", kind, start, finish, every)


# -- the order book --------------------------------------------------------------------------


@pytest.fixture
def book(engine: sa.Engine) -> OrderBook:
    """An order book on a migrated database of each kind (tests/access/conftest.py)."""
    return OrderBook(engine)


def _count(book: OrderBook, table: sa.Table) -> int:
    with book.engine.connect() as con:
        return int(con.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _snapshot(book: OrderBook) -> tuple[int, int, int, list[Any]]:
    with book.engine.connect() as con:
        states = sorted(con.execute(sa.select(orders.c.id, orders.c.state)).all())
    return (_count(book, orders), _count(book, order_history), _count(book, quota_ledger),
            states)  # fmt: skip


def _tasking(book: OrderBook, profile: Profile = Profile.FRENCH_SCIENTIST,
             aoi: dict[str, Any] | None = None) -> str:  # fmt: skip
    request = TaskingRequest(aoi or _box(1, 43, 1.5, 43.5), date(2027, 5, 1), date(2027, 6, 30),
                             Family.PLEIADES, mode="stereo", max_cloud=10, note="crops")  # fmt: skip
    return book.draft_tasking(OWNER, entity_id="lab-1", profile=profile, request=request).id


def _archive(book: OrderBook, aoi: dict[str, Any] | None = None) -> str:
    footprints = {"p1": _box(0, 0, 0.2, 0.2), "p2": _box(0.2, 0, 0.4, 0.2)}
    return book.draft_archive(OWNER, entity_id="lab-1", profile=Profile.FRENCH_PUBLIC_ACTOR,
                              family=Family.PLEIADES, collection_id="pleiades-restricted",
                              footprints=footprints, aoi=aoi).id  # fmt: skip


def test_a_tasking_request_goes_the_whole_way(book: OrderBook) -> None:
    order_id = _tasking(book)
    draft = book.get(OWNER, order_id)
    assert draft.state is State.DRAFT and draft.kind is Kind.TASKING
    assert 2000 < draft.km2 < 2300  # 0.5° × 0.5° at 43° N
    assert draft.request["mode"] == "stereo"
    quote = book.quote(OWNER, order_id)
    assert (quote.quota_used, quote.overage_km2, quote.price_eur) == (draft.km2, 0, 0)
    submitted = book.submit(OWNER, order_id)
    assert submitted.quota_km2 == pytest.approx(draft.km2) and submitted.price_eur == 0
    assert book.ledger.balance(draft.quota).remaining_km2 == pytest.approx(5500 - draft.km2)
    for actor, state in [(REFERENT, State.APPROVED), (OPERATOR, State.ACCEPTED),
                         (OPERATOR, State.PLANNED)]:  # fmt: skip
        assert book.move(actor, order_id, state, note=f"to {state}").state is state
    # the delivery's own move, made once its items are written (tests/access/test_delivery.py)
    assert book._mark_delivered(OPERATOR, order_id, "to delivered").state is State.DELIVERED
    assert book.move(OWNER, order_id, State.CLOSED, note="to closed").state is State.CLOSED
    steps = book.history(REFERENT, order_id)
    assert [(s.start, s.finish, s.actor, s.role) for s in steps] == [
        (None, State.DRAFT, "alice", "owner"),
        (State.DRAFT, State.SUBMITTED, "alice", "owner"),
        (State.SUBMITTED, State.APPROVED, "rita", "referent"),
        (State.APPROVED, State.ACCEPTED, "oscar", "operator"),
        (State.ACCEPTED, State.PLANNED, "oscar", "operator"),
        (State.PLANNED, State.DELIVERED, "oscar", "operator"),
        (State.DELIVERED, State.CLOSED, "alice", "owner"),
    ]
    # a closed order keeps its km²: nothing refunded
    assert book.ledger.balance(draft.quota).remaining_km2 == pytest.approx(5500 - draft.km2)


def test_an_archive_order_counts_the_aoi_on_each_product(book: OrderBook) -> None:
    whole = book.get(OWNER, _archive(book))
    cut = book.get(OWNER, _archive(book, aoi=_box(0.1, 0, 0.3, 0.2)))
    assert cut.km2 == pytest.approx(whole.km2 / 2, rel=1e-3)
    assert cut.request["items"] == ["p1", "p2"]
    assert cut.request["km2_by_item"]["p1"] == pytest.approx(cut.km2 / 2, rel=1e-3)
    book.submit(OWNER, cut.id)
    book.move(REFERENT, cut.id, State.APPROVED)
    assert book.move(OPERATOR, cut.id, State.ACCEPTED).state is State.ACCEPTED


def test_a_bare_move_never_marks_an_order_delivered(book: OrderBook) -> None:
    order_id = _archive(book)
    book.submit(OWNER, order_id)
    book.move(REFERENT, order_id, State.APPROVED)
    book.move(OPERATOR, order_id, State.ACCEPTED)
    before = _snapshot(book)
    for finish in (State.DELIVERED, "delivered"):
        with pytest.raises(InvalidInput, match="delivered with its items"):
            book.move(OPERATOR, order_id, finish)
    assert _snapshot(book) == before


@pytest.mark.parametrize("finish", [State.REFUSED, State.CANCELLED])
def test_a_refused_or_cancelled_order_gets_its_km2_back(book: OrderBook, finish: State) -> None:
    order_id = _tasking(book)
    quota = book.get(OWNER, order_id).quota
    book.submit(OWNER, order_id)
    assert book.ledger.balance(quota).remaining_km2 < 5500
    actor = REFERENT if finish is State.REFUSED else OWNER
    book.move(actor, order_id, finish, note="not this time")
    assert book.ledger.balance(quota).remaining_km2 == pytest.approx(5500)
    entries = book.ledger.entries(quota)
    assert [(e.entry, e.actor) for e in entries] == [("debit", "alice"), ("credit", actor.user_id)]


def test_cancelling_a_draft_refunds_nothing(book: OrderBook) -> None:
    order_id = _tasking(book)
    book.move(OWNER, order_id, State.CANCELLED)
    assert _count(book, quota_ledger) == 0


def test_beyond_the_quota_the_price_must_be_accepted(book: OrderBook) -> None:
    # a public actor (4 000 km² of Pléiades) asks for two 0.2° × 0.2° products at the
    # equator (≈ 2 × 492 km² archive) when 3 500 km² of the quota are already taken
    order_id = _archive(book)
    order = book.get(OWNER, order_id)
    book.ledger.debit(order.quota, order_id="earlier", km2=3500, actor="bob", reason="earlier")
    quote = book.quote(OWNER, order_id)
    assert 980 < order.km2 < 990
    assert quote.quota_used == pytest.approx(500)
    assert quote.price_eur == pytest.approx(round((order.km2 - 500) * 1.4, 2))
    before = _snapshot(book)
    with pytest.raises(QuotaExceeded):
        book.submit(OWNER, order_id)  # the price was not accepted
    with pytest.raises(QuotaExceeded):
        book.submit(OWNER, order_id, accept_price_eur=quote.price_eur - 1)
    assert _snapshot(book) == before  # still a draft, nothing debited, no history line
    submitted = book.submit(OWNER, order_id, accept_price_eur=quote.price_eur)
    assert submitted.price_eur == pytest.approx(quote.price_eur)
    assert (submitted.quota_km2, submitted.overage_km2) == (
        pytest.approx(500), pytest.approx(order.km2 - 500))  # fmt: skip
    assert book.ledger.balance(order.quota).remaining_km2 == pytest.approx(0)


@pytest.mark.parametrize(
    ("actor", "finish", "error"),
    [
        (OWNER, State.APPROVED, Forbidden),  # self-approval
        (OPERATOR, State.ACCEPTED, InvalidOrderTransition),  # the referent has not approved
        (OWNER, State.CLOSED, InvalidOrderTransition),
        (STRANGER, State.APPROVED, NotFound),  # the referent of another entity
        (REFERENT, "shipped", InvalidInput),
        (OWNER, State.SUBMITTED, InvalidInput),  # submission only through submit()
    ],
)
def test_a_refused_move_writes_nothing(
    book: OrderBook, actor: Actor, finish: State | str, error: type[Exception]
) -> None:
    order_id = _tasking(book)
    book.submit(OWNER, order_id)
    before = _snapshot(book)
    with pytest.raises(error):
        book.move(actor, order_id, finish)
    assert _snapshot(book) == before


def test_submitting_twice_debits_once(book: OrderBook) -> None:
    order_id = _tasking(book)
    book.submit(OWNER, order_id)
    before = _snapshot(book)
    with pytest.raises(InvalidOrderTransition):
        book.submit(OWNER, order_id)
    assert _snapshot(book) == before
    assert _count(book, quota_ledger) == 1


def test_only_the_owner_submits(book: OrderBook) -> None:
    order_id = _tasking(book)
    with pytest.raises(Forbidden):
        book.submit(REFERENT, order_id)
    assert _count(book, quota_ledger) == 0


def test_others_do_not_see_an_order(book: OrderBook) -> None:
    order_id = _tasking(book)
    for actor in (STRANGER, Actor("bob")):
        with pytest.raises(NotFound):
            book.get(actor, order_id)
        with pytest.raises(NotFound):
            book.history(actor, order_id)
    assert book.get(OPERATOR, order_id).id == order_id
    with pytest.raises(NotFound):
        book.move(OPERATOR, "no-such-order", State.CANCELLED)


@pytest.mark.parametrize(
    ("aoi", "reason"),
    [
        (_box(1, 43, 1.05, 43.05), "at least 100 km²"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
         "Self-intersection"),
        ({"type": "Point", "coordinates": [1, 43]}, "Polygon or MultiPolygon"),
    ],
)  # fmt: skip
def test_a_bad_tasking_aoi_makes_no_order(
    book: OrderBook, aoi: dict[str, Any], reason: str
) -> None:
    with pytest.raises(InvalidInput, match=reason):
        _tasking(book, aoi=aoi)
    assert _snapshot(book) == (0, 0, 0, [])


def test_an_archive_aoi_outside_the_products_makes_no_order(book: OrderBook) -> None:
    with pytest.raises(InvalidInput, match="outside every product footprint"):
        _archive(book, aoi=_box(10, 10, 11, 11))
    assert _snapshot(book) == (0, 0, 0, [])


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"start": date(2027, 7, 1)}, "ends"),
        ({"mode": "quad"}, "mode"),
        ({"max_cloud": 101}, "max_cloud"),
        ({"priority": "urgent"}, "priority"),
        ({"note": "x" * 2001}, "note"),
    ],
)
def test_bad_tasking_parameters_are_refused(changes: dict[str, Any], reason: str) -> None:
    fields: dict[str, Any] = {
        "aoi": _box(1, 43, 1.5, 43.5), "start": date(2027, 5, 1), "end": date(2027, 6, 30),
        "sensor": Family.PLEIADES, **changes,
    }  # fmt: skip
    with pytest.raises(InvalidInput, match=reason):
        TaskingRequest(**fields)


def test_an_order_of_an_unknown_profile_is_refused(book: OrderBook) -> None:
    with pytest.raises(InvalidInput, match="profile"):
        book.draft_tasking(OWNER, entity_id="lab-1", profile="astronaut",  # type: ignore[arg-type]
                           request=TaskingRequest(_box(1, 43, 1.5, 43.5), date(2027, 5, 1),
                                                  date(2027, 6, 30), Family.PLEIADES))  # fmt: skip
    assert _snapshot(book) == (0, 0, 0, [])


def test_a_profile_without_quota_nor_price_cannot_submit(book: OrderBook) -> None:
    order_id = _tasking(book, profile=Profile.TEACHING)
    with pytest.raises(InvalidInput, match="no tasking price"):
        book.submit(OWNER, order_id, accept_price_eur=10**9)
    assert _count(book, quota_ledger) == 0
    assert book.get(OWNER, order_id).state is State.DRAFT
