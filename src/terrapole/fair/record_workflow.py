"""The curation workflow of a record, sans I/O: states, who may move it, one transitions table.

draft → submitted (owner) → approved (curator) → published (owner or curator) → withdrawn
(curator); a curator sends a submitted or approved record back to draft (changes requested),
an owner takes a submission back. Published and withdrawn records never change again: a new
version is a new record.
"""

from __future__ import annotations

from enum import StrEnum

from terrapole.errors import Forbidden, TerrapoleError


class RecordState(StrEnum):
    """Where a record is."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class RecordRole(StrEnum):
    """Who acts on a record: its owner, or a curator (curator role or admin)."""

    OWNER = "owner"
    CURATOR = "curator"


FROZEN = frozenset({RecordState.PUBLISHED, RecordState.WITHDRAWN})
"""States whose metadata is immutable."""

PUBLIC = FROZEN
"""States everyone may read (a withdrawn record answers as a tombstone)."""

_O, _C = RecordRole.OWNER, RecordRole.CURATOR
_S = RecordState

TRANSITIONS: dict[RecordState, dict[RecordState, frozenset[RecordRole]]] = {
    _S.DRAFT: {_S.SUBMITTED: frozenset({_O})},
    _S.SUBMITTED: {_S.APPROVED: frozenset({_C}), _S.DRAFT: frozenset({_O, _C})},
    _S.APPROVED: {_S.PUBLISHED: frozenset({_O, _C}), _S.DRAFT: frozenset({_C})},
    _S.PUBLISHED: {_S.WITHDRAWN: frozenset({_C})},
    _S.WITHDRAWN: {},
}
"""start → finish → the roles that may make that move."""


class InvalidRecordTransition(TerrapoleError):
    """A record was asked to move where the transitions table does not allow."""

    def __init__(self, record_id: str, start: RecordState, finish: RecordState) -> None:
        super().__init__(f"record {record_id}: cannot go from {start} to {finish}")
        self.record_id, self.start, self.finish = record_id, start, finish


class RecordOfDeposit(InvalidRecordTransition):
    """A deposit's record asked to be published, or to get a new version, through the record
    book: its deposit does that, so that the deposit's files and state follow (409)."""

    def __init__(
        self, record_id: str, deposit_id: str, start: RecordState, finish: RecordState, route: str
    ) -> None:
        super().__init__(record_id, start, finish)
        self.message = (
            f"record {record_id} describes deposit {deposit_id}: "
            f"use POST /deposits/{deposit_id}/{route}"
        )
        self.args = (self.message,)
        self.deposit_id = deposit_id


def check_move(
    record_id: str, start: RecordState, finish: RecordState, roles: frozenset[RecordRole]
) -> RecordRole:
    """The role that makes ``start`` → ``finish`` (owner first); raise when it may not be made."""
    allowed = TRANSITIONS[start].get(finish)
    if allowed is None:
        raise InvalidRecordTransition(record_id, start, finish)
    for role in (_O, _C):
        if role in roles and role in allowed:
            return role
    names = " or ".join(sorted(allowed))
    raise Forbidden(f"record {record_id}: only its {names} may move it from {start} to {finish}")
