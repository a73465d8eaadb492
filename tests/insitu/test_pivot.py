"""Pivot documents: schema validation with every violation's JSON path, import of a real
series (idempotent), nothing written on a bad document, export that validates again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from terrapole.errors import InvalidInput
from terrapole.insitu import NOTHING_HIDDEN, InsituStore, TimeInterval
from terrapole.insitu.pivot import PivotInvalid, import_pivot, load_document, schema_violations
from terrapole.insitu.pivot_export import export_csv, export_pivot

FIXTURE = Path(__file__).parents[1] / "data" / "insitu" / "pivot_camels"
DOCUMENT = FIXTURE / "camels_01022500_pivot.json"
DATA = FIXTURE / "CAMU_OBS_01022500_Q.csv"


@pytest.fixture
def store(database_url: str) -> Iterator[InsituStore]:
    """An empty in-situ store."""
    opened = InsituStore.open(database_url)
    yield opened
    opened.close()


def _document() -> dict[str, Any]:
    return json.loads(DOCUMENT.read_text())


def test_the_fixture_validates_and_imports_the_whole_series(store: InsituStore) -> None:
    assert schema_violations(_document()) == []
    values = [line.split(";")[5] for line in DATA.read_text().splitlines()[1:]]
    report = import_pivot(store, _document(), FIXTURE)
    assert report.inserted == sum(1 for v in values if v and v != "-999") == 1096
    (ds_id,) = report.datastreams
    ds = store.get_datastream(ds_id, hidden=NOTHING_HIDDEN)
    assert ds.unit.symbol == "ft³/s"
    prop = store.get_observed_property(ds.observed_property_id)
    assert prop.definition == "https://w3id.org/ozcar-theia/hydrologicalMeasurements"
    assert prop.categories == ("https://w3id.org/ozcar-theia/hydrologicalMeasurements",)
    (dataset,) = store.datasets(hidden=NOTHING_HIDDEN)
    assert (dataset.identifier, dataset.licence) == ("CAMU_DAT_streamflow", "Public domain")
    start = datetime(2000, 1, 3, 5, tzinfo=UTC)
    page = store.window(ds_id, start, start + timedelta(hours=1), limit=5, hidden=NOTHING_HIDDEN)
    (o,) = page.observations
    assert (o.phenomenon_time, o.result, o.result_quality) == (
        TimeInterval(start, start + timedelta(days=1)),
        337.0,
        "A",
    )
    again = import_pivot(store, _document(), FIXTURE)
    assert (again.inserted, again.duplicates) == (0, 1096)
    assert len(store.things(hidden=NOTHING_HIDDEN)) == 1


def test_a_bad_document_lists_every_violation_and_writes_nothing(store: InsituStore) -> None:
    doc = _document()
    del doc["producer"]["contacts"]
    doc["datasets"][0]["datasetId"] = "camels"
    observation = doc["datasets"][0]["observations"][0]
    observation["dataType"] = "Number"
    del observation["temporalExtent"]["dateEnd"]
    with pytest.raises(PivotInvalid) as refused:
        import_pivot(store, doc, FIXTURE)
    paths = sorted(v.path for v in refused.value.violations)
    assert paths == [
        "$.datasets[0].datasetId",
        "$.datasets[0].observations[0].dataType",
        "$.datasets[0].observations[0].temporalExtent",
        "$.producer",
    ]
    assert "4 violation(s)" in refused.value.message
    assert store.datasets(hidden=NOTHING_HIDDEN) == []


def test_unknown_units_and_bad_data_rows_are_violations_too(
    store: InsituStore, tmp_path: Path
) -> None:
    lines = DATA.read_text().splitlines()
    lines[3] = lines[3].replace("T00:00:00-05:00", "T00:00:00", 1)  # line 4: no zone
    lines[6] = lines[6].replace(";A", ";A;extra")  # line 7: 8 fields
    (tmp_path / DATA.name).write_text("\n".join(lines) + "\n")
    doc = _document()
    doc["datasets"][0]["observations"][0]["observedProperty"]["unit"] = "furlong/fortnight"
    with pytest.raises(PivotInvalid) as refused:
        import_pivot(store, doc, tmp_path)
    messages = [str(v) for v in refused.value.violations]
    assert len(messages) == 3
    assert "observedProperty.unit: unknown unit 'furlong/fortnight'" in messages[0]
    assert "line 4" in messages[1] and "no time zone" in messages[1]
    assert "line 7" in messages[2]
    assert store.datasets(hidden=NOTHING_HIDDEN) == []


def test_export_validates_and_imports_back_identically(store: InsituStore, tmp_path: Path) -> None:
    report = import_pivot(store, _document(), FIXTURE)
    (dataset_id,) = report.datasets
    out = tmp_path / "export" / "doc.json"
    out.parent.mkdir()
    doc = export_pivot(store, dataset_id, out)
    assert schema_violations(load_document(out)) == [] and doc == load_document(out)
    exported = out.parent / "CAMU_OBS_01022500_Q.csv"
    assert len(exported.read_text().splitlines()) == 1 + 1096

    again = import_pivot(store, load_document(out), out.parent)
    assert (again.inserted, again.duplicates) == (0, 1096)  # the same series, nothing new

    rows = export_csv(store, tmp_path / "ds.csv", dataset_id=dataset_id)
    header, first = (tmp_path / "ds.csv").read_text().splitlines()[:2]
    assert rows == 1096
    assert header == "datastream,phenomenonTimeStart,phenomenonTimeEnd,value,flags,unit"
    assert first.endswith(",2000-01-01T05:00:00Z,2000-01-02T05:00:00Z,255.0,A:e,ft³/s")


def test_a_dataset_without_pivot_metadata_is_refused_by_name(
    store: InsituStore, tmp_path: Path
) -> None:
    import_pivot(store, _document(), FIXTURE)
    (dataset,) = store.datasets(hidden=NOTHING_HIDDEN)
    store.update_dataset(replace(dataset, properties={}))  # metadata lost
    with pytest.raises(PivotInvalid, match=r"\$\.datasets\[0\]\.metadata"):
        export_pivot(store, dataset.id or 0, tmp_path / "out" / "doc.json")
    assert not (tmp_path / "out").exists()


def test_not_json_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{ nope")
    with pytest.raises(InvalidInput, match="not JSON"):
        load_document(bad)
