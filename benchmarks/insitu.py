"""In-situ store figures: observation import rate from CSV files through the real importer
(``terrapole insitu import``'s :func:`~terrapole.insitu.tabular.import_table`), a one-month
window (as Observations and as SensorThings JSON), a decimated 10-year series, and the map's
filter on observed property + bbox + period across all stations; each beside the same work
done directly in SQL on the same database (ratio).

    python benchmarks/insitu.py                       # SQLite, 20 datastreams x 87 600 hours
    python benchmarks/insitu.py --observations 10000000 --datastreams 100
    python benchmarks/insitu.py --postgresql          # a throw-away local server (initdb)
    python benchmarks/insitu.py --database postgresql://user@host/db

Synthetic values (a daily cycle with noise) at hourly steps from 2010, one CSV file (time,
value) per datastream; figures are printed, never judged.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import statistics
import sys
import tempfile
import time
import tomllib
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
    InsituStore,
)
from terrapole.insitu import observations as obs  # noqa: E402
from terrapole.insitu.mapping import parse_mapping  # noqa: E402
from terrapole.insitu.stations import StationQuery, stations  # noqa: E402
from terrapole.insitu.tabular import import_table  # noqa: E402
from terrapole.insitu.times import to_micros  # noqa: E402

START = datetime(2010, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _value(i: int, offset: int) -> float:
    return round(10 + 5 * math.sin(i / 24 * 2 * math.pi) + (i * offset) % 7, 3)


def _write_csv(path: Path, n: int, offset: int) -> None:
    """``n`` hourly rows ``time,value`` from START (times like 2010-01-01T05:00, UTC)."""
    days = (n + 23) // 24
    with path.open("w") as out:
        out.write("time,value\n")
        for d in range(days):
            day = f"{(START + d * 24 * HOUR):%Y-%m-%d}T"
            first = d * 24
            out.write("".join(
                f"{day}{h:02d}:00,{_value(first + h, offset)}\n"
                for h in range(min(24, n - first))
            ))  # fmt: skip


_MAPPING = """[source]
format = "csv"
[producer]
identifier = "{producer}"
name = "benchmark"
[dataset]
identifier = "benchmark"
title = "benchmark"
[sensor]
name = "sensor"
[station]
id = "station {n}"
lat = {lat}
lon = {lon}
[time]
columns = ["time"]
format = "%Y-%m-%dT%H:%M"
zone = "UTC"
[[series]]
column = "value"
property = "{prop}"
definition = "http://example/{prop}"
unit = "m"
"""


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


def _raw_insert(store: InsituStore, rows: list[tuple[int, int, float]]) -> float:
    """Seconds to insert ``rows`` (datastream, start, value) with the driver alone: sqlite3's
    executemany, or psycopg's COPY, of the same INSERT ... ON CONFLICT DO NOTHING."""
    on = "ON CONFLICT (datastream_id, phenomenon_start, phenomenon_end) DO NOTHING"
    with store.engine.begin() as con:
        cursor = con.connection.driver_connection.cursor()  # type: ignore[union-attr]
        began = time.perf_counter()
        if store.engine.dialect.name == "sqlite":
            cursor.executemany(
                "INSERT INTO tp_sta_observations (datastream_id, phenomenon_start, "
                f"phenomenon_end, result_number) VALUES (?, ?, ?, ?) {on}",
                [(d, t, t, v) for d, t, v in rows],
            )
        else:
            cursor.execute("CREATE TEMPORARY TABLE raw_in (d int4, t int8, v float8)")
            with cursor.copy("COPY raw_in FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["int4", "int8", "float8"])
                for row in rows:
                    copy.write_row(row)
            cursor.execute(
                "INSERT INTO tp_sta_observations (datastream_id, phenomenon_start, "
                f"phenomenon_end, result_number) SELECT d, t, t, v FROM raw_in {on}"
            )
        spent = time.perf_counter() - began
        cursor.execute("DELETE FROM tp_sta_observations WHERE datastream_id < 0")
    return spent


def _import(store: InsituStore, folder: Path, observations: int, datastreams: int) -> list[int]:
    """Import one CSV file per datastream through the importer; print the rate beside the
    driver's bare insert of one file's rows (into a datastream id no one uses)."""
    producer = f"BENCH{time.time_ns()}"
    per = observations // datastreams
    ids = []
    spent = cpu = 0.0
    for n in range(datastreams):
        # stations on a 10 x 10 degree grid over France
        lon, lat = -4 + (n % 10) * 1.2, 42 + (n // 10 % 10) * 0.9
        prop = ("discharge", "rain", "temperature")[n % 3]
        text = _MAPPING.format(producer=producer, n=n, lat=lat, lon=lon, prop=prop)
        mapping = parse_mapping(tomllib.loads(text), folder)
        data = folder / f"station{n}.csv"
        _write_csv(data, per, n)
        began, used = time.perf_counter(), time.process_time()
        report = import_table(store, data, mapping)
        spent += time.perf_counter() - began
        cpu += time.process_time() - used
        ids += list(report.datastreams)
        data.unlink()
    total = per * len(ids)
    start = to_micros(START)
    raw = _raw_insert(store, [(-1, start + i * 3_600_000_000, _value(i, 1)) for i in range(per)])
    ours, bare = total / spent, per / raw
    print(
        f"import from CSV: {total:,} observations in {spent:.1f} s = {ours:,.0f} obs/s "
        f"(raw SQL insert of parsed rows {bare:,.0f} obs/s, ratio {bare / ours:.1f}); "
        f"{total / cpu:,.0f} obs per second of this process's CPU"
    )
    return ids


def run(url: str, observations: int, datastreams: int) -> None:
    """Fill a new store at ``url`` and print the figures."""
    store = InsituStore.open(url)
    with tempfile.TemporaryDirectory() as tmp:
        ids = _import(store, Path(tmp), observations, datastreams)
    per = observations // datastreams
    props = [store.observed_property_by_definition(f"http://example/{name}")
             for name in ("discharge", "rain", "temperature")]  # fmt: skip
    assert all(p is not None for p in props)

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
    with db.reading(store.engine) as con:
        every = _p50(lambda: obs.decimated(con, ds_id, START, end, 1000, summarised=False), 10)
        assert obs.decimated(con, ds_id, START, end, 1000) == obs.decimated(
            con, ds_id, START, end, 1000, summarised=False
        )
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
    _line("  the same, folding every point instead of the daily summaries", every, raw)

    period = (START + 100 * 24 * HOUR, START + 130 * 24 * HOUR)
    box = (-2.0, 41.0, 4.0, 48.0)
    assert props[0] is not None
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
