"""In-situ store figures: observation import rate, a one-month window (as Observations and as
SensorThings JSON), a decimated 10-year series, and the map's filter on observed property + bbox
+ period across all stations; each beside the same query run directly in SQL on the same
database (ratio).

    python benchmarks/insitu.py                       # SQLite, 20 datastreams x 87 600 hours
    python benchmarks/insitu.py --observations 10000000 --datastreams 100
    python benchmarks/insitu.py --postgresql          # a throw-away local server (initdb)
    python benchmarks/insitu.py --database postgresql://user@host/db

Synthetic values (a daily cycle with noise) at hourly steps from 2010; figures are printed,
never judged.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.pgserver import postgres_server  # noqa: E402

from terrapole import db  # noqa: E402
from terrapole.insitu import (  # noqa: E402
    NOTHING_HIDDEN,
    Dataset,
    Datastream,
    InsituStore,
    Location,
    ObservedProperty,
    Producer,
    Sensor,
    Thing,
    Unit,
)
from terrapole.insitu import observations as obs  # noqa: E402
from terrapole.insitu.stations import StationQuery, stations  # noqa: E402
from terrapole.insitu.times import to_micros  # noqa: E402

START = datetime(2010, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _series(n: int, offset: int) -> list[tuple[datetime, float]]:
    return [
        (START + i * HOUR, 10 + 5 * math.sin(i / 24 * 2 * math.pi) + (i * offset) % 7)
        for i in range(n)
    ]


def _p50(run: Callable[[], object], repeat: int = 30) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def _line(what: str, ours: float, raw: float) -> None:
    print(f"{what}: p50 {ours:.2f} ms (raw SQL {raw:.2f} ms, ratio {ours / raw:.1f})")


_STATIONS_SQL = """
SELECT DISTINCT t.id, t.name FROM tp_sta_things t
JOIN tp_sta_datastreams d ON d.thing_id = t.id
JOIN tp_sta_thing_locations tl ON tl.thing_id = t.id
JOIN tp_sta_locations l ON l.id = tl.location_id
WHERE d.observed_property_id = :p AND d.phenomenon_start <= :b AND d.phenomenon_end >= :a
  AND l.max_x >= :w AND l.min_x <= :e AND l.max_y >= :s AND l.min_y <= :n
ORDER BY t.name
"""


def run(url: str, observations: int, datastreams: int) -> None:
    """Fill a new store at ``url`` and print the figures."""
    store = InsituStore.open(url)
    producer = store.create_producer(Producer(f"BENCH{time.time_ns()}", "benchmark"))
    dataset = store.create_dataset(Dataset(producer.id or 0, "benchmark"))
    sensor = store.create_sensor(Sensor("sensor"))
    props = [
        store.create_observed_property(ObservedProperty(name, f"http://example/{name}"))
        for name in ("discharge", "rain", "temperature")
    ]
    per = observations // datastreams
    ids = []
    imported = 0.0
    for n in range(datastreams):
        thing = store.create_thing(Thing(f"station {n}", dataset_id=dataset.id))
        # stations on a 10 x 10 degree grid over France
        point = {"type": "Point", "coordinates": [-4 + (n % 10) * 1.2, 42 + (n // 10 % 10) * 0.9]}
        store.create_location(Location(f"site {n}", point), thing_ids=[thing.id or 0])
        prop = props[n % len(props)]
        ds = store.create_datastream(
            Datastream(f"q {n}", thing.id or 0, sensor.id or 0, prop.id or 0, Unit("m", "m"))
        )
        rows = _series(per, n)
        began = time.perf_counter()
        store.add_observations(ds.id or 0, rows)
        imported += time.perf_counter() - began
        ids.append(ds.id or 0)
    total = per * len(ids)
    print(f"import: {total:,} observations in {imported:.1f} s = {total / imported:,.0f} obs/s")

    ds_id = ids[len(ids) // 2]
    month = (START + 400 * 24 * HOUR, START + 431 * 24 * HOUR)
    raw_sql = sa.text(
        "SELECT * FROM tp_sta_observations WHERE datastream_id = :d AND phenomenon_start >= :a "
        "AND phenomenon_start < :b ORDER BY phenomenon_start, phenomenon_end LIMIT 1001"
    )
    bounds = {"d": ds_id, "a": to_micros(month[0]), "b": to_micros(month[1])}
    with store.engine.connect() as con:
        raw = _p50(lambda: con.execute(raw_sql, bounds).all())
    ours = _p50(lambda: store.window(ds_id, *month, limit=1000, hidden=NOTHING_HIDDEN))
    _line("one-month window, limit 1000, as Observations", ours, raw)

    def as_json() -> object:
        with db.reading(store.engine) as con:
            rows, _ = obs.window_rows(con, ds_id, *month, limit=1000)
            return [obs.observation_json(r) for r in rows]

    _line("one-month window, limit 1000, as SensorThings JSON", _p50(as_json), raw)

    end = START + per * HOUR
    ours = _p50(lambda: store.decimated(ds_id, START, end, 1000, hidden=NOTHING_HIDDEN), 10)
    agg = sa.text(
        "SELECT (phenomenon_start - :a) / :w, count(*), min(result_number), max(result_number) "
        "FROM tp_sta_observations WHERE datastream_id = :d AND phenomenon_start >= :a "
        "AND phenomenon_start < :b GROUP BY 1"
    )
    params = {"d": ds_id, "a": to_micros(START), "b": to_micros(end),
              "w": (to_micros(end) - to_micros(START)) // 1000 + 1}  # fmt: skip
    with store.engine.connect() as con:
        raw = _p50(lambda: con.execute(agg, params).all(), 10)
    _line(f"decimated {per:,}-row series to 1000 buckets (raw: min/max GROUP BY)", ours, raw)

    period = (START + 100 * 24 * HOUR, START + 130 * 24 * HOUR)
    box = (-2.0, 41.0, 4.0, 48.0)
    query = StationQuery(observed_property=props[0].id, start=period[0], end=period[1], bbox=box)
    ours = _p50(lambda: stations(store.engine, query, hidden=NOTHING_HIDDEN))
    found = len(stations(store.engine, query, hidden=NOTHING_HIDDEN))
    where = {"p": props[0].id, "a": to_micros(period[0]), "b": to_micros(period[1]),
             "w": box[0], "s": box[1], "e": box[2], "n": box[3]}  # fmt: skip
    with store.engine.connect() as con:
        raw = _p50(lambda: con.execute(sa.text(_STATIONS_SQL), where).all())
        assert len(con.execute(sa.text(_STATIONS_SQL), where).all()) == found
    _line(f"stations by observed property + bbox + period ({found} found)", ours, raw)
    store.close()


@contextlib.contextmanager
def _database(args: argparse.Namespace) -> Iterator[str]:
    if args.postgresql:
        with postgres_server() as dsn:
            yield dsn
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield args.database or f"sqlite:///{Path(tmp) / 'bench.db'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database", help="database URL (default: a new SQLite file)")
    parser.add_argument("--postgresql", action="store_true", help="a throw-away local server")
    parser.add_argument("--observations", type=int, default=20 * 87_600)
    parser.add_argument("--datastreams", type=int, default=20)
    args = parser.parse_args()
    with _database(args) as url:
        print(f"database: {url.split(':', 1)[0]}")
        run(url, args.observations, args.datastreams)


if __name__ == "__main__":
    main()
