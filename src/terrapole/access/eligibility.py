"""What an account holds when it asks for data: its roles, its entities and profiles, and the
licences whose current version it (or one of its entities) accepted.

:func:`standing` reads it in one connection (four small indexed queries); the access service
calls it once per token and keeps the answer for its cache's TTL. :func:`meets_terms` is the
rule a collection's declared terms (:class:`~terrapole.access.licences.CollectionTerms`) apply:
an eligible profile, the licences accepted and, for a collection kept for some entities (the
collections orders are delivered into), membership of one of them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa

from terrapole.access.profiles import Profile
from terrapole.access.tables import (
    collection_terms,
    entities,
    licence_acceptances,
    licence_versions,
    memberships,
    users,
)


class Terms(Protocol):
    """What a collection asks of its readers (``CollectionTerms`` is one)."""

    @property
    def licences(self) -> tuple[str, ...]:
        """Licences whose current version must have been accepted."""
        ...

    @property
    def profiles(self) -> tuple[Profile, ...]:
        """Profiles eligible (none: any profile)."""
        ...

    @property
    def entities(self) -> tuple[str, ...]:
        """Entities whose members alone may read (none: no such restriction)."""
        ...


@dataclass(frozen=True)
class Standing:
    """An account's roles, entities (where it is a member), profiles and accepted licences."""

    user_id: str
    roles: frozenset[str]
    disabled: bool
    entities: frozenset[str]
    profiles: frozenset[Profile]
    licences: frozenset[str]


def standing(con: sa.Connection, user_id: str) -> Standing | None:
    """The account's standing now, or None when no such account exists."""
    user = con.execute(
        sa.select(users.c.roles, users.c.disabled).where(users.c.id == user_id)
    ).first()
    if user is None:
        return None
    rows = con.execute(
        sa.select(memberships.c.entity_id, memberships.c.profile, entities.c.profile)
        .join(entities, entities.c.id == memberships.c.entity_id)
        .where(memberships.c.user_id == user_id, memberships.c.status == "member")
    ).all()
    entity_ids = frozenset(r[0] for r in rows)
    profiles = frozenset(Profile(r[1] or r[2]) for r in rows)  # the member's, else the entity's
    return Standing(
        user_id=user_id,
        roles=frozenset(user.roles),
        disabled=bool(user.disabled),
        entities=entity_ids,
        profiles=profiles,
        licences=accepted_licences(con, user_id, entity_ids),
    )


def accepted_licences(
    con: sa.Connection, user_id: str, entity_ids: Collection[str]
) -> frozenset[str]:
    """Licences whose current version the user, or one of ``entity_ids``, accepted."""
    current = (
        sa.select(licence_versions.c.licence_id, sa.func.max(licence_versions.c.version).label("v"))
        .group_by(licence_versions.c.licence_id)
        .subquery()
    )
    acc = licence_acceptances.c
    holder = sa.and_(acc.holder_kind == "user", acc.holder_id == user_id)
    if entity_ids:
        holder = sa.or_(holder, sa.and_(acc.holder_kind == "entity", acc.holder_id.in_(entity_ids)))
    query = (
        sa.select(acc.licence_id)
        .distinct()
        .join(current, sa.and_(current.c.licence_id == acc.licence_id, current.c.v == acc.version))
        .where(holder)
    )
    return frozenset(con.scalars(query))


@dataclass(frozen=True)
class Declared:
    """A collection's terms as the policy reads them."""

    licences: tuple[str, ...]
    profiles: tuple[Profile, ...]
    entities: tuple[str, ...] = ()


def read_terms(con: sa.Connection) -> dict[str, Terms]:
    """Every collection's declared terms, by collection id."""
    rows = con.execute(sa.select(collection_terms)).all()
    return {
        r.collection_id: Declared(
            tuple(r.licences), tuple(Profile(p) for p in r.profiles), tuple(r.entities or ())
        )
        for r in rows
    }


def meets_terms(
    terms: Terms,
    *,
    profiles: frozenset[Profile],
    licences: frozenset[str],
    entities: frozenset[str] = frozenset(),
) -> bool:
    """Whether one of ``entities`` is named (when the terms name entities), one of
    ``profiles`` is eligible (when the terms name profiles) and every required licence is
    among the ``licences`` accepted at their current version."""
    if terms.entities and not entities.intersection(terms.entities):
        return False
    if terms.profiles and not profiles.intersection(terms.profiles):
        return False
    return licences.issuperset(terms.licences)
