"""A pixel's time series over the demo's six THEIA dates, against rasterio reading the
products' own GeoTIFFs at the same point."""

from __future__ import annotations

from typing import Any

import pytest
import rasterio
from fastapi.testclient import TestClient
from rasterio.warp import transform

from terrapole.errors import InvalidInput, NotFound
from terrapole.maps.pixel_series import pixel_series

from ..ingest.conftest import COLLECTION, THEIA

LON, LAT = 5.3502, 49.2787
URL = f"/maps/collections/{COLLECTION}/series"


@pytest.fixture
def client(maps_app: Any) -> TestClient:
    return TestClient(maps_app)


def _raw(path: Any) -> float:
    with rasterio.open(path) as src:
        xs, ys = transform("EPSG:4326", src.crs, [LON], [LAT])
        return float(next(src.sample([(xs[0], ys[0])]))[0])


def _band(product: Any, band: str) -> float:
    return _raw(next(product.glob(f"*_FRE_{band}.tif"))) / 10_000  # THEIA reflectance scale


def test_ndvi_series_has_every_date_oldest_first_and_equals_the_products(
    client: TestClient,
) -> None:
    response = client.get(URL, params={"lon": LON, "lat": LAT, "preset": "ndvi"})
    assert response.status_code == 200
    body = response.json()
    points = body["points"]
    products = sorted(THEIA.glob("SENTINEL2*"), key=lambda p: p.name.split("_")[1])
    assert [p["item"] for p in points] == [p.name for p in products]
    assert [p["datetime"] for p in points] == sorted(p["datetime"] for p in points)
    for point, product in zip(points, products, strict=True):
        nir, red = _band(product, "B8A"), _band(product, "B4")
        assert point["bands"]["FRE_B8A"] == pytest.approx(nir, abs=1e-6)
        assert point["bands"]["FRE_B4"] == pytest.approx(red, abs=1e-6)
        if nir + red:
            assert point["value"] == pytest.approx((nir - red) / (nir + red), abs=1e-6)


def test_cloudy_dates_follow_the_cloud_mask_at_the_point(client: TestClient) -> None:
    points = client.get(URL, params={"lon": LON, "lat": LAT}).json()["points"]
    for point in points:
        mask = next((THEIA / point["item"] / "MASKS").glob("*_CLM_R2.tif"))
        assert point["cloudy"] is (_raw(mask) != 0)
    assert any(p["cloudy"] for p in points) and not all(p["cloudy"] for p in points)


def test_a_three_band_preset_gives_its_bands_and_no_value(client: TestClient) -> None:
    points = client.get(URL, params={"lon": LON, "lat": LAT, "preset": "falsecolor"}).json()
    assert points["points"]
    assert all(p["value"] is None and len(p["bands"]) == 3 for p in points["points"])


def test_a_one_band_preset_gives_the_band_value(client: TestClient) -> None:
    dem = THEIA.parent / "dem" / "Copernicus_DSM_10_N45_00_E005_00_DEM.tif"
    with rasterio.open(dem) as src:
        expected = float(next(src.sample([(5.5, 45.5)]))[0])
    body = client.get("/maps/collections/dem/series",
                      params={"lon": 5.5, "lat": 45.5, "preset": "elevation"}).json()  # fmt: skip
    assert [p["item"] for p in body["points"]] == ["Copernicus_DSM_10_N45_00_E005_00_DEM"]
    assert body["points"][0]["value"] == pytest.approx(expected, abs=1e-3)
    assert body["points"][0]["cloudy"] is False


@pytest.mark.parametrize(
    ("params", "status", "named"),
    [
        ({"lon": 500, "lat": LAT}, 400, "lon,lat"),
        ({"lon": LON, "lat": "north"}, 400, "lat"),
        ({"lon": LON, "lat": LAT, "preset": "sepia"}, 400, "sepia"),
    ],
)
def test_bad_requests_name_what_is_wrong(
    client: TestClient, params: dict[str, Any], status: int, named: str
) -> None:
    response = client.get(URL, params=params)
    assert response.status_code == status
    assert named in response.json()["description"]


def test_unknown_collection_is_404(client: TestClient) -> None:
    response = client.get("/maps/collections/nothing/series", params={"lon": LON, "lat": LAT})
    assert response.status_code == 404


def test_a_hidden_collection_is_not_found_and_reads_nothing(maps_app: Any) -> None:
    services = maps_app.state.services
    with pytest.raises(NotFound):
        pixel_series(services.store, services.storage, COLLECTION, LON, LAT, preset="ndvi",
                     hidden=frozenset({COLLECTION}))  # fmt: skip
    with pytest.raises(InvalidInput):
        pixel_series(services.store, services.storage, COLLECTION, float("nan"), LAT,
                     preset="ndvi", hidden=frozenset())  # fmt: skip


def test_a_point_outside_every_item_has_no_dates(client: TestClient) -> None:
    body = client.get(URL, params={"lon": 0.0, "lat": 0.0}).json()
    assert body["points"] == []
