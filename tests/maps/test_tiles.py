"""Item tiles through titiler with presets, against rio-tiler reading the same COG directly."""

from __future__ import annotations

import io
from typing import Any

import morecantile
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from rio_tiler.io import Reader

from terrapole.stac_api.links import item_links

from ..ingest.conftest import CLEAR, COLLECTION
from ..schemas import stac_errors

BASE = f"/maps/collections/{COLLECTION}/items/{CLEAR.name}"
TILE = morecantile.tms.get("WebMercatorQuad").tile(5.35, 49.278, 15)
TILE_URL = f"{BASE}/tiles/WebMercatorQuad/{TILE.z}/{TILE.x}/{TILE.y}.png"


@pytest.fixture
def client(maps_app: Any) -> TestClient:
    return TestClient(maps_app)


def _image(content: bytes) -> np.ndarray:  # type: ignore[type-arg]
    return np.asarray(Image.open(io.BytesIO(content)))


def test_true_colour_tile_equals_rio_tiler_on_the_stored_cogs(
    client: TestClient, maps_app: Any
) -> None:
    response = client.get(TILE_URL, params={"preset": "truecolor"})
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    got = _image(response.content)
    storage = maps_app.state.services.storage
    bands = []
    for key in ("FRE_B4", "FRE_B3", "FRE_B2"):
        path = storage.local_path(f"{COLLECTION}/{CLEAR.name}/{key}.tif")
        with Reader(str(path)) as src:
            bands.append(src.tile(TILE.x, TILE.y, TILE.z, tilesize=256))
    red = bands[0]
    red.array = np.ma.concatenate([b.array for b in bands])
    red.rescale(in_range=[(0, 2500)] * 3)
    expected = _image(red.render(img_format="PNG"))
    assert got.shape == expected.shape
    assert np.array_equal(got, expected)
    assert got[..., 3].any()  # real data in the tile, not an empty image


def test_ndvi_tile_is_high_over_this_forest(client: TestClient) -> None:
    response = client.get(TILE_URL, params={"preset": "ndvi", "colormap_name": "gray"})
    assert response.status_code == 200
    grey = _image(response.content)[..., 0][_image(response.content)[..., 3] > 0]
    # NDVI 0.9 is the top of the preset's range (255); the forest sits well above 0.5
    assert np.median(grey) > 255 * (0.5 + 0.2) / 1.1


def test_tilejson_point_and_preview(client: TestClient) -> None:
    tilejson = client.get(f"{BASE}/WebMercatorQuad/tilejson.json", params={"preset": "ndvi"}).json()
    assert "expression=" in tilejson["tiles"][0] and tilejson["bounds"][0] > 5.34
    point = client.get(f"{BASE}/point/5.35,49.278", params={"assets": "FRE_B4"}).json()
    assert point["values"][0] > 0
    preview = client.get(f"{BASE}/preview.png", params={"preset": "falsecolor", "max_size": 64})
    assert preview.status_code == 200 and _image(preview.content).shape[2] == 4


def test_dem_presets_render(client: TestClient) -> None:
    base = "/maps/collections/dem/items/Copernicus_DSM_10_N45_00_E005_00_DEM"
    for preset in ("elevation", "hillshade"):
        response = client.get(f"{base}/preview.png", params={"preset": preset, "max_size": 128})
        assert response.status_code == 200, response.text
        assert _image(response.content)[..., 0].std() > 10


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (f"{BASE}/tiles/WebMercatorQuad/3/1/1.png?preset=truecolor", 404),  # outside the item
        (f"{BASE}/tiles/WebMercatorQuad/99/1/1.png?preset=truecolor", 404),
        (f"{TILE_URL}?preset=nope", 400),
        (f"{TILE_URL}?assets=NOPE", 404),
        (f"{TILE_URL}?assets=FRE_B4&expression=b1+%2A%2A%2A", 400),
        ("/maps/collections/dem/items/srtm_eastern_turkey/preview.png?preset=ndvi", 400),
        (f"/maps/collections/{COLLECTION}/items/unknown/preview.png?preset=truecolor", 404),
    ],
)
def test_bad_tile_requests_are_4xx(client: TestClient, url: str, status: int) -> None:
    assert client.get(url).status_code == status


def test_cache_serves_etags_and_respects_restrictions(client: TestClient, maps_app: Any) -> None:
    first = client.get(TILE_URL, params={"preset": "falsecolor"})
    again = client.get(TILE_URL, params={"preset": "falsecolor"})
    assert first.headers["x-cache"] == "MISS" and again.headers["x-cache"] == "HIT"
    assert again.content == first.content and "public" in again.headers["cache-control"]
    etag = first.headers["etag"]
    assert (
        client.get(
            TILE_URL, params={"preset": "falsecolor"}, headers={"If-None-Match": etag}
        ).status_code
        == 304
    )
    access = maps_app.state.services.access
    access.restrict(COLLECTION, ["partners"])
    try:
        assert client.get(TILE_URL, params={"preset": "falsecolor"}).status_code == 404
        token = access.create_token("tile-partner", groups=["partners"])
        allowed = client.get(
            TILE_URL, params={"preset": "falsecolor"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert allowed.status_code == 200 and "private" in allowed.headers["cache-control"]
    finally:
        access.restrict(COLLECTION, [])


def test_mosaic_of_a_search_puts_the_least_cloudy_item_on_top(client: TestClient) -> None:
    url = f"/maps/mosaic/tiles/{TILE.z}/{TILE.x}/{TILE.y}.png"
    params = {"collections": COLLECTION, "preset": "truecolor"}
    mosaic = _image(client.get(url, params=params).content)
    # all six dates cover the tile; the clear ones (0 % cloud) win: 2019-09-15 is the most
    # recent of them, so the mosaic equals that item's own tile
    clear = "SENTINEL2B_20190915-104723-867_L2A_T31UFQ_C_V2-2"
    own = f"/maps/collections/{COLLECTION}/items/{clear}/tiles/WebMercatorQuad/{TILE.z}/{TILE.x}/{TILE.y}.png"
    single = _image(client.get(own, params={"preset": "truecolor", "tilesize": 256}).content)
    assert np.array_equal(mosaic, single)
    cloudy = {**params, "filter": "eo:cloud_cover > 90", "datetime": "2019-01-01/2019-12-31"}
    only_cloudy = _image(client.get(url, params=cloudy).content)
    assert not np.array_equal(only_cloudy, mosaic) and only_cloudy[..., 3].any()
    nothing = {**params, "datetime": "2030-01-01/2030-12-31"}
    assert not _image(client.get(url, params=nothing).content)[..., -1].any()
    assert client.get(url, params={"preset": "truecolor"}).status_code == 400
    assert client.get("/maps/mosaic/tiles/3/99/1.png", params=params).status_code == 400


def test_single_asset_tile_equals_rio_tiler_on_the_cog(client: TestClient, maps_app: Any) -> None:
    response = client.get(TILE_URL, params={"assets": "FRE_B8A", "rescale": "0,4000"})
    assert response.status_code == 200
    path = maps_app.state.services.storage.local_path(f"{COLLECTION}/{CLEAR.name}/FRE_B8A.tif")
    with Reader(str(path)) as src:
        image = src.tile(TILE.x, TILE.y, TILE.z, tilesize=256)
    image.rescale(in_range=[(0, 4000)])
    assert np.array_equal(_image(response.content), _image(image.render(img_format="PNG")))


def test_land_cover_classes_come_from_the_palette_and_draw_in_its_colours(
    client: TestClient, maps_app: Any
) -> None:
    item = maps_app.state.services.store.get_item("landcover", "BDForet_ZoneTest")
    classes = item["assets"]["data"]["classification:classes"]
    assert [(c["value"], c["color_hint"]) for c in classes] == [(0, "000000"), (1, "FFFFFF")]
    assert stac_errors(item_links(item, "http://testserver/stac/")) == []  # classification ext
    response = client.get(TILE_URL.replace(f"{COLLECTION}/items/{CLEAR.name}", "landcover/items/BDForet_ZoneTest"),
                          params={"preset": "classes"})  # fmt: skip
    assert response.status_code == 200, response.text
    pixels = _image(response.content)
    opaque = pixels[pixels[..., 3] > 0][:, :3]
    colours = {tuple(int(v) for v in p) for p in opaque}
    assert colours <= {(0, 0, 0), (255, 255, 255)} and len(colours) == 2


@pytest.mark.parametrize("preset", ["hillshade", "elevation"])
@pytest.mark.parametrize("size", [256, 512])
def test_dem_preset_tiles_have_the_tile_size(client: TestClient, preset: str, size: int) -> None:
    """The hillshade reads one pixel around the tile and crops that same pixel (titiler's
    algorithm crops 3 by default: a 256 tile read with a 1-pixel buffer came back 252 wide)."""
    base = "/maps/collections/dem/items/Copernicus_DSM_10_N45_00_E005_00_DEM"
    tile = morecantile.tms.get("WebMercatorQuad").tile(5.4, 45.4, 10)
    url = f"{base}/tiles/WebMercatorQuad/{tile.z}/{tile.x}/{tile.y}.png"
    response = client.get(url, params={"preset": preset, "tilesize": size})
    assert response.status_code == 200, response.text
    image = _image(response.content)
    assert image.shape[:2] == (size, size)
    assert image[..., 0].std() > 5
