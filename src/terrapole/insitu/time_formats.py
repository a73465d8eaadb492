"""strptime formats read in bulk: a table's times as microseconds since 1970 UTC.

``datetime.strptime`` costs several microseconds a call, more than the rest of an import's
work on a row. A format made of ``%Y %m %d %H %M %S`` and literal text is compiled once into
a regular expression with strptime's own patterns for those fields, and each text becomes
microseconds through a per-day cache; the zone is applied exactly (a fixed offset added, or a
zone with daylight saving through an aware datetime). Any other format — or a text the fast
reading refuses — is left to the caller's strptime path, which words the error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from terrapole.insitu.times import EPOCH

_ONE_US = timedelta(microseconds=1)
_DAY_US = 86_400_000_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# the patterns CPython's _strptime uses for these directives (so both accept the same texts)
_FIELDS = {
    "Y": r"(\d\d\d\d)",
    "m": r"(1[0-2]|0[1-9]|[1-9])",
    "d": r"(3[01]|[12]\d|0[1-9]|[1-9]| [1-9])",
    "H": r"(2[0-3]|[0-1]\d|\d)",
    "M": r"([0-5]\d|\d)",
    "S": r"(6[0-1]|[0-5]\d|\d)",
}
_FIXED_ZONES = frozenset(
    {"UTC", "Etc/UTC", "GMT", "Etc/GMT", "UCT", "Etc/UCT", "Universal", "Etc/Universal",
     "Zulu", "Etc/Zulu", "Etc/GMT0", "Etc/GMT+0", "Etc/GMT-0", "GMT0", "GMT+0", "GMT-0"}
)  # fmt: skip
_ETC_OFFSET = re.compile(r"^Etc/GMT([+-]\d{1,2})$")

Reader = Callable[[str], tuple[int, int] | None]
"""Text → (phenomenon start, end) in microseconds, or None where strptime must decide."""


def _pattern(fmt: str) -> tuple[re.Pattern[str], tuple[str, ...]] | None:
    """The regular expression of ``fmt`` and the order of its fields, or None when ``fmt``
    uses a directive other than %Y %m %d %H %M %S (or repeats one)."""
    out: list[str] = []
    order: list[str] = []
    i = 0
    while i < len(fmt):
        char = fmt[i]
        if char == "%":
            code = fmt[i + 1 : i + 2]
            if code == "%":
                out.append("%")
            elif code in _FIELDS and code not in order:
                out.append(_FIELDS[code])
                order.append(code)
            else:
                return None
            i += 2
            continue
        out.append(r"\s+" if char.isspace() else re.escape(char))
        i += 1
    if not {"Y", "m", "d"} <= set(order):
        return None
    return re.compile("".join(out), re.IGNORECASE), tuple(order)


def fixed_offset(zone: tzinfo) -> int | None:
    """The UTC offset of ``zone`` in microseconds when it never changes (UTC, a fixed
    offset, ``Etc/GMT±N``), else None."""
    if isinstance(zone, timezone):
        offset = zone.utcoffset(None)
        return offset // _ONE_US
    if isinstance(zone, ZoneInfo):
        if zone.key in _FIXED_ZONES:
            return 0
        found = _ETC_OFFSET.match(zone.key)
        if found is not None:  # POSIX sign: Etc/GMT+5 is five hours behind UTC
            return -int(found.group(1)) * 3_600_000_000
    return None


def _day(year: str, month: str, day: str) -> int:
    """Microseconds from 1970 to the day's UTC midnight (ValueError for a day that is not)."""
    return (date(int(year), int(month), int(day)).toordinal() - _EPOCH_ORDINAL) * _DAY_US


@dataclass(frozen=True)
class _Layout:
    """Where a compiled format's fields are among its match groups (None: absent)."""

    pattern: re.Pattern[str]
    year: int
    month: int
    day: int
    hour: int | None
    minute: int | None
    second: int | None

    def clock(self, parts: tuple[str, ...]) -> tuple[int, int, int]:
        """Hours, minutes and seconds of a match's groups (0 where absent)."""
        return (
            0 if self.hour is None else int(parts[self.hour]),
            0 if self.minute is None else int(parts[self.minute]),
            0 if self.second is None else int(parts[self.second]),
        )


def _fixed(layout: _Layout, offset: int, span: int | None) -> Reader:
    """A reader at a fixed UTC offset: days and clock times cached, no datetime built."""
    match = layout.pattern.fullmatch
    date_of = itemgetter(layout.year, layout.month, layout.day)
    present = [n for n in (layout.hour, layout.minute, layout.second) if n is not None]
    clock_of = itemgetter(*present) if present else None
    days: dict[tuple[str, str, str], int] = {}
    clocks: dict[Any, int] = {}

    def read(text: str) -> tuple[int, int] | None:
        found = match(text)
        if found is None:
            return None
        parts = found.groups()
        key = date_of(parts)
        start = days.get(key)
        if start is None:
            try:
                start = days[key] = _day(*key) - offset
            except ValueError:
                return None
        if clock_of is not None:
            key = clock_of(parts)
            seconds = clocks.get(key)
            if seconds is None:
                h, m, s = layout.clock(parts)
                if s > 59:
                    return None  # a leap second: strptime's error
                seconds = clocks[key] = ((h * 60 + m) * 60 + s) * 1_000_000
            start += seconds
        return start, start if span is None else start + span

    return read


def _zoned(layout: _Layout, zone: tzinfo, period: timedelta | None) -> Reader:
    """A reader at a zone with daylight saving: an aware datetime per text."""
    match = layout.pattern.fullmatch

    def read(text: str) -> tuple[int, int] | None:
        found = match(text)
        if found is None:
            return None
        parts = found.groups()
        try:
            day = (int(parts[layout.year]), int(parts[layout.month]), int(parts[layout.day]))
            when = datetime(*day, *layout.clock(parts), tzinfo=zone)
        except ValueError:
            return None
        start = (when - EPOCH) // _ONE_US
        if period is None:
            return start, start
        return start, (when + period - EPOCH) // _ONE_US

    return read


def reader(fmt: str, zone: tzinfo, period: timedelta | None) -> Reader | None:
    """A bulk reader of times in ``fmt`` at ``zone`` (an interval ``period`` long when
    given), or None when ``fmt`` is not one it can read.

    >>> reader("%Y-%m-%dT%H:%M", ZoneInfo("UTC"), None)("1970-01-02T00:01")
    (86460000000, 86460000000)
    """
    compiled = _pattern(fmt)
    if compiled is None:
        return None
    pattern, order = compiled
    where = {code: order.index(code) for code in order}
    layout = _Layout(
        pattern, where["Y"], where["m"], where["d"], where.get("H"), where.get("M"), where.get("S")
    )
    offset = fixed_offset(zone)
    if offset is None:
        return _zoned(layout, zone, period)
    return _fixed(layout, offset, None if period is None else period // _ONE_US)
