"""Through the STAC API on both stores: a bbox across 180° is accepted (GET and POST, items,
collections, aggregation, mosaic tiles) and an item across 180° is found where it lies."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from terrapole.app import create_app
from terrapole.catalog.documents import prepare_item
from terrapole.config import Settings

from ..conftest import _empty_pgstac, s2_collection, s2_items

S2 = s2_items()
RING = [[179.2, 10.0], [-179.6, 10.0], [-179.6, 11.0], [179.2, 11.0], [179.2, 10.0]]
CROSSING = "179,10,-179,11"


@pytest.fixture(params=["sqlite", "pgstac"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    """The app on each store with the real Sentinel-2 collection, 5 of its items and, posted
    through the transactions API, one item drawn across 180°."""
    dsn = request.getfixturevalue("pg_dsn") if request.param == "pgstac" else None
    app = create_app(Settings(data_dir=tmp_path, database_url=dsn or ""))
    if dsn is not None:
        _empty_pgstac(dsn)
    token = app.state.services.access.create_token(tmp_path.name, groups=[], admin=True)
    admin = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as test_client:
        assert test_client.post("/stac/collections", json=s2_collection(), headers=admin).is_success
        doc = copy.deepcopy(S2[0]) | {"id": "fiji-crossing"}
        doc["geometry"] = {"type": "Polygon", "coordinates": [RING]}
        doc["bbox"] = [-179.6, 10.0, 179.2, 11.0]  # what a naive min/max gives
        added = test_client.post("/stac/collections/sentinel-2-l2a/items", json=doc, headers=admin)
        assert added.status_code in (200, 201), added.text
        app.state.services.store.load_items([prepare_item(d) for d in S2[:5]])
        yield test_client
    app.state.services.store.close()


def _ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.text
    return {feature["id"] for feature in response.json()["features"]}


def test_search_get_and_post_take_a_crossing_bbox(client: TestClient) -> None:
    assert _ids(client.get("/stac/search", params={"bbox": CROSSING})) == {"fiji-crossing"}
    body = {"bbox": [179, 10, -179, 11]}
    assert _ids(client.post("/stac/search", json=body)) == {"fiji-crossing"}
    items = client.get("/stac/collections/sentinel-2-l2a/items", params={"bbox": CROSSING})
    assert _ids(items) == {"fiji-crossing"}
    assert _ids(client.get("/stac/search", params={"bbox": "179.5,10.2,179.9,10.8"})) == {
        "fiji-crossing"
    }
    assert _ids(client.get("/stac/search", params={"bbox": "0,10,1,11"})) == set()


def test_the_stored_item_is_cut_with_a_crossing_bbox(client: TestClient) -> None:
    item = client.get("/stac/collections/sentinel-2-l2a/items/fiji-crossing").json()
    assert item["bbox"] == [179.2, 10.0, -179.6, 11.0]
    assert item["geometry"]["type"] == "MultiPolygon"


def test_aggregate_and_collection_search_take_a_crossing_bbox(client: TestClient) -> None:
    counted = client.get(
        "/stac/aggregate", params={"bbox": CROSSING, "aggregations": "total_count"}
    )
    assert counted.status_code == 200, counted.text
    assert counted.json()["aggregations"][0]["value"] == 1
    # a second collection whose extent crosses 180°; the Sentinel-2 one covers the Earth
    pacific = {"id": "pacific", "extent": {"spatial": {"bbox": [[170, -20, -170, 20]]}, "temporal": {"interval": [[None, None]]}}}  # fmt: skip
    client.app.state.services.store.create_collection(pacific)  # type: ignore[attr-defined]
    for bbox, expected in [
        (CROSSING, ["pacific", "sentinel-2-l2a"]),
        ("-175,0,-174,1", ["pacific", "sentinel-2-l2a"]),
        ("175,-30,-175,-25", ["sentinel-2-l2a"]),
        ("20,0,30,1", ["sentinel-2-l2a"]),
    ]:
        found = client.get("/stac/collections", params={"bbox": bbox})
        assert found.status_code == 200, found.text
        assert [c["id"] for c in found.json()["collections"]] == expected, bbox


def test_a_mosaic_tile_outside_a_crossing_bbox_is_blank(client: TestClient) -> None:
    tile = client.get(
        "/maps/mosaic/tiles/3/4/2.png",  # over Europe
        params={"collections": "sentinel-2-l2a", "bbox": CROSSING},
    )
    assert tile.status_code == 200 and tile.headers["content-type"] == "image/png"
