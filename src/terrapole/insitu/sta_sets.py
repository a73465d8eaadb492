"""The SensorThings entity sets over the ``tp_sta_`` tables: their properties, navigation
links, visibility and JSON.

One :class:`EntitySet` per set (``Things``, ``Datastreams``…) says how each SensorThings
property maps to columns (:class:`Prop`), how to go from one entity to a related set
(:class:`Nav`) and which rows a principal may see (``hidden``, see
:mod:`terrapole.insitu.visibility`). The query module builds every SELECT from these; nothing
here runs a query.
"""

from __future__ import annotations

from collections.abc import Callable, Set
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa

from terrapole.insitu import observations as obs
from terrapole.insitu.records import (
    DATASTREAM,
    FEATURE_OF_INTEREST,
    LOCATION,
    OBSERVED_PROPERTY,
    SENSOR,
    THING,
)
from terrapole.insitu.tables import (
    datastreams,
    features_of_interest,
    historical_location_locations,
    historical_locations,
    locations,
    observations,
    observed_properties,
    sensors,
    thing_locations,
    things,
)
from terrapole.insitu.times import from_micros, iso
from terrapole.insitu.visibility import (
    datastream_visible,
    feature_visible,
    location_visible,
    thing_visible,
    used_by_datastreams_visible,
    visible_thing_ids,
)

PropKind = Literal["id", "text", "json", "time", "interval", "result", "unit", "geometry"]
"""How a property is stored: ``interval`` is a (start, end) column pair, ``unit`` the three
unit columns, ``geometry`` a GeoJSON column with bbox columns, ``result`` the number/JSON pair."""


@dataclass(frozen=True)
class Prop:
    """One SensorThings property of a set and its column(s)."""

    kind: PropKind
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Nav:
    """A navigation property: to ``target``; ``many`` for a collection.

    Exactly one of: ``fk`` (a to-one link: the column of this set holding the target's id),
    ``back`` (a to-many link: the target's column holding this set's id) or ``link`` (a
    link table, its column for this set and its column for the target).
    """

    target: str
    many: bool
    fk: str | None = None
    back: str | None = None
    link: tuple[sa.Table, str, str] | None = None


Hidden = Set[str]


@dataclass(frozen=True)
class EntitySet:
    """One SensorThings entity set."""

    name: str
    singular: str
    table: sa.Table
    props: dict[str, Prop]
    navs: dict[str, Nav]
    visible: Callable[[sa.Table, Hidden], sa.ColumnElement[bool]]
    to_json: Callable[[Any], dict[str, Any]]
    writable: tuple[str, ...] = field(default=())

    def prop(self, name: str) -> Prop:
        """The property ``name`` (KeyError if the set has none)."""
        return self.props[name]

    def target_of(self, nav: Nav, source_id: Any) -> sa.ColumnElement[bool]:
        """Condition on ``SETS[nav.target].table``: related to this set's entity ``source_id``
        (a bound value or a column)."""
        target = SETS[nav.target].table
        if nav.fk is not None:
            source = self.table.alias()
            fk = sa.select(source.c[nav.fk]).where(source.c.id == source_id).scalar_subquery()
            return target.c.id == fk
        if nav.back is not None:
            back: sa.ColumnElement[bool] = target.c[nav.back] == source_id
            return back
        assert nav.link is not None
        link, mine, theirs = nav.link
        return target.c.id.in_(sa.select(link.c[theirs]).where(link.c[mine] == source_id))


def _common(*extra: tuple[str, Prop]) -> dict[str, Prop]:
    return {
        "id": Prop("id", ("id",)),
        "name": Prop("text", ("name",)),
        "description": Prop("text", ("description",)),
        "properties": Prop("json", ("properties",)),
        **dict(extra),
    }


_BBOX = ("min_x", "min_y", "max_x", "max_y")


def _used_by(reference: str) -> Callable[[sa.Table, Hidden], sa.ColumnElement[bool]]:
    """Visibility of a set Datastreams refer to by their column ``reference``."""

    def visible(table: sa.Table, hidden: Hidden) -> sa.ColumnElement[bool]:
        return used_by_datastreams_visible(table.c.id, reference, hidden)

    return visible


def _observation_json(row: Any) -> dict[str, Any]:
    return obs.observation_of(row).to_json()


def _historical_json(row: Any) -> dict[str, Any]:
    return {"time": iso(from_micros(row.time))}


def _historical_visible(table: sa.Table, hidden: Hidden) -> sa.ColumnElement[bool]:
    return table.c.thing_id.in_(visible_thing_ids(hidden)) if hidden else sa.true()


SETS: dict[str, EntitySet] = {
    "Things": EntitySet(
        "Things", "Thing", things, _common(),
        {
            "Locations": Nav("Locations", True, link=(thing_locations, "thing_id", "location_id")),
            "HistoricalLocations": Nav("HistoricalLocations", True, back="thing_id"),
            "Datastreams": Nav("Datastreams", True, back="thing_id"),
        },
        lambda t, hidden: thing_visible(t.c.dataset_id, hidden),
        lambda row: THING.entity(row).to_json(),
    ),
    "Locations": EntitySet(
        "Locations", "Location", locations,
        _common(
            ("encodingType", Prop("text", ("encoding_type",))),
            ("location", Prop("geometry", ("location", *_BBOX))),
        ),
        {
            "Things": Nav("Things", True, link=(thing_locations, "location_id", "thing_id")),
            "HistoricalLocations": Nav(
                "HistoricalLocations", True,
                link=(historical_location_locations, "location_id", "historical_location_id"),
            ),
        },
        lambda t, hidden: location_visible(t.c.id, hidden),
        lambda row: LOCATION.entity(row).to_json(),
    ),
    "HistoricalLocations": EntitySet(
        "HistoricalLocations", "HistoricalLocation", historical_locations,
        {"id": Prop("id", ("id",)), "time": Prop("time", ("time",))},
        {
            "Thing": Nav("Things", False, fk="thing_id"),
            "Locations": Nav(
                "Locations", True,
                link=(historical_location_locations, "historical_location_id", "location_id"),
            ),
        },
        _historical_visible,
        _historical_json,
    ),
    "Sensors": EntitySet(
        "Sensors", "Sensor", sensors,
        _common(
            ("encodingType", Prop("text", ("encoding_type",))),
            ("metadata", Prop("text", ("sensor_metadata",))),
        ),
        {"Datastreams": Nav("Datastreams", True, back="sensor_id")},
        _used_by("sensor_id"),
        lambda row: SENSOR.entity(row).to_json(),
    ),
    "ObservedProperties": EntitySet(
        "ObservedProperties", "ObservedProperty", observed_properties,
        _common(("definition", Prop("text", ("definition",)))),
        {"Datastreams": Nav("Datastreams", True, back="observed_property_id")},
        _used_by("observed_property_id"),
        lambda row: OBSERVED_PROPERTY.entity(row).to_json(),
    ),
    "Datastreams": EntitySet(
        "Datastreams", "Datastream", datastreams,
        _common(
            ("observationType", Prop("text", ("observation_type",))),
            ("unitOfMeasurement", Prop("unit", ("unit_name", "unit_symbol", "unit_definition"))),
            ("observedArea", Prop("geometry", ("observed_area", *_BBOX))),
            ("phenomenonTime", Prop("interval", ("phenomenon_start", "phenomenon_end"))),
            ("resultTime", Prop("interval", ("result_start", "result_end"))),
        ),
        {
            "Thing": Nav("Things", False, fk="thing_id"),
            "Sensor": Nav("Sensors", False, fk="sensor_id"),
            "ObservedProperty": Nav("ObservedProperties", False, fk="observed_property_id"),
            "Observations": Nav("Observations", True, back="datastream_id"),
        },
        lambda t, hidden: datastream_visible(t.c.id, hidden),
        lambda row: DATASTREAM.entity(row).to_json(),
    ),
    "Observations": EntitySet(
        "Observations", "Observation", observations,
        {
            "id": Prop("id", ("id",)),
            "phenomenonTime": Prop("interval", ("phenomenon_start", "phenomenon_end")),
            "resultTime": Prop("time", ("result_time",)),
            "result": Prop("result", ("result_number", "result_json")),
            "resultQuality": Prop("json", ("result_quality",)),
            "validTime": Prop("interval", ("valid_start", "valid_end")),
            "parameters": Prop("json", ("parameters",)),
        },
        {
            "Datastream": Nav("Datastreams", False, fk="datastream_id"),
            "FeatureOfInterest": Nav("FeaturesOfInterest", False, fk="foi_id"),
        },
        lambda t, hidden: datastream_visible(t.c.datastream_id, hidden),
        _observation_json,
    ),
    "FeaturesOfInterest": EntitySet(
        "FeaturesOfInterest", "FeatureOfInterest", features_of_interest,
        _common(
            ("encodingType", Prop("text", ("encoding_type",))),
            ("feature", Prop("geometry", ("feature", *_BBOX))),
        ),
        {"Observations": Nav("Observations", True, back="foi_id")},
        lambda t, hidden: feature_visible(t.c.id, hidden),
        lambda row: FEATURE_OF_INTEREST.entity(row).to_json(),
    ),
}  # fmt: skip
"""Every entity set of SensorThings API 1.1 Sensing, by name."""
