"""Observations in bulk: batched idempotent inserts, keyset windows and SQL decimation.

These functions work on a SQLAlchemy engine and the ``tp_sta_observations`` table; the store
(:class:`terrapole.insitu.store.InsituStore`) calls them after checking visibility. The insert
path is the driver's ``executemany`` on plain tuples (no ORM objects, no per-value type
processing) of ``INSERT ... ON CONFLICT DO NOTHING``, one transaction per batch, so an
interrupted import keeps whole batches and resumes by re-adding the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from typing import Any, NamedTuple

import sqlalchemy as sa

from terrapole.errors import InvalidInput
from terrapole.insitu import summaries
from terrapole.insitu.buckets import Summary, fold
from terrapole.insitu.model import JsonValue, Observation
from terrapole.insitu.tables import datastreams, foi_datastreams, observations
from terrapole.insitu.times import (
    EPOCH,
    TimeInterval,
    TimeLike,
    from_micros,
    micros_iso,
    optional_time,
    to_micros,
)

_ONE_US = timedelta(microseconds=1)
_COLUMNS: tuple[str, ...] = (
    "datastream_id", "phenomenon_start", "phenomenon_end", "result_time", "result_number",
    "result_json", "result_quality", "parameters", "foi_id",
)  # fmt: skip


class Row(NamedTuple):
    """One observation to add: plain tuples of 2 to 6 fields in this order are accepted."""

    phenomenon_time: TimeLike
    result: JsonValue
    result_time: datetime | None = None
    result_quality: JsonValue = None
    parameters: dict[str, Any] | None = None
    foi_id: int | None = None


@dataclass(frozen=True)
class Differing:
    """A row not written because its phenomenon time is already stored with another result:
    its position among the rows given, its phenomenon start (microseconds), the stored
    result and the one given."""

    index: int
    start: int
    stored: JsonValue
    given: float


@dataclass(frozen=True)
class Added:
    """What :func:`add` did: rows inserted, and rows skipped as already present;
    :func:`add_columns` also tells the skipped rows whose stored result differs (``differing``,
    not counted in ``duplicates``)."""

    inserted: int
    duplicates: int
    differing: tuple[Differing, ...] = ()


@dataclass(frozen=True)
class Cursor:
    """Where a window page ended: the last row's phenomenon start and end (microseconds),
    which are unique within a Datastream. ``token()``/``parse()`` carry it in a next link."""

    start: int
    end: int

    def token(self) -> str:
        """The cursor as a URL-safe string."""
        return f"{self.start}_{self.end}"

    @classmethod
    def parse(cls, token: str) -> Cursor:
        """The cursor of :meth:`token` (InvalidInput otherwise)."""
        start, _, end = token.partition("_")
        try:
            return cls(int(start), int(end))
        except ValueError as exc:
            raise InvalidInput("cursor", f"{token[:40]!r} is not a paging cursor") from exc


@dataclass(frozen=True)
class Page:
    """A window's observations in phenomenon-time order; ``next`` is None on the last page."""

    observations: list[Observation]
    next: Cursor | None


@dataclass(frozen=True)
class Bucket:
    """One decimation bucket [start, end): its count and its first, last, min and max points."""

    start: datetime
    end: datetime
    count: int
    first: tuple[datetime, float]
    last: tuple[datetime, float]
    min: tuple[datetime, float]
    max: tuple[datetime, float]

    def extremes(self) -> list[tuple[datetime, float]]:
        """The min and max points in time order (one point when they are the same): what a
        plot draws so that no peak is lost."""
        return sorted({self.min, self.max})


# -- adding -------------------------------------------------------------------------------------
def _phenomenon(value: Any, line: int) -> tuple[int, int]:
    if isinstance(value, TimeInterval):
        return to_micros(value.start), to_micros(value.end)
    if not isinstance(value, datetime):
        raise InvalidInput(f"observation {line}", "phenomenon time must be a date-time")
    start = to_micros(value, f"observation {line} phenomenon time")
    return start, start


def _params(
    datastream_id: int, rows: Sequence[Sequence[Any]], first: int
) -> tuple[list[tuple[Any, ...]], tuple[int, int, int | None, int | None]]:
    """The insert parameters of ``rows`` and their extents (phenomenon min start, max end,
    result-time min, max)."""
    out: list[tuple[Any, ...]] = []
    lo = hi = None
    rlo: int | None = None
    rhi: int | None = None
    dumps = json.dumps
    for n, row in enumerate(rows, first):
        when = row[0]
        if type(when) is datetime and when.tzinfo is not None:  # the fast path
            start = end = (when - EPOCH) // _ONE_US
        else:
            start, end = _phenomenon(when, n)
        value = row[1]
        number: float | None
        other: str | None
        kind = type(value)
        if kind is float or kind is int:
            number, other = float(value), None
        elif value is None:
            number = other = None
        else:
            number, other = None, dumps(value)
        if len(row) > 2:
            rtime = None if row[2] is None else to_micros(row[2], f"observation {n} result time")
            if rtime is not None:
                rlo = rtime if rlo is None or rtime < rlo else rlo
                rhi = rtime if rhi is None or rtime > rhi else rhi
            quality = None if len(row) < 4 or row[3] is None else dumps(row[3])
            params = None if len(row) < 5 or row[4] is None else dumps(row[4])
            foi = row[5] if len(row) > 5 else None
        else:
            rtime = quality = params = foi = None
        out.append((datastream_id, start, end, rtime, number, other, quality, params, foi))
        if lo is None or start < lo:
            lo = start
        if hi is None or end > hi:
            hi = end
    assert lo is not None and hi is not None
    return out, (lo, hi, rlo, rhi)


def _plain(datastream_id: int, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]] | None:
    """``(datastream, start, start, number)`` of rows that are only a zoned instant and a number
    (what a CSV series is), or None as soon as one row is anything else: the common case skips
    the general conversion and binds 4 columns instead of 9."""
    out: list[tuple[Any, ...]] = []
    append = out.append
    for row in rows:
        if len(row) != 2:
            return None
        when, value = row
        kind = type(value)
        if (
            type(when) is not datetime
            or when.tzinfo is None
            or (kind is not float and kind is not int)
        ):
            return None
        start = (when - EPOCH) // _ONE_US
        append((datastream_id, start, start, value))
    return out


_PLAIN: tuple[str, ...] = (*_COLUMNS[:3], "result_number")


def _columns_of(plain: list[tuple[Any, ...]]) -> tuple[list[int], list[int], list[float]]:
    """The starts, ends and values of :func:`_plain` parameters."""
    starts = [p[1] for p in plain]
    return starts, starts, [p[3] for p in plain]


def _insert_sql(dialect: str, columns: Sequence[str], source: str | None = None) -> str:
    """INSERT ... ON CONFLICT DO NOTHING of ``columns``, from parameters or from ``source``."""
    names = ", ".join(columns)
    if source is not None:
        values = f"SELECT {names} FROM {source}"
    else:
        mark = "?" if dialect == "sqlite" else "%s"
        values = "VALUES (" + ", ".join([mark] * len(columns)) + ")"
    return (
        f"INSERT INTO {observations.name} ({names}) {values} "
        "ON CONFLICT (datastream_id, phenomenon_start, phenomenon_end) DO NOTHING"
    )


_STAGE = "tp_sta_observations_in"
_STAGE_TYPES = {
    "datastream_id": "int4", "phenomenon_start": "int8", "phenomenon_end": "int8",
    "result_time": "int8", "result_number": "float8", "result_json": "json",
    "result_quality": "json", "parameters": "json", "foi_id": "int4",
}  # fmt: skip


def _copy_in(con: sa.Connection, columns: Sequence[str], params: list[tuple[Any, ...]]) -> int:
    """PostgreSQL: COPY ``params`` into a session temporary table (emptied at commit), then one
    INSERT ... SELECT ... ON CONFLICT DO NOTHING; the rows inserted. COPY streams the batch in
    one round trip instead of one bind per row."""
    con.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} ("
        + ", ".join(f"{c} {t}" for c, t in _STAGE_TYPES.items())
        + ") ON COMMIT DELETE ROWS"
    )
    cursor = con.connection.driver_connection.cursor()  # type: ignore[union-attr]
    binary = all(_STAGE_TYPES[c] != "json" for c in columns)
    form = " (FORMAT BINARY)" if binary else ""
    with cursor.copy(f"COPY {_STAGE} ({', '.join(columns)}) FROM STDIN{form}") as copy:
        if binary:
            copy.set_types([_STAGE_TYPES[c] for c in columns])
        for row in params:
            copy.write_row(row)
    inserted = con.exec_driver_sql(_insert_sql("postgresql", columns, _STAGE)).rowcount
    con.exec_driver_sql(f"TRUNCATE {_STAGE}")
    return int(inserted)


def _insert(con: sa.Connection, columns: Sequence[str], params: list[tuple[Any, ...]]) -> int:
    """Insert ``params`` (tuples of ``columns``), skipping rows already there; rows inserted."""
    if con.dialect.name == "postgresql":
        return _copy_in(con, columns, params)
    return int(con.exec_driver_sql(_insert_sql(con.dialect.name, columns), params).rowcount)


def link_features(con: sa.Connection, datastream_id: int, foi_ids: Iterable[int | None]) -> None:
    """Record that Datastream ``datastream_id`` has Observations about each of ``foi_ids``
    (None skipped): one INSERT ... ON CONFLICT DO NOTHING of the distinct pairs, in the
    caller's transaction (see ``tp_sta_foi_datastreams``)."""
    pairs = [(f, datastream_id) for f in set(foi_ids) if f is not None]
    if not pairs:
        return
    mark = "?" if con.dialect.name == "sqlite" else "%s"
    con.exec_driver_sql(
        f"INSERT INTO {foi_datastreams.name} (foi_id, datastream_id) VALUES ({mark}, {mark}) "
        "ON CONFLICT (foi_id, datastream_id) DO NOTHING",
        pairs,
    )


def unlink_unused(con: sa.Connection, pairs: Iterable[tuple[int | None, int]]) -> None:
    """Forget each (FeatureOfInterest, Datastream) pair of ``pairs`` that no Observation holds
    any more (after an update or a deletion; the partial index on ``foi_id`` finds them)."""
    o, link = observations.c, foi_datastreams.c
    for foi_id, datastream_id in set(pairs):
        if foi_id is None:
            continue
        held = sa.select(o.id).where(o.foi_id == foi_id, o.datastream_id == datastream_id)
        if con.execute(held.limit(1)).first() is None:
            con.execute(
                foi_datastreams.delete().where(
                    link.foi_id == foi_id, link.datastream_id == datastream_id
                )
            )


def _extents_of(params: list[tuple[Any, ...]]) -> tuple[int, int, int | None, int | None]:
    """The phenomenon extents of plain parameters (no result times)."""
    starts = [p[1] for p in params]
    return min(starts), max(starts), None, None


def _widen(
    con: sa.Connection, datastream_id: int, extents: tuple[int, int, int | None, int | None]
) -> None:
    """Widen the Datastream's phenomenon and result time extents to hold ``extents``."""
    lo, hi, rlo, rhi = extents
    c = datastreams.c

    def lower(column: sa.Column[Any], value: int | None) -> Any:
        if value is None:
            return column
        return sa.case((sa.or_(column.is_(None), column > value), value), else_=column)

    def upper(column: sa.Column[Any], value: int | None) -> Any:
        if value is None:
            return column
        return sa.case((sa.or_(column.is_(None), column < value), value), else_=column)

    con.execute(
        datastreams.update()
        .where(c.id == datastream_id)
        .values(
            phenomenon_start=lower(c.phenomenon_start, lo),
            phenomenon_end=upper(c.phenomenon_end, hi),
            result_start=lower(c.result_start, rlo),
            result_end=upper(c.result_end, rhi),
        )
    )


def _chunks(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def add(
    engine: sa.Engine, datastream_id: int, rows: Iterable[Sequence[Any]], *, batch: int = 50_000
) -> Added:
    """Insert ``rows`` (see :class:`Row`) into Datastream ``datastream_id``, ``batch`` rows per
    transaction; a row whose phenomenon time is already there is skipped and counted as a
    duplicate. The Datastream's time extents are widened in each batch's transaction.

    The caller checks that the Datastream exists (:meth:`InsituStore.add_observations`).
    """
    if batch < 1:
        raise InvalidInput("batch", "must be at least 1")
    inserted = duplicates = 0
    first = 1
    for chunk in _chunks(rows, batch):
        plain = _plain(datastream_id, chunk)
        if plain is not None:
            params, extents, columns = plain, _extents_of(plain), _PLAIN
        else:
            params, extents = _params(datastream_id, chunk, first)
            columns = _COLUMNS
        with engine.begin() as con:
            done = _insert(con, columns, params)
            if plain is None:
                link_features(con, datastream_id, (p[8] for p in params))
            _widen(con, datastream_id, extents)
            if done == len(params) and plain is not None:
                summaries.added(con, datastream_id, *_columns_of(plain))
            elif done:
                summaries.refresh(con, datastream_id, (p[1] for p in params))
        inserted += done
        duplicates += len(params) - done
        first += len(chunk)
    return Added(inserted, duplicates)


@dataclass
class Columns:
    """One Datastream's observations as parallel lists, what a table import builds: phenomenon
    start and end in microseconds since 1970 UTC (equal for an instant), the numeric result
    and the quality flag (None for none). No tuple or datetime per observation."""

    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    flags: list[str | None] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    """The file line of each observation (a report names them); may be left empty."""

    def __len__(self) -> int:
        return len(self.starts)


def _same(stored: Any, given: float) -> bool:
    return bool(stored == given or (stored != stored and given != given))  # NaN is NaN


def _differing(
    con: sa.Connection,
    datastream_id: int,
    first: int,
    starts: list[int],
    ends: list[int],
    values: list[float],
) -> list[Differing]:
    """The rows of a batch whose phenomenon time is stored with another result: one query of
    the stored results over the batch's time span (the rows just inserted match themselves)."""
    stored_rows = con.execute(
        sa.select(_o.phenomenon_start, _o.phenomenon_end, _o.result_number, _o.result_json).where(
            _o.datastream_id == datastream_id,
            _o.phenomenon_start >= min(starts),
            _o.phenomenon_start <= max(starts),
        )
    )
    stored = {(a, b): (n if n is not None else j) for a, b, n, j in stored_rows}
    return [
        Differing(first + i, start, stored[start, end], value)
        for i, (start, end, value) in enumerate(zip(starts, ends, values, strict=True))
        if (start, end) in stored and not _same(stored[start, end], value)
    ]


def add_columns(
    engine: sa.Engine,
    datastream_id: int,
    columns: Columns,
    *,
    foi_id: int | None = None,
    batch: int = 50_000,
) -> Added:
    """:func:`add` for :class:`Columns` (all about FeatureOfInterest ``foi_id`` when given):
    the same batches, duplicates, extents and summaries, with only the columns that hold
    something bound. A batch with skipped rows reads back the stored results of its span (one
    query) and returns those that differ from the given values in ``Added.differing``."""
    if batch < 1:
        raise InvalidInput("batch", "must be at least 1")
    quality = {f: json.dumps(f) for f in set(columns.flags) if f is not None}
    names = list(_PLAIN) + ["result_quality"] * bool(quality) + ["foi_id"] * (foi_id is not None)
    inserted = 0
    differing: list[Differing] = []
    for lo in range(0, len(columns), batch):
        starts = columns.starts[lo : lo + batch]
        ends = columns.ends[lo : lo + batch]
        cells: list[Iterable[Any]] = [[datastream_id] * len(starts), starts, ends,
                                      columns.values[lo : lo + batch]]  # fmt: skip
        if quality:
            flags = columns.flags[lo : lo + batch]
            cells.append([None if f is None else quality[f] for f in flags])
        if foi_id is not None:
            cells.append([foi_id] * len(starts))
        params = list(zip(*cells, strict=True))
        with engine.begin() as con:
            done = _insert(con, names, params)
            link_features(con, datastream_id, [foi_id])
            _widen(con, datastream_id, (min(starts), max(ends), None, None))
            if done == len(params):
                summaries.added(con, datastream_id, starts, ends, cells[3])  # type: ignore[arg-type]
            else:
                if done:
                    summaries.refresh(con, datastream_id, starts)
                given = columns.values[lo : lo + batch]
                differing += _differing(con, datastream_id, lo, starts, ends, given)
        inserted += done
    return Added(inserted, len(columns) - inserted - len(differing), tuple(differing))


# -- reading ------------------------------------------------------------------------------------
_o = observations.c


def observation_of(row: Any) -> Observation:
    """The Observation of a ``tp_sta_observations`` row selected through the table (its JSON
    columns decoded by SQLAlchemy)."""
    start, end = row.phenomenon_start, row.phenomenon_end
    phenomenon: TimeLike = (
        from_micros(start) if start == end else TimeInterval(from_micros(start), from_micros(end))
    )
    result = row.result_number if row.result_number is not None else row.result_json
    valid = (
        None
        if row.valid_start is None or row.valid_end is None
        else TimeInterval(from_micros(row.valid_start), from_micros(row.valid_end))
    )
    return Observation(
        id=row.id,
        datastream_id=row.datastream_id,
        phenomenon_time=phenomenon,
        result=result,
        result_time=optional_time(row.result_time),
        result_quality=row.result_quality,
        valid_time=valid,
        parameters=row.parameters or {},
        foi_id=row.foi_id,
    )


def observation_json(row: Any) -> dict[str, Any]:
    """``observation_of(row).to_json()`` straight from the row's columns: the SensorThings JSON
    of an Observation without its dataclass, its checks or its datetimes (a page of 1000
    observations in a few milliseconds instead of ten)."""
    start, end = row.phenomenon_start, row.phenomenon_end
    valid_start, valid_end = row.valid_start, row.valid_end
    result_time = row.result_time
    number = row.result_number
    return {
        "phenomenonTime": micros_iso(start)
        if start == end
        else f"{micros_iso(start)}/{micros_iso(end)}",
        "resultTime": None if result_time is None else micros_iso(result_time),
        "result": row.result_json if number is None else number,
        "resultQuality": row.result_quality,
        "validTime": (
            None
            if valid_start is None or valid_end is None
            else f"{micros_iso(valid_start)}/{micros_iso(valid_end)}"
        ),
        "parameters": row.parameters or {},
    }


def window_rows(
    con: sa.Connection,
    datastream_id: int,
    start: datetime,
    end: datetime,
    *,
    limit: int,
    after: Cursor | None = None,
) -> tuple[list[Any], Cursor | None]:
    """The ``tp_sta_observations`` rows of :func:`window` (JSON columns decoded) and the next
    page's cursor: for callers that write the rows out (:func:`observation_json`, CSV)."""
    if limit < 1:
        raise InvalidInput("limit", "must be at least 1")
    lo, hi = to_micros(start, "start"), to_micros(end, "end")
    where = [_o.datastream_id == datastream_id, _o.phenomenon_start >= lo, _o.phenomenon_start < hi]
    if after is not None:
        where += [
            _o.phenomenon_start >= after.start,
            sa.or_(_o.phenomenon_start > after.start, _o.phenomenon_end > after.end),
        ]
    query = (
        sa.select(observations)
        .where(*where)
        .order_by(_o.phenomenon_start, _o.phenomenon_end)
        .limit(limit + 1)
    )
    rows = con.execute(query).all()
    if len(rows) <= limit:
        return list(rows), None
    last = rows[limit - 1]
    return list(rows[:limit]), Cursor(last.phenomenon_start, last.phenomenon_end)


def window(
    con: sa.Connection,
    datastream_id: int,
    start: datetime,
    end: datetime,
    *,
    limit: int,
    after: Cursor | None = None,
) -> Page:
    """Observations with ``start <= phenomenon start < end``, in time order, ``limit`` at most,
    after ``after`` (keyset paging on the unique (start, end) of the Datastream's index)."""
    rows, cursor = window_rows(con, datastream_id, start, end, limit=limit, after=after)
    return Page([observation_of(r) for r in rows], cursor)


def decimated(
    con: sa.Connection,
    datastream_id: int,
    start: datetime,
    end: datetime,
    buckets: int,
    *,
    summarised: bool = True,
) -> list[Bucket]:
    """The numeric results in [start, end) cut into ``buckets`` equal time buckets, each with
    its first, last, min and max point (empty buckets are left out). Buckets a day wide or
    more come from the daily summaries and the days their boundaries cut
    (:mod:`terrapole.insitu.summaries`; ``summarised=False`` folds every point instead, with
    the same result), narrower ones from the points."""
    if buckets < 1:
        raise InvalidInput("buckets", "must be at least 1")
    lo, hi = to_micros(start, "start"), to_micros(end, "end")
    if hi <= lo:
        raise InvalidInput("end", "must be after start")
    width = max(1, -(-(hi - lo) // buckets))
    rows: list[Summary]
    if summarised and width >= summaries.DAY:
        rows = summaries.buckets(con, datastream_id, lo, hi, width)
    elif con.dialect.name == "postgresql":
        params = {"ds": datastream_id, "origin": lo, "lo": lo, "hi": hi, "width": width}
        rows = [tuple(r) for r in con.execute(sa.text(summaries.POSTGRESQL_BUCKETS), params)]
    else:
        # the driver's cursor: a SQLAlchemy Row per point would cost more than the fold
        cursor = con.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            rows = fold(cursor.execute(summaries.SQLITE_POINTS, (datastream_id, lo, hi)), lo, width)
        finally:
            cursor.close()
    return [
        Bucket(
            start=from_micros(lo + b * width),
            end=from_micros(min(hi, lo + (b + 1) * width)),
            count=n,
            first=(from_micros(t0), v0),
            last=(from_micros(t1), v1),
            min=(from_micros(int(tmin)), vmin),
            max=(from_micros(int(tmax)), vmax),
        )
        for b, n, t0, v0, t1, v1, tmin, vmin, tmax, vmax in rows
    ]
