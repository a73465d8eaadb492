"""GET parameters clients send (filter-crs, filter_lang), unknown parameters on /collections,
and searches on properties nobody knows, refused by name instead of matching nothing."""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient

from terrapole.catalog.facets import casefold_facets

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
S2 = "sentinel-2-l2a"


@pytest.mark.parametrize("path", ["/stac/search", f"/stac/collections/{S2}/items"])
def test_filter_crs_crs84_is_accepted_on_get(client: TestClient, path: str) -> None:
    response = client.get(
        path, params={"filter": "eo:cloud_cover < 5", "filter-crs": CRS84, "limit": 2}
    )
    assert response.status_code == 200, response.text
    assert response.json()["features"]
    text = client.get(path, params={"filter": "eo:cloud_cover < 5", "filter_lang": "cql2-text"})
    assert text.status_code == 200, text.text


@pytest.mark.parametrize("path", ["/stac/search", f"/stac/collections/{S2}/items"])
def test_another_filter_crs_is_a_400_naming_it(client: TestClient, path: str) -> None:
    response = client.get(path, params={"filter": "eo:cloud_cover < 5", "filter-crs": "EPSG:3857"})
    assert response.status_code == 400
    assert "filter-crs" in response.text and "EPSG:3857" in response.text
    body = {"filter": {"op": "<", "args": [{"property": "eo:cloud_cover"}, 5]},
            "filter-crs": "EPSG:3857"}  # fmt: skip
    posted = client.post("/stac/search", json=body)
    assert posted.status_code == 400 and "EPSG:3857" in posted.text


def test_collections_refuse_unknown_parameters(client: TestClient) -> None:
    response = client.get("/stac/collections", params={"foo": "1"})
    assert response.status_code == 400 and "foo" in response.text
    known = {"limit": 2, "offset": 1, "q": "sentinel", "bbox": "-180,-90,180,90",
             "datetime": "2000-01-01T00:00:00Z/.."}  # fmt: skip
    ok = client.get("/stac/collections", params=known)
    assert ok.status_code == 200, ok.text
    assert ok.json()["numberReturned"] <= 2


def test_a_query_on_an_unknown_property_names_it_and_the_close_queryables(
    client: TestClient,
) -> None:
    """eodag 4.10 sends cloudCover=10 like this."""
    response = client.post("/stac/search", json={"query": {"cloudCover": {"eq": "10"}}})
    assert response.status_code == 400
    text = response.json()["description"]
    assert "query" in text and "'cloudCover'" in text and "eo:cloud_cover" in text
    got = client.get("/stac/search", params={"filter": "cloud_cover < 10"})
    assert got.status_code == 400
    assert "filter" in got.text and "'cloud_cover'" in got.text and "eo:cloud_cover" in got.text


def test_stored_properties_beyond_the_queryables_still_search(client: TestClient) -> None:
    first = client.get("/stac/search", params={"collections": S2, "limit": 1}).json()
    props = first["features"][0]["properties"]
    tile = props["s2:mgrs_tile"]
    queryables = client.get("/stac/queryables").json()["properties"]
    assert "s2:mgrs_tile" not in queryables
    body = {"collections": [S2], "query": {"properties.s2:mgrs_tile": {"eq": tile}}}
    found = client.post("/stac/search", json=body)
    assert found.status_code == 200, found.text
    features = found.json()["features"]
    assert features and all(f["properties"]["s2:mgrs_tile"] == tile for f in features)
    by_filter = client.get("/stac/search", params={"filter": f"\"s2:mgrs_tile\" = '{tile}'"})
    assert by_filter.status_code == 200 and by_filter.json()["features"]


def test_like_on_a_facet_ignores_case(client: TestClient) -> None:
    tree = casefold_facets({"op": "like", "args": [{"property": "platform"}, "SENTINEL-2%"]})
    assert tree["op"] == "like" and tree["args"][0]["op"] == "casei"
    counts = []
    for pattern in ("sentinel-2%", "SENTINEL-2%"):
        filt = {"op": "like", "args": [{"property": "platform"}, pattern]}
        response = client.post("/stac/search", json={"filter": filt, "limit": 1})
        assert response.status_code == 200, response.text
        counts.append(response.json()["numberMatched"])
    assert counts[0] == counts[1] > 0


def test_a_bad_date_in_a_query_names_the_property_and_the_value(client: TestClient) -> None:
    query = orjson.dumps({"datetime": {"gte": "2024-13-45"}}).decode()
    response = client.get("/stac/search", params={"query": query})
    assert response.status_code == 400
    text = response.json()["description"]
    assert "datetime.gte" in text and "2024-13-45" in text and "oneOf" not in text
