"""Datetime parsing and normalisation shared by both stores and the API edge.

Datetimes are stored and compared as fixed-width UTC text (``2020-01-02T03:04:05.000000Z``) so
that lexical order is time order in SQLite and the same literal works in PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

from terrapole.catalog.model import TimeRange
from terrapole.errors import InvalidInput

_OPEN = {"", "..", None}


def normalise(value: str, *, field: str = "datetime", end_of_day: bool = False) -> str:
    """Parse an RFC 3339 datetime (or a bare date) and return fixed-width UTC text."""
    text = value.strip()
    try:
        if len(text) == 10:
            parsed = datetime.fromisoformat(text).replace(tzinfo=UTC)
            if end_of_day:
                parsed = parsed.replace(hour=23, minute=59, second=59, microsecond=999999)
        else:
            parsed = datetime.fromisoformat(text.replace("z", "Z"))
            if parsed.tzinfo is None:
                raise ValueError("a time zone is required (e.g. a trailing Z)")
    except ValueError as exc:
        raise InvalidInput(field, f"{value!r} is not an RFC 3339 datetime ({exc})") from exc
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_interval(value: str | None, *, field: str = "datetime") -> TimeRange | None:
    """Parse a STAC API ``datetime`` parameter: a single instant or ``start/end`` with ``..``."""
    if value is None or value.strip() == "":
        return None
    parts = value.split("/")
    if len(parts) == 1:
        instant = normalise(parts[0], field=field)
        if len(parts[0].strip()) == 10:
            return TimeRange(instant, normalise(parts[0], field=field, end_of_day=True))
        return TimeRange(instant, instant)
    if len(parts) != 2:
        raise InvalidInput(field, f"{value!r} must be one datetime or start/end")
    start = None if parts[0].strip() in _OPEN else normalise(parts[0], field=field)
    end = None if parts[1].strip() in _OPEN else normalise(parts[1], field=field, end_of_day=True)
    if start is None and end is None:
        raise InvalidInput(field, f"{value!r} has two open ends")
    if start is not None and end is not None and start > end:
        raise InvalidInput(field, f"{value!r} starts after it ends")
    return TimeRange(start, end)


def to_rfc3339(range_: TimeRange) -> str:
    """Format a range back to the STAC API interval syntax."""
    return f"{range_.start or '..'}/{range_.end or '..'}"
