"""SensorThings creates, updates and deletes on the in-situ store (no HTTP).

``create`` reads a POST body for an entity set, with SensorThings' deep insert: a Thing with
its Locations and Datastreams (their Sensor and ObservedProperty inline or as
``{"@iot.id": n}``), a Datastream with its Thing, Sensor and ObservedProperty, an Observation
with its FeatureOfInterest. An Observation without one gets its Thing's Location as
FeatureOfInterest (SensorThings API 1.1, 10.2.1.1): one FeatureOfInterest per Location, made
on first use and reused after (found by ``properties.locationId``). Entities made before a
failure of the same request are deleted again, so a refused deep insert leaves nothing.

A Writer acts for one caller: every ``{"@iot.id": n}`` it follows is looked up with the
caller's hidden datasets, so an entity of a dataset the caller may not read answers 404
exactly like an unknown id (no write reaches into it, no answer tells it exists).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from terrapole.errors import InvalidInput, NotFound, TerrapoleError
from terrapole.insitu import sta_reads
from terrapole.insitu.model import (
    Datastream,
    FeatureOfInterest,
    HistoricalLocation,
    Location,
    Observation,
    ObservedProperty,
    Sensor,
    Thing,
)
from terrapole.insitu.sta_sets import SETS, Hidden
from terrapole.insitu.store import InsituStore
from terrapole.insitu.times import parse_time
from terrapole.insitu.visibility import NOTHING_HIDDEN

Created = tuple[str, int]
"""An entity set name and the new entity's id."""
_FROM_LOCATION = "locationId"
_LARGEST_ID = 2**63 - 1
"""Ids are 64-bit integers in both databases: a larger one is no id at all."""


class _Undo:
    """Deletes, newest first, what a failed deep insert made."""

    def __init__(self) -> None:
        self.steps: list[Callable[[], None]] = []

    def add(self, step: Callable[[], None]) -> None:
        self.steps.append(step)

    def run(self) -> None:
        for step in reversed(self.steps):
            try:
                step()
            except NotFound:
                pass  # already gone with its parent


def _ref(value: Any) -> int | None:
    """The id of ``{"@iot.id": n}`` (None for an inline entity)."""
    if isinstance(value, Mapping) and "@iot.id" in value:  # a link, other members ignored
        ident = value["@iot.id"]
        if not isinstance(ident, int) or isinstance(ident, bool):
            raise InvalidInput("@iot.id", "must be an integer")
        if not -_LARGEST_ID <= ident <= _LARGEST_ID:
            raise InvalidInput("@iot.id", f"{ident} is beyond the 64-bit ids")
        return ident
    return None


def _list(doc: Mapping[str, Any], key: str) -> list[Any]:
    value = doc.get(key) or []
    if not isinstance(value, list):
        raise InvalidInput(key, "must be a list")
    return value


class Writer:
    """SensorThings writes on one store, for a caller who may not read ``hidden`` datasets."""

    def __init__(self, store: InsituStore, hidden: Hidden = NOTHING_HIDDEN) -> None:
        self.store = store
        self.hidden = hidden

    def create(self, set_name: str, doc: Any, parent: tuple[str, int] | None = None) -> Created:
        """Create an entity of ``set_name`` from ``doc`` (under ``parent``'s navigation, e.g.
        ``("Datastreams", 3)`` for ``Datastreams(3)/Observations``)."""
        if not isinstance(doc, Mapping):
            raise InvalidInput("body", "expected a JSON object")
        doc = dict(doc)
        if parent is not None:
            key = {"Things": "Thing", "Datastreams": "Datastream", "Sensors": "Sensor"}
            key |= {"ObservedProperties": "ObservedProperty", "Locations": "Locations"}
            key |= {"FeaturesOfInterest": "FeatureOfInterest"}
            link = key.get(parent[0])
            if link is None:
                raise InvalidInput("path", f"cannot create {set_name} under {parent[0]}")
            doc[link] = [{"@iot.id": parent[1]}] if link == "Locations" else {"@iot.id": parent[1]}
        undo = _Undo()
        try:
            return set_name, self._create(set_name, doc, undo)
        except Exception:
            undo.run()
            raise

    def _create(self, set_name: str, doc: Mapping[str, Any], undo: _Undo) -> int:
        s = self.store
        if set_name == "Things":
            return self._thing(doc, undo)
        if set_name == "Locations":
            location = s.create_location(Location.from_json(doc))
            assert location.id is not None
            undo.add(lambda: s.delete_location(location.id))  # type: ignore[arg-type]
            for thing in _list(doc, "Things"):
                thing_id = self._one("Things", thing, undo)
                ids = [x.id for x in s.locations_of(thing_id, hidden=NOTHING_HIDDEN)]
                s.link_location(thing_id, [*ids, location.id])  # type: ignore[list-item]
            return location.id
        if set_name == "Sensors":
            sensor = s.create_sensor(Sensor.from_json(doc))
            undo.add(lambda: s.delete_sensor(sensor.id))  # type: ignore[arg-type]
            return sensor.id  # type: ignore[return-value]
        if set_name == "ObservedProperties":
            prop = s.create_observed_property(ObservedProperty.from_json(doc))
            undo.add(lambda: s.delete_observed_property(prop.id))  # type: ignore[arg-type]
            return prop.id  # type: ignore[return-value]
        if set_name == "FeaturesOfInterest":
            foi = s.create_feature_of_interest(FeatureOfInterest.from_json(doc))
            undo.add(lambda: s.delete_feature_of_interest(foi.id))  # type: ignore[arg-type]
            return foi.id  # type: ignore[return-value]
        if set_name == "Datastreams":
            return self._datastream(doc, undo)
        if set_name == "Observations":
            return self._observation(doc, undo)
        if set_name == "HistoricalLocations":
            thing_id = self._one("Things", doc.get("Thing"), undo)
            ids = [self._one("Locations", x, undo) for x in _list(doc, "Locations")]
            time = parse_time(doc.get("time"), "HistoricalLocation.time")
            entry = s.create_historical_location(
                HistoricalLocation(thing_id, time, tuple(i for i in ids if i is not None))
            )
            return entry.id  # type: ignore[return-value]
        raise NotFound("entity set", set_name)

    def _one(self, set_name: str, value: Any, undo: _Undo) -> int:
        """The id of a related entity given by reference or inline (then created)."""
        if value is None:
            raise InvalidInput(set_name, 'required: an inline entity or {"@iot.id": n}')
        ident = _ref(value)
        if ident is None:
            return self._create(set_name, value, undo)
        _GETS[set_name](self.store, ident, self.hidden)
        return ident

    def _thing(self, doc: Mapping[str, Any], undo: _Undo) -> int:
        s = self.store
        thing = s.create_thing(Thing.from_json(doc))
        assert thing.id is not None
        undo.add(lambda: s.delete_thing(thing.id))  # type: ignore[arg-type]
        location_ids = [self._one("Locations", x, undo) for x in _list(doc, "Locations")]
        if location_ids:
            s.link_location(thing.id, location_ids)
        for datastream in _list(doc, "Datastreams"):
            if not isinstance(datastream, Mapping):
                raise InvalidInput("Thing.Datastreams", "each must be a JSON object")
            self._datastream({**datastream, "Thing": {"@iot.id": thing.id}}, undo)
        return thing.id

    def _datastream(self, doc: Mapping[str, Any], undo: _Undo) -> int:
        refs = {
            "Thing": {"@iot.id": self._one("Things", doc.get("Thing"), undo)},
            "Sensor": {"@iot.id": self._one("Sensors", doc.get("Sensor"), undo)},
            "ObservedProperty": {
                "@iot.id": self._one("ObservedProperties", doc.get("ObservedProperty"), undo)
            },
        }
        stored = self.store.create_datastream(Datastream.from_json({**doc, **refs}))
        assert stored.id is not None
        undo.add(lambda: self.store.delete_datastream(stored.id))  # type: ignore[arg-type]
        for observation in _list(doc, "Observations"):
            self._observation({**observation, "Datastream": {"@iot.id": stored.id}}, undo)
        return stored.id

    def _observation(self, doc: Mapping[str, Any], undo: _Undo) -> int:
        datastream_id = self._one("Datastreams", doc.get("Datastream"), undo)
        foi = doc.get("FeatureOfInterest")
        foi_id = (
            self._default_foi(datastream_id, undo)
            if foi is None
            else self._one("FeaturesOfInterest", foi, undo)
        )
        body = {k: v for k, v in doc.items() if k not in ("Datastream", "FeatureOfInterest")}
        observation = Observation.from_json(body, datastream_id=datastream_id)
        stored = self.store.create_observation(replace(observation, foi_id=foi_id))
        return stored.id  # type: ignore[return-value]

    def _default_foi(self, datastream_id: int, undo: _Undo) -> int:
        """The FeatureOfInterest made from the Datastream's Thing's Location."""
        s = self.store
        thing_id = s.get_datastream(datastream_id, hidden=self.hidden).thing_id
        places = s.locations_of(thing_id, hidden=self.hidden)
        if not places:
            raise InvalidInput(
                "Observation.FeatureOfInterest",
                "required: the Datastream's Thing has no Location to default to",
            )
        place = places[0]
        found = sta_reads.feature_from(s.engine, _FROM_LOCATION, place.id)  # type: ignore[arg-type]
        if found is not None:
            return found
        made = s.create_feature_of_interest(
            FeatureOfInterest(
                name=place.name, description=place.description, feature=place.location,
                encoding_type=place.encoding_type, properties={_FROM_LOCATION: place.id},
            )
        )  # fmt: skip
        undo.add(lambda: s.delete_feature_of_interest(made.id))  # type: ignore[arg-type]
        return made.id  # type: ignore[return-value]

    # -- updates and deletes ----------------------------------------------------------------
    def update(self, set_name: str, ident: int, doc: Any) -> None:
        """Apply the members of ``doc`` to the entity (PATCH; links by ``{"@iot.id": n}``):
        a Thing's Locations (made its current ones, with a HistoricalLocation), a Datastream's
        Thing, Sensor and ObservedProperty, an Observation's Datastream and FeatureOfInterest.
        Other navigation members are refused (400) rather than silently ignored."""
        if not isinstance(doc, Mapping):
            raise InvalidInput("body", "expected a JSON object")
        s = self.store
        current = _GETS[set_name](s, ident, self.hidden)
        if set_name == "HistoricalLocations":
            raise InvalidInput("HistoricalLocations", "not implemented: update")
        _refuse_navigations(set_name, doc)
        undo = _Undo()
        try:
            self._update(set_name, current, ident, doc, undo)
        except Exception:
            undo.run()
            raise

    def _update(self, set_name: str, current: Any, ident: int, doc: Any, undo: _Undo) -> None:
        s = self.store
        navs = SETS[set_name].navs
        own = {k: v for k, v in doc.items() if not k.startswith("@") and k not in navs}
        merged = {**current.to_json(), **own}
        if set_name == "Datastreams":
            for key, target, attr in (
                ("Thing", "Things", "thing_id"), ("Sensor", "Sensors", "sensor_id"),
                ("ObservedProperty", "ObservedProperties", "observed_property_id"),
            ):  # fmt: skip
                value = doc.get(key)
                ident_of = (
                    getattr(current, attr) if value is None else self._one(target, value, undo)
                )
                merged[key] = {"@iot.id": ident_of}
        if set_name == "Observations":
            self._update_observation(current, ident, doc, merged, undo)
            return
        places = None  # a Thing's new Locations, resolved before anything changes
        if set_name == "Things" and "Locations" in doc:
            places = [self._one("Locations", x, undo) for x in _list(doc, "Locations")]
        model = _MODELS[set_name]
        updated = replace(model.from_json(merged), id=ident)
        if set_name == "Things":
            updated = replace(updated, dataset_id=current.dataset_id, identifier=current.identifier)
        _UPDATES[set_name](s, updated)
        if places is not None:
            s.link_location(ident, places)

    def _update_observation(
        self, current: Observation, ident: int, doc: Any, merged: dict[str, Any], undo: _Undo
    ) -> None:
        merged.pop("FeatureOfInterest", None)
        datastream_id = current.datastream_id
        if doc.get("Datastream") is not None:
            datastream_id = self._one("Datastreams", doc["Datastream"], undo)
        new = Observation.from_json(merged, datastream_id=datastream_id)
        foi_id = current.foi_id
        if doc.get("FeatureOfInterest") is not None:
            foi_id = self._one("FeaturesOfInterest", doc["FeatureOfInterest"], undo)
        self.store.update_observation(replace(new, foi_id=foi_id, id=ident))

    def delete(self, set_name: str, ident: int) -> None:
        """Delete the entity (with what SensorThings deletes with it)."""
        _DELETES[set_name](self.store, ident)


_UPDATED_NAVIGATIONS = {
    "Things": {"Locations"},
    "Datastreams": {"Thing", "Sensor", "ObservedProperty"},
    "Observations": {"Datastream", "FeatureOfInterest"},
}
"""The navigation members a PATCH may change, per entity set."""


def _refuse_navigations(set_name: str, doc: Mapping[str, Any]) -> None:
    """400 for a navigation member that an update would otherwise drop without a word."""
    allowed = _UPDATED_NAVIGATIONS.get(set_name, set())
    for name in SETS[set_name].navs:
        if name in doc and name not in allowed:
            raise InvalidInput(
                f"{set_name}.{name}", f"not implemented: changing {name} by an update"
            )


def _historical_location(s: InsituStore, ident: int, hidden: Hidden) -> HistoricalLocation:
    """A HistoricalLocation, 404 when its Thing is hidden from the caller."""
    entry = sta_reads.get_historical_location(s.engine, ident)
    s.get_thing(entry.thing_id, hidden=hidden)
    return entry


_GETS: dict[str, Callable[[InsituStore, int, Hidden], Any]] = {
    "Things": lambda s, i, h: s.get_thing(i, hidden=h),
    "Locations": lambda s, i, h: s.get_location(i, hidden=h),
    "Sensors": lambda s, i, h: s.get_sensor(i),
    "ObservedProperties": lambda s, i, h: s.get_observed_property(i),
    "Datastreams": lambda s, i, h: s.get_datastream(i, hidden=h),
    "Observations": lambda s, i, h: s.get_observation(i, hidden=h),
    "FeaturesOfInterest": lambda s, i, h: s.get_feature_of_interest(i),
    "HistoricalLocations": _historical_location,
}
"""Each set's entity by id as the caller may see it (NotFound for unknown or hidden); the
Sensors, ObservedProperties and FeaturesOfInterest follow the store's own visibility."""
_MODELS: dict[str, Any] = {
    "Things": Thing, "Locations": Location, "Sensors": Sensor,
    "ObservedProperties": ObservedProperty, "Datastreams": Datastream,
    "FeaturesOfInterest": FeatureOfInterest,
}  # fmt: skip
_UPDATES: dict[str, Callable[[InsituStore, Any], Any]] = {
    "Things": InsituStore.update_thing,
    "Locations": InsituStore.update_location,
    "Sensors": InsituStore.update_sensor,
    "ObservedProperties": InsituStore.update_observed_property,
    "Datastreams": InsituStore.update_datastream,
    "FeaturesOfInterest": InsituStore.update_feature_of_interest,
}
_DELETES: dict[str, Callable[[InsituStore, int], None]] = {
    "Things": InsituStore.delete_thing,
    "Locations": InsituStore.delete_location,
    "Sensors": InsituStore.delete_sensor,
    "ObservedProperties": InsituStore.delete_observed_property,
    "Datastreams": InsituStore.delete_datastream,
    "Observations": InsituStore.delete_observation,
    "FeaturesOfInterest": InsituStore.delete_feature_of_interest,
    "HistoricalLocations": lambda s, i: sta_reads.delete_historical_location(s.engine, i),
}


COMPONENTS = frozenset({
    "id", "phenomenonTime", "result", "resultTime", "resultQuality", "validTime",
    "parameters", "FeatureOfInterest/id",
})  # fmt: skip
"""What a CreateObservations row may hold (SensorThings 1.1, 14.2)."""


def _check_components(components: list[Any], where: str) -> None:
    """400 unless ``components`` are distinct names from :data:`COMPONENTS`."""
    for component in components:
        if not isinstance(component, str):
            raise InvalidInput(where, f"{component!r} is not a component name")
        if component not in COMPONENTS:
            known = ", ".join(sorted(COMPONENTS))
            raise InvalidInput(where, f"{component!r} is not a component (known: {known})")
    repeated = sorted({c for c in components if components.count(c) > 1})
    if repeated:
        raise InvalidInput(where, f"{repeated[0]!r} is given twice")


def create_observations(writer: Writer, doc: Any) -> list[int | None]:
    """``CreateObservations``: each dataArray row created, or None where it failed."""
    if not isinstance(doc, list):
        raise InvalidInput("body", "expected a JSON list of {Datastream, components, dataArray}")
    out: list[int | None] = []
    for n, group in enumerate(doc):
        if not isinstance(group, Mapping):
            raise InvalidInput(f"body[{n}]", "expected a JSON object")
        components = group.get("components")
        rows = group.get("dataArray")
        if not isinstance(components, list) or not isinstance(rows, list):
            raise InvalidInput(f"body[{n}]", "components and dataArray lists are required")
        _check_components(components, f"body[{n}].components")
        base = {"Datastream": group.get("Datastream")}
        for row in rows:
            if not isinstance(row, list) or len(row) != len(components):
                out.append(None)
                continue
            values = dict(zip(components, row, strict=True))
            body: dict[str, Any] = dict(base)
            for key, value in values.items():
                if key == "FeatureOfInterest/id":
                    body["FeatureOfInterest"] = {"@iot.id": value}
                elif key != "id":
                    body[key] = value
            try:
                out.append(writer.create("Observations", body)[1])
            except TerrapoleError:  # a bad or duplicate row: "error" in its place
                out.append(None)
    return out
