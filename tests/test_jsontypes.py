"""The one timestamp format of JSON documents: RFC 3339 in UTC with a Z, at a chosen precision."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from terrapole.jsontypes import utc_iso

MOMENT = datetime(2018, 8, 26, 10, 41, 55, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("timespec", "text"),
    [
        ("auto", "2018-08-26T10:41:55.123456Z"),
        ("seconds", "2018-08-26T10:41:55Z"),
        ("microseconds", "2018-08-26T10:41:55.123456Z"),
    ],
)
def test_an_aware_instant_is_written_in_utc_with_a_z(timespec: str, text: str) -> None:
    assert utc_iso(MOMENT, timespec=timespec) == text  # type: ignore[arg-type]


def test_another_offset_is_converted_to_utc() -> None:
    paris = MOMENT.astimezone(timezone(timedelta(hours=2)))
    assert utc_iso(paris, timespec="seconds") == "2018-08-26T10:41:55Z"


def test_a_naive_datetime_is_taken_as_utc_whatever_the_local_zone() -> None:
    assert utc_iso(datetime(2018, 1, 1), timespec="microseconds") == "2018-01-01T00:00:00.000000Z"
    assert utc_iso(datetime(2018, 1, 1)) == "2018-01-01T00:00:00Z"  # auto: no zero microseconds


def test_microseconds_keep_a_fixed_width_so_text_order_is_time_order() -> None:
    moments = [MOMENT.replace(microsecond=0), MOMENT, MOMENT + timedelta(seconds=1)]
    texts = [utc_iso(m, timespec="microseconds") for m in moments]
    assert len({len(t) for t in texts}) == 1 and texts == sorted(texts)


def test_an_unset_timestamp_stays_unset() -> None:
    assert utc_iso(None) is None


def test_the_alias_and_the_formatter_are_defined_once() -> None:
    """Issue 19 found Json defined 18 times and _iso 6: one definition each, imported."""
    src = Path(__file__).resolve().parents[1] / "src" / "terrapole"
    aliases = re.compile(r"^Json\s*(:\s*TypeAlias\s*)?=", re.M)
    formatters = re.compile(r"^\s*def _iso\(|\.strftime\(\"%Y-%m-%dT", re.M)
    defining = [p.name for p in src.rglob("*.py") if aliases.search(p.read_text())]
    formatting = [p.name for p in src.rglob("*.py") if formatters.search(p.read_text())]
    assert defining == ["jsontypes.py"]
    assert set(formatting) <= {"timeutil.py", "pgstac.py"}  # the stores' fixed-width parse/compare
