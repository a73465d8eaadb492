"""The charter and the licences, by version: their texts, who accepted which version when,
and the licences and profiles a collection declares.

A holder (a user, or an entity through its referent) needs to accept a licence while it has
not accepted its current version: publishing a new version asks everyone again, and the older
acceptances stay as history.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from terrapole import db
from terrapole.access.accounts import Clock, User, utc
from terrapole.access.profiles import Profile, profile
from terrapole.access.tables import (
    collection_terms,
    licence_acceptances,
    licence_versions,
    licences,
)
from terrapole.errors import AlreadyExists, Forbidden, InvalidInput, NotFound

_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class Holder(StrEnum):
    """Who an acceptance binds."""

    USER = "user"
    ENTITY = "entity"


@dataclass(frozen=True)
class Licence:
    """A licence (or the charter) at its current version."""

    id: str
    title: str
    kind: str
    version: int
    text: str
    published: datetime


@dataclass(frozen=True)
class Acceptance:
    """One acceptance: of which version, for whom, by whom and when."""

    licence_id: str
    version: int
    holder: Holder
    holder_id: str
    accepted_by: str
    at: datetime


@dataclass(frozen=True)
class CollectionTerms:
    """What a collection asks of its readers: licences accepted, one of the profiles (none
    listed: any profile) and membership of one of the entities (none listed: no such rule;
    the collections orders are delivered into name their entity)."""

    collection_id: str
    licences: tuple[str, ...]
    profiles: tuple[Profile, ...]
    entities: tuple[str, ...] = ()


class Licences:
    """The licences of one database."""

    def __init__(self, engine: sa.Engine, *, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def create(
        self, actor: User, licence_id: str, title: str, text: str, *, kind: str = "licence"
    ) -> Licence:
        """A new licence (``kind`` 'licence' or 'charter') at version 1 (admins only)."""
        _admin(actor)
        if not _ID.match(licence_id):
            raise InvalidInput("licence id", f"{licence_id!r}: use a-z, 0-9, '.', '_', '-'")
        if kind not in ("licence", "charter"):
            raise InvalidInput("licence kind", f"{kind!r} is neither 'licence' nor 'charter'")
        if not title.strip():
            raise InvalidInput("licence title", "must not be empty")
        now = self.clock()
        with self.engine.begin() as con:
            if con.execute(sa.select(licences.c.id).where(licences.c.id == licence_id)).first():
                raise AlreadyExists("licence", licence_id)
            con.execute(
                licences.insert().values(id=licence_id, title=title.strip(), kind=kind, created=now)
            )
            con.execute(
                licence_versions.insert().values(
                    licence_id=licence_id, version=1, text=_text(text), published=now
                )
            )
        return self.get(licence_id)

    def publish(self, actor: User, licence_id: str, text: str) -> Licence:
        """A new version of the licence; everyone who accepted an older one must accept again."""
        _admin(actor)
        with self.engine.begin() as con:
            current = self._current(con, licence_id)
            con.execute(
                licence_versions.insert().values(
                    licence_id=licence_id,
                    version=current + 1,
                    text=_text(text),
                    published=self.clock(),
                )
            )
        return self.get(licence_id)

    def get(self, licence_id: str, version: int | None = None) -> Licence:
        """The licence at ``version`` (default: its current one)."""
        with db.reading(self.engine) as con:
            head = con.execute(sa.select(licences).where(licences.c.id == licence_id)).first()
            if head is None:
                raise NotFound("licence", licence_id)
            number = version if version is not None else self._current(con, licence_id)
            query = sa.select(licence_versions).where(
                licence_versions.c.licence_id == licence_id, licence_versions.c.version == number
            )
            row = con.execute(query).first()
        if row is None:
            raise NotFound("licence version", f"{licence_id} v{number}")
        return Licence(head.id, head.title, head.kind, row.version, row.text, utc(row.published))

    def all(self) -> list[Licence]:
        """Every licence at its current version."""
        with db.reading(self.engine) as con:
            ids = list(con.scalars(sa.select(licences.c.id).order_by(licences.c.id)))
        return [self.get(i) for i in ids]

    def accept(
        self, actor: User, licence_id: str, version: int, *, entity: tuple[str, str] | None = None
    ) -> Acceptance:
        """Record that ``actor`` accepts ``version`` of the licence, for themself or, with
        ``entity=(entity id, its referent id)``, for the entity (its referent or an admin
        only). Only the current version may be accepted: the caller names the version the
        user read, so a version published meanwhile is not accepted unread."""
        holder, holder_id = Holder.USER, actor.id
        if entity is not None:
            entity_id, referent_id = entity
            if actor.id != referent_id and not actor.admin:
                raise Forbidden("only the entity's referent may accept for it")
            holder, holder_id = Holder.ENTITY, entity_id
        with self.engine.begin() as con:
            current = self._current(con, licence_id)
            if version != current:
                raise InvalidInput("licence version", f"{version} is not the current {current}")
            at = self.clock()
            row = {
                "licence_id": licence_id,
                "version": version,
                "holder_kind": holder.value,
                "holder_id": holder_id,
                "accepted_by": actor.id,
                "at": at,
            }
            con.execute(licence_acceptances.insert().values(**row))
        return Acceptance(licence_id, version, holder, holder_id, actor.id, utc(at))

    def needs_acceptance(self, licence_id: str, holders: list[tuple[Holder, str]]) -> bool:
        """Whether none of ``holders`` (a user and their entities, say) has accepted the
        licence's current version."""
        with db.reading(self.engine) as con:
            current = self._current(con, licence_id)
            if not holders:
                return True
            who = sa.or_(
                *(
                    sa.and_(
                        licence_acceptances.c.holder_kind == kind.value,
                        licence_acceptances.c.holder_id == ident,
                    )
                    for kind, ident in holders
                )
            )
            query = sa.select(licence_acceptances.c.n).where(
                licence_acceptances.c.licence_id == licence_id,
                licence_acceptances.c.version == current,
                who,
            )
            return con.execute(query.limit(1)).first() is None

    def history(self, licence_id: str) -> list[Acceptance]:
        """Every acceptance of the licence, oldest first (all versions)."""
        query = (
            sa.select(licence_acceptances)
            .where(licence_acceptances.c.licence_id == licence_id)
            .order_by(licence_acceptances.c.n)
        )
        with db.reading(self.engine) as con:
            return [
                Acceptance(
                    r.licence_id,
                    r.version,
                    Holder(r.holder_kind),
                    r.holder_id,
                    r.accepted_by,
                    utc(r.at),
                )
                for r in con.execute(query)
            ]

    # -- what collections declare -------------------------------------------------------------
    def set_terms(
        self,
        actor: User,
        collection_id: str,
        *,
        licence_ids: list[str],
        profiles: list[str],
        entities: Sequence[str] | None = None,
    ) -> CollectionTerms:
        """Declare the licences a collection requires and the profiles eligible to it (admins
        and curators); ``entities`` (None: keep those declared) keeps it to their members.
        All empty removes the declaration."""
        if not (actor.admin or "curator" in actor.roles):
            raise Forbidden("only admins and curators declare a collection's terms")
        eligible = sorted({profile(p).value for p in profiles})
        needed = sorted(set(licence_ids))
        with self.engine.begin() as con:
            for licence_id in needed:
                self._current(con, licence_id)
            kept = _terms(collection_id, _terms_row(con, collection_id)).entities
            write_terms(
                con, collection_id, needed, eligible, kept if entities is None else entities
            )
        return self.terms(collection_id)

    def terms(self, collection_id: str) -> CollectionTerms:
        """The collection's declared terms (none declared: empty)."""
        with db.reading(self.engine) as con:
            return _terms(collection_id, _terms_row(con, collection_id))

    def all_terms(self) -> dict[str, CollectionTerms]:
        """Every collection's declared terms, by collection id."""
        with db.reading(self.engine) as con:
            rows = con.execute(sa.select(collection_terms)).all()
        return {r.collection_id: _terms(r.collection_id, r) for r in rows}

    @staticmethod
    def _current(con: sa.Connection, licence_id: str) -> int:
        query = sa.select(sa.func.max(licence_versions.c.version)).where(
            licence_versions.c.licence_id == licence_id
        )
        found = con.execute(query).scalar()
        if found is None:
            raise NotFound("licence", licence_id)
        return int(found)


def write_terms(
    con: sa.Connection,
    collection_id: str,
    licence_ids: Sequence[str],
    profiles: Sequence[str],
    entities: Sequence[str],
) -> None:
    """Replace the collection's terms row in ``con``'s transaction (no row when all are
    empty). The checks of who may and of the names are the callers'."""
    where = collection_terms.c.collection_id == collection_id
    con.execute(collection_terms.delete().where(where))
    if licence_ids or profiles or entities:
        values = {"licences": list(licence_ids), "profiles": list(profiles)}
        named = sorted(set(entities)) or None
        con.execute(
            collection_terms.insert().values(collection_id=collection_id, entities=named, **values)
        )


def terms_in(con: sa.Connection, collection_id: str) -> CollectionTerms:
    """The collection's declared terms, read in ``con``'s transaction (none: empty)."""
    return _terms(collection_id, _terms_row(con, collection_id))


def _terms_row(con: sa.Connection, collection_id: str) -> Any:
    where = collection_terms.c.collection_id == collection_id
    return con.execute(sa.select(collection_terms).where(where)).first()


def _terms(collection_id: str, row: Any) -> CollectionTerms:
    if row is None:
        return CollectionTerms(collection_id, (), ())
    return CollectionTerms(
        collection_id,
        tuple(row.licences),
        tuple(Profile(p) for p in row.profiles),
        tuple(row.entities or ()),
    )


def _text(text: str) -> str:
    if not text.strip():
        raise InvalidInput("licence text", "must not be empty")
    return text


def _admin(actor: User) -> None:
    if not actor.admin:
        raise Forbidden("only admins manage licences")
