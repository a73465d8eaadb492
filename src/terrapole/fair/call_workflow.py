"""The workflow of a call-for-projects application, sans I/O: states, roles, the one
transitions table, terminal states.

draft → submitted (the applicant, while the call is open) → under review (an admin, once
reviewers are assigned) → accepted / rejected / needs changes (an admin, once a review is in);
from needs changes the applicant edits and submits again. The applicant may withdraw before a
decision; an admin may reject a submitted application without review (out of the call's scope).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from terrapole.errors import Forbidden, TerrapoleError


class State(StrEnum):
    """Where an application is."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    NEEDS_CHANGES = "needs_changes"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Role(StrEnum):
    """Who moves an application: its applicant, or an admin (the committee)."""

    APPLICANT = "applicant"
    ADMIN = "admin"


TERMINAL = frozenset({State.ACCEPTED, State.REJECTED, State.WITHDRAWN})
EDITABLE = frozenset({State.DRAFT, State.NEEDS_CHANGES})
"""States in which the applicant may change the application's fields."""
DECISIONS = frozenset({State.ACCEPTED, State.REJECTED, State.NEEDS_CHANGES})

_A, _M = frozenset({Role.APPLICANT}), frozenset({Role.ADMIN})

TRANSITIONS: Mapping[State, Mapping[State, frozenset[Role]]] = {
    State.DRAFT: {State.SUBMITTED: _A, State.WITHDRAWN: _A},
    State.SUBMITTED: {State.UNDER_REVIEW: _M, State.REJECTED: _M, State.WITHDRAWN: _A},
    State.UNDER_REVIEW: {State.ACCEPTED: _M, State.REJECTED: _M, State.NEEDS_CHANGES: _M},
    State.NEEDS_CHANGES: {State.SUBMITTED: _A, State.WITHDRAWN: _A},
    **{state: {} for state in TERMINAL},
}
"""start → finish → the roles that may make that move."""


class InvalidApplicationTransition(TerrapoleError):
    """An application was asked to move where the transitions table does not allow."""

    def __init__(self, application_id: str, start: State, finish: State) -> None:
        super().__init__(f"application {application_id}: cannot go from {start} to {finish}")
        self.application_id, self.start, self.finish = application_id, start, finish


def check_transition(
    application_id: str, start: State, finish: State, roles: frozenset[Role]
) -> Role:
    """The role that makes ``start`` → ``finish``; raise when the table or the roles forbid it.

    A move the table does not hold raises :class:`InvalidApplicationTransition`; an allowed
    move by an actor without an allowed role raises :class:`Forbidden`.
    """
    allowed = TRANSITIONS[start].get(finish)
    if allowed is None:
        raise InvalidApplicationTransition(application_id, start, finish)
    for role in (Role.APPLICANT, Role.ADMIN):
        if role in roles and role in allowed:
            return role
    names = " or ".join(sorted(allowed))
    raise Forbidden(
        f"application {application_id}: only its {names} may move it from {start} to {finish}"
    )
