"""The in-situ entities: OGC SensorThings API 1.1 Sensing, plus the pivot model's producers and
datasets that group Things (Theia/OZCAR: a producer sends datasets of observations).

Each entity is a frozen dataclass checked in ``__post_init__`` (an error names the field);
``to_json()`` gives its SensorThings JSON without ``@iot`` annotations or links (the HTTP
adapter adds those) and ``from_json()`` reads one (a POST body). ``id`` is None until stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self

from terrapole.errors import InvalidInput
from terrapole.insitu.geometry import geometry_of
from terrapole.insitu.times import (
    TimeInterval,
    TimeLike,
    iso,
    parse_time,
    parse_time_or_interval,
    require_aware,
    time_json,
)

GEOJSON = "application/geo+json"
"""encodingType of Locations and FeaturesOfInterest (``application/vnd.geo+json`` also read)."""
OM = "http://www.opengis.net/def/observationType/OGC-OM/2.0/"
OM_MEASUREMENT = OM + "OM_Measurement"
OBSERVATION_TYPES = frozenset(
    OM + name
    for name in (
        "OM_Measurement", "OM_CategoryObservation", "OM_CountObservation", "OM_Observation",
        "OM_TruthObservation",
    )
)  # fmt: skip
JsonValue = Any
"""Any decoded JSON value (a result, a quality flag)."""
THEIA_CATEGORIES = "theiaCategories"
"""Key of an ObservedProperty's properties listing its Theia category URIs."""


# -- reading JSON documents ------------------------------------------------------------------
def _object(doc: Any, kind: str) -> Mapping[str, Any]:
    if not isinstance(doc, Mapping):
        raise InvalidInput(kind, "expected a JSON object")
    return doc


def _text(doc: Mapping[str, Any], key: str, kind: str, *, default: str | None = None) -> str:
    value = doc.get(key, default)
    if not isinstance(value, str):
        raise InvalidInput(f"{kind}.{key}", "required text" if value is None else "must be text")
    return value


def _props(doc: Mapping[str, Any], key: str, kind: str) -> dict[str, Any]:
    value = doc.get(key) or {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{kind}.{key}", "must be a JSON object")
    return value


def _id(doc: Mapping[str, Any], key: str, kind: str) -> int:
    """An integer id from ``key`` or from a ``{"@iot.id": n}`` link."""
    value = doc.get(key)
    if isinstance(value, Mapping):
        value = value.get("@iot.id")
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(f"{kind}.{key}", "required: an integer @iot.id")
    return value


def _check_name(name: str, kind: str) -> None:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"{kind}.name", "must be non-empty text")


def _check_props(value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise InvalidInput(where, "must be a JSON object")


# -- pivot grouping ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Producer:
    """An observatory or network that sends data (pivot ``producer``; ``identifier`` e.g. CATC)."""

    identifier: str
    name: str
    description: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.identifier, str) or not self.identifier.strip():
            raise InvalidInput("Producer.identifier", "must be non-empty text")
        _check_name(self.name, "Producer")
        _check_props(self.properties, "Producer.properties")

    def to_json(self) -> dict[str, Any]:
        """The producer as JSON (not a SensorThings entity: the pivot's fields)."""
        return {
            "identifier": self.identifier,
            "name": self.name,
            "description": self.description,
            "properties": self.properties,
        }

    @classmethod
    def from_json(cls, doc: Any) -> Self:
        """Read a producer document."""
        d = _object(doc, "Producer")
        return cls(
            identifier=_text(d, "identifier", "Producer"),
            name=_text(d, "name", "Producer"),
            description=_text(d, "description", "Producer", default=""),
            properties=_props(d, "properties", "Producer"),
        )


@dataclass(frozen=True)
class Dataset:
    """A producer's dataset (pivot ``dataset`` metadata); its Things carry ``dataset_id``.

    ``access_key`` is the name the access policy knows it by (restrictions and terms name it as
    they name a collection); the store sets it to ``insitu-<id>`` when none is given.
    """

    producer_id: int
    title: str
    identifier: str | None = None
    description: str = ""
    licence: str | None = None
    doi: str | None = None
    keywords: tuple[str, ...] = ()
    spatial_extent: dict[str, Any] | None = None
    period: TimeInterval | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    access_key: str | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.title, str) or not self.title.strip():
            raise InvalidInput("Dataset.title", "must be non-empty text")
        if not all(isinstance(k, str) for k in self.keywords):
            raise InvalidInput("Dataset.keywords", "must be a list of text")
        object.__setattr__(self, "keywords", tuple(self.keywords))
        if self.spatial_extent is not None:
            geometry_of(self.spatial_extent, "Dataset.spatial_extent")
        if self.doi is not None and not self.doi.startswith("10."):
            raise InvalidInput("Dataset.doi", f"{self.doi!r} is not a DOI (10.xxxx/...)")
        _check_props(self.properties, "Dataset.properties")

    def to_json(self) -> dict[str, Any]:
        """The dataset metadata as JSON."""
        return {
            "identifier": self.identifier,
            "title": self.title,
            "description": self.description,
            "licence": self.licence,
            "doi": self.doi,
            "keywords": list(self.keywords),
            "spatialExtent": self.spatial_extent,
            "temporalExtent": None if self.period is None else self.period.to_json(),
            "properties": self.properties,
            "producer": self.producer_id,
        }


# -- SensorThings Sensing entities ------------------------------------------------------------
@dataclass(frozen=True)
class Thing:
    """A station or observatory (SensorThings Thing); ``dataset_id`` groups it (may be None)."""

    name: str
    description: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    dataset_id: int | None = None
    identifier: str | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        _check_name(self.name, "Thing")
        _check_props(self.properties, "Thing.properties")

    def to_json(self) -> dict[str, Any]:
        """SensorThings JSON."""
        return {"name": self.name, "description": self.description, "properties": self.properties}

    @classmethod
    def from_json(cls, doc: Any, *, dataset_id: int | None = None) -> Self:
        """Read a Thing (its nested Locations/Datastreams are the HTTP adapter's deep insert)."""
        d = _object(doc, "Thing")
        return cls(
            name=_text(d, "name", "Thing"),
            description=_text(d, "description", "Thing", default=""),
            properties=_props(d, "properties", "Thing"),
            dataset_id=dataset_id,
        )


def _encoding(doc: Mapping[str, Any], kind: str) -> str:
    value = _text(doc, "encodingType", kind, default=GEOJSON)
    if value not in (GEOJSON, "application/vnd.geo+json"):
        raise InvalidInput(f"{kind}.encodingType", f"{value!r} is not GeoJSON ({GEOJSON})")
    return value


@dataclass(frozen=True)
class Location:
    """Where a Thing is (GeoJSON geometry or Feature in ``location``)."""

    name: str
    location: dict[str, Any]
    description: str = ""
    encoding_type: str = GEOJSON
    properties: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    def __post_init__(self) -> None:
        _check_name(self.name, "Location")
        geometry_of(self.location, "Location.location")
        _check_props(self.properties, "Location.properties")

    def to_json(self) -> dict[str, Any]:
        """SensorThings JSON."""
        return {
            "name": self.name,
            "description": self.description,
            "encodingType": self.encoding_type,
            "location": self.location,
            "properties": self.properties,
        }

    @classmethod
    def from_json(cls, doc: Any) -> Self:
        """Read a Location."""
        d = _object(doc, "Location")
        location = d.get("location")
        if not isinstance(location, dict):
            raise InvalidInput("Location.location", "required: a GeoJSON object")
        return cls(
            name=_text(d, "name", "Location"),
            description=_text(d, "description", "Location", default=""),
            encoding_type=_encoding(d, "Location"),
            location=location,
            properties=_props(d, "properties", "Location"),
        )


@dataclass(frozen=True)
class HistoricalLocation:
    """A Thing's location from ``time`` on (the Locations it was at)."""

    thing_id: int
    time: datetime
    location_ids: tuple[int, ...] = ()
    id: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "time", require_aware(self.time, "HistoricalLocation.time"))
        object.__setattr__(self, "location_ids", tuple(self.location_ids))

    def to_json(self) -> dict[str, Any]:
        """SensorThings JSON."""
        return {"time": iso(self.time)}


@dataclass(frozen=True)
class Sensor:
    """The instrument or procedure (pivot ``procedure``); ``metadata`` per ``encoding_type``."""

    name: str
    description: str = ""
    encoding_type: str = "application/pdf"
    metadata: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    def __post_init__(self) -> None:
        _check_name(self.name, "Sensor")
        _check_props(self.properties, "Sensor.properties")

    def to_json(self) -> dict[str, Any]:
        """SensorThings JSON."""
        return {
            "name": self.name,
            "description": self.description,
            "encodingType": self.encoding_type,
            "metadata": self.metadata,
            "properties": self.properties,
        }

    @classmethod
    def from_json(cls, doc: Any) -> Self:
        """Read a Sensor."""
        d = _object(doc, "Sensor")
        return cls(
            name=_text(d, "name", "Sensor"),
            description=_text(d, "description", "Sensor", default=""),
            encoding_type=_text(d, "encodingType", "Sensor", default="application/pdf"),
            metadata=_text(d, "metadata", "Sensor", default=""),
            properties=_props(d, "properties", "Sensor"),
        )


@dataclass(frozen=True)
class ObservedProperty:
    """What is observed; ``definition`` is its thesaurus URI, ``properties["theiaCategories"]``
    the Theia category URIs it belongs to (the portal filters stations by them)."""

    name: str
    definition: str
    description: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    def __post_init__(self) -> None:
        _check_name(self.name, "ObservedProperty")
        if not isinstance(self.definition, str) or not self.definition.strip():
            raise InvalidInput("ObservedProperty.definition", "required: a URI")
        _check_props(self.properties, "ObservedProperty.properties")
        categories = self.properties.get(THEIA_CATEGORIES, [])
        if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
            raise InvalidInput(
                f"ObservedProperty.properties.{THEIA_CATEGORIES}", "must be a list of URIs"
            )

    @property
    def categories(self) -> tuple[str, ...]:
        """The Theia category URIs."""
        found = self.properties.get(THEIA_CATEGORIES, [])
        return tuple(c for c in found if isinstance(c, str)) if isinstance(found, list) else ()

    def to_json(self) -> dict[str, Any]:
        """SensorThings JSON."""
        return {
            "name": self.name,
            "definition": self.definition,
            "description": self.description,
            "properties": self.properties,
        }

    @classmethod
    def from_json(cls, doc: Any) -> Self:
        """Read an ObservedProperty."""
        d = _object(doc, "ObservedProperty")
        return cls(
            name=_text(d, "name", "ObservedProperty"),
            definition=_text(d, "definition", "ObservedProperty"),
            description=_text(d, "description", "ObservedProperty", default=""),
            properties=_props(d, "properties", "ObservedProperty"),
        )


@dataclass(frozen=True)
class Unit:
    """A Datastream's unitOfMeasurement (name, symbol, definition URI)."""

    name: str
    symbol: str
    definition: str = ""

    def to_json(self) -> dict[str, Any]:
        """SensorThings JSON."""
        return {"name": self.name, "symbol": self.symbol, "definition": self.definition}

    @classmethod
    def from_json(cls, doc: Any) -> Unit:
        """Read a unitOfMeasurement (name and symbol required; JSON null parts read as '')."""
        d = _object(doc, "Datastream.unitOfMeasurement")
        return cls(
            name=_text(d, "name", "Datastream.unitOfMeasurement"),
            symbol=_text(d, "symbol", "Datastream.unitOfMeasurement", default="") or "",
            definition=_text(d, "definition", "Datastream.unitOfMeasurement", default="") or "",
        )


@dataclass(frozen=True)
class Datastream:
    """The Observations of one ObservedProperty of one Thing by one Sensor.

    The time extents are maintained by the store as observations arrive (read-only here).
    """

    name: str
    thing_id: int
    sensor_id: int
    observed_property_id: int
    unit: Unit
    observation_type: str = OM_MEASUREMENT
    description: str = ""
    observed_area: dict[str, Any] | None = None
    phenomenon_time: TimeInterval | None = None
    result_time: TimeInterval | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    def __post_init__(self) -> None:
        _check_name(self.name, "Datastream")
        if self.observation_type not in OBSERVATION_TYPES:
            raise InvalidInput(
                "Datastream.observationType",
                f"{self.observation_type!r} is not an O&M observation type ({OM}...)",
            )
        if self.observed_area is not None:
            geometry_of(self.observed_area, "Datastream.observedArea")
        _check_props(self.properties, "Datastream.properties")

    def to_json(self) -> dict[str, Any]:
        """SensorThings JSON."""
        return {
            "name": self.name,
            "description": self.description,
            "observationType": self.observation_type,
            "unitOfMeasurement": self.unit.to_json(),
            "observedArea": self.observed_area,
            "phenomenonTime": time_json(self.phenomenon_time),
            "resultTime": time_json(self.result_time),
            "properties": self.properties,
        }

    @classmethod
    def from_json(cls, doc: Any) -> Self:
        """Read a Datastream whose Thing, Sensor and ObservedProperty are ``{"@iot.id": n}``."""
        d = _object(doc, "Datastream")
        area = d.get("observedArea")
        return cls(
            name=_text(d, "name", "Datastream"),
            description=_text(d, "description", "Datastream", default=""),
            observation_type=_text(d, "observationType", "Datastream", default=OM_MEASUREMENT),
            unit=Unit.from_json(d.get("unitOfMeasurement")),
            observed_area=area if isinstance(area, dict) else None,
            properties=_props(d, "properties", "Datastream"),
            thing_id=_id(d, "Thing", "Datastream"),
            sensor_id=_id(d, "Sensor", "Datastream"),
            observed_property_id=_id(d, "ObservedProperty", "Datastream"),
        )


@dataclass(frozen=True)
class FeatureOfInterest:
    """What an Observation is about (GeoJSON in ``feature``)."""

    name: str
    feature: dict[str, Any]
    description: str = ""
    encoding_type: str = GEOJSON
    properties: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    def __post_init__(self) -> None:
        _check_name(self.name, "FeatureOfInterest")
        geometry_of(self.feature, "FeatureOfInterest.feature")
        _check_props(self.properties, "FeatureOfInterest.properties")

    def to_json(self) -> dict[str, Any]:
        """SensorThings JSON."""
        return {
            "name": self.name,
            "description": self.description,
            "encodingType": self.encoding_type,
            "feature": self.feature,
            "properties": self.properties,
        }

    @classmethod
    def from_json(cls, doc: Any) -> Self:
        """Read a FeatureOfInterest."""
        d = _object(doc, "FeatureOfInterest")
        feature = d.get("feature")
        if not isinstance(feature, dict):
            raise InvalidInput("FeatureOfInterest.feature", "required: a GeoJSON object")
        return cls(
            name=_text(d, "name", "FeatureOfInterest"),
            description=_text(d, "description", "FeatureOfInterest", default=""),
            encoding_type=_encoding(d, "FeatureOfInterest"),
            feature=feature,
            properties=_props(d, "properties", "FeatureOfInterest"),
        )


@dataclass(frozen=True)
class Observation:
    """One result of a Datastream at ``phenomenon_time`` (an instant or an interval).

    ``result`` is any JSON; a number (not a boolean) is stored as a float so it can be
    aggregated, anything else as JSON.
    """

    datastream_id: int
    phenomenon_time: TimeLike
    result: JsonValue
    result_time: datetime | None = None
    result_quality: JsonValue = None
    valid_time: TimeInterval | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    foi_id: int | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.phenomenon_time, TimeInterval):
            object.__setattr__(
                self,
                "phenomenon_time",
                require_aware(self.phenomenon_time, "Observation.phenomenonTime"),
            )
        if self.result_time is not None:
            object.__setattr__(
                self, "result_time", require_aware(self.result_time, "Observation.resultTime")
            )
        _check_props(self.parameters, "Observation.parameters")

    def to_json(self) -> dict[str, Any]:
        """SensorThings JSON."""
        return {
            "phenomenonTime": time_json(self.phenomenon_time),
            "resultTime": time_json(self.result_time),
            "result": self.result,
            "resultQuality": self.result_quality,
            "validTime": time_json(self.valid_time),
            "parameters": self.parameters,
        }

    @classmethod
    def from_json(cls, doc: Any, *, datastream_id: int | None = None) -> Self:
        """Read an Observation (``Datastream`` from the body unless ``datastream_id`` is given;
        ``phenomenonTime`` defaults to ``resultTime`` as the specification says)."""
        d = _object(doc, "Observation")
        if "result" not in d:
            raise InvalidInput("Observation.result", "required")
        result_time = d.get("resultTime")
        phenomenon = d.get("phenomenonTime", result_time)
        if phenomenon is None:
            raise InvalidInput("Observation.phenomenonTime", "required (or a resultTime)")
        valid = d.get("validTime")
        foi = d.get("FeatureOfInterest")
        return cls(
            datastream_id=(
                datastream_id if datastream_id is not None else _id(d, "Datastream", "Observation")
            ),
            phenomenon_time=parse_time_or_interval(phenomenon, "Observation.phenomenonTime"),
            result=d["result"],
            result_time=(
                None if result_time is None else parse_time(result_time, "Observation.resultTime")
            ),
            result_quality=d.get("resultQuality"),
            valid_time=None
            if valid is None
            else TimeInterval.parse(valid, "Observation.validTime"),
            parameters=_props(d, "parameters", "Observation"),
            foi_id=_id(d, "FeatureOfInterest", "Observation") if isinstance(foi, dict) else None,
        )


Entity = (
    Producer | Dataset | Thing | Location | HistoricalLocation | Sensor | ObservedProperty
    | Datastream | FeatureOfInterest | Observation
)  # fmt: skip
"""Any stored in-situ entity."""
