"""Times of the in-situ pillar: timezone-aware UTC outside, integer microseconds inside.

Every time column of the ``tp_sta_`` tables holds microseconds since 1970-01-01T00:00:00Z in a
BIGINT: the same on SQLite (which has no time-zone type) and PostgreSQL, cheap to insert by the
million, exact (no float rounding), and a decimation bucket is an integer division. A naive
time (no zone) is refused, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from terrapole.errors import InvalidInput
from terrapole.jsontypes import utc_iso

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def require_aware(value: datetime, field: str) -> datetime:
    """``value`` in UTC; InvalidInput naming ``field`` for a naive time or a non-datetime."""
    if not isinstance(value, datetime):
        raise InvalidInput(field, f"expected a date-time, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(field, f"{value.isoformat()} has no time zone (give Z or an offset)")
    return value.astimezone(UTC)


def to_micros(value: datetime, field: str = "time") -> int:
    """Microseconds since the epoch of an aware ``value`` (InvalidInput if naive).

    >>> to_micros(datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC))
    1000000
    """
    if value.tzinfo is None:
        raise InvalidInput(field, f"{value.isoformat()} has no time zone (give Z or an offset)")
    return (value - EPOCH) // _MICROSECOND


def from_micros(value: int) -> datetime:
    """The UTC time of ``value`` microseconds since the epoch."""
    return EPOCH + timedelta(microseconds=value)


def optional_micros(value: datetime | None, field: str = "time") -> int | None:
    """:func:`to_micros`, None for None."""
    return None if value is None else to_micros(value, field)


def optional_time(value: int | None) -> datetime | None:
    """:func:`from_micros`, None for None."""
    return None if value is None else from_micros(value)


def iso(value: datetime) -> str:
    """ISO 8601 in UTC with ``Z`` (SensorThings' time strings)."""
    return utc_iso(value)


_NAIVE_EPOCH = datetime(1970, 1, 1)


def micros_iso(micros: int) -> str:
    """What :func:`iso` writes for a stored time, without building an aware datetime and
    converting it to UTC (it is UTC already): the fast path of a page of observations."""
    return (_NAIVE_EPOCH + timedelta(microseconds=micros)).isoformat() + "Z"


def parse_time(text: object, field: str) -> datetime:
    """An aware datetime from an ISO 8601 string (``Z`` or an offset required)."""
    if isinstance(text, datetime):
        return require_aware(text, field)
    if not isinstance(text, str):
        raise InvalidInput(field, "expected an ISO 8601 date-time string")
    try:
        value = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError as exc:
        raise InvalidInput(field, f"{text!r} is not an ISO 8601 date-time") from exc
    return require_aware(value, field)


@dataclass(frozen=True)
class TimeInterval:
    """A closed time interval ``start/end`` (SensorThings' TM_Period)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", require_aware(self.start, "interval start"))
        object.__setattr__(self, "end", require_aware(self.end, "interval end"))
        if self.end < self.start:
            raise InvalidInput("interval", f"end {iso(self.end)} is before start {iso(self.start)}")

    def to_json(self) -> str:
        """``start/end`` in ISO 8601."""
        return f"{iso(self.start)}/{iso(self.end)}"

    @classmethod
    def parse(cls, text: object, field: str) -> TimeInterval:
        """An interval from ``start/end`` (InvalidInput naming ``field`` otherwise)."""
        if not isinstance(text, str) or text.count("/") != 1:
            raise InvalidInput(field, "expected an ISO 8601 interval 'start/end'")
        start, end = text.split("/")
        return cls(parse_time(start, field), parse_time(end, field))


TimeLike = datetime | TimeInterval
"""An instant or an interval (phenomenonTime, validTime)."""


def parse_time_or_interval(text: object, field: str) -> TimeLike:
    """An instant, or an interval when ``text`` holds a ``/``."""
    if isinstance(text, str) and "/" in text:
        return TimeInterval.parse(text, field)
    return parse_time(text, field)


def time_json(value: TimeLike | None) -> str | None:
    """The SensorThings JSON of an instant or interval (None stays None)."""
    if value is None:
        return None
    return value.to_json() if isinstance(value, TimeInterval) else iso(value)
