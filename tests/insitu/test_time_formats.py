"""The bulk time readers give what strptime and the zone give (fixed offsets, a zone with
daylight saving across its changes, periods), and leave to strptime what it would refuse."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from terrapole.insitu.time_formats import fixed_offset, reader
from terrapole.insitu.times import to_micros

NEW_YORK = ZoneInfo("America/New_York")


def _strptime(
    text: str, fmt: str, zone: timezone | ZoneInfo, period: timedelta | None
) -> tuple[int, int]:
    value = datetime.strptime(text, fmt).replace(tzinfo=zone)
    return to_micros(value), to_micros(value + period if period else value)


@pytest.mark.parametrize(
    ("fmt", "texts"),
    [
        ("%Y-%m-%dT%H:%M", ["2010-01-01T00:00", "2016-02-29T23:59", "1950-07-04T5:7"]),
        (
            "%Y-%m-%d %H:%M:%S",
            ["2021-03-14 01:59:59", "2021-03-14 03:00:00", "1969-12-31 23:59:59"],
        ),
        ("%d/%m/%Y", ["1/2/2003", "31/12/1899", "29/02/2000"]),
        ("%Y%m%d%H", ["2021110701", "2021110702", "1999010100"]),
        ("%Y-%m-%d", ["2000-01-03", "2021-11-07"]),
    ],
)
@pytest.mark.parametrize(
    "zone", [ZoneInfo("UTC"), timezone(timedelta(hours=-5)), ZoneInfo("Etc/GMT+5"), NEW_YORK]
)
@pytest.mark.parametrize("period", [None, timedelta(days=1), timedelta(minutes=15)])
def test_reader_equals_strptime_at_the_zone(
    fmt: str, texts: list[str], zone: timezone | ZoneInfo, period: timedelta | None
) -> None:
    read = reader(fmt, zone, period)
    assert read is not None
    for text in texts:
        assert read(text) == _strptime(text, fmt, zone, period), text


@pytest.mark.parametrize(
    "text", ["2010-02-30T00:00", "2010-13-01T00:00", "2010-01-01T24:00", "2010-01-01", "x"]
)
@pytest.mark.parametrize("zone", [ZoneInfo("UTC"), NEW_YORK])
def test_a_text_strptime_refuses_is_left_to_it(text: str, zone: ZoneInfo) -> None:
    read = reader("%Y-%m-%dT%H:%M", zone, None)
    assert read is not None and read(text) is None
    with pytest.raises(ValueError):
        datetime.strptime(text, "%Y-%m-%dT%H:%M")


def test_a_leap_second_is_left_to_strptime() -> None:
    read = reader("%Y-%m-%d %H:%M:%S", ZoneInfo("UTC"), None)
    assert read is not None and read("2016-12-31 23:59:60") is None


@pytest.mark.parametrize("fmt", ["%Y-%m-%dT%H:%M%z", "%d %b %Y", "%j/%Y", "%H:%M", "%Y-%m-%d %Y"])
def test_other_formats_have_no_bulk_reader(fmt: str) -> None:
    assert reader(fmt, ZoneInfo("UTC"), None) is None


def test_fixed_offsets() -> None:
    assert fixed_offset(ZoneInfo("Etc/GMT-2")) == 2 * 3_600_000_000
    assert fixed_offset(timezone(timedelta(hours=5, minutes=30))) == 19_800_000_000
    assert fixed_offset(ZoneInfo("UTC")) == 0
    assert fixed_offset(NEW_YORK) is None
