"""How values appear in the JSON documents terrapole reads and writes: objects and instants.

Part of the shared layer (beside ``config`` and ``errors``): every pillar and adapter builds
JSON documents, so the alias and the timestamp format live below them all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, overload

Json = dict[str, Any]
"""A decoded JSON object (a STAC item, a job's inputs, a request body, ...)."""

TimeSpec = Literal["auto", "seconds", "milliseconds", "microseconds"]


@overload
def utc_iso(moment: datetime, *, timespec: TimeSpec = "auto") -> str: ...
@overload
def utc_iso(moment: None, *, timespec: TimeSpec = "auto") -> None: ...
@overload
def utc_iso(moment: datetime | None, *, timespec: TimeSpec = "auto") -> str | None: ...
def utc_iso(moment: datetime | None, *, timespec: TimeSpec = "auto") -> str | None:
    """RFC 3339 text of an instant in UTC ending in ``Z``; a naive datetime is taken as UTC.

    ``timespec`` is :meth:`datetime.isoformat`'s: ``auto`` writes microseconds only when there
    are some. ``None`` (an unset timestamp) gives ``None``.

    Example:
        >>> utc_iso(datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC))
        '2020-01-02T03:04:05Z'
        >>> utc_iso(datetime(2020, 1, 2, 3, 4, 5), timespec="microseconds")
        '2020-01-02T03:04:05.000000Z'
    """
    if moment is None:
        return None
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")
