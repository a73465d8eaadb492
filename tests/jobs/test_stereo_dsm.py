"""The stereo DSM service end to end: CNES CARS on the real Pléiades Ventoux pair, through the
OGC API, against SRTM. Runs where the ``[dsm]`` extra (CARS) is installed."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest
import rasterio
import requests
from rasterio.warp import Resampling, reproject

from terrapole.catalog.documents import prepare_item
from terrapole.jobs.services.cars_run import find_command
from terrapole.jobs.services.stereo_dsm import STAGES

from ..conftest import ROOT
from .test_processes_api import _auth, _wait

pytestmark = pytest.mark.skipif(
    find_command() is None, reason="CNES CARS is not installed (pip install 'terrapole[dsm]')"
)
PAIR = ROOT / "tests" / "data" / "pleiades"
SRTM = PAIR / "srtm" / "N44E005.hgt"
# the left crop's envelope on the ground (CARS's RPC localisation), a little enlarged
FOOTPRINT = [5.192, 44.205, 5.198, 44.209]


def _polygon(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north],
                                                [west, north], [west, south]]]}  # fmt: skip


def _item(collection: str, item_id: str, assets: dict[str, Any], when: str) -> dict[str, Any]:
    return {"type": "Feature", "stac_version": "1.0.0", "id": item_id, "collection": collection,
            "geometry": _polygon(*FOOTPRINT), "bbox": FOOTPRINT,
            "properties": {"datetime": when, "platform": "pleiades-1b"},
            "links": [], "assets": assets}  # fmt: skip


@pytest.fixture(scope="module")
def pair(jobs_app: Any) -> dict[str, str]:
    """The pair and the SRTM tile stored and catalogued like any product."""
    services = jobs_app.state.services
    root = Path(services.storage.root)
    for name in ("left_image.tif", "left_image.geom", "right_image.tif", "right_image.geom"):
        (root / "pleiades" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PAIR / name, root / "pleiades" / name)
    (root / "srtm").mkdir(exist_ok=True)
    shutil.copyfile(SRTM, root / "srtm" / SRTM.name)
    for collection, title in (("pleiades-stereo", "Pléiades stereo pairs"), ("srtm", "SRTM")):
        services.store.create_collection({
            "type": "Collection", "stac_version": "1.0.0", "id": collection, "title": title,
            "description": title, "license": "other", "links": [],
            "extent": {"spatial": {"bbox": [FOOTPRINT]},
                       "temporal": {"interval": [[None, None]]}}})  # fmt: skip
    items = [
        _item("pleiades-stereo", f"PHR1B_20130805_{side}", {
            "PAN": {"href": f"/assets/pleiades/{side}_image.tif", "type": "image/tiff",
                    "roles": ["data"], "proj:shape": shape},
            "RPC": {"href": f"/assets/pleiades/{side}_image.geom", "type": "text/plain",
                    "roles": ["metadata"]}}, "2013-08-05T10:42:19Z")
        for side, shape in (("left", [500, 500]), ("right", [498, 495]))
    ] + [_item("srtm", "N44E005", {"data": {"href": "/assets/srtm/N44E005.hgt",
                                            "roles": ["data"]}}, "2000-02-11T00:00:00Z")]  # fmt: skip
    services.store.load_items([prepare_item(i) for i in items])
    return {
        "collection": "pleiades-stereo",
        "left": "PHR1B_20130805_left",
        "right": "PHR1B_20130805_right",
        "dem": "srtm/N44E005",
    }


def _execute(url: str, token: str, inputs: dict[str, Any]) -> requests.Response:
    return requests.post(f"{url}/ogcapi/processes/stereo-dsm/execution",
                         json={"inputs": inputs}, headers=_auth(token), timeout=60)  # fmt: skip


def _cars_running() -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        line = process.info["cmdline"] or []
        if any(part.endswith("cars.json") for part in line):
            found.append(process)
    return found


def test_the_ventoux_pair_gives_a_dsm_that_agrees_with_srtm(
    jobs_url: str, tokens: dict[str, str], pair: dict[str, str]
) -> None:
    token = tokens["ana"]
    description = requests.get(f"{jobs_url}/ogcapi/processes/stereo-dsm", timeout=30).json()
    assert "resolution" in description["inputs"]
    response = _execute(jobs_url, token, pair)
    assert response.status_code == 201, response.text
    job_id = response.json()["jobID"]
    seen = []
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        status = requests.get(f"{jobs_url}/ogcapi/jobs/{job_id}", headers=_auth(token),
                              timeout=30).json()  # fmt: skip
        if status["stage"] and (not seen or seen[-1][0] != status["stage"]):
            seen.append((status["stage"], status["progress"], status["cpu_s"]))
        if status["status"] in ("successful", "failed", "dismissed"):
            break
        time.sleep(0.5)
    assert status["status"] == "successful", status["message"]
    # the seeds' stages, in order, in the log; progress and CPU·s only grow while it runs
    lines = requests.get(f"{jobs_url}/ogcapi/jobs/{job_id}/logs", headers=_auth(token),
                         timeout=30).json()["lines"]  # fmt: skip
    entered = [line["message"].removeprefix("stage ") for line in lines
               if line["message"].startswith("stage ")]  # fmt: skip
    assert entered == list(STAGES)
    assert [s for s, _, _ in seen] == [s for s in STAGES if s in {x for x, _, _ in seen}]
    assert len(seen) >= 3
    assert [p for _, p, _ in seen] == sorted(p for _, p, _ in seen)
    assert [c for _, _, c in seen] == sorted(c for _, _, c in seen)
    # CARS's own CPU time is the job's: it ran ~70 CPU·s in a child process
    assert status["cpu_s"] > 30
    links = requests.get(f"{jobs_url}/ogcapi/jobs/{job_id}/results", headers=_auth(token),
                         timeout=30).json()  # fmt: skip
    item = requests.get(links["item"]["href"], headers=_auth(token), timeout=30).json()
    properties = item["properties"]
    assert properties["processing:software"]["cars"].startswith("1.")
    assert properties["terrapole:tie_points"] >= 90  # what CARS needs to correct the grids
    assert {link["title"] for link in item["links"] if link["rel"] == "derived_from"} == {
        pair["left"],
        pair["right"],
    }
    data = requests.get(links["DSM"]["href"], headers=_auth(token), timeout=30).content
    with rasterio.MemoryFile(data) as memory, memory.open() as ds:
        heights = ds.read(1, masked=True)
        assert ds.res == (0.5, 0.5) and ds.crs.to_epsg() in (32631, None)
        assert "UTM zone 31N" in ds.crs.to_wkt()
        srtm = np.zeros(ds.shape, "float32")
        with rasterio.open(SRTM) as source:
            reproject(rasterio.band(source, 1), srtm, dst_transform=ds.transform,
                      dst_crs=ds.crs, resampling=Resampling.bilinear)  # fmt: skip
    assert heights.count() / heights.size > 0.3
    assert properties["terrapole:valid_fraction"] == pytest.approx(
        heights.count() / heights.size, abs=1e-3
    )
    # both are heights above EGM96; SRTM is 90 m, the DSM 0.5 m with trees and houses:
    # the run measured a median difference of 3.5 m
    difference = (heights - srtm).compressed()
    assert abs(float(np.median(difference))) < 10
    assert 400 < float(heights.min()) and float(heights.max()) < 600


def test_a_dismissed_dsm_job_stops_cars(
    jobs_url: str, tokens: dict[str, str], pair: dict[str, str]
) -> None:
    token = tokens["bob"]
    response = _execute(jobs_url, token, pair)
    assert response.status_code == 201, response.text
    job_id = response.json()["jobID"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not _cars_running():
        time.sleep(0.2)
    assert _cars_running(), "CARS never started"
    requests.delete(f"{jobs_url}/ogcapi/jobs/{job_id}", headers=_auth(token), timeout=30)
    status = _wait(jobs_url, job_id, token, timeout=60)
    assert status["status"] == "dismissed"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _cars_running():
        time.sleep(0.2)
    assert not _cars_running(), "CARS kept running after the job was dismissed"


def test_bad_pairs_are_refused(jobs_url: str, tokens: dict[str, str], pair: dict[str, str]) -> None:
    token = tokens["ana"]
    cases = [
        ({**pair, "right": pair["left"]}, 400, "another image"),
        ({**pair, "right": "nope"}, 404, "nope"),
        ({**pair, "geomodel_asset": "DIMAP"}, 400, "no 'DIMAP' asset"),
        ({**pair, "dem": "srtm"}, 400, "'collection/item'"),
        ({**pair, "resolution": "fine"}, 400, "resolution"),
        ({**pair, "zone": {"type": "Point", "coordinates": [5.19, 44.2]}}, 400, "zone"),
    ]
    for inputs, code, reason in cases:
        response = _execute(jobs_url, token, inputs)
        assert response.status_code == code, (inputs, response.text)
        assert reason in json.dumps(response.json()), (reason, response.text)
