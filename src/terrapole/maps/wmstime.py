"""The WMS TIME dimension: the values a layer advertises and the ranges a GetMap asks for.

A layer's time values are the UTC days of its items (``2018-08-26``). TIME (WMS 1.3.0 Annex C
and D) is a comma-separated list of values, each an instant, a ``start/end[/period]`` interval
or ``current`` (the layer's latest day). An instant selects the day it falls on, as the layer
advertises days: QGIS's temporal controller asks ``2018-08-26T00:00:00Z`` for that day's
scene, taken at 10:41. A time without a zone is read as UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from terrapole.catalog.model import TimeRange
from terrapole.catalog.timeutil import normalise
from terrapole.errors import InvalidInput
from terrapole.jsontypes import Json


class InvalidTime(ValueError):
    """A TIME value that is not an instant, an interval or ``current``."""

    def __init__(self, value: str, reason: str) -> None:
        super().__init__(f"TIME {value!r}: {reason}")
        self.value, self.reason = value, reason


@dataclass(frozen=True)
class TimeSelection:
    """The ranges a TIME parameter selects (closed, normalised UTC text)."""

    ranges: tuple[TimeRange, ...]

    def enclosing(self) -> TimeRange:
        """One range holding every selected range (what the catalogue is searched with)."""
        starts = [r.start for r in self.ranges]
        ends = [r.end for r in self.ranges]
        return TimeRange(
            None if None in starts else min(s for s in starts if s is not None),
            None if None in ends else max(e for e in ends if e is not None),
        )

    def holds(self, item: Json) -> bool:
        """Whether the item's time is selected: its datetime, or its start/end range overlaps."""
        props = item.get("properties", {})
        start = props.get("start_datetime") or props.get("datetime")
        end = props.get("end_datetime") or props.get("datetime")
        if not start or not end:
            return False
        first, last = normalise(str(start)), normalise(str(end))
        return any(
            (r.start is None or r.start <= last) and (r.end is None or first <= r.end)
            for r in self.ranges
        )


def _instant(text: str, *, end_of_day: bool = False) -> str:
    """An ISO 8601 time in normalised UTC text; a date alone, or no zone, is read as UTC."""
    value = text.strip()
    if "T" in value and not value.upper().endswith("Z") and "+" not in value[10:] \
            and "-" not in value[10:]:  # fmt: skip
        value += "Z"
    try:
        return normalise(value, field="TIME", end_of_day=end_of_day)
    except InvalidInput as exc:
        raise InvalidTime(text, "not an ISO 8601 date or time") from exc


def _day(instant: str) -> TimeRange:
    """The UTC day of a normalised instant."""
    day = instant[:10]
    return TimeRange(_instant(day), _instant(day, end_of_day=True))


def _value(text: str, latest: str | None) -> TimeRange:
    part = text.strip()
    if part.lower() == "current":
        if latest is None:
            raise InvalidTime(text, "the layer has no dated items")
        return _day(_instant(latest))
    if "/" in part:
        bounds = part.split("/")
        if len(bounds) not in (2, 3) or not bounds[0].strip() or not bounds[1].strip():
            raise InvalidTime(text, "an interval is start/end or start/end/period")
        start, end = _instant(bounds[0]), _instant(bounds[1], end_of_day=True)
        if start > end:
            raise InvalidTime(text, "it starts after it ends")
        return TimeRange(start, end)  # a period (/P1D) adds nothing: every day in it is drawn
    return _day(_instant(part))


def parse_time(value: str, latest: str | None) -> TimeSelection:
    """The ranges a TIME parameter selects; ``latest`` is the layer's latest item datetime."""
    parts = [p for p in value.split(",") if p.strip()]
    if not parts:
        raise InvalidTime(value, "no value")
    return TimeSelection(tuple(_value(p, latest) for p in parts))


def advertised(days: Sequence[str]) -> tuple[str, str]:
    """The Dimension's extent (the days, comma-separated) and default for sorted ``days``.

    The default is the interval of all the days: a GetMap without TIME draws the least cloudy
    pixels of every date, so that is what the default must say it draws.
    """
    extent = ",".join(days)
    default = days[-1] if len(days) == 1 else f"{days[0]}/{days[-1]}"
    return extent, default
