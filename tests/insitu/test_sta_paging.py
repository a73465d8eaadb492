"""SensorThings reads on the real CAMELS series, on SQLite and PostgreSQL: server-driven paging
(``$top=0``, next links of expanded collections followed to the end), ``$ref`` of a whole
entity set, and the query options a reviewer found misread (years before 1000, ``length`` of
an interval, ``$orderby`` of an unknown property, navigation columns in a dataArray, a stored
geometry shapely cannot read)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.insitu import InsituStore, Location
from terrapole.insitu.tables import locations

from .camels import Camels, discharge, load

STA = "http://testserver/sta/v1.1"


@pytest.fixture
def loaded(tmp_path: Path, database_url: str) -> Iterator[tuple[TestClient, Camels]]:
    app = create_app(Settings(data_dir=tmp_path, database_url=database_url))
    ids = load(InsituStore(app.state.services.access.engine))
    with TestClient(app) as client:
        yield client, ids


def _get(client: TestClient, url: str, **params: str) -> dict[str, Any]:
    answer = client.get(url, params=params or None)  # none: the URL's own query (a link)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _problem(client: TestClient, url: str, **params: str) -> str:
    answer = client.get(url, params=params)
    assert answer.status_code == 400, answer.text
    return answer.text


def test_top_zero_counts_without_a_next_link(loaded: tuple[TestClient, Camels]) -> None:
    client, ids = loaded
    page = _get(client, f"{STA}/Locations", **{"$count": "true", "$top": "0"})
    assert page == {"@iot.count": 2, "value": []}
    days = len(discharge("01022500"))
    observations = f"{STA}/Datastreams({ids.discharge_me})/Observations"
    rows = _get(
        client, observations, **{"$count": "true", "$top": "0", "$resultFormat": "dataArray"}
    )
    assert rows["@iot.count"] == days and "@iot.nextLink" not in rows
    # a page that does end before the rows still links on
    two = _get(client, f"{STA}/Locations", **{"$top": "1"})
    assert parse_qs(urlsplit(two["@iot.nextLink"]).query) == {"$top": ["1"], "$skip": ["1"]}


def test_an_expanded_collection_links_to_its_next_page_with_the_nested_options(
    loaded: tuple[TestClient, Camels],
) -> None:
    client, ids = loaded
    days = len(discharge("01022500"))
    url = f"{STA}/Datastreams({ids.discharge_me})"
    entity = _get(client, url, **{"$select": "id", "$expand": "Observations($select=id)"})
    assert len(entity["Observations"]) == 100
    link = entity["Observations@iot.nextLink"]
    assert link.startswith(f"{url}/Observations?")
    assert parse_qs(urlsplit(link).query) == {
        "$select": ["id"], "$top": ["100"], "$skip": ["100"]
    }  # fmt: skip
    seen = [o["@iot.id"] for o in entity["Observations"]]
    while link:  # the next links walk the whole series, each Observation once
        page = _get(client, link)
        assert all(set(o) == {"@iot.id", "@iot.selfLink"} for o in page["value"])
        seen += [o["@iot.id"] for o in page["value"]]
        link = page.get("@iot.nextLink")
    assert len(seen) == len(set(seen)) == days


def test_a_nested_top_orderby_and_expand_travel_in_the_next_link(
    loaded: tuple[TestClient, Camels],
) -> None:
    client, ids = loaded
    thing = f"{STA}/Things({ids.narraguagus})"
    expand = "Datastreams($top=1;$orderby=name desc;$count=true;$expand=ObservedProperty)"
    entity = _get(client, thing, **{"$expand": expand})
    first = entity["Datastreams"]
    assert [d["name"] for d in first] == ["Precipitation, basin 01022500"]
    assert entity["Datastreams@iot.count"] == 2
    link = entity["Datastreams@iot.nextLink"]
    assert parse_qs(urlsplit(link).query) == {
        "$orderby": ["name desc"], "$count": ["true"], "$expand": ["ObservedProperty"],
        "$top": ["1"], "$skip": ["1"],
    }  # fmt: skip
    second = _get(client, link)
    assert [d["name"] for d in second["value"]] == ["Discharge 01022500"]
    assert second["value"][0]["ObservedProperty"]["name"] == "Discharge"
    assert "@iot.nextLink" not in second
    # a path expansion: its inner navigation is the nested $expand of the link
    whole = _get(client, f"{STA}/Things", **{"$expand": "Datastreams/ObservedProperty"})
    assert all("Datastreams@iot.nextLink" not in t for t in whole["value"])


def test_the_references_of_an_entity_set(loaded: tuple[TestClient, Camels]) -> None:
    client, ids = loaded
    refs = _get(client, f"{STA}/Things/$ref", **{"$orderby": "id"})
    assert refs["value"] == [
        {"@iot.selfLink": f"{STA}/Things({i})"} for i in sorted((ids.narraguagus, ids.marsh_creek))
    ]
    one = _get(client, f"{STA}/Things/$ref", **{"$top": "1", "$filter": "name eq 'nothing'"})
    assert one["value"] == [] and "@iot.nextLink" not in one


def test_misread_options_are_a_400_naming_them(loaded: tuple[TestClient, Camels]) -> None:
    client, ids = loaded
    observations = f"{STA}/Observations"
    early = _problem(client, observations, **{"$filter": "phenomenonTime gt 0001-01-01T00:00:00Z"})
    assert "years before 1000 are not supported" in early
    later = _get(client, observations, **{"$filter": "phenomenonTime gt 1000-01-01T00:00:00Z"})
    assert len(later["value"]) == 100
    assert "expected text, got interval" in _problem(
        client, observations, **{"$filter": "length(phenomenonTime) eq 1"}
    )
    assert "invalid $orderby" in _problem(client, f"{STA}/Things", **{"$orderby": "foo"})
    datastream = f"{STA}/Datastreams({ids.discharge_me})/Observations"
    navigation = _problem(
        client, datastream, **{"$resultFormat": "dataArray", "$select": "result,Datastream"}
    )
    assert "Datastream is a navigation property" in navigation
    rows = _get(client, datastream, **{"$resultFormat": "dataArray", "$select": "id,result"})
    assert rows["value"][0]["components"] == ["id", "result"]
    assert all(isinstance(row[1], float) for row in rows["value"][0]["dataArray"])


def test_a_stored_geometry_shapely_cannot_read_is_left_out_of_geospatial_filters(
    loaded: tuple[TestClient, Camels],
) -> None:
    client, _ = loaded
    engine = client.app.state.services.access.engine  # type: ignore[attr-defined]
    store = InsituStore(engine)
    square = {"type": "Polygon", "coordinates": [[[-68, 44], [-67, 44], [-67, 45], [-68, 44]]]}
    broken = store.create_location(Location("bad ring", square))
    with engine.begin() as con:  # as stored before geometries were checked: a two-point ring
        ring = {"type": "Polygon", "coordinates": [[[-68, 44], [-67, 45]]]}
        con.execute(locations.update().where(locations.c.id == broken.id).values(location=ring))
    near_maine = (
        "st_intersects(location, geography'POLYGON((-69 44, -67 44, -67 45, -69 45, -69 44))')"
    )
    found = _get(client, f"{STA}/Locations", **{"$filter": near_maine})
    assert [loc["name"] for loc in found["value"]] == ["gauge 01022500"]
