"""A Datastream's series as a plot or a CSV file needs it, over a period.

A plot ``width`` pixels wide never needs more than two points per pixel: when the period
holds fewer than ``2 × width`` observations they are drawn as they are, otherwise each pixel's
time bucket gives its minimum and maximum (computed in SQL by the store), so a ten-year hourly
series draws at once and keeps every peak.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Set
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from terrapole.errors import InvalidInput
from terrapole.insitu.model import Datastream, Observation
from terrapole.insitu.store import InsituStore
from terrapole.insitu.times import TimeInterval, iso, parse_time, require_aware

MAX_WIDTH = 4000
"""The widest plot one may ask for, in pixels."""
CSV_PAGE = 10_000
"""Observations read per query while writing a CSV file."""
_ONE = timedelta(microseconds=1)


@dataclass(frozen=True)
class PlotSeries:
    """The points of one Datastream over [start, end) to draw ``width`` pixels wide.

    ``decimated`` says whether the points are each bucket's min and max (True) or every
    observation; ``values`` holds None for a result that is not a number.
    """

    datastream_id: int
    start: datetime
    end: datetime
    width: int
    decimated: bool
    times: tuple[datetime, ...]
    values: tuple[float | None, ...]

    def to_json(self) -> dict[str, Any]:
        """Columns ready for a plot: ``t`` in seconds since 1970 (uPlot's x), ``v`` the values."""
        return {
            "datastream": self.datastream_id,
            "start": iso(self.start),
            "end": iso(self.end),
            "width": self.width,
            "decimated": self.decimated,
            "count": len(self.times),
            "t": [t.timestamp() for t in self.times],
            "v": list(self.values),
        }


def period_bound(text: str | None, field: str) -> datetime | None:
    """A period's bound from a query: an ISO date-time with its zone, or a date (midnight UTC).

    >>> period_bound("2001-02-03", "start").isoformat()
    '2001-02-03T00:00:00+00:00'
    """
    if text is None or not text.strip():
        return None
    text = text.strip()
    if len(text) == 10:
        try:
            day = date.fromisoformat(text)
        except ValueError as exc:
            raise InvalidInput(field, f"{text!r} is not a date (YYYY-MM-DD)") from exc
        return datetime.combine(day, time(), tzinfo=UTC)
    return parse_time(text, field)


def period(
    datastream: Datastream, start: datetime | None, end: datetime | None
) -> tuple[datetime, datetime]:
    """[start, end) asked for, each bound defaulting to the Datastream's phenomenon extent
    (its last observation included); InvalidInput when end is not after start."""
    extent: TimeInterval | None = datastream.phenomenon_time
    lo = require_aware(start, "start") if start else (extent.start if extent else None)
    hi = require_aware(end, "end") if end else (extent.end + _ONE if extent else None)
    if lo is None or hi is None:  # no observations yet: an empty day
        lo = lo or (hi - timedelta(days=1) if hi else datetime(1970, 1, 1, tzinfo=UTC))
        hi = hi or lo + timedelta(days=1)
    if hi <= lo:
        raise InvalidInput("end", f"{iso(hi)} is not after start {iso(lo)}")
    return lo, hi


def _number(result: object) -> float | None:
    if isinstance(result, bool) or not isinstance(result, int | float):
        return None
    return float(result)


def _instant(o: Observation) -> datetime:
    t = o.phenomenon_time
    return t.start if isinstance(t, TimeInterval) else t


def plot_series(
    store: InsituStore,
    datastream_id: int,
    start: datetime | None,
    end: datetime | None,
    width: int,
    *,
    hidden: Set[str],
) -> PlotSeries:
    """The points to draw a visible Datastream over [start, end) ``width`` pixels wide: every
    observation when fewer than ``2 × width``, else the min and max of each pixel's bucket."""
    if not 1 <= width <= MAX_WIDTH:
        raise InvalidInput("width", f"must be between 1 and {MAX_WIDTH} pixels")
    stream = store.get_datastream(datastream_id, hidden=hidden)
    lo, hi = period(stream, start, end)
    page = store.window(datastream_id, lo, hi, limit=2 * width, hidden=hidden)
    if page.next is None:
        points = [(_instant(o), _number(o.result)) for o in page.observations]
        decimated = False
    else:
        buckets = store.decimated(datastream_id, lo, hi, width, hidden=hidden)
        points = [(t, v) for b in buckets for t, v in b.extremes()]
        decimated = True
    return PlotSeries(
        datastream_id=datastream_id, start=lo, end=hi, width=width, decimated=decimated,
        times=tuple(t for t, _ in points), values=tuple(v for _, v in points),
    )  # fmt: skip


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value)


def csv_lines(
    store: InsituStore,
    datastream_id: int,
    start: datetime | None,
    end: datetime | None,
    *,
    hidden: Set[str],
) -> Iterator[str]:
    """A visible Datastream's observations over [start, end) as CSV text, a page at a time:
    ``phenomenonTime`` (an instant, or ``start/end``), ``result``, ``resultQuality``.

    The Datastream's visibility and the period are checked before the first line is given.
    """
    stream = store.get_datastream(datastream_id, hidden=hidden)
    lo, hi = period(stream, start, end)
    return _csv(store, stream, lo, hi, hidden)


def _csv(
    store: InsituStore, stream: Datastream, lo: datetime, hi: datetime, hidden: Set[str]
) -> Iterator[str]:
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\n")
    unit = stream.unit.symbol or stream.unit.name
    out.writerow(["phenomenonTime", f"result ({unit})" if unit else "result", "resultQuality"])
    after = None
    assert stream.id is not None
    while True:
        page = store.window(stream.id, lo, hi, limit=CSV_PAGE, after=after, hidden=hidden)
        for o in page.observations:
            t = o.phenomenon_time
            when = t.to_json() if isinstance(t, TimeInterval) else iso(t)
            out.writerow([when, _cell(o.result), _cell(o.result_quality)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if page.next is None:
            return
        after = page.next
