"""A pixel's time series over the demo's six THEIA dates, against rasterio reading the
products' own GeoTIFFs at the same point."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rasterio
from fastapi.testclient import TestClient
from rasterio.warp import transform

from terrapole.catalog.model import SearchQuery
from terrapole.errors import InvalidInput, NotFound
from terrapole.maps import pixel_series as series_module
from terrapole.maps.pixel_series import pixel_series

from ..conftest import S2_COLLECTION, s2_items
from ..ingest.conftest import COLLECTION, THEIA

LON, LAT = 5.3502, 49.2787
URL = f"/maps/collections/{COLLECTION}/series"


@pytest.fixture
def client(maps_app: Any) -> TestClient:
    return TestClient(maps_app)


def _raw(path: Any, lon: float = LON, lat: float = LAT) -> float:
    with rasterio.open(path) as src:
        xs, ys = transform("EPSG:4326", src.crs, [lon], [lat])
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


def test_a_three_band_preset_gives_its_bands_only(client: TestClient) -> None:
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
        ({"lon": LON, "lat": LAT, "preset": "hillshade"}, 400, "'hillshade' does not make"),
        ({"lon": LON, "lat": LAT, "preset": "classes"}, 400, "presets that do: truecolor"),
        ({"lon": LON, "lat": LAT, "preset": "fsc"}, 400, "'fsc' does not apply to collection"),
        ({"lon": 0.0, "lat": 0.0, "preset": "elevation"}, 400, "does not apply"),
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


def test_hillshade_is_refused_on_a_dem_that_has_elevation(client: TestClient) -> None:
    params = {"lon": 5.5, "lat": 45.5}
    assert client.get("/maps/collections/dem/series", params={**params, "preset": "elevation"}
                      ).status_code == 200  # fmt: skip
    refused = client.get("/maps/collections/dem/series", params={**params, "preset": "hillshade"})
    assert refused.status_code == 400
    assert "hillshade" in refused.json()["description"]
    assert "elevation" in refused.json()["description"]


def test_the_newest_dates_are_kept_and_the_cut_is_said(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = client.get(URL, params={"lon": LON, "lat": LAT}).json()
    assert whole["truncated"] is False
    assert whole["limits"] == {"items": 500, "remote_items": 20}
    monkeypatch.setattr(series_module, "MAX_DATES", 4)
    cut = client.get(URL, params={"lon": LON, "lat": LAT}).json()
    assert cut["truncated"] is True
    assert [p["item"] for p in cut["points"]] == [p["item"] for p in whole["points"]][-4:]


def test_remote_items_beyond_the_cap_are_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's Planetary Computer items (https assets): none read with a cap of 0, so no
    network; the series says it was truncated."""
    import json

    from shapely.geometry import shape

    from terrapole.catalog.documents import prepare_item
    from terrapole.catalog.sqlite import SqliteStore
    from terrapole.storage import LocalStorage

    store = SqliteStore(tmp_path / "catalog.db")
    store.create_collection(json.loads(S2_COLLECTION.read_text()))
    store.load_items([prepare_item(d) for d in s2_items()])
    first = store.search(SearchQuery(collections=("sentinel-2-l2a",), limit=1)).items[0]
    inside = shape(first["geometry"]).representative_point()
    lon, lat = inside.x, inside.y
    monkeypatch.setattr(series_module, "MAX_REMOTE", 0)
    found = pixel_series(store, LocalStorage(tmp_path / "assets"), "sentinel-2-l2a", lon, lat,
                         preset="ndvi", hidden=frozenset())  # fmt: skip
    assert found.points == () and found.truncated is True
    store.close()


# -- a snow product (the snow chain over the demo's six THEIA dates) -------------------------

SNOW_AT = (5.35, 49.278)
CLOUD, NO_DATA = 205, 254  # the SNOW classification's codes


@pytest.fixture(scope="module")
def snow_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from terrapole.app import create_app
    from terrapole.config import Settings
    from terrapole.cube.cluster import dask_client
    from terrapole.ingest.service import Ingestor
    from terrapole.production.scheduler import Scheduler

    settings = Settings(data_dir=tmp_path_factory.mktemp("snow"))
    app = create_app(settings)
    services = app.state.services
    assert not Ingestor(services.store, services.storage).run([str(THEIA)], workers=1).rejected
    with dask_client(Settings(dask_workers=2), processes=False) as dask:
        report = Scheduler(settings, ["snow"]).tick(dask, services.store)["snow"]
    assert len(report.produced) == 6 and not report.failed
    yield app


def test_snow_cover_series_takes_clouds_from_the_snow_classification(snow_app: Any) -> None:
    response = TestClient(snow_app).get(
        "/maps/collections/theia-snow/series",
        params={"lon": SNOW_AT[0], "lat": SNOW_AT[1], "preset": "fsc"},
    )
    assert response.status_code == 200
    points = response.json()["points"]
    assert len(points) == 6
    storage = snow_app.state.services.storage
    codes = [_raw(storage.local_path(f"theia-snow/{p['item']}/SNOW.tif"), *SNOW_AT)
             for p in points]  # fmt: skip
    fractions = [_raw(storage.local_path(f"theia-snow/{p['item']}/FSC_TOC.tif"), *SNOW_AT)
                 for p in points]  # fmt: skip
    assert CLOUD in codes and any(c != CLOUD for c in codes)  # the point has both kinds
    for point, code, fraction in zip(points, codes, fractions, strict=True):
        assert point["cloudy"] is (code == CLOUD)
        if code in (CLOUD, NO_DATA):
            assert point["value"] is None and point["bands"]["FSC_TOC"] is None
        else:
            assert point["value"] == pytest.approx(fraction)
    assert all(p["value"] is None or 0 <= p["value"] <= 100 for p in points)


def test_snow_classes_and_other_collections_presets_are_refused(snow_app: Any) -> None:
    client = TestClient(snow_app)
    url = "/maps/collections/theia-snow/series"
    params = {"lon": SNOW_AT[0], "lat": SNOW_AT[1]}
    classes = client.get(url, params={**params, "preset": "classes"})
    assert classes.status_code == 400 and "'classes' does not make a series" in classes.text
    ndvi = client.get(url, params={**params, "preset": "ndvi"})
    assert ndvi.status_code == 400 and "'ndvi' does not apply to collection" in ndvi.text
    outside = client.get(url, params={"lon": 0.0, "lat": 0.0, "preset": "fsc"})
    assert outside.status_code == 200 and outside.json()["points"] == []
