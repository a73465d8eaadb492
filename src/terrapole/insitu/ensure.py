"""Find-or-create of the entities an import names, by their natural keys.

Imports are idempotent: running one again must find what the first run stored instead of
adding copies. Each helper looks an entity up by the key a producer would use for it
(producer identifier, dataset identifier, station code, sensor name, observed property name
and definition, the Datastream's Thing + Sensor + ObservedProperty) and creates it only when
absent. Each creation is its own short transaction; a run interrupted between two of them
resumes by running again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from terrapole import db
from terrapole.insitu.model import (
    Dataset,
    Datastream,
    FeatureOfInterest,
    Location,
    ObservedProperty,
    Producer,
    Sensor,
    Thing,
    Unit,
)
from terrapole.insitu.records import DATASTREAM, FEATURE_OF_INTEREST, OBSERVED_PROPERTY, SENSOR
from terrapole.insitu.store import InsituStore
from terrapole.insitu.tables import (
    datastreams,
    features_of_interest,
    observed_properties,
    sensors,
)
from terrapole.insitu.visibility import NOTHING_HIDDEN


@dataclass(frozen=True)
class Station:
    """A station as an import describes it: code, name, and a point when known."""

    identifier: str
    name: str
    lon: float | None = None
    lat: float | None = None
    elevation: float | None = None
    properties: dict[str, Any] | None = None
    geometry: dict[str, Any] | None = None  # any GeoJSON geometry, instead of lon/lat

    @property
    def point(self) -> dict[str, Any] | None:
        """Its geometry: a GeoJSON Point (with elevation when known), None without one."""
        if self.geometry is not None:
            return self.geometry
        if self.lon is None or self.lat is None:
            return None
        coords = [self.lon, self.lat] + ([self.elevation] if self.elevation is not None else [])
        return {"type": "Point", "coordinates": coords}


def _first(store: InsituStore, query: sa.Select[Any]) -> Any:
    with db.reading(store.engine) as con:
        return con.execute(query.limit(1)).first()


def producer(store: InsituStore, wanted: Producer) -> Producer:
    """The producer with ``wanted.identifier``, created if absent."""
    found = store.producer_by_identifier(wanted.identifier)
    return found if found is not None else store.create_producer(wanted)


def dataset(store: InsituStore, wanted: Dataset) -> Dataset:
    """The producer's dataset with ``wanted.identifier``, created if absent."""
    assert wanted.identifier is not None
    found = store.dataset_by_identifier(wanted.producer_id, wanted.identifier)
    return found if found is not None else store.create_dataset(wanted)


def thing(store: InsituStore, dataset_id: int, station: Station) -> Thing:
    """The dataset's Thing for ``station``, created with its Location if absent."""
    found = store.thing_by_identifier(dataset_id, station.identifier)
    if found is not None:
        return found
    props = {"id": station.identifier, **(station.properties or {})}
    created = store.create_thing(
        Thing(
            name=station.name,
            description=f"Station {station.identifier}",
            properties=props,
            dataset_id=dataset_id,
            identifier=station.identifier,
        )
    )
    if station.point is not None:
        assert created.id is not None
        store.create_location(
            Location(name=station.name, location=station.point, description="station position"),
            thing_ids=[created.id],
        )
    return created


def sensor(store: InsituStore, wanted: Sensor) -> Sensor:
    """The Sensor named ``wanted.name``, created if absent."""
    row = _first(store, sa.select(sensors).where(sensors.c.name == wanted.name))
    if row is not None:
        return SENSOR.entity(row)  # type: ignore[no-any-return]
    return store.create_sensor(wanted)


def observed_property(store: InsituStore, wanted: ObservedProperty) -> ObservedProperty:
    """The ObservedProperty with ``wanted``'s name and definition, created if absent."""
    c = observed_properties.c
    row = _first(
        store,
        sa.select(observed_properties)
        .where(c.name == wanted.name, c.definition == wanted.definition)
        .order_by(c.id),
    )
    if row is not None:
        return OBSERVED_PROPERTY.entity(row)  # type: ignore[no-any-return]
    return store.create_observed_property(wanted)


def feature_of_interest(store: InsituStore, station: Station) -> int | None:
    """The id of the station's FeatureOfInterest (its point), None without a point."""
    point = station.point
    if point is None:
        return None
    name = f"{station.name} ({station.identifier})"
    c = features_of_interest.c
    row = _first(store, sa.select(features_of_interest).where(c.name == name).order_by(c.id))
    if row is not None:
        found: FeatureOfInterest = FEATURE_OF_INTEREST.entity(row)
    else:
        found = store.create_feature_of_interest(
            FeatureOfInterest(name=name, feature=point, description="station position")
        )
    return found.id


def datastream(
    store: InsituStore,
    thing_: Thing,
    sensor_: Sensor,
    prop: ObservedProperty,
    unit: Unit,
    *,
    properties: dict[str, Any] | None = None,
) -> Datastream:
    """The Datastream of ``prop`` at ``thing_`` by ``sensor_``, created if absent."""
    assert thing_.id is not None and sensor_.id is not None and prop.id is not None
    c = datastreams.c
    row = _first(
        store,
        sa.select(datastreams).where(
            c.thing_id == thing_.id,
            c.sensor_id == sensor_.id,
            c.observed_property_id == prop.id,
        ),
    )
    if row is not None:
        return DATASTREAM.entity(row)  # type: ignore[no-any-return]
    return store.create_datastream(
        Datastream(
            name=f"{prop.name} at {thing_.name}",
            description=f"{prop.name} ({unit.symbol}) at {thing_.name}, {sensor_.name}",
            thing_id=thing_.id,
            sensor_id=sensor_.id,
            observed_property_id=prop.id,
            unit=unit,
            properties=properties or {},
        )
    )


def datastreams_of_dataset(store: InsituStore, dataset_id: int) -> list[Datastream]:
    """Every Datastream of the dataset's Things, by Thing then id (exports)."""
    found: list[Datastream] = []
    for t in store.things(hidden=NOTHING_HIDDEN, dataset_id=dataset_id):
        assert t.id is not None
        found.extend(store.datastreams_of(t.id, hidden=NOTHING_HIDDEN))
    return found
