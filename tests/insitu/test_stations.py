"""Stations of the observatory map: every filter applied in SQL on SQLite and PostgreSQL, over
real CAMELS gauges, and the datasets the access policy hides left out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from terrapole.errors import InvalidInput
from terrapole.insitu import NOTHING_HIDDEN, InsituStore, access_key
from terrapole.insitu.stations import MAX_STATIONS, StationQuery, choices, station, stations
from terrapole.insitu.tables import things

from .camels import HYDROLOGY, METEOROLOGY, Camels, load


@pytest.fixture
def loaded(database_url: str) -> Iterator[tuple[InsituStore, Camels]]:
    store = InsituStore.open(database_url)
    yield store, load(store)
    store.close()


def _names(
    store: InsituStore, query: StationQuery, hidden: frozenset[str] = NOTHING_HIDDEN
) -> list[str]:
    return [s.identifier or "" for s in stations(store.engine, query, hidden=hidden)]


def test_a_station_carries_its_place_dataset_producer_properties_and_period(
    loaded: tuple[InsituStore, Camels],
) -> None:
    store, ids = loaded
    marsh, maine = stations(store.engine, StationQuery(), hidden=NOTHING_HIDDEN)  # by name
    assert (marsh.id, maine.id) == (ids.marsh_creek, ids.narraguagus)
    assert (maine.lon, maine.lat) == pytest.approx((-67.93524, 44.60797))
    assert maine.dataset_id == ids.maine and maine.producer == "CAMELS US"
    assert maine.observed_properties == ("Discharge", "Precipitation")
    # discharge ends 2002-12-31, the forcing 2003-12-31: the union of both
    assert (maine.start, maine.end) == (
        datetime(2000, 1, 1, tzinfo=UTC),
        datetime(2003, 12, 31, tzinfo=UTC),
    )
    feature = maine.to_feature()
    assert feature["geometry"] == {"type": "Point", "coordinates": [maine.lon, maine.lat]}


def test_filters_by_property_category_producer_dataset_period_bbox_and_text(
    loaded: tuple[InsituStore, Camels],
) -> None:
    store, ids = loaded
    both = ["01547700", "01022500"]
    assert sorted(_names(store, StationQuery())) == sorted(both)
    assert _names(store, StationQuery(observed_property=ids.rain_property)) == ["01022500"]
    assert sorted(_names(store, StationQuery(observed_property=ids.discharge_property))) == sorted(
        both
    )
    assert _names(store, StationQuery(category=METEOROLOGY)) == ["01022500"]
    assert len(_names(store, StationQuery(category=HYDROLOGY))) == 2
    assert _names(store, StationQuery(category="http://vocabs.example/none")) == []
    assert len(_names(store, StationQuery(producer=ids.producer))) == 2
    assert _names(store, StationQuery(producer=ids.producer + 99)) == []
    assert _names(store, StationQuery(dataset=ids.pennsylvania)) == ["01547700"]
    # only the Maine forcing runs into 2003
    assert _names(store, StationQuery(start=datetime(2003, 6, 1, tzinfo=UTC))) == ["01022500"]
    assert _names(store, StationQuery(end=datetime(1999, 12, 31, tzinfo=UTC))) == []
    assert len(_names(store, StationQuery(start=datetime(2001, 1, 1, tzinfo=UTC),
                                          end=datetime(2001, 2, 1, tzinfo=UTC)))) == 2  # fmt: skip
    assert _names(store, StationQuery(bbox=(-70.0, 43.0, -66.0, 46.0))) == ["01022500"]
    assert _names(store, StationQuery(bbox=(-80.0, 40.0, -77.0, 42.0))) == ["01547700"]
    assert _names(store, StationQuery(text="marsh")) == ["01547700"]
    assert _names(store, StationQuery(text="NARRAGUAGUS river")) == ["01022500"]
    assert _names(store, StationQuery(text="streamflow and forcing")) == ["01022500"]  # dataset
    assert len(_names(store, StationQuery(text="camels us"))) == 2  # producer
    assert _names(store, StationQuery(text="100%_")) == []  # LIKE wildcards are literal
    assert _names(store, StationQuery(text="marsh", category=METEOROLOGY)) == []


def test_a_hidden_dataset_hides_its_stations_and_their_choices(
    loaded: tuple[InsituStore, Camels],
) -> None:
    store, ids = loaded
    hidden = frozenset({access_key(ids.maine)})
    assert _names(store, StationQuery(), hidden) == ["01547700"]
    assert _names(store, StationQuery(text="narraguagus"), hidden) == []
    offered = choices(store.engine, hidden=hidden)
    assert [name for _, name in offered.observed_properties] == ["Discharge"]
    assert offered.categories == (HYDROLOGY,)
    everything = choices(store.engine, hidden=NOTHING_HIDDEN)
    assert [name for _, name in everything.observed_properties] == ["Discharge", "Precipitation"]
    assert everything.producers == ((ids.producer, "CAMELS US"),)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"bbox": (10.0, 50.0, 5.0, 40.0)}, "bbox"),
        (
            {"start": datetime(2002, 1, 1, tzinfo=UTC), "end": datetime(2001, 1, 1, tzinfo=UTC)},
            "end",
        ),
        ({"limit": 0}, "limit"),
    ],
)
def test_a_bad_query_names_the_field(fields: dict[str, object], named: str) -> None:
    with pytest.raises(InvalidInput, match=named):
        StationQuery(**fields)  # type: ignore[arg-type]


def test_one_station_is_found_by_its_thing_id_among_more_than_a_query_returns(
    loaded: tuple[InsituStore, Camels],
) -> None:
    store, ids = loaded
    # more Things in the Maine dataset than one station query returns, all sorting first
    crowd = [
        {"dataset_id": ids.maine, "name": f"A gauge {n:05d}", "description": "", "properties": {}}
        for n in range(MAX_STATIONS)
    ]
    with store.engine.begin() as con:
        con.execute(things.insert(), crowd)
    maine = station(store.engine, ids.narraguagus, hidden=NOTHING_HIDDEN)
    assert maine is not None and maine.identifier == "01022500"
    assert (maine.lon, maine.lat) == pytest.approx((-67.93524, 44.60797))
    assert maine.dataset_id == ids.maine and maine.observed_properties == (
        "Discharge",
        "Precipitation",
    )
    assert station(store.engine, ids.narraguagus, hidden=frozenset({access_key(ids.maine)})) is None
    assert station(store.engine, 10**9, hidden=NOTHING_HIDDEN) is None
    picked = stations(store.engine, StationQuery(thing=ids.marsh_creek), hidden=NOTHING_HIDDEN)
    assert [s.identifier for s in picked] == ["01547700"]
