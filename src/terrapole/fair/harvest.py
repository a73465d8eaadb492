"""What harvesters may see of the record book: published records and withdrawn tombstones, in
(datestamp, id) order, grouped in sets, without the records whose data is hidden from anyone
who is not signed in.

The OAI-PMH repository (:mod:`terrapole.fair.oai`) and the DCAT catalogue
(:mod:`terrapole.fair.dcat`) read through this module. Pages are keyset pages: each starts
after the last (updated, id) of the previous one, so the thousandth page costs what the first
does. Rows keep the stored DataCite JSON as it is (the shape of ``Record.to_json()``): turning
100 000 of them into model objects would cost more than writing their XML.

Sets (OAI-PMH ``setSpec``):

- ``collection`` and ``collection:<id>``: records describing catalogue collections (one);
- ``producer`` and ``producer:<owner>``: records by the account or token that made them;
- ``ces`` and ``ces:<id>``: records of the collections a Scientific Expertise Consortium backs
  (its products in :mod:`terrapole.fair.ces`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from terrapole import db
from terrapole.access.accounts import utc
from terrapole.fair.model import SourceKind
from terrapole.fair.record_workflow import PUBLIC, RecordState
from terrapole.fair.tables import records
from terrapole.fair.visibility import not_hidden

SET_SPEC = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*$")
"""The OAI-PMH grammar of a setSpec (colon-separated parts)."""

HiddenCollections = Callable[[], frozenset[str]]
"""The collections an anonymous reader may not see (asked again at each request)."""
CesCollections = Callable[[], Mapping[str, tuple[str, frozenset[str]]]]
"""Each consortium's id → (name, the collections its products are in)."""

_PUBLIC = tuple(s.value for s in PUBLIC)
_COLLECTION = SourceKind.COLLECTION.value


@dataclass(frozen=True)
class HarvestRow:
    """One harvestable record: its datestamp (last change, UTC), its stored DataCite JSON."""

    id: str
    updated: datetime
    deleted: bool
    owner: str
    source_kind: str | None
    source_id: str | None
    identifier: str | None
    metadata: Mapping[str, Any]
    withdrawn_reason: str | None


@dataclass(frozen=True)
class Selection:
    """Which records: changed in [``since``, ``before``) and in the set ``set_spec``."""

    since: datetime | None = None
    before: datetime | None = None
    set_spec: str | None = None


@dataclass(frozen=True)
class HarvestSet:
    """A set a harvester may ask for."""

    spec: str
    name: str


class UnknownSet(LookupError):
    """A setSpec that names no set of this repository."""


def _row(row: sa.Row[Any]) -> HarvestRow:
    return HarvestRow(
        row.id,
        utc(row.updated),
        row.state == RecordState.WITHDRAWN.value,
        row.owner,
        row.source_kind,
        row.source_id,
        row.identifier,
        row.metadata,
        row.withdrawn_reason,
    )


def set_specs_of(row: HarvestRow, ces_of_collection: Mapping[str, Iterable[str]]) -> list[str]:
    """The sets a record is in (the leaves; parents are implied by the spec's prefixes)."""
    specs = []
    if row.source_kind == _COLLECTION and row.source_id:
        specs.append(f"collection:{row.source_id}")
        specs.extend(f"ces:{ces}" for ces in ces_of_collection.get(row.source_id, ()))
    specs.append(f"producer:{row.owner}")
    return [spec for spec in specs if SET_SPEC.match(spec)]


class Harvest:
    """Harvestable records of one database (the ``tp_fair_records`` table)."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        hidden: HiddenCollections = frozenset,
        ces: CesCollections | None = None,
    ) -> None:
        self.engine = engine
        self.hidden = hidden
        self.ces = ces or dict

    # -- filters --------------------------------------------------------------------------------

    def _visible(self) -> list[sa.ColumnElement[bool]]:
        """Published or withdrawn, and not describing a collection hidden from anonymous (the
        record book's rule, :mod:`terrapole.fair.visibility`).

        The state is compared as ``state || ''``, which no index serves: without statistics
        SQLite would otherwise walk the `state` index (nearly every row) and sort them all,
        where walking the `updated` index in order and stopping at the page's end is cheap.
        """
        state = records.c.state.concat("")
        return [state.in_(_PUBLIC), *not_hidden(self.hidden())]

    def _in_set(self, spec: str) -> list[sa.ColumnElement[bool]]:
        kind, _, value = spec.partition(":")
        if kind == "collection":
            where: list[sa.ColumnElement[bool]] = [records.c.source_kind == _COLLECTION]
            return where + ([records.c.source_id == value] if value else [])
        if kind == "producer":
            return [records.c.owner == value] if value else []
        if kind == "ces":
            consortia = self.ces()
            if value and value not in consortia:
                raise UnknownSet(spec)
            chosen = [consortia[value]] if value else list(consortia.values())
            collections = sorted({c for _name, cs in chosen for c in cs})
            return [records.c.source_kind == _COLLECTION, records.c.source_id.in_(collections)]
        raise UnknownSet(spec)

    def _where(self, selection: Selection) -> list[sa.ColumnElement[bool]]:
        where = self._visible()
        if selection.since is not None:
            where.append(records.c.updated >= selection.since)
        if selection.before is not None:
            where.append(records.c.updated < selection.before)
        if selection.set_spec:
            where.extend(self._in_set(selection.set_spec))
        return where

    # -- reads ----------------------------------------------------------------------------------

    def page(
        self, selection: Selection, *, after: tuple[datetime, str] | None = None, limit: int = 100
    ) -> list[HarvestRow]:
        """Up to ``limit`` records of the selection after (updated, id) ``after``, in order."""
        where = self._where(selection)
        if after is not None:
            stamp, last = after
            # the plain range first, so that the planner walks the `updated` index from there
            where.append(records.c.updated >= stamp)
            where.append(sa.or_(records.c.updated > stamp, records.c.id > last))
        query = (
            sa.select(records)
            .where(*where)
            .order_by(records.c.updated, records.c.id)
            .limit(max(1, limit))
        )
        with db.reading(self.engine) as con:
            return [_row(row) for row in con.execute(query)]

    def count(self, selection: Selection) -> int:
        """How many records the selection holds."""
        query = sa.select(sa.func.count()).select_from(records).where(*self._where(selection))
        with db.reading(self.engine) as con:
            return int(con.execute(query).scalar_one())

    def one(self, record_id: str) -> HarvestRow | None:
        """One harvestable record, or None (unknown, not public, or hidden)."""
        query = sa.select(records).where(records.c.id == record_id, *self._visible())
        with db.reading(self.engine) as con:
            row = con.execute(query).one_or_none()
        return None if row is None else _row(row)

    def earliest(self) -> datetime | None:
        """The oldest datestamp, or None when nothing is harvestable."""
        query = sa.select(sa.func.min(records.c.updated)).where(*self._visible())
        with db.reading(self.engine) as con:
            value = con.execute(query).scalar_one_or_none()
        return None if value is None else utc(value)

    def ces_of_collection(self) -> dict[str, list[str]]:
        """Each collection id → the consortia whose products are in it."""
        found: dict[str, list[str]] = {}
        for ces_id, (_name, collections) in sorted(self.ces().items()):
            for collection in collections:
                found.setdefault(collection, []).append(ces_id)
        return found

    def sets(self) -> list[HarvestSet]:
        """Every set: the three families, then the collections, consortia and producers that
        hold a visible record (consortia are listed even when empty)."""
        visible = self._visible()
        collections = (
            sa.select(records.c.source_id)
            .where(records.c.source_kind == _COLLECTION, *visible)
            .distinct()
        )
        owners = sa.select(records.c.owner).where(*visible).distinct()
        with db.reading(self.engine) as con:
            collection_ids = sorted(str(c) for c in con.scalars(collections) if c)
            owner_names = sorted(str(o) for o in con.scalars(owners))
        found = [
            HarvestSet("collection", "Records of catalogue collections"),
            HarvestSet("ces", "Records of the products of Scientific Expertise Consortia"),
            HarvestSet("producer", "Records by producer"),
        ]
        found += [HarvestSet(f"collection:{c}", f"Collection {c}") for c in collection_ids]
        found += [
            HarvestSet(f"ces:{ces_id}", name) for ces_id, (name, _cs) in sorted(self.ces().items())
        ]
        found += [HarvestSet(f"producer:{o}", f"Producer {o}") for o in owner_names]
        return [s for s in found if SET_SPEC.match(s.spec)]


__all__ = [
    "SET_SPEC",
    "CesCollections",
    "Harvest",
    "HarvestRow",
    "HarvestSet",
    "HiddenCollections",
    "Selection",
    "UnknownSet",
    "set_specs_of",
    "utc",
]
