"""Map requests with bad input are 4xx naming the parameter; map errors are answered from the
app's one status table (a store that cannot be reached is a 503, not a 400); a tile request
authenticates its caller once."""

from __future__ import annotations

from typing import Any

import morecantile
import pytest
from fastapi.testclient import TestClient

from terrapole.errors import StoreUnavailable

from ..ingest.conftest import CLEAR, COLLECTION

BASE = f"/maps/collections/{COLLECTION}/items/{CLEAR.name}"
TILE = morecantile.tms.get("WebMercatorQuad").tile(5.35, 49.278, 15)
TILE_PATH = f"tiles/WebMercatorQuad/{TILE.z}/{TILE.x}/{TILE.y}.png"
GETMAP = {
    "service": "WMS",
    "request": "GetMap",
    "layers": f"{COLLECTION}:truecolor",
    "crs": "EPSG:3857",
    "bbox": "595000,6320000,596000,6321000",
    "width": "64",
    "height": "64",
}


@pytest.fixture
def client(maps_app: Any) -> TestClient:
    return TestClient(maps_app, raise_server_exceptions=False)


def test_a_point_outside_the_raster_is_a_404_naming_the_point_and_the_bounds(
    client: TestClient,
) -> None:
    inside = client.get(f"{BASE}/point/5.35,49.278", params={"assets": "FRE_B4"})
    assert inside.status_code == 200 and inside.json()["values"][0] > 0
    outside = client.get(f"{BASE}/point/0,0", params={"assets": "FRE_B4"})
    assert outside.status_code == 404, outside.text
    body = outside.json()
    assert body["code"] == "OutsideBounds"
    # the item's real bounds: west of 5.35, east of it, around latitude 49.28
    assert "point 0,0 is outside the raster's bounds (west 5.34" in body["description"]
    assert "north 49.2" in body["description"]


def test_a_point_that_is_not_a_longitude_latitude_pair_is_a_400(client: TestClient) -> None:
    response = client.get(f"{BASE}/point/500,0", params={"assets": "FRE_B4"})
    assert response.status_code == 400
    assert response.json()["description"].startswith("invalid point: 500,0")


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("info", {"assets": ""}, "assets"),
        ("statistics", {"assets": ""}, "assets"),
        ("preview/0x0.png", {"assets": "FRE_B4"}, "width"),
        ("preview/100000x100000.png", {"assets": "FRE_B4"}, "width"),
        ("preview.png", {"assets": "FRE_B4", "width": 100_000, "height": 100_000}, "width"),
        ("preview.png", {"assets": "FRE_B4", "max_size": 100_000}, "max_size"),
        (TILE_PATH, {"assets": "FRE_B4", "tilesize": 100_000}, "tilesize"),
        ("tiles/WebMercatorQuad/-1/0/0.png", {"assets": "FRE_B4"}, "z"),
        ("statistics", {"assets": "FRE_B4", "p": 500}, "p"),
        ("statistics", {"assets": "FRE_B4", "histogram_bins": 0}, "histogram_bins"),
        ("statistics", {"assets": "FRE_B4", "histogram_bins": "5,3"}, "histogram_bins"),
        ("statistics", {"assets": "FRE_B4", "histogram_range": "1,0"}, "histogram_range"),
        (
            "preview.png",
            {"assets": "FRE_B4", "algorithm": "max", "algorithm_params": "null"},
            "algorithm_params",
        ),
    ],
)
def test_bad_map_parameters_are_400_naming_them(
    client: TestClient, path: str, params: dict[str, Any], field: str
) -> None:
    response = client.get(f"{BASE}/{path}", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["description"].startswith(f"invalid {field}: ")


def test_rio_tiler_errors_are_answered_by_the_app_table(client: TestClient) -> None:
    """Same body shape as every other error ({code, description}), statuses from one table."""
    unknown = client.get(f"{BASE}/{TILE_PATH}", params={"assets": "NOPE"})
    body = unknown.json()
    assert unknown.status_code == 404
    assert body["code"] == "InvalidAssetName" and "FRE_B4" in body["description"]
    zoom = client.get(f"{BASE}/tiles/CDB1GlobalGrid", params={"maxzoom": 30})
    assert zoom.status_code == 400 and zoom.json()["code"] == "InvalidZoomError"


def test_mosaic_and_wms_refuse_an_unknown_preset_or_style_even_where_nothing_is_drawn(
    client: TestClient,
) -> None:
    far_away = "/maps/mosaic/tiles/3/1/1.png"
    mosaic = client.get(far_away, params={"collections": COLLECTION, "preset": "nope"})
    assert mosaic.status_code == 400
    assert mosaic.json()["description"].startswith("invalid preset: 'nope' is not one of")
    style = client.get("/wms", params={**GETMAP, "styles": "nope"})
    assert style.status_code == 400 and 'code="StyleNotDefined"' in style.text
    assert client.get("/wms", params={**GETMAP, "styles": ""}).status_code == 200
    nan = client.get("/wms", params={**GETMAP, "bbox": "nan,0,inf,1"})
    assert nan.status_code == 400 and "4 finite numbers" in nan.text


class UnreachableStore:
    """A catalogue whose database cannot be reached: every call fails as PgstacStore's do."""

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise StoreUnavailable("cannot reach PostgreSQL: connection refused")

        return fail


def test_a_store_that_cannot_be_reached_is_a_503_on_every_map_route(
    client: TestClient, maps_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(maps_app.state.services, "store", UnreachableStore())
    urls = [
        (f"{BASE}/{TILE_PATH}", {"preset": "falsecolor", "colormap_name": "greys"}),  # middleware
        (f"{BASE}/{TILE_PATH}", {"assets": "FRE_B3", "rescale": "0,1234"}),  # the tiler's path
        (f"/maps/mosaic/tiles/{TILE.z}/{TILE.x}/{TILE.y}.png", {"collections": COLLECTION}),
        ("/wms", GETMAP),
    ]
    for url, params in urls:
        response = client.get(url, params=params)
        assert response.status_code == 503, (url, response.status_code, response.text)


def test_a_tile_request_authenticates_its_caller_once(
    client: TestClient, maps_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    access = maps_app.state.services.access
    headers = {"Authorization": f"Bearer {access.create_token('one-lookup', groups=[])}"}
    calls: list[str | None] = []
    authenticate = access.authenticate

    def counted(authorization: str | None) -> Any:
        calls.append(authorization)
        return authenticate(authorization)

    monkeypatch.setattr(access, "authenticate", counted)
    params = {"preset": "ndvi", "colormap_name": "greens"}  # preset and cache middlewares, tiler
    first = client.get(f"{BASE}/{TILE_PATH}", params=params, headers=headers)
    assert first.status_code == 200 and first.headers["x-cache"] == "MISS"
    assert calls == [headers["Authorization"]]
    again = client.get(f"{BASE}/{TILE_PATH}", params=params, headers=headers)
    assert again.headers["x-cache"] == "HIT" and len(calls) == 2
    bad = client.get(f"{BASE}/{TILE_PATH}", params=params, headers={"Authorization": "Bearer x"})
    assert bad.status_code == 401 and len(calls) == 3


@pytest.fixture(scope="module")
def remote_client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """The real Sentinel-2 metadata of the demo: its assets live at a provider out of reach."""
    from terrapole.app import create_app
    from terrapole.catalog.loader import load_paths
    from terrapole.config import Settings

    from ..conftest import DEMO

    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("remote")))
    assert not load_paths(app.state.services.store, [DEMO / "sentinel-2-l2a"]).rejected
    return TestClient(app, raise_server_exceptions=False)


def test_an_asset_that_cannot_be_reached_is_a_502_not_a_500(remote_client: TestClient) -> None:
    """Found by the fuzzer: every map route of an item whose files are at an unreachable
    provider was a 500; it is a 502 naming no host. A mosaic draws what it can read and stops
    after three items out of reach with nothing drawn (it tried all 50, 25 s, for a blank)."""
    item = remote_client.get("/stac/search", params={"limit": 1}).json()["features"][0]
    base = f"/maps/collections/{item['collection']}/items/{item['id']}"
    for path in ("info", "WebMercatorQuad/tilejson.json", "preview.png", "point/-105.5,40.5",
                 "tiles/WebMercatorQuad/10/211/387.png"):  # fmt: skip
        response = remote_client.get(f"{base}/{path}", params={"assets": "B04"})
        assert response.status_code == 502, (path, response.text)
        assert response.json()["code"] == "SourceUnavailable"
        assert "windows.net" not in response.text and "/vsicurl" not in response.text
    mosaic = remote_client.get("/maps/mosaic/tiles/10/211/387.png",
                               params={"collections": item["collection"], "preset": "truecolor"})  # fmt: skip
    assert mosaic.status_code == 502 and mosaic.json()["code"] == "SourceUnavailable"
    getmap = remote_client.get("/wms", params={**GETMAP, "layers": f"{item['collection']}:truecolor",
                                               "crs": "CRS:84", "bbox": "-106,40,-105,41"})  # fmt: skip
    assert getmap.status_code == 502 and "ServiceException" in getmap.text


def test_band_options_and_empty_shapes_found_by_the_fuzzer(client: TestClient) -> None:
    """rio-tiler passed per-asset band options to a metadata call (TypeError) and refused an
    empty geometry collection with its base error: both were 500s."""
    dem = "/maps/collections/dem/items/srtm_eastern_turkey"
    info = client.get(f"{dem}/info", params={"assets": "data|bidx=1"})
    assert info.status_code == 200 and info.json()["data"]["dtype"] == "int16"
    unknown = client.get(f"{dem}/info", params=[("assets", "data|bidx=1"), ("assets", "cog")])
    assert unknown.status_code == 404 and "'cog' is not valid" in unknown.text
    empty = {"type": "Feature", "properties": {},
             "geometry": {"type": "GeometryCollection", "geometries": []}}  # fmt: skip
    stats = client.post(f"{dem}/statistics", params={"assets": "data"}, json=empty)
    assert stats.status_code == 400 and "invalid geometry: geometry is empty" in stats.text
    mixed = {"type": "MultiLineString", "coordinates": [[[40.1, 39.2], [40.2, 39.3, 1000.0]]]}
    both = client.post(f"{dem}/statistics", params={"assets": "data"},
                       json={"type": "Feature", "properties": {}, "geometry": mixed})  # fmt: skip
    assert both.status_code == 400 and "not a GeoJSON geometry" in both.text
    ring = {"type": "Polygon", "coordinates": [[[40.1, 39.2], [40.2, 39.2], [40.2, 39.3]]]}
    open_ring = client.post(f"{dem}/statistics", params={"assets": "data"},
                            json={"type": "Feature", "properties": {}, "geometry": ring})  # fmt: skip
    assert open_ring.status_code == 400, open_ring.text


@pytest.mark.parametrize("nodata", ["-inf", "inf", "-7.99e300", "70000"])
def test_a_nodata_the_raster_cannot_hold_is_a_400(client: TestClient, nodata: str) -> None:
    """Found by the fuzzer at 200 examples: -inf as nodata of an int16 DEM was a 500."""
    dem = "/maps/collections/dem/items/srtm_eastern_turkey"
    for path in ("statistics", "asset_statistics", "preview.png", "point/40.5,39.5"):
        response = client.get(f"{dem}/{path}", params={"assets": "data", "nodata": nodata})
        assert response.status_code == 400, (path, response.text)
        assert "cannot be stored in this int16 raster" in response.text
    fine = client.get(f"{dem}/statistics", params={"assets": "data", "nodata": "-32768"})
    assert fine.status_code == 200


def test_a_shape_too_large_for_the_rasters_resolution_needs_a_size(client: TestClient) -> None:
    """Coordinates of 1e16 asked a read of 7e21 pixels (numpy: array is too big, a 500)."""
    dem = "/maps/collections/dem/items/srtm_eastern_turkey"
    line = {"type": "LineString", "coordinates": [[2.4e16, 0.0], [2.9e16, 1.0]]}
    huge = client.post(f"{dem}/statistics", params={"assets": "data"},
                       json={"type": "Feature", "properties": {}, "geometry": line})  # fmt: skip
    assert huge.status_code == 400 and "invalid bbox" in huge.text
    world = {"type": "Polygon", "coordinates": [[[-180, -80], [180, -80], [180, 80], [-180, 80],
                                                 [-180, -80]]]}  # fmt: skip
    body = {"type": "Feature", "properties": {}, "geometry": world}
    refused = client.post(f"{dem}/statistics", params={"assets": "data"}, json=body)
    assert refused.status_code == 400 and "without max_size" in refused.text
    sized = client.post(f"{dem}/statistics", params={"assets": "data", "max_size": 512}, json=body)
    assert sized.status_code == 200, sized.text


@pytest.mark.parametrize(("name", "value"), [("maxzoom", "86400"), ("minzoom", "-1"),
                                             ("maxzoom", "many")])  # fmt: skip
def test_a_tile_set_zoom_out_of_range_is_a_400(client: TestClient, name: str, value: str) -> None:
    """maxzoom=86400 made the tile-set listing compute 86,400 matrices (a timeout, a 500)."""
    response = client.get(f"{BASE}/tiles/WebMercatorQuad", params={name: value})
    assert response.status_code == 400 and f"invalid {name}" in response.text
    fine = client.get(f"{BASE}/tiles/WebMercatorQuad", params={"minzoom": 8, "maxzoom": 14})
    assert fine.status_code == 200
