"""Tabular imports of the real series in the demo bundle (CAMELS US, pastas/KNMI, USGS NWIS):
counts equal a hand count of the source, units, a known value at a known time, flags,
idempotence, extended files, bad rows with their line numbers, zone-less times refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from terrapole.errors import InvalidInput
from terrapole.insitu import NOTHING_HIDDEN, InsituStore, TimeInterval
from terrapole.insitu.mapping import load_mapping, parse_mapping
from terrapole.insitu.tabular import import_table
from terrapole.insitu.units import unit_of

DEMO = Path(__file__).parents[2] / "demo" / "insitu"


@pytest.fixture
def store(database_url: str) -> Iterator[InsituStore]:
    """An empty in-situ store."""
    opened = InsituStore.open(database_url)
    yield opened
    opened.close()


def _first_on(store: InsituStore, ds_id: int, start: datetime) -> tuple[object, object, object]:
    page = store.window(ds_id, start, start + timedelta(seconds=1), limit=1, hidden=NOTHING_HIDDEN)
    assert len(page.observations) == 1
    o = page.observations[0]
    return o.phenomenon_time, o.result, o.result_quality


def test_camels_streamflow_counts_units_value_flags_and_reimport(store: InsituStore) -> None:
    source = DEMO / "camels_us" / "usgs_streamflow" / "01022500_streamflow_qc.txt"
    lines = source.read_text().splitlines()
    by_hand = sum(1 for line in lines if float(line.split()[4]) != -999)
    estimated = sum(1 for line in lines if line.split()[5] == "A:e")
    mapping = load_mapping(DEMO / "camels_us" / "streamflow.toml")

    report = import_table(store, source, mapping)

    assert report.inserted == by_hand == 1096
    assert report.problem_count == 0
    (ds_id,) = report.datastreams
    ds = store.get_datastream(ds_id, hidden=NOTHING_HIDDEN)
    assert ds.unit.symbol == "ft³/s"
    # 2000-01-03 is the local (US Eastern) day, stored as [05:00Z, next 05:00Z)
    start = datetime(2000, 1, 3, 5, tzinfo=UTC)
    assert _first_on(store, ds_id, start) == (
        TimeInterval(start, start + timedelta(days=1)),
        337.0,
        "A",
    )
    flagged = store.window(ds_id, datetime(2000, 1, 1, tzinfo=UTC), datetime(2004, 1, 1, tzinfo=UTC),
                           limit=2000, hidden=NOTHING_HIDDEN)  # fmt: skip
    assert sum(o.result_quality == "A:e" for o in flagged.observations) == estimated
    thing = store.get_thing(ds.thing_id, hidden=NOTHING_HIDDEN)
    assert thing.name == "Narraguagus River at Cherryfield, Maine"
    (place,) = store.locations_of(thing.id or 0, hidden=NOTHING_HIDDEN)
    assert place.location["coordinates"] == [-67.93524, 44.60797]

    again = import_table(store, source, mapping)
    assert (again.inserted, again.duplicates) == (0, 1096)


def test_an_extended_file_adds_only_its_new_rows(store: InsituStore, tmp_path: Path) -> None:
    source = (DEMO / "pastas_nl" / "rain_260.csv").read_text().splitlines()
    mapping = load_mapping(DEMO / "pastas_nl" / "rain_260.toml")
    first = tmp_path / "rain_260.csv"
    first.write_text("\n".join(source[:1001]) + "\n")
    assert import_table(store, first, mapping).inserted == 1000
    first.write_text("\n".join(source) + "\n")
    extended = import_table(store, first, mapping)
    assert (extended.inserted, extended.duplicates) == (len(source) - 1 - 1000, 1000)
    (ds_id,) = extended.datastreams
    start = datetime(1980, 1, 2, tzinfo=UTC)  # KNMI days are UT days
    when, value, _ = _first_on(store, ds_id, start)
    assert value == pytest.approx(5.8)
    assert store.get_datastream(ds_id, hidden=NOTHING_HIDDEN).unit.symbol == "mm/d"


def test_groundwater_heads_skip_the_empty_value(store: InsituStore) -> None:
    source = DEMO / "pastas_nl" / "B32C0609001.csv"
    rows = [line.split(",") for line in source.read_text().splitlines()[1:]]
    report = import_table(store, source, load_mapping(DEMO / "pastas_nl" / "b32c0609.toml"))
    assert report.inserted == sum(1 for _, v in rows if v) == 3221
    assert report.missing == sum(1 for _, v in rows if not v) == 1
    (ds_id,) = report.datastreams
    # 1981-02-19 local midnight in Amsterdam (CET) is 23:00Z the day before
    assert _first_on(store, ds_id, datetime(1981, 2, 18, 23, tzinfo=UTC))[1] == 1.35


def test_daymet_forcing_takes_its_station_from_the_file_name(store: InsituStore) -> None:
    source = DEMO / "camels_us" / "daymet_forcing" / "01547700_lump_cida_forcing_leap.txt"
    days = len(source.read_text().splitlines()) - 4  # 3 header lines and the column line
    report = import_table(store, source, load_mapping(DEMO / "camels_us" / "daymet.toml"))
    assert report.inserted == 7 * days
    things = store.things(hidden=NOTHING_HIDDEN)
    assert [(t.identifier, t.name) for t in things] == [
        ("01547700", "Marsh Creek at Blanchard, PA")
    ]


def test_nwis_water_quality_rdb(store: InsituStore) -> None:
    source = DEMO / "usgs_nwis" / "waterdata_qwdata_1990.txt"
    text = source.read_bytes().decode().split("\n")
    rows = [r.rstrip("\r").split("\t") for r in text if r.strip() and not r.startswith("#")]
    header, data = rows[0], rows[2:]
    columns = ("p00010", "p00061", "p00095", "p00300", "p00400", "p00631", "p00665", "p00940",
               "p80154")  # fmt: skip
    by_hand = {(r[1], c) for r in data for c in columns if r[header.index(c)]}
    report = import_table(store, source, load_mapping(DEMO / "usgs_nwis" / "qwdata.toml"))
    assert report.problem_count == 0
    assert report.inserted + report.duplicates == sum(
        1 for r in data for c in columns if r[header.index(c)]
    )
    assert len(report.datastreams) == len(by_hand)
    site = next(t for t in store.things(hidden=NOTHING_HIDDEN) if t.identifier == "01491000")
    streams = {
        s.name.split(" at ")[0]: s
        for s in store.datastreams_of(site.id or 0, hidden=NOTHING_HIDDEN)
    }
    temperature = streams["Water temperature"]
    assert temperature.unit.symbol == "°C"
    est = timezone(timedelta(hours=-5))
    when = datetime(1990, 1, 2, 12, tzinfo=est)
    assert _first_on(store, temperature.id or 0, when)[:2] == (when, 1.8)
    nitrate = streams["Nitrate plus nitrite, as N"]
    flags = store.window(nitrate.id or 0, datetime(1990, 1, 1, tzinfo=UTC),
                         datetime(2030, 1, 1, tzinfo=UTC), limit=5000, hidden=NOTHING_HIDDEN)  # fmt: skip
    assert sum(o.result_quality == "<" for o in flags.observations) == sum(
        1 for r in data if r[header.index("r00631")] == "<" and r[header.index("p00631")]
    )


def test_bad_rows_are_reported_with_their_line_numbers(store: InsituStore, tmp_path: Path) -> None:
    lines = (DEMO / "pastas_nl" / "head_nb1.csv").read_text().splitlines()
    lines[4] = "1985-13-45,27.9"  # line 5: no such date
    lines[9] = lines[9].split(",")[0] + ",twenty"  # line 10: not a number
    bad = tmp_path / "head_nb1.csv"
    bad.write_text("\n".join(lines) + "\n")
    mapping = load_mapping(DEMO / "pastas_nl" / "head_nb1.toml")

    with pytest.raises(InvalidInput, match="2 bad row") as refused:
        import_table(store, bad, mapping, strict=True)
    assert "line 5" in refused.value.reason and "line 10" in refused.value.reason
    assert store.datasets(hidden=NOTHING_HIDDEN) == []  # strict: nothing written

    report = import_table(store, bad, mapping)
    assert [p.line for p in report.problems] == [5, 10]
    assert "twenty" in report.problems[1].reason
    assert report.inserted == len(lines) - 1 - 2


def _mapping(**time: object) -> dict[str, object]:
    return {
        "source": {"format": "csv"},
        "producer": {"identifier": "T", "name": "T"},
        "dataset": {"identifier": "T", "title": "T"},
        "sensor": {"name": "s"},
        "station": {"id": "x"},
        "time": {"columns": ["date"], **time},
        "series": [{"column": "head", "property": "h", "definition": "urn:h", "unit": "m"}],
    }


def test_times_without_zone_and_unknown_units_are_refused() -> None:
    with pytest.raises(InvalidInput, match="times without zone"):
        parse_mapping(_mapping(format="%Y-%m-%d"), Path("."))
    parse_mapping(_mapping(format="%Y-%m-%dT%H:%M%z"), Path("."))  # offsets in the data: fine
    with pytest.raises(InvalidInput, match="no IANA zone"):
        parse_mapping(_mapping(format="%Y-%m-%d", zone="Mars/Olympus"), Path("."))
    doc = _mapping(format="%Y-%m-%d", zone="UTC")
    doc["series"] = [{"column": "head", "property": "h", "definition": "urn:h", "unit": "furlong"}]
    with pytest.raises(InvalidInput, match="unknown unit 'furlong'"):
        parse_mapping(doc, Path("."))
    assert unit_of("cfs") == unit_of("[ft_i]3/s")


def test_unknown_station_ids_are_bad_rows(store: InsituStore, tmp_path: Path) -> None:
    source = (DEMO / "camels_us" / "usgs_streamflow" / "01022500_streamflow_qc.txt").read_text()
    lines = source.splitlines()
    lines[2] = lines[2].replace("01022500", "99999999")
    (tmp_path / "attributes").symlink_to(DEMO / "camels_us" / "attributes")
    (tmp_path / "streamflow.toml").write_text((DEMO / "camels_us" / "streamflow.toml").read_text())
    bad = tmp_path / "q.txt"
    bad.write_text("\n".join(lines) + "\n")
    report = import_table(store, bad, load_mapping(tmp_path / "streamflow.toml"))
    assert [(p.line, "unknown station id '99999999'" in p.reason) for p in report.problems] == [
        (3, True)
    ]
