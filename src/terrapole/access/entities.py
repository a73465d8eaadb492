"""Entities (labs, public bodies, companies, schools): who adheres, who answers for it (its
referent), who belongs to it and with which profile, and what happened when.

Membership goes: requested (``pending``) → ``member`` or ``refused`` by the referent; a member
``left`` or was ``removed``; a refused or former member may ask again. Every change appends
one event to the entity's history, in the same transaction; events are never changed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from terrapole import db
from terrapole.access.accounts import Clock, User, utc
from terrapole.access.identifiers import check_ror, check_siren
from terrapole.access.profiles import EntityKind, Profile, entity_kind, profile
from terrapole.access.tables import entities, entity_events, memberships
from terrapole.errors import AlreadyExists, Forbidden, InvalidInput, NotFound


class Status(StrEnum):
    """Where a user stands with an entity."""

    PENDING = "pending"
    MEMBER = "member"
    REFUSED = "refused"
    LEFT = "left"
    REMOVED = "removed"


@dataclass(frozen=True)
class Entity:
    """An entity as stored."""

    id: str
    name: str
    country: str
    kind: EntityKind
    siren: str | None
    ror: str | None
    profile: Profile
    referent_id: str
    created: datetime


@dataclass(frozen=True)
class Membership:
    """A user's standing with an entity, and the profile the referent gave the member."""

    entity_id: str
    user_id: str
    status: Status
    profile: Profile | None
    requested: datetime
    decided: datetime | None


@dataclass(frozen=True)
class Event:
    """One line of an entity's history."""

    at: datetime
    actor_id: str
    action: str
    subject_id: str | None
    detail: dict[str, Any]


def _entity(row: Any) -> Entity:
    return Entity(
        id=row.id,
        name=row.name,
        country=row.country,
        kind=EntityKind(row.kind),
        siren=row.siren,
        ror=row.ror,
        profile=Profile(row.profile),
        referent_id=row.referent_id,
        created=utc(row.created),
    )


def _membership(row: Any) -> Membership:
    return Membership(
        entity_id=row.entity_id,
        user_id=row.user_id,
        status=Status(row.status),
        profile=Profile(row.profile) if row.profile else None,
        requested=utc(row.requested),
        decided=utc(row.decided) if row.decided else None,
    )


def _country(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise InvalidInput("country", f"{value!r} is not an ISO 3166 two-letter code")
    return code


class Entities:
    """The entities of one database."""

    def __init__(self, engine: sa.Engine, *, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    # -- entities -----------------------------------------------------------------------------
    def create(
        self,
        creator: User,
        *,
        name: str,
        country: str,
        kind: str,
        profile_name: str,
        siren: str | None = None,
        ror: str | None = None,
    ) -> Entity:
        """Create an entity whose referent (and first member) is its creator."""
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidInput("entity name", "must have 1 to 200 characters")
        if not creator.verified:
            raise Forbidden("verify your e-mail address before creating an entity")
        entity_id = uuid.uuid4().hex
        row: dict[str, Any] = {
            "id": entity_id,
            "name": name,
            "country": _country(country),
            "kind": entity_kind(kind).value,
            "profile": profile(profile_name).value,
            "siren": check_siren(siren) if siren else None,
            "ror": check_ror(ror) if ror else None,
            "referent_id": creator.id,
            "created": self.clock(),
        }
        with self.engine.begin() as con:
            if (
                row["siren"]
                and con.execute(
                    sa.select(entities.c.id).where(entities.c.siren == row["siren"])
                ).first()
            ):
                raise AlreadyExists("entity with SIREN", str(row["siren"]))
            con.execute(entities.insert().values(**row))
            con.execute(
                memberships.insert().values(
                    entity_id=row["id"],
                    user_id=creator.id,
                    status=Status.MEMBER.value,
                    profile=row["profile"],
                    requested=row["created"],
                    decided=row["created"],
                )
            )
            self._log(con, entity_id, creator.id, "created", creator.id, {"name": name})
        return self.get(entity_id)

    def get(self, entity_id: str) -> Entity:
        """The entity ``entity_id`` or :class:`NotFound`."""
        with db.reading(self.engine) as con:
            row = con.execute(sa.select(entities).where(entities.c.id == entity_id)).first()
        if row is None:
            raise NotFound("entity", entity_id)
        return _entity(row)

    def all(self) -> list[Entity]:
        """Every entity, by name."""
        with db.reading(self.engine) as con:
            rows = con.execute(sa.select(entities).order_by(entities.c.name)).all()
        return [_entity(r) for r in rows]

    def of_user(self, user_id: str) -> list[Entity]:
        """The entities the user is a member of."""
        query = (
            sa.select(entities)
            .join(memberships, memberships.c.entity_id == entities.c.id)
            .where(memberships.c.user_id == user_id, memberships.c.status == Status.MEMBER)
            .order_by(entities.c.name)
        )
        with db.reading(self.engine) as con:
            return [_entity(r) for r in con.execute(query)]

    def set_referent(self, actor: User, entity_id: str, user_id: str) -> Entity:
        """Hand the referent role to a member (by the referent or an admin)."""
        entity = self._referent_only(actor, entity_id)
        with self.engine.begin() as con:
            if self._status(con, entity_id, user_id) is not Status.MEMBER:
                raise InvalidInput("referent", "the new referent must be a member")
            con.execute(
                entities.update().where(entities.c.id == entity.id).values(referent_id=user_id)
            )
            self._log(con, entity_id, actor.id, "referent-changed", user_id, {})
        return self.get(entity_id)

    def set_profile(self, actor: User, entity_id: str, profile_name: str) -> Entity:
        """Change the entity's profile (admins only: it decides what its members may see and
        which quota they draw on). Members who held the old profile follow the entity; one
        the referent gave another profile keeps it."""
        if not actor.admin:
            raise Forbidden("only admins change an entity's profile")
        given = profile(profile_name)
        entity = self.get(entity_id)
        if given is entity.profile:
            return entity
        with self.engine.begin() as con:
            con.execute(
                entities.update().where(entities.c.id == entity_id).values(profile=given.value)
            )
            followers = con.execute(
                memberships.update()
                .where(
                    memberships.c.entity_id == entity_id,
                    memberships.c.status == Status.MEMBER.value,
                    memberships.c.profile == entity.profile.value,
                )
                .values(profile=given.value)
            ).rowcount
            detail = {"from": entity.profile.value, "to": given.value, "members": followers}
            self._log(con, entity_id, actor.id, "entity-profile-changed", None, detail)
        return self.get(entity_id)

    # -- membership ---------------------------------------------------------------------------
    def request(self, user: User, entity_id: str) -> Membership:
        """Ask to join (anew after a refusal or a departure)."""
        self.get(entity_id)
        if not user.verified:
            raise Forbidden("verify your e-mail address before joining an entity")
        now = self.clock()
        with self.engine.begin() as con:
            status = self._status(con, entity_id, user.id)
            if status in (Status.PENDING, Status.MEMBER):
                raise InvalidInput("membership request", f"you are already {status.value}")
            values = {
                "status": Status.PENDING.value,
                "profile": None,
                "requested": now,
                "decided": None,
            }
            if status is None:
                con.execute(
                    memberships.insert().values(entity_id=entity_id, user_id=user.id, **values)
                )
            else:
                con.execute(self._where(memberships.update(), entity_id, user.id).values(**values))
            self._log(con, entity_id, user.id, "requested", user.id, {})
        return self.membership(entity_id, user.id)

    def approve(
        self, actor: User, entity_id: str, user_id: str, *, member_profile: str | None = None
    ) -> Membership:
        """Accept a pending request (the referent or an admin); the member's profile is the
        entity's unless ``member_profile`` says otherwise."""
        entity = self._referent_only(actor, entity_id)
        given = profile(member_profile) if member_profile else entity.profile
        return self._decide(actor, entity_id, user_id, Status.MEMBER, given)

    def refuse(self, actor: User, entity_id: str, user_id: str) -> Membership:
        """Refuse a pending request (the referent or an admin)."""
        self._referent_only(actor, entity_id)
        return self._decide(actor, entity_id, user_id, Status.REFUSED, None)

    def set_member_profile(
        self, actor: User, entity_id: str, user_id: str, member_profile: str
    ) -> Membership:
        """Change a member's profile (the referent or an admin)."""
        self._referent_only(actor, entity_id)
        given = profile(member_profile)
        with self.engine.begin() as con:
            if self._status(con, entity_id, user_id) is not Status.MEMBER:
                raise NotFound("member", user_id)
            update = self._where(memberships.update(), entity_id, user_id)
            con.execute(update.values(profile=given.value))
            self._log(
                con, entity_id, actor.id, "profile-changed", user_id, {"profile": given.value}
            )
        return self.membership(entity_id, user_id)

    def leave(self, user: User, entity_id: str) -> Membership:
        """Leave an entity; its referent must first hand the role to another member."""
        entity = self.get(entity_id)
        if entity.referent_id == user.id:
            raise InvalidInput("leave", "the referent must name another referent first")
        return self._end(user, entity_id, user.id, Status.LEFT)

    def remove(self, actor: User, entity_id: str, user_id: str) -> Membership:
        """Remove a member (the referent or an admin; never the referent)."""
        entity = self._referent_only(actor, entity_id)
        if user_id == entity.referent_id:
            raise InvalidInput("remove", "the referent cannot be removed")
        return self._end(actor, entity_id, user_id, Status.REMOVED)

    def membership(self, entity_id: str, user_id: str) -> Membership:
        """The user's standing with the entity, or :class:`NotFound`."""
        with db.reading(self.engine) as con:
            row = con.execute(self._where(sa.select(memberships), entity_id, user_id)).first()
        if row is None:
            raise NotFound("membership", f"{entity_id}/{user_id}")
        return _membership(row)

    def members(self, entity_id: str, *, status: Status = Status.MEMBER) -> list[Membership]:
        """The entity's members (or its requests with ``status=Status.PENDING``)."""
        query = sa.select(memberships).where(
            memberships.c.entity_id == entity_id, memberships.c.status == status.value
        )
        with db.reading(self.engine) as con:
            rows = con.execute(query.order_by(memberships.c.requested, memberships.c.user_id)).all()
        return [_membership(r) for r in rows]

    def history(self, entity_id: str) -> list[Event]:
        """The entity's events, oldest first."""
        query = (
            sa.select(entity_events)
            .where(entity_events.c.entity_id == entity_id)
            .order_by(entity_events.c.n)
        )
        with db.reading(self.engine) as con:
            return [
                Event(utc(r.at), r.actor_id, r.action, r.subject_id, dict(r.detail))
                for r in con.execute(query)
            ]

    # -- helpers ------------------------------------------------------------------------------
    def _referent_only(self, actor: User, entity_id: str) -> Entity:
        entity = self.get(entity_id)
        if actor.id != entity.referent_id and not actor.admin:
            raise Forbidden(f"only the referent of {entity.name!r} may do this")
        return entity

    def _decide(
        self, actor: User, entity_id: str, user_id: str, status: Status, given: Profile | None
    ) -> Membership:
        with self.engine.begin() as con:
            if self._status(con, entity_id, user_id) is not Status.PENDING:
                raise NotFound("membership request", user_id)
            update = self._where(memberships.update(), entity_id, user_id)
            con.execute(
                update.values(
                    status=status.value, profile=given and given.value, decided=self.clock()
                )
            )
            detail: dict[str, Any] = {"profile": given.value} if given else {}
            action = "approved" if status is Status.MEMBER else "refused"
            self._log(con, entity_id, actor.id, action, user_id, detail)
        return self.membership(entity_id, user_id)

    def _end(self, actor: User, entity_id: str, user_id: str, status: Status) -> Membership:
        with self.engine.begin() as con:
            if self._status(con, entity_id, user_id) is not Status.MEMBER:
                raise NotFound("member", user_id)
            update = self._where(memberships.update(), entity_id, user_id)
            con.execute(update.values(status=status.value, decided=self.clock()))
            self._log(con, entity_id, actor.id, status.value, user_id, {})
        return self.membership(entity_id, user_id)

    @staticmethod
    def _where(statement: Any, entity_id: str, user_id: str) -> Any:
        return statement.where(
            memberships.c.entity_id == entity_id, memberships.c.user_id == user_id
        )

    def _status(self, con: sa.Connection, entity_id: str, user_id: str) -> Status | None:
        query = self._where(sa.select(memberships.c.status), entity_id, user_id)
        found = con.execute(query).scalar()
        return None if found is None else Status(found)

    def _log(
        self,
        con: sa.Connection,
        entity_id: str,
        actor_id: str,
        action: str,
        subject_id: str | None,
        detail: dict[str, Any],
    ) -> None:
        con.execute(
            entity_events.insert().values(
                entity_id=entity_id,
                actor_id=actor_id,
                action=action,
                subject_id=subject_id,
                detail=detail,
                at=self.clock(),
            )
        )
