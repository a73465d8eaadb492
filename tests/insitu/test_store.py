"""The in-situ store on SQLite and PostgreSQL, with a real CAMELS discharge series."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from terrapole import db
from terrapole.errors import InvalidInput, NotFound
from terrapole.insitu import (
    NOTHING_HIDDEN,
    Dataset,
    Datastream,
    InsituStore,
    Location,
    ObservedProperty,
    Producer,
    Sensor,
    Thing,
    TimeInterval,
    Unit,
)
from terrapole.insitu import observations as obs
from terrapole.insitu.times import to_micros

SERIES = Path(__file__).parents[1] / "data" / "insitu" / "camels_us_01022500"


def camels() -> list[tuple[datetime, float, None, str]]:
    """(day, discharge ft³/s, no result time, flag) of gauge 01022500, 1096 days."""
    rows = []
    for line in (SERIES / "01022500_streamflow_qc.txt").read_text().splitlines():
        _, year, month, day, q, flag = line.split()
        rows.append((datetime(int(year), int(month), int(day), tzinfo=UTC), float(q), None, flag))
    return rows


@pytest.fixture
def store(database_url: str) -> Iterator[InsituStore]:
    opened = InsituStore.open(database_url)
    yield opened
    opened.close()


def _gauge(store: InsituStore) -> tuple[Dataset, Thing, Datastream]:
    producer = store.create_producer(Producer("CAMELS", "CAMELS US"))
    dataset = store.create_dataset(
        Dataset(producer.id or 0, "USGS streamflow", doi="10.5065/D6MW2F4D")
    )
    thing = store.create_thing(
        Thing("Narraguagus River at Cherryfield, ME", dataset_id=dataset.id, identifier="01022500")
    )
    assert thing.id is not None
    store.create_location(
        Location("gauge 01022500", {"type": "Point", "coordinates": [-67.935, 44.608]}),
        thing_ids=[thing.id],
    )
    sensor = store.create_sensor(Sensor("USGS gauge"))
    prop = store.create_observed_property(
        ObservedProperty("discharge", "http://vocabs.example/discharge",
                         properties={"theiaCategories": ["http://vocabs.example/hydrology"]})
    )  # fmt: skip
    datastream = store.create_datastream(
        Datastream("Q at 01022500", thing.id, sensor.id or 0, prop.id or 0,
                   Unit("cubic foot per second", "ft3/s"))
    )  # fmt: skip
    return dataset, thing, datastream


def test_adding_the_same_series_again_adds_nothing_and_an_extended_one_only_the_new_rows(
    store: InsituStore,
) -> None:
    _, _, ds = _gauge(store)
    rows = camels()
    assert ds.id is not None
    first = store.add_observations(ds.id, rows[:1000], batch=300)
    assert (first.inserted, first.duplicates) == (1000, 0)
    again = store.add_observations(ds.id, rows[:1000])
    assert (again.inserted, again.duplicates) == (0, 1000)
    extended = store.add_observations(ds.id, rows, batch=250)
    assert (extended.inserted, extended.duplicates) == (96, 1000)
    stored = store.get_datastream(ds.id, hidden=NOTHING_HIDDEN)
    assert stored.phenomenon_time == TimeInterval(rows[0][0], rows[-1][0])
    assert stored.result_time is None


def test_window_pages_are_complete_and_in_time_order(store: InsituStore) -> None:
    _, _, ds = _gauge(store)
    assert ds.id is not None
    rows = camels()
    store.add_observations(ds.id, rows)
    start, end = datetime(2001, 1, 1, tzinfo=UTC), datetime(2002, 1, 1, tzinfo=UTC)
    seen, after = [], None
    while True:
        page = store.window(ds.id, start, end, limit=100, after=after, hidden=NOTHING_HIDDEN)
        seen += page.observations
        if page.next is None:
            break
        after = page.next
    expected = [(t, q) for t, q, *_ in rows if start <= t < end]
    assert [(o.phenomenon_time, o.result) for o in seen] == expected and len(expected) == 365


def test_decimation_min_max_equal_numpy_on_the_real_series(store: InsituStore) -> None:
    _, _, ds = _gauge(store)
    assert ds.id is not None
    rows = camels()
    store.add_observations(ds.id, rows)
    start, end = rows[0][0], rows[-1][0] + timedelta(days=1)
    buckets = store.decimated(ds.id, start, end, 37, hidden=NOTHING_HIDDEN)
    times = np.array([(t - start).total_seconds() for t, *_ in rows])
    values = np.array([q for _, q, *_ in rows])
    width = (end - start).total_seconds() / 37
    index = np.minimum((times // np.ceil(width)).astype(int), 36)
    assert len(buckets) == 37 and sum(b.count for b in buckets) == len(rows)
    by_time = {t: q for t, q, *_ in rows}
    for n, bucket in enumerate(buckets):
        inside = values[index == n]
        assert (bucket.min[1], bucket.max[1]) == (inside.min(), inside.max())
        assert by_time[bucket.min[0]] == bucket.min[1] and by_time[bucket.max[0]] == bucket.max[1]
        assert bucket.first[1] == inside[0] and bucket.last[1] == inside[-1]
        assert len(bucket.extremes()) <= 2


def test_deleting_a_thing_deletes_its_datastreams_and_observations(store: InsituStore) -> None:
    _, thing, ds = _gauge(store)
    assert thing.id is not None and ds.id is not None
    store.add_observations(ds.id, camels()[:10])
    (obs,) = store.window(
        ds.id, datetime(2000, 1, 1, tzinfo=UTC), datetime(2000, 1, 2, tzinfo=UTC),
        limit=5, hidden=NOTHING_HIDDEN,
    ).observations  # fmt: skip
    store.delete_thing(thing.id)
    with pytest.raises(NotFound):
        store.get_datastream(ds.id, hidden=NOTHING_HIDDEN)
    with pytest.raises(NotFound):
        store.get_observation(obs.id or 0, hidden=NOTHING_HIDDEN)


def test_a_datastream_needs_its_thing_sensor_and_observed_property(store: InsituStore) -> None:
    _, thing, ds = _gauge(store)
    with pytest.raises(NotFound, match="Sensor '999'"):
        store.create_datastream(
            Datastream("x", thing.id or 0, 999, ds.observed_property_id, Unit("m", "m"))
        )


def test_a_naive_time_is_refused_and_nothing_is_added(store: InsituStore) -> None:
    _, _, ds = _gauge(store)
    assert ds.id is not None
    with pytest.raises(InvalidInput, match="no time zone"):
        store.add_observations(ds.id, [(datetime(2000, 1, 1), 1.0)])
    page = store.window(
        ds.id, datetime(1999, 1, 1, tzinfo=UTC), datetime(2003, 1, 1, tzinfo=UTC),
        limit=10, hidden=NOTHING_HIDDEN,
    )  # fmt: skip
    assert page.observations == []


def test_a_restricted_dataset_is_hidden_in_every_read(store: InsituStore) -> None:
    dataset, thing, ds = _gauge(store)
    assert dataset.access_key == f"insitu-{dataset.id}" and ds.id is not None
    store.add_observations(ds.id, camels()[:5])
    hidden = frozenset({dataset.access_key})
    assert store.things(hidden=hidden) == [] and store.datasets(hidden=hidden) == []
    for read in (
        lambda: store.get_thing(thing.id or 0, hidden=hidden),
        lambda: store.get_datastream(ds.id or 0, hidden=hidden),
        lambda: store.window(ds.id or 0, datetime(2000, 1, 1, tzinfo=UTC),
                             datetime(2001, 1, 1, tzinfo=UTC), limit=5, hidden=hidden),
    ):  # fmt: skip
        with pytest.raises(NotFound):
            read()
    assert store.datastreams_of(thing.id or 0, hidden=hidden) == []
    assert [t.id for t in store.things(hidden=frozenset({"other"}))] == [thing.id]


def test_plain_rows_and_rows_with_extras_are_stored_alike(store: InsituStore) -> None:
    # (time, number) rows take the 4-column fast path; rows with a flag take the general one
    _, _, ds = _gauge(store)
    assert ds.id is not None
    rows = camels()
    plain = store.add_observations(ds.id, [(t, q) for t, q, *_ in rows[:600]])
    extras = store.add_observations(ds.id, [(t, q, None, flag) for t, q, _, flag in rows])
    assert (plain.inserted, extras.inserted, extras.duplicates) == (600, 496, 600)
    start, end = rows[0][0], rows[-1][0] + timedelta(days=1)
    seen = store.window(ds.id, start, end, limit=2000, hidden=NOTHING_HIDDEN).observations
    assert [(o.phenomenon_time, o.result) for o in seen] == [(t, q) for t, q, *_ in rows]
    assert [o.result_quality for o in seen] == [None] * 600 + [f for *_, f in rows[600:]]


def test_observation_json_is_the_observation_s_json(store: InsituStore) -> None:
    _, _, ds = _gauge(store)
    assert ds.id is not None
    rows = camels()
    store.add_observations(ds.id, rows)
    made = datetime(2003, 1, 1, 12, 30, 0, 250, tzinfo=UTC)
    store.add_observations(
        ds.id,
        [(TimeInterval(made, made + timedelta(hours=1)), {"class": "high"}, made, ["A", 1],
          {"method": "ADCP"})],
    )  # fmt: skip
    start, end = rows[0][0], made + timedelta(days=1)
    with db.reading(store.engine) as con:
        found, cursor = obs.window_rows(con, ds.id, start, end, limit=5000)
        assert cursor is None and len(found) == len(rows) + 1
        for row in found:
            assert obs.observation_json(row) == obs.observation_of(row).to_json()
    assert obs.observation_json(found[-1])["phenomenonTime"] == (
        "2003-01-01T12:30:00.000250Z/2003-01-01T13:30:00.000250Z"
    )


def test_fold_equals_a_bucket_by_bucket_reading_of_the_real_series() -> None:
    rows = camels()
    points = [(to_micros(t), q) for t, q, *_ in rows]
    lo, width = points[0][0], 86_400_000_000 * 29
    folded = obs.fold(points, lo, width)
    buckets: dict[int, list[tuple[int, float]]] = {}
    for t, q in points:
        buckets.setdefault((t - lo) // width, []).append((t, q))
    expected = [
        (b, len(p), *p[0], *p[-1],
         *min(p, key=lambda x: (x[1], x[0])), *max(p, key=lambda x: (x[1], -x[0])))
        for b, p in sorted(buckets.items())
    ]  # fmt: skip
    assert folded == expected
