"""In-situ store figures: observation import rate, a one-month window, a decimated 10-year
series; each beside the same query run directly in SQL on the same database (ratio).

    python benchmarks/insitu.py                       # SQLite, 20 datastreams x 87 600 hours
    python benchmarks/insitu.py --observations 10000000 --datastreams 100
    python benchmarks/insitu.py --database postgresql://user@host/db

Synthetic values (a daily cycle with noise) at hourly steps from 2010; figures are printed,
never judged.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from terrapole.insitu import (
    NOTHING_HIDDEN,
    Dataset,
    Datastream,
    InsituStore,
    ObservedProperty,
    Producer,
    Sensor,
    Thing,
    Unit,
)
from terrapole.insitu.times import to_micros

START = datetime(2010, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _series(n: int, offset: int) -> list[tuple[datetime, float]]:
    return [
        (START + i * HOUR, 10 + 5 * math.sin(i / 24 * 2 * math.pi) + (i * offset) % 7)
        for i in range(n)
    ]


def _p50(run: object, repeat: int = 30) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database URL (default: a new SQLite file)")
    parser.add_argument("--observations", type=int, default=20 * 87_600)
    parser.add_argument("--datastreams", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'bench.db'}"
        store = InsituStore.open(url)
        producer = store.create_producer(Producer(f"BENCH{time.time_ns()}", "benchmark"))
        dataset = store.create_dataset(Dataset(producer.id or 0, "benchmark"))
        sensor = store.create_sensor(Sensor("sensor"))
        prop = store.create_observed_property(ObservedProperty("q", "http://example/q"))
        per = args.observations // args.datastreams
        ids = []
        imported = 0.0
        for n in range(args.datastreams):
            thing = store.create_thing(Thing(f"station {n}", dataset_id=dataset.id))
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
        ours = _p50(lambda: store.window(ds_id, *month, limit=1000, hidden=NOTHING_HIDDEN))
        raw_sql = sa.text(
            "SELECT * FROM tp_sta_observations WHERE datastream_id = :d AND phenomenon_start >= :a "
            "AND phenomenon_start < :b ORDER BY phenomenon_start, phenomenon_end LIMIT 1001"
        )
        bounds = {"d": ds_id, "a": to_micros(month[0]), "b": to_micros(month[1])}
        with store.engine.connect() as con:
            raw = _p50(lambda: con.execute(raw_sql, bounds).all())
        print(
            f"one-month window, limit 1000: p50 {ours:.2f} ms "
            f"(raw SQL {raw:.2f} ms, ratio {ours / raw:.1f})"
        )
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
        print(
            f"decimated {per:,}-row series to 1000 buckets: p50 {ours:.1f} ms "
            f"(raw SQL min/max GROUP BY {raw:.1f} ms, ratio {ours / raw:.1f})"
        )
        store.close()


if __name__ == "__main__":
    main()
