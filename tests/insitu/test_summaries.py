"""Daily summaries on SQLite and PostgreSQL: decimation through them gives the buckets of a fold
of every point (real CAMELS series, a synthetic hourly series with ties, periods that start and
end mid-day), and every write — batch insert, extended batch, create, update, delete of one
observation, deletion of a Datastream — leaves them equal to a recomputation from scratch."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa

from terrapole import db
from terrapole.insitu import (
    NOTHING_HIDDEN,
    Dataset,
    Datastream,
    InsituStore,
    Observation,
    ObservedProperty,
    Producer,
    Sensor,
    Thing,
    Unit,
    summaries,
)
from terrapole.insitu import observations as obs
from terrapole.insitu.buckets import fold
from terrapole.insitu.tables import observation_days

from .test_store import camels

START = datetime(2010, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def store(database_url: str) -> Iterator[InsituStore]:
    opened = InsituStore.open(database_url)
    yield opened
    opened.close()


def _datastream(store: InsituStore, name: str = "Q") -> int:
    producer = store.create_producer(Producer(f"P{name}", "producer"))
    dataset = store.create_dataset(Dataset(producer.id or 0, "data"))
    thing = store.create_thing(Thing(f"station {name}", dataset_id=dataset.id))
    sensor = store.create_sensor(Sensor("gauge"))
    prop = store.create_observed_property(ObservedProperty(name, f"http://example/{name}"))
    ds = store.create_datastream(
        Datastream(name, thing.id or 0, sensor.id or 0, prop.id or 0, Unit("metre", "m"))
    )
    assert ds.id is not None
    return ds.id


def _hourly(n: int) -> list[tuple[datetime, float]]:
    """A daily cycle rounded to whole numbers, so that minima and maxima tie within days."""
    return [(START + i * HOUR, float(round(5 * math.sin(i / 24 * 2 * math.pi)))) for i in range(n)]


def _stored(store: InsituStore, ds_id: int) -> list[tuple[Any, ...]]:
    c = observation_days.c
    query = sa.select(observation_days).where(c.datastream_id == ds_id).order_by(c.day)
    with db.reading(store.engine) as con:
        return [tuple(r) for r in con.execute(query)]


def _recomputed(store: InsituStore, ds_id: int) -> list[tuple[Any, ...]]:
    """The Datastream's days as a refresh over its whole period computes them (rolled back)."""
    with store.engine.connect() as con:
        lo, hi = con.execute(
            sa.text(
                "SELECT min(phenomenon_start), max(phenomenon_start) FROM tp_sta_observations "
                "WHERE datastream_id = :d"
            ),
            {"d": ds_id},
        ).one()
        if lo is None:
            return []
        summaries.refresh(con, ds_id, range(lo, hi + 1, summaries.DAY // 2))
        c = observation_days.c
        query = sa.select(observation_days).where(c.datastream_id == ds_id).order_by(c.day)
        found = [tuple(r) for r in con.execute(query)]
        con.rollback()
    return found


def _both(store: InsituStore, ds_id: int, start: datetime, end: datetime, n: int) -> list[Any]:
    with db.reading(store.engine) as con:
        read = obs.decimated(con, ds_id, start, end, n)
        folded = obs.decimated(con, ds_id, start, end, n, summarised=False)
    assert read == folded
    return read


def test_real_series_buckets_from_summaries_equal_a_fold_of_every_point(
    store: InsituStore,
) -> None:
    ds_id = _datastream(store)
    rows = camels()
    store.add_observations(ds_id, rows)
    assert _stored(store, ds_id) == _recomputed(store, ds_id)
    assert len(_stored(store, ds_id)) == len(rows)  # one observation a day
    start, end = rows[0][0], rows[-1][0] + timedelta(days=1)
    for n in (1, 7, 37, 100, 365):
        buckets = _both(store, ds_id, start, end, n)
        assert sum(b.count for b in buckets) == len(rows)
    # a period starting and ending mid-day: partial first and last days read point by point
    buckets = _both(store, ds_id, start + timedelta(hours=7), end - timedelta(hours=30), 50)
    assert sum(b.count for b in buckets) == len(rows) - 2


def test_hourly_series_with_ties_gives_the_same_buckets_both_ways(store: InsituStore) -> None:
    ds_id = _datastream(store)
    rows = _hourly(3 * 8760)
    store.add_observations(ds_id, rows, batch=10_000)  # batches ending mid-day
    assert _stored(store, ds_id) == _recomputed(store, ds_id)
    end = rows[-1][0] + HOUR
    for n in (10, 365, 999):
        buckets = _both(store, ds_id, START, end, n)
        assert sum(b.count for b in buckets) == len(rows)
        # ties: each bucket's min and max are at its earliest time with that value
        for b in buckets[:5]:
            inside = [(t, v) for t, v in rows if b.start <= t < b.end]
            assert b.min == min(inside, key=lambda p: (p[1], p[0]))
            assert b.max == max(inside, key=lambda p: (p[1], -p[0].timestamp()))
    _both(store, ds_id, START + timedelta(minutes=90), end - timedelta(hours=5), 400)
    # buckets narrower than a day come from the points: still the same answer
    _both(store, ds_id, START, START + timedelta(days=30), 100)


def test_an_extended_batch_and_a_reimport_keep_the_summaries_exact(store: InsituStore) -> None:
    ds_id = _datastream(store)
    rows = _hourly(24 * 20)
    store.add_observations(ds_id, rows[:100])  # ends at 04:00 on day 5
    assert store.add_observations(ds_id, rows[50:]).duplicates == 50  # part already there
    assert _stored(store, ds_id) == _recomputed(store, ds_id)
    store.add_observations(ds_id, rows)  # nothing new
    day = _stored(store, ds_id)[4]
    assert day[2] == 24 and len(_stored(store, ds_id)) == 20


def test_writes_of_one_observation_update_the_summary(store: InsituStore) -> None:
    ds_id = _datastream(store)
    rows = _hourly(24 * 10)
    store.add_observations(ds_id, rows)
    noon = START + timedelta(days=3, hours=12)
    made = store.create_observation(Observation(ds_id, noon + timedelta(minutes=30), 99.0))
    assert _stored(store, ds_id) == _recomputed(store, ds_id)
    (bucket,) = [b for b in _both(store, ds_id, START, START + timedelta(days=10), 10)
                 if b.start <= noon < b.end]  # fmt: skip
    assert bucket.max == (noon + timedelta(minutes=30), 99.0) and bucket.count == 25

    # moved to another day with another value: both days recomputed
    later = START + timedelta(days=8, hours=1, minutes=15)
    store.update_observation(Observation(ds_id, later, -50.0, id=made.id))
    assert _stored(store, ds_id) == _recomputed(store, ds_id)
    buckets = _both(store, ds_id, START, START + timedelta(days=10), 10)
    assert buckets[3].count == 24 and buckets[3].max[1] == 5.0
    assert buckets[8].count == 25 and buckets[8].min == (later, -50.0)

    store.delete_observation(made.id or 0)
    assert _stored(store, ds_id) == _recomputed(store, ds_id)
    assert _both(store, ds_id, START, START + timedelta(days=10), 10)[8].min[1] == -5.0


def test_a_day_emptied_of_observations_loses_its_summary(store: InsituStore) -> None:
    ds_id = _datastream(store)
    store.add_observations(ds_id, _hourly(24 * 2))
    page = store.window(ds_id, START + timedelta(days=1), START + timedelta(days=2), limit=50,
                        hidden=NOTHING_HIDDEN)  # fmt: skip
    for o in page.observations:
        store.delete_observation(o.id or 0)
    first_day = int(START.timestamp()) * 1_000_000
    assert [day[1] for day in _stored(store, ds_id)] == [first_day]


def test_deleting_a_datastream_deletes_its_summaries(store: InsituStore) -> None:
    kept, gone = _datastream(store, "Q"), _datastream(store, "P")
    store.add_observations(kept, _hourly(48))
    store.add_observations(gone, _hourly(48))
    store.delete_datastream(gone)
    assert _stored(store, gone) == [] and len(_stored(store, kept)) == 2


def test_day_pieces_equal_a_fold_by_day() -> None:
    rng = np.random.default_rng(7)
    seconds = rng.choice(np.arange(-5 * 86_400, 40 * 86_400), 5000, replace=False)
    starts = (np.sort(seconds) * 1_000_000).tolist()
    values = rng.integers(0, 6, 5000).astype(float).tolist()  # many ties
    values[17] = math.nan  # left out, as SQLite stores NaN as NULL
    points = [(t, v) for t, v in zip(starts, values, strict=True) if not math.isnan(v)]
    expected = fold(points, 0, summaries.DAY)
    shuffled = rng.permutation(len(starts))
    got = summaries.day_pieces(
        [starts[i] for i in shuffled], [starts[i] for i in shuffled], [values[i] for i in shuffled]
    )
    assert got == expected
    assert summaries.day_pieces([], [], []) == []
