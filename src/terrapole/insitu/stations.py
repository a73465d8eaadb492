"""Stations for the observatory map: visible Things with their place, dataset, producer,
observed properties and period, filtered in SQL.

A *station* is a Thing seen from the map: its first Location (bbox centre), its Dataset and
Producer, the ObservedProperties of its Datastreams and the union of their phenomenon times.
Every filter (observed property, Theia category, producer, period, bbox, text) and the access
policy's ``hidden`` keys are conditions of one query; nothing is filtered after it.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from terrapole import db
from terrapole.errors import InvalidInput
from terrapole.insitu.tables import (
    datasets,
    datastreams,
    locations,
    observed_properties,
    observed_property_categories,
    producers,
    thing_locations,
    things,
)
from terrapole.insitu.times import optional_micros, optional_time
from terrapole.insitu.visibility import thing_visible

MAX_STATIONS = 5000
"""The most stations one query returns (the map clusters them; the list shows the first)."""


@dataclass(frozen=True)
class StationQuery:
    """What the map's filter panel asks; every field left None matches everything.

    ``period`` keeps the stations with a Datastream observed at some time in
    [start, end]; ``bbox`` (west, south, east, north, WGS84) those whose Location meets it;
    ``text`` is matched, case-insensitively, against the station's name, identifier and
    description, its dataset's title and its producer's name; ``thing`` keeps one Thing.
    """

    observed_property: int | None = None
    category: str | None = None
    producer: int | None = None
    dataset: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    bbox: tuple[float, float, float, float] | None = None
    text: str | None = None
    thing: int | None = None
    limit: int = MAX_STATIONS

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise InvalidInput("end", "must not be before start")
        if self.bbox is not None:
            west, south, east, north = self.bbox
            if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
                raise InvalidInput("bbox", f"{list(self.bbox)} is not west,south,east,north")
        if not 1 <= self.limit <= MAX_STATIONS:
            raise InvalidInput("limit", f"must be between 1 and {MAX_STATIONS}")


@dataclass(frozen=True)
class Station:
    """A Thing as the map shows it."""

    id: int
    name: str
    identifier: str | None
    description: str
    lon: float | None
    lat: float | None
    dataset_id: int | None
    dataset: str | None
    producer_id: int | None
    producer: str | None
    observed_properties: tuple[str, ...]
    start: datetime | None
    end: datetime | None

    def to_feature(self) -> dict[str, object]:
        """The station as a GeoJSON Feature (a null geometry when it has no Location)."""
        point = None
        if self.lon is not None and self.lat is not None:
            point = {"type": "Point", "coordinates": [self.lon, self.lat]}
        return {
            "type": "Feature",
            "id": self.id,
            "geometry": point,
            "properties": {
                "id": self.id,
                "name": self.name,
                "identifier": self.identifier,
                "dataset_id": self.dataset_id,
                "dataset": self.dataset,
                "producer_id": self.producer_id,
                "producer": self.producer,
                "observed_properties": list(self.observed_properties),
                "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None,
            },
        }


@dataclass(frozen=True)
class Choices:
    """What the filter panel offers: only values some visible station has."""

    observed_properties: tuple[tuple[int, str], ...]
    categories: tuple[str, ...]
    producers: tuple[tuple[int, str], ...]


def _with_datastream(*where: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """The Thing has a Datastream meeting ``where``."""
    return sa.exists(
        sa.select(datastreams.c.id).where(datastreams.c.thing_id == things.c.id, *where)
    )


def _conditions(query: StationQuery, hidden: Set[str]) -> list[sa.ColumnElement[bool]]:
    """The WHERE of a station query, over things, datasets and producers."""
    where = [thing_visible(things.c.dataset_id, hidden)]
    if query.observed_property is not None:
        where.append(
            _with_datastream(datastreams.c.observed_property_id == query.observed_property)
        )
    if query.category is not None:
        props = sa.select(observed_property_categories.c.observed_property_id).where(
            observed_property_categories.c.category == query.category
        )
        where.append(_with_datastream(datastreams.c.observed_property_id.in_(props)))
    if query.producer is not None:
        where.append(datasets.c.producer_id == query.producer)
    if query.dataset is not None:
        where.append(things.c.dataset_id == query.dataset)
    if query.thing is not None:
        where.append(things.c.id == query.thing)
    if query.start is not None or query.end is not None:
        overlap: list[sa.ColumnElement[bool]] = [datastreams.c.phenomenon_start.is_not(None)]
        if query.start is not None:
            overlap.append(datastreams.c.phenomenon_end >= optional_micros(query.start, "start"))
        if query.end is not None:
            overlap.append(datastreams.c.phenomenon_start <= optional_micros(query.end, "end"))
        where.append(_with_datastream(*overlap))
    if query.bbox is not None:
        west, south, east, north = query.bbox
        meets = sa.select(thing_locations.c.thing_id).join(
            locations, locations.c.id == thing_locations.c.location_id
        )
        meets = meets.where(
            locations.c.min_x <= east, locations.c.max_x >= west,
            locations.c.min_y <= north, locations.c.max_y >= south,
        )  # fmt: skip
        where.append(things.c.id.in_(meets))
    if query.text and query.text.strip():
        needle = query.text.strip().lower()
        where.append(
            sa.or_(*(
                sa.func.lower(column).contains(needle, autoescape=True)
                for column in (things.c.name, things.c.identifier, things.c.description,
                               datasets.c.title, producers.c.name)
            ))
        )  # fmt: skip
    return where


def _first_location() -> sa.Subquery:
    """Each Thing's first Location id (the lowest: its place when it was first stored)."""
    return (
        sa.select(
            thing_locations.c.thing_id, sa.func.min(thing_locations.c.location_id).label("loc")
        )
        .group_by(thing_locations.c.thing_id)
        .subquery()
    )


def stations(engine: sa.Engine, query: StationQuery, *, hidden: Set[str]) -> list[Station]:
    """The visible stations matching ``query``, by name, at most ``query.limit``."""
    first = _first_location()
    select = (
        sa.select(
            things.c.id, things.c.name, things.c.identifier, things.c.description,
            ((locations.c.min_x + locations.c.max_x) / 2).label("lon"),
            ((locations.c.min_y + locations.c.max_y) / 2).label("lat"),
            things.c.dataset_id, datasets.c.title, datasets.c.producer_id,
            producers.c.name.label("producer"),
        )
        .select_from(things)
        .outerjoin(datasets, datasets.c.id == things.c.dataset_id)
        .outerjoin(producers, producers.c.id == datasets.c.producer_id)
        .outerjoin(first, first.c.thing_id == things.c.id)
        .outerjoin(locations, locations.c.id == first.c.loc)
        .where(*_conditions(query, hidden))
        .order_by(things.c.name, things.c.id)
        .limit(query.limit)
    )  # fmt: skip
    with db.reading(engine) as con:
        rows = con.execute(select).all()
        summary = _summaries(con, [r.id for r in rows])
    return [
        Station(
            id=r.id,
            name=r.name,
            identifier=r.identifier,
            description=r.description,
            lon=r.lon,
            lat=r.lat,
            dataset_id=r.dataset_id,
            dataset=r.title,
            producer_id=r.producer_id,
            producer=r.producer,
            observed_properties=tuple(summary[r.id].names) if r.id in summary else (),
            start=summary[r.id].start if r.id in summary else None,
            end=summary[r.id].end if r.id in summary else None,
        )  # fmt: skip
        for r in rows
    ]


def station(engine: sa.Engine, thing_id: int, *, hidden: Set[str]) -> Station | None:
    """The station of Thing ``thing_id`` (None when unknown or hidden), found by its id:
    a station page never lists the Thing's whole dataset to pick it out."""
    found = stations(engine, StationQuery(thing=thing_id, limit=1), hidden=hidden)
    return found[0] if found else None


@dataclass
class _Summary:
    """What a Thing's Datastreams say of it: observed property names, phenomenon period."""

    start: datetime | None
    end: datetime | None
    names: list[str]


def _summaries(con: sa.Connection, ids: list[int]) -> dict[int, _Summary]:
    """Observed property names and phenomenon period of each Thing in ``ids``."""
    found: dict[int, _Summary] = {}
    for chunk in (ids[n : n + 500] for n in range(0, len(ids), 500)):
        period = (
            sa.select(
                datastreams.c.thing_id,
                sa.func.min(datastreams.c.phenomenon_start).label("start"),
                sa.func.max(datastreams.c.phenomenon_end).label("end"),
            )
            .where(datastreams.c.thing_id.in_(chunk))
            .group_by(datastreams.c.thing_id)
        )
        for r in con.execute(period):
            found[r.thing_id] = _Summary(optional_time(r.start), optional_time(r.end), [])
        names = (
            sa.select(datastreams.c.thing_id, observed_properties.c.name)
            .join(observed_properties,
                  observed_properties.c.id == datastreams.c.observed_property_id)
            .where(datastreams.c.thing_id.in_(chunk))
            .distinct()
            .order_by(datastreams.c.thing_id, observed_properties.c.name)
        )  # fmt: skip
        for n in con.execute(names):
            found[n.thing_id].names.append(n.name)
    return found


def choices(engine: sa.Engine, *, hidden: Set[str]) -> Choices:
    """The observed properties, Theia categories and producers of the visible stations."""
    visible = sa.select(things.c.id).where(thing_visible(things.c.dataset_id, hidden))
    used = sa.select(datastreams.c.observed_property_id).where(datastreams.c.thing_id.in_(visible))
    props = (
        sa.select(observed_properties.c.id, observed_properties.c.name)
        .where(observed_properties.c.id.in_(used))
        .order_by(observed_properties.c.name)
    )
    cats = (
        sa.select(observed_property_categories.c.category)
        .where(observed_property_categories.c.observed_property_id.in_(used))
        .distinct()
        .order_by(observed_property_categories.c.category)
    )
    makers = (
        sa.select(producers.c.id, producers.c.name)
        .where(producers.c.id.in_(
            sa.select(datasets.c.producer_id).where(datasets.c.id.in_(
                sa.select(things.c.dataset_id).where(things.c.id.in_(visible))
            ))
        ))
        .order_by(producers.c.name)
    )  # fmt: skip
    with db.reading(engine) as con:
        return Choices(
            observed_properties=tuple((r.id, r.name) for r in con.execute(props)),
            categories=tuple(r.category for r in con.execute(cats)),
            producers=tuple((r.id, r.name) for r in con.execute(makers)),
        )
