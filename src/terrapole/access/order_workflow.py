"""The order workflow, sans I/O: states, roles, the one transitions table, terminal states.

draft → submitted (owner) → approved (the entity's referent) → accepted (an operator) →
planned (operator; tasking only) → delivered (operator) → closed; refused by the referent or
an operator, cancelled by the owner before the operator accepts (by an operator after). An
archive order goes from accepted to delivered directly: there is nothing to plan.

The quota is debited at submission (the referent approves an order whose km² are already
held, so two orders cannot both count on the same remaining km²) and refunded when an order
that was debited is refused or cancelled (:data:`REFUNDED`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from terrapole.access.pricing import Kind
from terrapole.errors import Forbidden, TerrapoleError


class State(StrEnum):
    """Where an order is."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    ACCEPTED = "accepted"
    PLANNED = "planned"
    DELIVERED = "delivered"
    CLOSED = "closed"
    REFUSED = "refused"
    CANCELLED = "cancelled"


class Role(StrEnum):
    """Who acts on an order: its owner, the referent of its entity, an operator (admin)."""

    OWNER = "owner"
    REFERENT = "referent"
    OPERATOR = "operator"


TERMINAL = frozenset({State.CLOSED, State.REFUSED, State.CANCELLED})

DEBITED = frozenset({State.SUBMITTED, State.APPROVED, State.ACCEPTED, State.PLANNED})
"""States in which the order holds quota km² a refusal or cancellation gives back."""

REFUNDED = frozenset({State.REFUSED, State.CANCELLED})

_O, _R, _P = Role.OWNER, Role.REFERENT, Role.OPERATOR

_COMMON: dict[State, dict[State, frozenset[Role]]] = {
    State.DRAFT: {State.SUBMITTED: frozenset({_O}), State.CANCELLED: frozenset({_O})},
    State.SUBMITTED: {
        State.APPROVED: frozenset({_R}),
        State.REFUSED: frozenset({_R, _P}),
        State.CANCELLED: frozenset({_O, _R}),
    },
    State.APPROVED: {
        State.ACCEPTED: frozenset({_P}),
        State.REFUSED: frozenset({_P}),
        State.CANCELLED: frozenset({_O, _R}),
    },
    State.ACCEPTED: {State.CANCELLED: frozenset({_P})},
    State.DELIVERED: {State.CLOSED: frozenset({_O, _R, _P})},
    **{state: {} for state in TERMINAL},
}


def _table(kind: Kind) -> dict[State, dict[State, frozenset[Role]]]:
    table = {start: dict(moves) for start, moves in _COMMON.items()}
    if kind is Kind.TASKING:
        table[State.ACCEPTED][State.PLANNED] = frozenset({_P})
        table[State.PLANNED] = {
            State.DELIVERED: frozenset({_P}),
            State.CANCELLED: frozenset({_P}),  # the acquisition could not be made
        }
    else:
        table[State.ACCEPTED][State.DELIVERED] = frozenset({_P})
        table[State.PLANNED] = {}
    return table


TRANSITIONS: Mapping[Kind, Mapping[State, Mapping[State, frozenset[Role]]]] = {
    kind: _table(kind) for kind in Kind
}
"""kind → start → finish → the roles that may make that move."""


class InvalidOrderTransition(TerrapoleError):
    """An order was asked to move where the transitions table does not allow."""

    def __init__(self, order_id: str, start: State, finish: State) -> None:
        super().__init__(f"order {order_id}: cannot go from {start} to {finish}")
        self.order_id, self.start, self.finish = order_id, start, finish


@dataclass(frozen=True)
class Actor:
    """Who asks: a user id, the entities whose referent they are, whether an operator."""

    user_id: str
    referent_of: frozenset[str] = frozenset()
    operator: bool = False

    def roles(self, *, owner: str, entity_id: str) -> frozenset[Role]:
        """The roles this actor holds on an order of ``owner`` in ``entity_id``."""
        held = set()
        if self.user_id == owner:
            held.add(Role.OWNER)
        if entity_id in self.referent_of:
            held.add(Role.REFERENT)
        if self.operator:
            held.add(Role.OPERATOR)
        return frozenset(held)


def check_transition(
    order_id: str, kind: Kind, start: State, finish: State, roles: frozenset[Role]
) -> Role:
    """The role that makes ``start`` → ``finish``; raise when the table or the roles forbid it.

    A move the table does not hold raises :class:`InvalidOrderTransition`; an allowed move by
    an actor without an allowed role raises :class:`Forbidden`. Of several roles held, the
    narrowest is recorded (owner, then referent, then operator).
    """
    allowed = TRANSITIONS[kind][start].get(finish)
    if allowed is None:
        raise InvalidOrderTransition(order_id, start, finish)
    for role in (Role.OWNER, Role.REFERENT, Role.OPERATOR):
        if role in roles and role in allowed:
            return role
    names = " or ".join(sorted(allowed))
    raise Forbidden(f"order {order_id}: only its {names} may move it from {start} to {finish}")
