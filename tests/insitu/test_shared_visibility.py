"""Who sees the shared SensorThings entities of a restricted dataset (review 22, findings 2
and 3): Sensors, ObservedProperties and FeaturesOfInterest follow the Datastreams that use
them, a Location follows every Thing it was ever linked to; on SQLite and PostgreSQL, read
through the store and through the SensorThings query module (counts included)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest

from terrapole import db
from terrapole.errors import NotFound
from terrapole.insitu import (
    NOTHING_HIDDEN,
    Dataset,
    Datastream,
    FeatureOfInterest,
    HistoricalLocation,
    InsituStore,
    Location,
    ObservedProperty,
    Producer,
    Sensor,
    Thing,
    Unit,
)
from terrapole.insitu import observations as obs
from terrapole.insitu.model import Observation
from terrapole.insitu.query import QueryOptions, read_one, read_page
from terrapole.insitu.sta_sets import SETS

T0 = datetime(2020, 1, 1, tzinfo=UTC)
POINT = {"type": "Point", "coordinates": [1.5, 43.6]}


@pytest.fixture
def store(database_url: str) -> Iterator[InsituStore]:
    opened = InsituStore.open(database_url)
    yield opened
    opened.close()


@dataclass(frozen=True)
class World:
    """An open and a secret dataset, each a Thing with one Datastream."""

    secret: frozenset[str]
    open_thing: int
    secret_thing: int
    open_stream: int
    secret_stream: int
    shared_sensor: int
    secret_sensor: int
    idle_sensor: int
    secret_prop: int


def _world(store: InsituStore) -> World:
    producer = store.create_producer(Producer("P", "Producer")).id or 0
    public = store.create_dataset(Dataset(producer, "public")).id
    secret = store.create_dataset(Dataset(producer, "secret"))
    open_thing = store.create_thing(Thing("open station", dataset_id=public)).id or 0
    secret_thing = store.create_thing(Thing("secret station", dataset_id=secret.id)).id or 0
    shared, hidden_only, idle = (store.create_sensor(Sensor(n)).id or 0 for n in "abc")
    open_prop = store.create_observed_property(ObservedProperty("rain", "urn:rain")).id or 0
    secret_prop = store.create_observed_property(ObservedProperty("snow", "urn:snow")).id or 0
    store.create_observed_property(ObservedProperty("wind", "urn:wind"))  # used by none

    def stream(thing: int, sensor: int, prop: int) -> int:
        made = store.create_datastream(Datastream("s", thing, sensor, prop, Unit("mm", "mm")))
        return made.id or 0

    open_stream = stream(open_thing, shared, open_prop)
    secret_stream = stream(secret_thing, hidden_only, secret_prop)
    stream(secret_thing, shared, secret_prop)  # the shared Sensor also feeds a secret stream
    return World(
        frozenset({secret.access_key or ""}), open_thing, secret_thing, open_stream,
        secret_stream, shared, hidden_only, idle, secret_prop,
    )  # fmt: skip


def _ids(store: InsituStore, set_name: str, hidden: frozenset[str]) -> tuple[list[int], int]:
    """The ids of a SensorThings collection and its $count, as a caller with ``hidden``."""
    with db.reading(store.engine) as con:
        page = read_page(con, SETS[set_name], QueryOptions(count=True), hidden)
    assert page.count is not None
    return [f.id for f in page.items], page.count


def _readable(store: InsituStore, set_name: str, ident: int, hidden: frozenset[str]) -> bool:
    with db.reading(store.engine) as con:
        try:
            read_one(con, SETS[set_name], ident, QueryOptions(), hidden)
        except NotFound:
            return False
    return True


def test_sensors_and_observed_properties_follow_the_datastreams_using_them(
    store: InsituStore,
) -> None:
    w = _world(store)
    sensors, count = _ids(store, "Sensors", w.secret)
    assert sensors == [w.shared_sensor, w.idle_sensor] and count == 2
    assert _ids(store, "Sensors", NOTHING_HIDDEN)[1] == 3
    props, count = _ids(store, "ObservedProperties", w.secret)
    assert w.secret_prop not in props and count == 2
    assert not _readable(store, "Sensors", w.secret_sensor, w.secret)
    assert _readable(store, "Sensors", w.secret_sensor, frozenset({"other"}))
    with pytest.raises(NotFound):
        store.get_sensor(w.secret_sensor, hidden=w.secret)
    with pytest.raises(NotFound):
        store.get_observed_property(w.secret_prop, hidden=w.secret)
    assert store.get_sensor(w.secret_sensor).id == w.secret_sensor  # an admin sees it
    # a Datastream's expansion of a hidden Sensor through a visible path stays hidden too
    store.delete_datastream(w.secret_stream)
    assert _readable(store, "Sensors", w.secret_sensor, w.secret)  # unused now: open


def _feature(store: InsituStore, name: str) -> int:
    return store.create_feature_of_interest(FeatureOfInterest(name, POINT)).id or 0


def test_features_of_interest_follow_the_datastreams_observing_them(store: InsituStore) -> None:
    w = _world(store)
    by_rows, by_columns, by_one, public, idle = (_feature(store, n) for n in "abcde")
    store.add_observations(w.secret_stream, [(T0, 1.0, None, None, None, by_rows)])
    columns = obs.Columns([1], [1], [2.0], [None])
    store.add_observation_columns(w.secret_stream, columns, foi_id=by_columns)
    store.create_observation(
        Observation(w.secret_stream, T0.replace(year=2021), 3.0, foi_id=by_one)
    )
    store.add_observations(w.open_stream, [(T0, 1.0, None, None, None, public)])
    store.add_observations(
        w.secret_stream, [(T0.replace(year=2022), 1.0, None, None, None, public)]
    )

    seen, count = _ids(store, "FeaturesOfInterest", w.secret)
    assert seen == [public, idle] and count == 2
    assert _ids(store, "FeaturesOfInterest", NOTHING_HIDDEN)[1] == 5
    for hidden_one in (by_rows, by_columns, by_one):
        assert not _readable(store, "FeaturesOfInterest", hidden_one, w.secret)
        with pytest.raises(NotFound):
            store.get_feature_of_interest(hidden_one, hidden=w.secret)
    assert _readable(store, "FeaturesOfInterest", by_rows, frozenset({"other"}))


def test_a_feature_s_links_follow_updates_and_deletions(store: InsituStore) -> None:
    w = _world(store)
    moved, kept = _feature(store, "moved"), _feature(store, "kept")
    made = store.create_observation(Observation(w.secret_stream, T0, 3.0, foi_id=moved))
    assert not _readable(store, "FeaturesOfInterest", moved, w.secret)
    store.update_observation(replace(made, foi_id=kept))  # no Observation about it any more
    assert _readable(store, "FeaturesOfInterest", moved, w.secret)
    assert not _readable(store, "FeaturesOfInterest", kept, w.secret)
    store.delete_observation(made.id or 0)
    assert _readable(store, "FeaturesOfInterest", kept, w.secret)
    store.add_observations(w.secret_stream, [(T0, 1.0, None, None, None, kept)])
    assert not _readable(store, "FeaturesOfInterest", kept, w.secret)
    store.delete_datastream(w.secret_stream)
    assert _readable(store, "FeaturesOfInterest", kept, w.secret)


def test_a_location_linked_to_a_hidden_thing_only_in_its_history_is_hidden(
    store: InsituStore,
) -> None:
    w = _world(store)
    past = store.create_location(Location("past", POINT)).id or 0
    store.create_historical_location(HistoricalLocation(w.secret_thing, T0, (past,)))
    assert not _readable(store, "Locations", past, w.secret)
    with pytest.raises(NotFound):
        store.get_location(past, hidden=w.secret)
    assert past not in _ids(store, "Locations", w.secret)[0]
    # replaced by a new current Location, the old one stays in the hidden Thing's history
    current = store.create_location(Location("now", POINT), thing_ids=[w.secret_thing]).id or 0
    replaced = store.create_location(Location("next", POINT)).id or 0
    store.link_location(w.secret_thing, [replaced])
    for ident in (past, current, replaced):
        assert not _readable(store, "Locations", ident, w.secret)
    # a Location a visible Thing was ever at is visible
    store.create_historical_location(HistoricalLocation(w.open_thing, T0, (past,)))
    assert _readable(store, "Locations", past, w.secret)
    assert _readable(store, "Locations", current, frozenset({"other"}))
