"""The directory of the Scientific Expertise Consortia (CES) and the products and services
they back.

A consortium has an id (a slug), a name, an acronym, themes, a description, a web page and
members (people with an optional ORCID and an optional ROR id for their affiliation; some of
them lead it). Each product or service is backed by one consortium and carries its maturity
as a Technology Readiness Level (TRL 1–9), links to the catalogue collections that hold it
(checked against the store when a checker is given) and to service pages. Curators and
admins create, change and delete entries; every change is kept in a history.

The THEIA decks sort CES by maturity in three stages: incubation (TRL 1–3), prototyping
(TRL 4–5) and production (TRL 6–7); :func:`maturity` counts TRL 8–9 as production too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import idutils
import sqlalchemy as sa

from terrapole.access.policy import Principal
from terrapole.db import reading
from terrapole.errors import AlreadyExists, Forbidden, InvalidInput, NotFound, Unauthorized
from terrapole.fair.ces_tables import applications, ces_history, consortia, offers

TRL_MIN, TRL_MAX = 1, 9
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_MAX_TEXT = 20_000

Clock = Callable[[], datetime]
CollectionCheck = Callable[[str], bool]
"""Whether the catalogue holds a collection of that id."""


class Kind(StrEnum):
    """What a CES offers: a product (data) or a service (software, processing, portal)."""

    PRODUCT = "product"
    SERVICE = "service"


class Maturity(StrEnum):
    """The decks' three stages of a CES's work, from its TRL."""

    INCUBATION = "incubation"
    PROTOTYPING = "prototyping"
    PRODUCTION = "production"


def check_trl(trl: object) -> int:
    """``trl`` as a level 1–9, or :class:`InvalidInput` naming the value."""
    if isinstance(trl, bool) or not isinstance(trl, int):
        raise InvalidInput("trl", f"{trl!r} is not a whole number from {TRL_MIN} to {TRL_MAX}")
    if not TRL_MIN <= trl <= TRL_MAX:
        raise InvalidInput("trl", f"{trl} is outside {TRL_MIN}–{TRL_MAX}")
    return trl


def maturity(trl: int) -> Maturity:
    """The stage of a TRL: 1–3 incubation, 4–5 prototyping, 6–9 production."""
    level = check_trl(trl)
    if level <= 3:
        return Maturity.INCUBATION
    return Maturity.PROTOTYPING if level <= 5 else Maturity.PRODUCTION


def check_slug(value: str, field_name: str) -> str:
    """An id of lower-case letters, digits and dashes (at most 64), or InvalidInput."""
    if not _SLUG.match(value):
        raise InvalidInput(field_name, f"{value!r} is not an id (a-z, 0-9 and '-', at most 64)")
    return value


def check_url(value: str, field_name: str) -> str:
    """An http(s) URL with a host, or InvalidInput."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(value) > 2000:
        raise InvalidInput(field_name, f"{value!r} is not an http(s) URL")
    return value


def check_orcid(value: str, field_name: str = "orcid") -> str:
    """An ORCID iD (bare or as its https://orcid.org/ URL, checksum verified), bare."""
    if not idutils.is_orcid(value):
        raise InvalidInput(
            field_name, f"{value!r} is not an ORCID iD (or its check digit is wrong)"
        )
    return str(idutils.normalize_orcid(value))


def check_ror(value: str, field_name: str = "ror") -> str:
    """A ROR id (bare or as its https://ror.org/ URL), as its URL."""
    if not idutils.is_ror(value):
        raise InvalidInput(field_name, f"{value!r} is not a ROR id")
    return f"https://ror.org/{idutils.normalize_ror(value)}"


def _text(value: str, field_name: str, *, required: bool = True, limit: int = 300) -> str:
    text = value.strip()
    if required and not text:
        raise InvalidInput(field_name, "required")
    if len(text) > limit:
        raise InvalidInput(field_name, f"at most {limit} characters")
    return text


@dataclass(frozen=True)
class Member:
    """A person of a consortium: ORCID iD and affiliation's ROR id optional; ``lead`` for its
    leads (animateurs)."""

    name: str
    orcid: str | None = None
    affiliation: str | None = None
    ror: str | None = None
    lead: bool = False

    def checked(self, where: str) -> Member:
        """This member with its identifiers verified and normalised."""
        return Member(
            name=_text(self.name, f"{where}.name", limit=200),
            orcid=check_orcid(self.orcid, f"{where}.orcid") if self.orcid else None,
            affiliation=_text(self.affiliation or "", f"{where}.affiliation", required=False)
            or None,
            ror=check_ror(self.ror, f"{where}.ror") if self.ror else None,
            lead=self.lead,
        )


@dataclass(frozen=True)
class Consortium:
    """A Scientific Expertise Consortium."""

    id: str
    name: str
    acronym: str = ""
    themes: tuple[str, ...] = ()
    description: str = ""
    url: str | None = None
    members: tuple[Member, ...] = ()
    updated: datetime | None = None

    @property
    def leads(self) -> tuple[Member, ...]:
        """The members who lead it."""
        return tuple(m for m in self.members if m.lead)

    def checked(self) -> Consortium:
        """This consortium with every field verified (InvalidInput names the first bad one)."""
        themes = tuple(_text(t, "themes", limit=100) for t in self.themes)
        if len(set(themes)) != len(themes):
            raise InvalidInput("themes", "a theme is given twice")
        return replace(
            self,
            id=check_slug(self.id, "id"),
            name=_text(self.name, "name"),
            acronym=_text(self.acronym, "acronym", required=False, limit=32),
            themes=themes,
            description=_text(self.description, "description", required=False, limit=_MAX_TEXT),
            url=check_url(self.url, "url") if self.url else None,
            members=tuple(m.checked(f"members[{i}]") for i, m in enumerate(self.members)),
        )


@dataclass(frozen=True)
class Offer:
    """A product or service backed by a consortium, with its TRL and its links."""

    id: str
    ces_id: str
    name: str
    kind: Kind
    trl: int
    description: str = ""
    collections: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    updated: datetime | None = None

    @property
    def maturity(self) -> Maturity:
        """Its stage (incubation, prototyping, production)."""
        return maturity(self.trl)

    def checked(self) -> Offer:
        """This offer with every field verified (collections are checked by the directory)."""
        try:
            kind = Kind(self.kind)
        except ValueError:
            raise InvalidInput("kind", f"{self.kind!r} is neither product nor service") from None
        return replace(
            self,
            id=check_slug(self.id, "id"),
            ces_id=check_slug(self.ces_id, "ces_id"),
            name=_text(self.name, "name"),
            kind=kind,
            trl=check_trl(self.trl),
            description=_text(self.description, "description", required=False, limit=_MAX_TEXT),
            collections=tuple(_text(c, "collections", limit=256) for c in self.collections),
            urls=tuple(check_url(u, "urls") for u in self.urls),
        )


@dataclass(frozen=True)
class Change:
    """One change of the directory: what, by whom, when, and the record after it."""

    target: str
    target_id: str
    action: str
    actor: str
    at: datetime
    record: dict[str, Any] | None = field(default=None)


def require_curator(principal: Principal) -> None:
    """Refuse anyone but curators and admins: 401 anonymous, 403 others."""
    if principal.anonymous:
        raise Unauthorized("changing the CES directory needs a curator or admin account")
    if not principal.curator:
        raise Forbidden(f"{principal.name} is neither a curator nor an admin")


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive times: they were written in UTC
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _consortium(row: sa.Row[Any]) -> Consortium:
    return Consortium(
        id=row.id, name=row.name, acronym=row.acronym, themes=tuple(row.themes),
        description=row.description, url=row.url,
        members=tuple(Member(**m) for m in row.members), updated=_utc(row.updated),
    )  # fmt: skip


def _offer(row: sa.Row[Any]) -> Offer:
    return Offer(
        id=row.id, ces_id=row.ces_id, name=row.name, kind=Kind(row.kind), trl=row.trl,
        description=row.description, collections=tuple(row.collections), urls=tuple(row.urls),
        updated=_utc(row.updated),
    )  # fmt: skip


def as_record(value: Consortium | Offer) -> dict[str, Any]:
    """A consortium or offer as plain JSON-ready data (history, APIs)."""
    record = asdict(value)
    record.pop("updated", None)
    if isinstance(value, Offer):
        record["kind"] = value.kind.value
    return record


class CesDirectory:
    """The consortia and their offers in the project database.

    ``collection_exists`` (optional) checks the collection ids an offer links to; without it
    they are kept as given.
    """

    def __init__(
        self,
        engine: sa.Engine,
        *,
        collection_exists: CollectionCheck | None = None,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.collection_exists = collection_exists
        self.clock = clock

    # -- reads ---------------------------------------------------------------------------------
    def consortia(self, *, theme: str = "", text: str = "") -> list[Consortium]:
        """The consortia by name; ``theme`` keeps those with that theme, ``text`` those whose
        name, acronym, themes or description hold it (case-insensitive)."""
        with reading(self.engine) as con:
            found = [_consortium(r) for r in con.execute(sa.select(consortia))]
        if theme:
            found = [c for c in found if theme in c.themes]
        if text:
            needle = text.casefold()
            found = [c for c in found if needle in " ".join(
                (c.name, c.acronym, c.description, *c.themes)).casefold()]  # fmt: skip
        return sorted(found, key=lambda c: c.name.casefold())

    def consortium(self, ces_id: str) -> Consortium:
        """One consortium, or NotFound."""
        with reading(self.engine) as con:
            row = con.execute(sa.select(consortia).where(consortia.c.id == ces_id)).first()
        if row is None:
            raise NotFound("CES", ces_id)
        return _consortium(row)

    def offers(
        self, *, ces_id: str | None = None, kind: Kind | None = None, min_trl: int | None = None
    ) -> list[Offer]:
        """The products and services, highest TRL first, filtered by consortium, kind and
        lowest TRL."""
        query = sa.select(offers)
        if ces_id is not None:
            query = query.where(offers.c.ces_id == ces_id)
        if kind is not None:
            query = query.where(offers.c.kind == Kind(kind).value)
        if min_trl is not None:
            query = query.where(offers.c.trl >= check_trl(min_trl))
        with reading(self.engine) as con:
            rows = con.execute(query.order_by(offers.c.trl.desc(), offers.c.name)).all()
        return [_offer(r) for r in rows]

    def offer(self, offer_id: str) -> Offer:
        """One product or service, or NotFound."""
        with reading(self.engine) as con:
            row = con.execute(sa.select(offers).where(offers.c.id == offer_id)).first()
        if row is None:
            raise NotFound("CES product or service", offer_id)
        return _offer(row)

    def history(self, target_id: str | None = None) -> list[Change]:
        """The changes, oldest first (of one consortium or offer id when given)."""
        query = sa.select(ces_history).order_by(ces_history.c.n)
        if target_id is not None:
            query = query.where(ces_history.c.target_id == target_id)
        with reading(self.engine) as con:
            return [
                Change(r.target, r.target_id, r.action, r.actor, _utc(r.at) or r.at, r.record)
                for r in con.execute(query)
            ]

    # -- consortia -----------------------------------------------------------------------------
    def create(self, principal: Principal, ces: Consortium) -> Consortium:
        """Add a consortium (curators and admins); AlreadyExists when its id is taken."""
        require_curator(principal)
        ces = replace(ces.checked(), updated=self.clock())
        with self.engine.begin() as con:
            if con.execute(sa.select(consortia.c.id).where(consortia.c.id == ces.id)).first():
                raise AlreadyExists("CES", ces.id)
            con.execute(consortia.insert().values(**self._consortium_values(ces)))
            self._log(con, principal, "consortium", ces.id, "created", as_record(ces))
        return ces

    def update(self, principal: Principal, ces: Consortium) -> Consortium:
        """Replace a consortium's fields (curators and admins); NotFound for an unknown id."""
        require_curator(principal)
        ces = replace(ces.checked(), updated=self.clock())
        with self.engine.begin() as con:
            values = self._consortium_values(ces)
            done = con.execute(consortia.update().where(consortia.c.id == ces.id).values(**values))
            if done.rowcount == 0:
                raise NotFound("CES", ces.id)
            self._log(con, principal, "consortium", ces.id, "updated", as_record(ces))
        return ces

    def delete(self, principal: Principal, ces_id: str) -> None:
        """Remove a consortium and its offers; refused while applications name it."""
        require_curator(principal)
        with self.engine.begin() as con:
            if (
                con.execute(sa.select(consortia.c.id).where(consortia.c.id == ces_id)).first()
                is None
            ):
                raise NotFound("CES", ces_id)
            named = con.execute(
                sa.select(sa.func.count()).where(applications.c.ces_id == ces_id)
            ).scalar_one()
            if named:
                raise InvalidInput("CES", f"{ces_id!r} is named by {named} call application(s)")
            for (offer_id,) in con.execute(sa.select(offers.c.id).where(offers.c.ces_id == ces_id)):
                self._log(con, principal, "offer", offer_id, "deleted", None)
            con.execute(offers.delete().where(offers.c.ces_id == ces_id))
            con.execute(consortia.delete().where(consortia.c.id == ces_id))
            self._log(con, principal, "consortium", ces_id, "deleted", None)

    # -- products and services -----------------------------------------------------------------
    def add_offer(self, principal: Principal, offer: Offer) -> Offer:
        """Add a product or service to its consortium (curators and admins)."""
        require_curator(principal)
        offer = self._checked_offer(offer)
        with self.engine.begin() as con:
            self._require_consortium(con, offer.ces_id)
            if con.execute(sa.select(offers.c.id).where(offers.c.id == offer.id)).first():
                raise AlreadyExists("CES product or service", offer.id)
            con.execute(offers.insert().values(**self._offer_values(offer)))
            self._log(con, principal, "offer", offer.id, "created", as_record(offer))
        return offer

    def update_offer(self, principal: Principal, offer: Offer) -> Offer:
        """Replace a product's or service's fields (curators and admins)."""
        require_curator(principal)
        offer = self._checked_offer(offer)
        with self.engine.begin() as con:
            self._require_consortium(con, offer.ces_id)
            values = self._offer_values(offer)
            done = con.execute(offers.update().where(offers.c.id == offer.id).values(**values))
            if done.rowcount == 0:
                raise NotFound("CES product or service", offer.id)
            self._log(con, principal, "offer", offer.id, "updated", as_record(offer))
        return offer

    def delete_offer(self, principal: Principal, offer_id: str) -> None:
        """Remove a product or service (curators and admins)."""
        require_curator(principal)
        with self.engine.begin() as con:
            if con.execute(offers.delete().where(offers.c.id == offer_id)).rowcount == 0:
                raise NotFound("CES product or service", offer_id)
            self._log(con, principal, "offer", offer_id, "deleted", None)

    # -- helpers -------------------------------------------------------------------------------
    def _checked_offer(self, offer: Offer) -> Offer:
        offer = replace(offer.checked(), updated=self.clock())
        if self.collection_exists is not None:
            missing = [c for c in offer.collections if not self.collection_exists(c)]
            if missing:
                raise InvalidInput("collections", f"no catalogue collection {missing[0]!r}")
        return offer

    @staticmethod
    def _require_consortium(con: sa.Connection, ces_id: str) -> None:
        if con.execute(sa.select(consortia.c.id).where(consortia.c.id == ces_id)).first() is None:
            raise InvalidInput("ces_id", f"no CES {ces_id!r}")

    @staticmethod
    def _consortium_values(ces: Consortium) -> dict[str, Any]:
        record = as_record(ces)
        return {**record, "themes": list(ces.themes), "updated": ces.updated}

    @staticmethod
    def _offer_values(offer: Offer) -> dict[str, Any]:
        record = as_record(offer)
        return {
            **record, "collections": list(offer.collections), "urls": list(offer.urls),
            "updated": offer.updated,
        }  # fmt: skip

    def _log(
        self, con: sa.Connection, principal: Principal, target: str, target_id: str,
        action: str, record: dict[str, Any] | None,
    ) -> None:  # fmt: skip
        con.execute(ces_history.insert().values(
            target=target, target_id=target_id, action=action, actor=principal.name,
            at=self.clock(), record=record,
        ))  # fmt: skip
