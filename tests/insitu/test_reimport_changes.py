"""A re-imported file that changes stored values, or repeats a time, says so (review 22,
finding 11): the changed row is a bad row naming the stored and the file's value, not
"already present"; a time repeated within one file is a bad row naming both lines. On SQLite
and PostgreSQL, through both ways of reading a CSV (column by column for plain lines, row by
row otherwise)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from terrapole.insitu import NOTHING_HIDDEN, InsituStore
from terrapole.insitu.mapping import Mapping, parse_mapping
from terrapole.insitu.tabular import import_table


@pytest.fixture
def store(database_url: str) -> Iterator[InsituStore]:
    opened = InsituStore.open(database_url)
    yield opened
    opened.close()


def _mapping() -> Mapping:
    return parse_mapping(
        {
            "source": {"format": "csv"},
            "producer": {"identifier": "T", "name": "T"},
            "dataset": {"identifier": "T", "title": "T"},
            "sensor": {"name": "s"},
            "station": {"id": "x"},
            "time": {"columns": ["date"], "format": "%Y-%m-%d", "zone": "UTC"},
            "series": [{"column": "head", "property": "h", "definition": "urn:h", "unit": "m"}],
        },
        Path("."),
    )


def _csv(tmp_path: Path, rows: list[str], *, quoted: bool) -> Path:
    """A CSV file of ``date,head`` rows; ``quoted`` quotes the dates (read row by row)."""
    if quoted:
        rows = [f'"{r.split(",")[0]}",{r.split(",")[1]}' for r in rows]
    path = tmp_path / f"heads-{len(list(tmp_path.iterdir()))}.csv"
    path.write_text("date,head\n" + "\n".join(rows) + "\n")
    return path


def _stored(store: InsituStore, ds_id: int) -> list[object]:
    start, end = datetime(2020, 1, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC)
    page = store.window(ds_id, start, end, limit=10, hidden=NOTHING_HIDDEN)
    return [o.result for o in page.observations]


ROWS = ["2020-01-01,1.0", "2020-01-02,2.0", "2020-01-03,3.0"]


@pytest.mark.parametrize("quoted", [False, True], ids=["by-columns", "by-rows"])
def test_a_changed_value_is_a_bad_row_naming_both_values(
    store: InsituStore, tmp_path: Path, quoted: bool
) -> None:
    first = import_table(store, _csv(tmp_path, ROWS, quoted=quoted), _mapping())
    assert (first.inserted, first.problem_count) == (3, 0)
    changed = [ROWS[0], "2020-01-02,2.5", ROWS[2], "2020-01-04,4.0"]
    again = import_table(store, _csv(tmp_path, changed, quoted=quoted), _mapping())
    assert (again.inserted, again.duplicates, again.problem_count) == (1, 2, 1)
    assert [str(p) for p in again.problems] == [
        "line 3: 2020-01-02T00:00:00Z differs from the stored value 2.0 (file: 2.5)"
    ]
    (ds_id,) = again.datastreams
    assert _stored(store, ds_id) == [1.0, 2.0, 3.0, 4.0]  # the stored value is kept
    same = import_table(store, _csv(tmp_path, ROWS, quoted=quoted), _mapping())
    assert (same.inserted, same.duplicates, same.problem_count) == (0, 3, 0)


@pytest.mark.parametrize("quoted", [False, True], ids=["by-columns", "by-rows"])
def test_a_time_repeated_in_one_file_is_a_bad_row_naming_both_lines(
    store: InsituStore, tmp_path: Path, quoted: bool
) -> None:
    rows = [*ROWS, "2020-01-02,9.0"]
    report = import_table(store, _csv(tmp_path, rows, quoted=quoted), _mapping())
    assert (report.inserted, report.duplicates) == (3, 0)
    assert [str(p) for p in report.problems] == [
        "line 5: 2020-01-02T00:00:00Z repeats line 3 (the row of line 3 is kept)"
    ]
    (ds_id,) = report.datastreams
    assert _stored(store, ds_id) == [1.0, 2.0, 3.0]
