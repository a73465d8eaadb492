"""EO beside in-situ: a raster's series at a point (the ``point-series`` OGC process, openEO's
``aggregate_spatial`` over a Point, a station's ``eo-series``) over the demo's six real THEIA
Sentinel-2 L2A dates of tile T31UFQ (demo/products/theia, PROVENANCE.md there), checked against
rasterio reading the products' own GeoTIFFs at the same point.

Tolerances: 1e-6 where both sides are float64 reflectances (stored int16 / 10 000, so an NDVI
computed from them agrees to rounding); 1e-6 absolute also for openEO, whose cube holds float32
reflectances (NDVI in [-1, 1]: float32 rounding is below 1e-7, hand-checked on these dates).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import rasterio
from rasterio.warp import transform

from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.ingest.service import Ingestor
from terrapole.insitu import Dataset, InsituStore, Location, Producer, Thing

from ..conftest import ROOT
from ..stac_api.live import serve

THEIA = ROOT / "demo" / "products" / "theia"
COLLECTION = "theia-sentinel-2-l2a"
PRIVATE = "theia-private"  # one THEIA date in a collection restricted to group "team"
LON, LAT = 5.3502, 49.2787  # inside the 800 m crop near Verdun
OUTSIDE = (5.40, 49.30)  # 3 km north-east: no product covers it


def _raw(path: Path, lon: float = LON, lat: float = LAT) -> float:
    with rasterio.open(path) as src:
        xs, ys = transform("EPSG:4326", src.crs, [lon], [lat])
        return float(next(src.sample([(xs[0], ys[0])]))[0])


def _ndvi(product: Path) -> float | None:
    """NDVI from rasterio: (B8A - B4) / (B8A + B4), reflectances stored × 10 000, -10000 nodata."""
    nir = _raw(next(product.glob("*_FRE_B8A.tif")))
    red = _raw(next(product.glob("*_FRE_B4.tif")))
    if -10_000 in (nir, red):
        return None
    nir, red = nir / 10_000, red / 10_000
    return (nir - red) / (nir + red)


PRODUCTS = sorted(THEIA.glob("SENTINEL2*"), key=lambda p: p.name.split("_")[1])


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    settings = Settings(data_dir=tmp_path_factory.mktemp("eo"), dask_workers=1,
                        dask_processes=False, job_credit_cpu_s=1000.0)  # fmt: skip
    app = create_app(settings)
    services = app.state.services
    ingestor = Ingestor(services.store, services.storage)
    assert not ingestor.run([str(THEIA)]).rejected
    assert not ingestor.run([str(PRODUCTS[-1])], collection=PRIVATE).rejected
    services.access.restrict(PRIVATE, ["team"])
    return app


@pytest.fixture(scope="module")
def stations(app: Any) -> dict[str, int]:
    """A public station at the point, one 3 km away, and one in a restricted dataset."""
    services = app.state.services
    store = InsituStore(services.access.engine)
    producer = store.create_producer(Producer("meuse-obs", "Meuse observatory"))
    public = store.create_dataset(Dataset(producer.id or 0, "Forest plots"))
    private = store.create_dataset(Dataset(producer.id or 0, "Private plots"))
    services.access.restrict(private.access_key or "", ["team"])
    ids = {}
    for name, dataset, (lon, lat) in (("plot", public, (LON, LAT)),
                                      ("away", public, OUTSIDE),
                                      ("hidden", private, (LON, LAT))):  # fmt: skip
        thing = store.create_thing(Thing(name, dataset_id=dataset.id))
        store.create_location(
            Location(f"{name} site", {"type": "Point", "coordinates": [lon, lat]}),
            thing_ids=[thing.id or 0],
        )
        ids[name] = thing.id or 0
    return ids


@pytest.fixture(scope="module")
def url(app: Any) -> Iterator[str]:
    with serve(app) as base:
        yield base


@pytest.fixture(scope="module")
def token(app: Any) -> str:
    return str(app.state.services.access.create_token("ana", groups=[]))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_station_series_equals_rasterio_at_the_station(url: str, stations: dict[str, int]) -> None:
    response = httpx.get(f"{url}/insitu/stations/{stations['plot']}/eo-series",
                         params={"collection": COLLECTION, "preset": "ndvi"})  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["station"] == {"id": stations["plot"], "name": "plot", "lon": LON, "lat": LAT}
    assert [p["item"] for p in body["points"]] == [p.name for p in PRODUCTS]
    checked = 0
    for point, product in zip(body["points"], PRODUCTS, strict=True):
        expected = _ndvi(product)
        if expected is None:
            assert point["value"] is None
        else:
            assert point["value"] == pytest.approx(expected, abs=1e-6)
            checked += 1
        assert point["href"] == f"{url}/collections/{COLLECTION}/items/{product.name}"
        assert point["item_href"].endswith(f"/stac/collections/{COLLECTION}/items/{product.name}")
    assert checked >= 4


def test_an_asset_by_key_and_a_period(url: str, stations: dict[str, int]) -> None:
    params = {"collection": COLLECTION, "asset": "FRE_B4", "datetime": "2018-01-01/2018-12-31"}
    body = httpx.get(f"{url}/insitu/stations/{stations['plot']}/eo-series", params=params).json()
    in_2018 = [p for p in PRODUCTS if p.name.split("_")[1].startswith("2018")]
    assert [p["item"] for p in body["points"]] == [p.name for p in in_2018]
    for point, product in zip(body["points"], in_2018, strict=True):
        raw = _raw(next(product.glob("*_FRE_B4.tif")))
        assert point["value"] == pytest.approx(raw / 10_000, abs=1e-6)
        assert point["bands"] == {"FRE_B4": point["value"]}


def test_a_station_outside_every_footprint_has_an_empty_series(
    url: str, stations: dict[str, int]
) -> None:
    response = httpx.get(f"{url}/insitu/stations/{stations['away']}/eo-series",
                         params={"collection": COLLECTION})  # fmt: skip
    assert response.status_code == 200
    assert response.json()["points"] == []


def test_hidden_collection_and_hidden_station_are_unknown(
    url: str, stations: dict[str, int], app: Any
) -> None:
    plot = f"{url}/insitu/stations/{stations['plot']}/eo-series"
    hidden = httpx.get(plot, params={"collection": PRIVATE})
    unknown = httpx.get(plot, params={"collection": "no-such-collection"})
    assert hidden.status_code == unknown.status_code == 404
    assert PRIVATE in hidden.text and "no-such-collection" in unknown.text
    station = httpx.get(f"{url}/insitu/stations/{stations['hidden']}/eo-series",
                        params={"collection": COLLECTION})  # fmt: skip
    nobody = httpx.get(f"{url}/insitu/stations/999999/eo-series", params={"collection": COLLECTION})
    assert station.status_code == nobody.status_code == 404
    member = app.state.services.access.create_token("tea", groups=["team"])
    allowed = httpx.get(plot, params={"collection": PRIVATE}, headers=_bearer(member))
    assert allowed.status_code == 200
    assert [p["item"] for p in allowed.json()["points"]] == [PRODUCTS[-1].name]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"collection": COLLECTION, "preset": "hillshade"}, "'hillshade' does not make"),
        ({"collection": COLLECTION, "asset": "FRE_B99"}, "'FRE_B99' is not a raster asset"),
        ({"collection": COLLECTION, "preset": "ndvi", "asset": "FRE_B4"}, "not both"),
        ({"collection": COLLECTION, "datetime": "2019-01-01/2018-01-01"}, "starts after"),
    ],
)
def test_bad_requests_name_what_is_wrong(
    url: str, stations: dict[str, int], params: dict[str, str], named: str
) -> None:
    response = httpx.get(f"{url}/insitu/stations/{stations['plot']}/eo-series", params=params)
    assert response.status_code == 400
    assert named in response.text


def _openeo_values(url: str, token: str) -> list[float | None]:
    """NDVI at the point by the standard openEO way: load_collection + ndvi + aggregate_spatial
    over a bare GeoJSON Point, saved as JSON (one list per geometry, dates in order)."""
    box = {"west": LON - 0.001, "south": LAT - 0.001, "east": LON + 0.001, "north": LAT + 0.001}
    mean = {"m": {"process_id": "mean", "arguments": {"data": {"from_parameter": "data"}},
                  "result": True}}  # fmt: skip
    graph = {
        "load": {"process_id": "load_collection", "arguments": {
            "id": COLLECTION, "spatial_extent": box, "temporal_extent": None,
            "bands": ["B4", "B8A"]}},
        "ndvi": {"process_id": "ndvi", "arguments": {"data": {"from_node": "load"}}},
        "point": {"process_id": "aggregate_spatial", "arguments": {
            "data": {"from_node": "ndvi"}, "reducer": {"process_graph": mean},
            "geometries": {"type": "Point", "coordinates": [LON, LAT]}}},
        "save": {"process_id": "save_result", "arguments": {
            "data": {"from_node": "point"}, "format": "JSON"}, "result": True},
    }  # fmt: skip
    response = httpx.post(f"{url}/openeo/1.2/result", json={"process": {"process_graph": graph}},
                          headers=_bearer(f"basic//{token}"), timeout=300)  # fmt: skip
    assert response.status_code == 200, response.text
    (values,) = response.json()
    return list(values)


def test_ogc_sync_process_and_openeo_give_the_same_numbers(url: str, token: str) -> None:
    inputs = {"lon": LON, "lat": LAT, "collection": COLLECTION, "preset": "ndvi"}
    response = httpx.post(f"{url}/ogcapi/processes/point-series/execution",
                          json={"inputs": inputs}, headers=_bearer(token), timeout=300)  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.headers["Preference-Applied"] == "respond-sync"
    body = response.json()
    series = body["series"]["value"]
    assert body["table"]["href"].endswith("series.csv")
    ogc = [p["value"] for p in series["points"]]
    assert [p["item"] for p in series["points"]] == [p.name for p in PRODUCTS]
    openeo = _openeo_values(url, token)
    assert len(openeo) == len(ogc)
    for a, b in zip(ogc, openeo, strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            assert a == pytest.approx(b, abs=1e-6)
    table = httpx.get(body["table"]["href"], headers=_bearer(token))
    rows = table.text.strip().splitlines()
    assert rows[0] == "item,datetime,value,cloudy,cloud_cover" and len(rows) == 1 + len(ogc)


def test_ogc_async_process_reports_stages_and_its_results(app: Any, url: str, token: str) -> None:
    description = httpx.get(f"{url}/ogcapi/processes/point-series").json()
    assert "sync-execute" in description["jobControlOptions"]
    assert description["x-terrapole-stages"] == ["PREPARATION", "READING", "PUBLICATION"]
    inputs = {"lon": LON, "lat": LAT, "collection": COLLECTION, "preset": "ndvi",
              "datetime": "2018-01-01/2018-12-31"}  # fmt: skip
    response = httpx.post(f"{url}/ogcapi/processes/point-series/execution",
                          json={"inputs": inputs},
                          headers={**_bearer(token), "Prefer": "respond-async"})  # fmt: skip
    assert response.status_code == 201, response.text
    job_id = response.json()["jobID"]
    app.state.jobs.settled(job_id).result(timeout=300)
    status = httpx.get(f"{url}/ogcapi/jobs/{job_id}", headers=_bearer(token)).json()
    assert status["status"] == "successful" and status["progress"] == 100
    logs = httpx.get(f"{url}/ogcapi/jobs/{job_id}/logs", headers=_bearer(token)).json()
    stages = [line["message"] for line in logs["lines"] if line["message"].startswith("stage")]
    assert stages == ["stage PREPARATION", "stage READING", "stage PUBLICATION"]
    results = httpx.get(f"{url}/ogcapi/jobs/{job_id}/results", headers=_bearer(token)).json()
    series = httpx.get(results["series"]["href"], headers=_bearer(token)).json()
    assert [p["item"] for p in series["points"]] == [
        p.name for p in PRODUCTS if p.name.split("_")[1].startswith("2018")
    ]


def test_ogc_process_refuses_a_hidden_collection_as_an_unknown_one(url: str, token: str) -> None:
    answers = [
        httpx.post(f"{url}/ogcapi/processes/point-series/execution", headers=_bearer(token),
                   json={"inputs": {"lon": LON, "lat": LAT, "collection": name}})
        for name in (PRIVATE, "no-such-collection")
    ]  # fmt: skip
    assert [a.status_code for a in answers] == [404, 404]
    assert PRIVATE in answers[0].text
    bad = httpx.post(f"{url}/ogcapi/processes/point-series/execution", headers=_bearer(token),
                     json={"inputs": {"lon": 200, "lat": LAT, "collection": COLLECTION}})  # fmt: skip
    assert bad.status_code == 400 and "lon" in bad.text
