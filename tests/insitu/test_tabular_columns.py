"""The column-by-column reading of a plain CSV file gives exactly what the row-by-row reading
gives (times, values, missing values, flags, counts), and a file it cannot take whole — a bad
row, a quoted cell, a DST zone — still imports with its problems reported by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from terrapole.insitu import tabular
from terrapole.insitu.mapping import load_mapping

MAPPING = """
[source]
format = "csv"
[producer]
identifier = "P"
name = "producer"
[dataset]
identifier = "d"
title = "data"
[sensor]
name = "gauge"
[station]
id = "S1"
[time]
columns = ["time"]
format = "%Y-%m-%dT%H:%M"
zone = "{zone}"
{period}
[[series]]
column = "q"
property = "Discharge"
definition = "http://example/q"
unit = "m3/s"
flag_column = "flag"
missing = ["-999"]
[[series]]
column = "p"
property = "Precipitation"
definition = "http://example/p"
unit = "mm"
"""
LINES = [
    "time,q,flag,p",
    "2010-03-27T23:00,1.5,A,0",
    "2010-03-28T01:00,-999,M,0.2",
    "2010-03-28T02:00,2.25,,",
    "2010-03-28T03:00,1e3,A:e,7",
]


def _parse_both(tmp_path: Path, lines: list[str], zone: str, period: str,
                monkeypatch: pytest.MonkeyPatch) -> tuple[tabular.Parsed, tabular.Parsed]:  # fmt: skip
    (tmp_path / "m.toml").write_text(MAPPING.format(zone=zone, period=period))
    (tmp_path / "s.csv").write_text("\n".join(lines) + "\n")
    mapping = load_mapping(tmp_path / "m.toml")
    fast = tabular.parse_file(tmp_path / "s.csv", mapping)
    with monkeypatch.context() as m:
        m.setattr(tabular, "_by_columns", lambda *_: None)
        slow = tabular.parse_file(tmp_path / "s.csv", mapping)
    return fast, slow


@pytest.mark.parametrize("zone", ["UTC", "Etc/GMT-1", "Europe/Paris"])
@pytest.mark.parametrize("period", ["", 'period = "PT1H"'])
def test_columns_and_rows_read_a_plain_file_alike(
    tmp_path: Path, zone: str, period: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow = _parse_both(tmp_path, LINES, zone, period, monkeypatch)
    assert fast.rows == slow.rows and fast.stations == slow.stations
    assert fast.report == slow.report
    assert (fast.report.rows, fast.report.missing) == (4, 2)
    q = fast.rows["S1", 0]
    if zone == "Europe/Paris" and not period:
        # 02:00 does not exist that night in Paris: read as 01:00Z, the time of 03:00 CEST
        assert [str(p) for p in fast.report.problems] == [
            "line 5: 2010-03-28T01:00:00Z repeats line 4 (the row of line 4 is kept)"
        ]
        assert q.values == [1.5, 2.25] and q.flags == ["A", None]
        assert len(fast.rows["S1", 1]) == 3  # p is missing on line 4: no repeat there
        return
    assert fast.report.problem_count == 0
    assert q.values == [1.5, 2.25, 1000.0] and q.flags == ["A", None, "A:e"]
    assert len(fast.rows["S1", 1]) == 3


def test_a_file_with_a_bad_row_is_read_row_by_row_with_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [*LINES, "2010-02-30T00:00,1,A,1", "2010-03-29T00:00,x,A,1", '2010-03-29T01:00,"3",A,1']
    fast, slow = _parse_both(tmp_path, lines, "UTC", "", monkeypatch)
    assert fast.report == slow.report and fast.rows == slow.rows
    assert [str(p) for p in fast.report.problems] == [
        "line 6: time '2010-02-30T00:00' does not match %Y-%m-%dT%H:%M",
        "line 7: q: 'x' is not a number",
    ]
    assert fast.rows["S1", 0].values[-1] == 3.0  # the quoted cell, read by csv
