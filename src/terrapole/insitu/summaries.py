"""Daily summaries of numeric observations, and the decimation that reads them.

``tp_sta_observation_days`` holds, per Datastream and UTC day, the count and the first, last,
min and max points of the numeric results. Every write of observations recomputes the days it
touched from the observations table in its own transaction (:func:`refresh`), so the days
are never stale. A decimation whose buckets are a day wide or wider reads the whole days of
each bucket from this table and only the days a bucket boundary cuts (and the partial first
and last day) from the observations: a ten-year hourly series to 1000 buckets reads about
3 650 days and 24 000 points instead of 87 600 points, with exactly the buckets of a fold of
every point (:func:`terrapole.insitu.buckets.merge`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa

from terrapole.insitu.buckets import Summary, fold, merge
from terrapole.insitu.tables import observation_days

DAY = 86_400_000_000
"""A day in microseconds: the summaries' step (UTC days)."""
_GAP = 8  # touched days closer than this are recomputed as one range

_DAYS = observation_days.name
_COLUMNS = (
    "datastream_id, day, count, first_time, first_value, last_time, last_value, "
    "min_time, min_value, max_time, max_value"
)
SQLITE_POINTS = """
SELECT phenomenon_start, result_number FROM tp_sta_observations
WHERE datastream_id = ? AND phenomenon_start >= ? AND phenomenon_start < ?
  AND result_number IS NOT NULL
ORDER BY phenomenon_start, phenomenon_end
"""
_SQLITE_RANGES = """
SELECT o.phenomenon_start, o.result_number
FROM json_each(:r) AS r CROSS JOIN tp_sta_observations AS o
WHERE o.datastream_id = :ds AND o.phenomenon_start >= json_extract(r.value, '$[0]')
  AND o.phenomenon_start < json_extract(r.value, '$[1]') AND o.result_number IS NOT NULL
ORDER BY o.phenomenon_start, o.phenomenon_end
"""
# SQLite: CROSS JOIN keeps the ranges outside, so each is one index range of the observations
_POSTGRESQL_RANGES = """
SELECT p.t, p.v
FROM unnest(CAST(:a AS bigint[]), CAST(:b AS bigint[])) AS r(a, b)
CROSS JOIN LATERAL (
  SELECT phenomenon_start AS t, phenomenon_end AS e, result_number AS v
  FROM tp_sta_observations
  WHERE datastream_id = :ds AND phenomenon_start >= r.a AND phenomenon_start < r.b
    AND result_number IS NOT NULL
  OFFSET 0
) AS p
ORDER BY p.t, p.e
"""
# PostgreSQL: LATERAL, kept a subquery by OFFSET 0, makes each range its own index range scan
# (a join of the ranges was planned as a scan of the whole Datastream checked against each)
POSTGRESQL_BUCKETS = """
SELECT b, count(*) AS n,
  min(t) AS t0, (min(ARRAY[t::float8, v]))[2] AS v0,
  max(t) AS t1, (max(ARRAY[t::float8, v]))[2] AS v1,
  (min(ARRAY[v, t::float8]))[2]::bigint AS tmin, min(v) AS vmin,
  (-(max(ARRAY[v, -t::float8]))[2])::bigint AS tmax, max(v) AS vmax
FROM (
  SELECT (phenomenon_start - :origin) / :width AS b, phenomenon_start AS t, result_number AS v
  FROM tp_sta_observations
  WHERE datastream_id = :ds AND phenomenon_start >= :lo AND phenomenon_start < :hi
    AND result_number IS NOT NULL
) AS o
GROUP BY b ORDER BY b
"""
# PostgreSQL: arrays compare element by element, so min(ARRAY[v, t]) is the smallest value at
# its earliest time in one pass; microseconds fit a float8 exactly until the year 2255.
# :origin <= :lo keeps the bucket numbers non-negative (integer division truncates)


def _ranges(days: Iterable[int]) -> list[tuple[int, int]]:
    """[first day, last day + 1) ranges in microseconds covering the ``days`` (day numbers),
    days less than a week apart in one range."""
    out: list[list[int]] = []
    for day in sorted(set(days)):
        if out and day - out[-1][1] < _GAP:
            out[-1][1] = day + 1
        else:
            out.append([day, day + 1])
    return [(a * DAY, b * DAY) for a, b in out]


def refresh(con: sa.Connection, datastream_id: int, starts: Iterable[int]) -> None:
    """Recompute the Datastream's summaries of the days holding the phenomenon ``starts``
    (microseconds) just written, updated or deleted: in the caller's transaction."""
    for lo, hi in _ranges(start // DAY for start in starts):
        con.execute(
            observation_days.delete().where(
                observation_days.c.datastream_id == datastream_id,
                observation_days.c.day >= lo,
                observation_days.c.day < hi,
            )
        )
        if con.dialect.name == "postgresql":
            con.execute(
                sa.text(f"INSERT INTO {_DAYS} ({_COLUMNS}) SELECT :ds, :lo + b * :width, "
                        f"n, t0, v0, t1, v1, tmin, vmin, tmax, vmax FROM ({POSTGRESQL_BUCKETS}) s"),
                {"ds": datastream_id, "origin": lo, "lo": lo, "hi": hi, "width": DAY},
            )  # fmt: skip
            continue
        cursor = con.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            folded = fold(cursor.execute(SQLITE_POINTS, (datastream_id, lo, hi)), lo, DAY)
            cursor.executemany(
                f"INSERT INTO {_DAYS} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(datastream_id, lo + s[0] * DAY, *s[1:]) for s in folded],
            )
        finally:
            cursor.close()


def day_pieces(
    starts: Sequence[int], ends: Sequence[int], values: Sequence[float]
) -> list[Summary]:
    """The summary of each UTC day (bucket = day number) of the points ``(start, value)`` in
    any order, as :func:`~terrapole.insitu.buckets.fold` of them in (start, end) order
    gives it, computed with numpy; NaN values are left out (SQLite stores them as NULL)."""
    t = np.asarray(starts, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    keep = ~np.isnan(v)
    order = np.lexsort((np.asarray(ends, dtype=np.int64)[keep], t[keep]))
    t, v = t[keep][order], v[keep][order]
    if not len(t):
        return []
    day = t // DAY
    begin = np.concatenate(([0], np.flatnonzero(np.diff(day)) + 1))
    stop = np.concatenate((begin[1:], [len(t)]))
    group = np.repeat(np.arange(len(begin)), stop - begin)
    low, high = np.minimum.reduceat(v, begin), np.maximum.reduceat(v, begin)
    at_low, at_high = np.flatnonzero(v == low[group]), np.flatnonzero(v == high[group])
    at_low = at_low[np.unique(group[at_low], return_index=True)[1]]  # the earliest of ties
    at_high = at_high[np.unique(group[at_high], return_index=True)[1]]
    columns = (day[begin], stop - begin, t[begin], v[begin], t[stop - 1], v[stop - 1],
               t[at_low], low, t[at_high], high)  # fmt: skip
    return list(zip(*(c.tolist() for c in columns), strict=True))


def added(
    con: sa.Connection,
    datastream_id: int,
    starts: Sequence[int],
    ends: Sequence[int],
    values: Sequence[float],
) -> None:
    """Fold observations just inserted — every one of them new — into the Datastream's
    summaries: their days summarised in memory and merged with the stored days (SQLite;
    PostgreSQL recomputes the days in SQL). Reading the batch back would cost more than
    inserting it. Points at the same start with different ends may then order as they came
    rather than by end in a day's first/last/min/max tie."""
    if con.dialect.name == "postgresql":
        refresh(con, datastream_id, starts)
        return
    pieces = day_pieces(starts, ends, values)
    if not pieces:
        return
    lo, hi = pieces[0][0] * DAY, (pieces[-1][0] + 1) * DAY
    c = observation_days.c
    stored = con.execute(
        sa.select(c.day, c.count, c.first_time, c.first_value, c.last_time, c.last_value,
                  c.min_time, c.min_value, c.max_time, c.max_value)
        .where(c.datastream_id == datastream_id, c.day >= lo, c.day < hi)
    ).all()  # fmt: skip
    days = {piece[0] for piece in pieces}
    old = [(row[0] // DAY, *row[1:]) for row in stored if row[0] // DAY in days]
    if old:
        con.execute(
            observation_days.delete().where(
                c.datastream_id == datastream_id, c.day.in_([p[0] * DAY for p in old])
            )
        )
    cursor = con.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(
            f"INSERT INTO {_DAYS} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(datastream_id, s[0] * DAY, *s[1:]) for s in merge([*pieces, *old])],
        )
    finally:
        cursor.close()


def forget(con: sa.Connection, datastream_id: int) -> None:
    """Delete a Datastream's summaries (with its observations)."""
    con.execute(observation_days.delete().where(observation_days.c.datastream_id == datastream_id))


def _floor(t: int) -> int:
    return t // DAY * DAY


def _cut_days(lo: int, hi: int, width: int) -> list[tuple[int, int]]:
    """The parts of [lo, hi) read point by point: the partial first and last day and each day
    that a bucket boundary ``lo + k × width`` cuts, as sorted, disjoint [a, b) ranges."""
    pieces = []
    if lo % DAY:
        pieces.append((lo, min(hi, _floor(lo) + DAY)))
    if hi % DAY:
        pieces.append((max(lo, _floor(hi)), hi))
    for cut in range(lo + width, hi, width):
        if cut % DAY:
            pieces.append((max(lo, _floor(cut)), min(hi, _floor(cut) + DAY)))
    out: list[list[int]] = []
    for a, b in sorted(pieces):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out if a < b]


_DAYS_IN = (
    "SELECT day, count, first_time, first_value, last_time, last_value, min_time, min_value, "
    f"max_time, max_value FROM {_DAYS} WHERE datastream_id = :ds AND day >= :lo AND day < :hi "
    "ORDER BY day"
)


def _driver_rows(con: sa.Connection, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """All rows of ``sql`` (``:name`` parameters) as the driver's tuples: a SQLAlchemy Row per
    point or day would cost more than the read."""
    postgresql = con.dialect.name == "postgresql"
    for name in params:
        sql = sql.replace(f":{name}", f"%({name})s" if postgresql else f":{name}")
    cursor = con.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _points(con: sa.Connection, datastream_id: int, ranges: list[tuple[int, int]]) -> Any:
    """The (t, v) numeric points of the Datastream inside ``ranges``, in time order."""
    if con.dialect.name == "postgresql":
        params = {"ds": datastream_id, "a": [a for a, _ in ranges], "b": [b for _, b in ranges]}
        # the planner's estimate (every range as wide as the table) would compile the query
        # (JIT) for longer than the few index ranges take to read
        con.exec_driver_sql("SET LOCAL jit = off")
        return _driver_rows(con, _POSTGRESQL_RANGES, params)
    return _driver_rows(con, _SQLITE_RANGES, {"r": json.dumps(ranges), "ds": datastream_id})


def buckets(con: sa.Connection, datastream_id: int, lo: int, hi: int, width: int) -> list[Summary]:
    """The summaries of the buckets ``(t - lo) // width`` of [lo, hi) for ``width`` of a day
    or more: whole days from the summary table, the days a boundary cuts from the points."""
    if width < DAY:
        raise ValueError("summaries serve buckets of a day or more")
    cut = _cut_days(lo, hi, width)
    pieces = fold(_points(con, datastream_id, cut), lo, width)
    raw_days = {day for a, b in cut for day in range(_floor(a), b, DAY)}
    days = _driver_rows(con, _DAYS_IN, {"ds": datastream_id, "lo": lo, "hi": hi - DAY + 1})
    for row in days:
        day = row[0]
        if day not in raw_days:
            pieces.append(((day - lo) // width, *row[1:]))
    return merge(pieces)
