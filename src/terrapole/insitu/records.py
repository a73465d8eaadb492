"""Entity ↔ table row conversions of the in-situ tables (one pair per entity kind)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from terrapole.insitu.geometry import bbox_of
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
from terrapole.insitu.tables import (
    datasets,
    datastreams,
    features_of_interest,
    locations,
    observed_properties,
    producers,
    sensors,
    things,
)
from terrapole.insitu.times import TimeInterval, from_micros, to_micros

_NO_BBOX = {"min_x": None, "min_y": None, "max_x": None, "max_y": None}


def _bbox(geometry: Any, field: str) -> dict[str, float | None]:
    if geometry is None:
        return dict(_NO_BBOX)
    west, south, east, north = bbox_of(geometry, field)
    return {"min_x": west, "min_y": south, "max_x": east, "max_y": north}


def _interval(start: int | None, end: int | None) -> TimeInterval | None:
    if start is None or end is None:
        return None
    return TimeInterval(from_micros(start), from_micros(end))


@dataclass(frozen=True)
class Kind:
    """One entity kind: its name (for errors), table, and row conversions."""

    name: str
    table: sa.Table

    def row(self, entity: Any) -> dict[str, Any]:
        """The column values of ``entity`` (without its id)."""
        row: dict[str, Any] = _ROWS[self.name](entity)
        return row

    def entity(self, row: Any) -> Any:
        """The entity of a selected row."""
        return _ENTITIES[self.name](row)


def _producer_row(p: Producer) -> dict[str, Any]:
    return {
        "identifier": p.identifier,
        "name": p.name,
        "description": p.description,
        "properties": p.properties,
    }


def _dataset_row(d: Dataset) -> dict[str, Any]:
    return {
        "producer_id": d.producer_id,
        "identifier": d.identifier,
        "title": d.title,
        "description": d.description,
        "licence": d.licence,
        "doi": d.doi,
        "keywords": list(d.keywords),
        "spatial_extent": d.spatial_extent,
        **_bbox(d.spatial_extent, "Dataset.spatial_extent"),
        "period_start": None if d.period is None else to_micros(d.period.start),
        "period_end": None if d.period is None else to_micros(d.period.end),
        "properties": d.properties,
    }


def _thing_row(t: Thing) -> dict[str, Any]:
    return {
        "dataset_id": t.dataset_id,
        "identifier": t.identifier,
        "name": t.name,
        "description": t.description,
        "properties": t.properties,
    }


def _location_row(loc: Location) -> dict[str, Any]:
    return {
        "name": loc.name,
        "description": loc.description,
        "encoding_type": loc.encoding_type,
        "location": loc.location,
        **_bbox(loc.location, "Location.location"),
        "properties": loc.properties,
    }


def _sensor_row(s: Sensor) -> dict[str, Any]:
    return {
        "name": s.name,
        "description": s.description,
        "encoding_type": s.encoding_type,
        "sensor_metadata": s.metadata,
        "properties": s.properties,
    }


def _observed_property_row(p: ObservedProperty) -> dict[str, Any]:
    return {
        "name": p.name,
        "definition": p.definition,
        "description": p.description,
        "properties": p.properties,
    }


def _datastream_row(d: Datastream) -> dict[str, Any]:
    # the time extents are the store's to maintain: not written from the entity
    return {
        "thing_id": d.thing_id,
        "sensor_id": d.sensor_id,
        "observed_property_id": d.observed_property_id,
        "name": d.name,
        "description": d.description,
        "observation_type": d.observation_type,
        "unit_name": d.unit.name,
        "unit_symbol": d.unit.symbol,
        "unit_definition": d.unit.definition,
        "observed_area": d.observed_area,
        **_bbox(d.observed_area, "Datastream.observedArea"),
        "properties": d.properties,
    }


def _foi_row(f: FeatureOfInterest) -> dict[str, Any]:
    return {
        "name": f.name,
        "description": f.description,
        "encoding_type": f.encoding_type,
        "feature": f.feature,
        **_bbox(f.feature, "FeatureOfInterest.feature"),
        "properties": f.properties,
    }


_ROWS: dict[str, Any] = {
    "Producer": _producer_row,
    "Dataset": _dataset_row,
    "Thing": _thing_row,
    "Location": _location_row,
    "Sensor": _sensor_row,
    "ObservedProperty": _observed_property_row,
    "Datastream": _datastream_row,
    "FeatureOfInterest": _foi_row,
}

_ENTITIES: dict[str, Any] = {
    "Producer": lambda r: Producer(
        id=r.id,
        identifier=r.identifier,
        name=r.name,
        description=r.description,
        properties=r.properties,
    ),
    "Dataset": lambda r: Dataset(
        id=r.id,
        producer_id=r.producer_id,
        identifier=r.identifier,
        access_key=r.access_key,
        title=r.title,
        description=r.description,
        licence=r.licence,
        doi=r.doi,
        keywords=tuple(r.keywords),
        spatial_extent=r.spatial_extent,
        period=_interval(r.period_start, r.period_end),
        properties=r.properties,
    ),
    "Thing": lambda r: Thing(
        id=r.id,
        dataset_id=r.dataset_id,
        identifier=r.identifier,
        name=r.name,
        description=r.description,
        properties=r.properties,
    ),
    "Location": lambda r: Location(
        id=r.id,
        name=r.name,
        description=r.description,
        encoding_type=r.encoding_type,
        location=r.location,
        properties=r.properties,
    ),
    "Sensor": lambda r: Sensor(
        id=r.id,
        name=r.name,
        description=r.description,
        encoding_type=r.encoding_type,
        metadata=r.sensor_metadata,
        properties=r.properties,
    ),
    "ObservedProperty": lambda r: ObservedProperty(
        id=r.id,
        name=r.name,
        definition=r.definition,
        description=r.description,
        properties=r.properties,
    ),
    "Datastream": lambda r: Datastream(
        id=r.id,
        thing_id=r.thing_id,
        sensor_id=r.sensor_id,
        observed_property_id=r.observed_property_id,
        name=r.name,
        description=r.description,
        observation_type=r.observation_type,
        unit=Unit(r.unit_name, r.unit_symbol, r.unit_definition),
        observed_area=r.observed_area,
        phenomenon_time=_interval(r.phenomenon_start, r.phenomenon_end),
        result_time=_interval(r.result_start, r.result_end),
        properties=r.properties,
    ),
    "FeatureOfInterest": lambda r: FeatureOfInterest(
        id=r.id,
        name=r.name,
        description=r.description,
        encoding_type=r.encoding_type,
        feature=r.feature,
        properties=r.properties,
    ),
}

PRODUCER = Kind("Producer", producers)
DATASET = Kind("Dataset", datasets)
THING = Kind("Thing", things)
LOCATION = Kind("Location", locations)
SENSOR = Kind("Sensor", sensors)
OBSERVED_PROPERTY = Kind("ObservedProperty", observed_properties)
DATASTREAM = Kind("Datastream", datastreams)
FEATURE_OF_INTEREST = Kind("FeatureOfInterest", features_of_interest)
