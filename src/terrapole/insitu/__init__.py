"""In-situ observatory data: SensorThings entities, the pivot model's producers and datasets,
and their observations (no HTTP; the SensorThings API and the portal are adapters)."""

from terrapole.insitu.model import (
    Dataset,
    Datastream,
    FeatureOfInterest,
    HistoricalLocation,
    Location,
    Observation,
    ObservedProperty,
    Producer,
    Sensor,
    Thing,
    Unit,
)
from terrapole.insitu.observations import Added, Bucket, Cursor, Page, Row
from terrapole.insitu.store import InsituStore
from terrapole.insitu.times import TimeInterval
from terrapole.insitu.visibility import NOTHING_HIDDEN, access_key

__all__ = [
    "NOTHING_HIDDEN",
    "Added",
    "Bucket",
    "Cursor",
    "Dataset",
    "Datastream",
    "FeatureOfInterest",
    "HistoricalLocation",
    "InsituStore",
    "Location",
    "Observation",
    "ObservedProperty",
    "Page",
    "Producer",
    "Row",
    "Sensor",
    "Thing",
    "TimeInterval",
    "Unit",
    "access_key",
]
