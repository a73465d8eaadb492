"""OGC API - Processes with OWSLib and plain HTTP: a zonal-statistics job on real rasters,
checked by hand; privacy of jobs and results; bad requests create no job."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import rasterio
import requests
from owslib.ogcapi.processes import Processes
from rasterio.warp import transform_geom

from . import gate
from .conftest import PRODUCTS, THEIA_PRODUCT


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _wait(url: str, job_id: str, token: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doc = requests.get(f"{url}/ogcapi/jobs/{job_id}", headers=_auth(token), timeout=10).json()
        if doc["status"] in ("successful", "failed", "dismissed"):
            return dict(doc)
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {doc}")


def _zone(path: str, rows: tuple[int, int], cols: tuple[int, int]) -> dict[str, Any]:
    """A WGS84 polygon whose outline follows pixel edges rows[0]:rows[1], cols[0]:cols[1]."""
    with rasterio.open(path) as ds:
        t, crs = ds.transform, ds.crs
    (r0, r1), (c0, c1) = rows, cols
    corners = [t * (c0, r0), t * (c1, r0), t * (c1, r1), t * (c0, r1), t * (c0, r0)]
    local = {"type": "Polygon", "coordinates": [[list(p) for p in corners]]}
    return dict(transform_geom(crs, "EPSG:4326", local))


LANDCOVER = str(PRODUCTS / "landcover" / "BDForet_ZoneTest.tif")


def test_owslib_lists_describes_and_runs_a_categorical_zonal_statistics(
    jobs_url: str, tokens: dict[str, str]
) -> None:
    api = Processes(f"{jobs_url}/ogcapi", headers=_auth(tokens["ana"]))
    ids = [p["id"] for p in api.processes()]
    assert "zonal-statistics" in ids
    described = api.process("zonal-statistics")
    assert described["inputs"]["zones"]["minOccurs"] == 1
    assert described["inputs"]["all_touched"]["x-terrapole-expert"] is True
    assert described["x-terrapole-stages"] == ["PREPARATION", "STATISTICS", "PUBLICATION"]
    zones = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "north", "properties": {},
         "geometry": _zone(LANDCOVER, (10, 30), (20, 50))},
        {"type": "Feature", "id": "south", "properties": {},
         "geometry": _zone(LANDCOVER, (50, 75), (5, 60))},
    ]}  # fmt: skip
    inputs = {"collection": "landcover", "item": "BDForet_ZoneTest", "asset": "data",
              "zones": zones}  # fmt: skip
    accepted = api.execute("zonal-statistics", inputs, async_=True)
    assert accepted["status"] == "accepted" and accepted["estimate_cpu_s"] > 0
    job = _wait(jobs_url, accepted["jobID"], tokens["ana"])
    assert job["status"] == "successful", job
    assert job["progress"] == 100 and job["expires"] and job["cpu_s"] > 0
    results = requests.get(job["links"][-1]["href"], headers=_auth(tokens["ana"]), timeout=10)
    table = requests.get(results.json()["table"]["href"], headers=_auth(tokens["ana"]), timeout=10)
    assert table.status_code == 200
    rows = list(csv.DictReader(io.StringIO(table.text)))
    with rasterio.open(LANDCOVER) as ds:
        data = ds.read(1)
    for zone, (rows_, cols_) in {
        "north": ((10, 30), (20, 50)),
        "south": ((50, 75), (5, 60)),
    }.items():
        block = data[rows_[0] : rows_[1], cols_[0] : cols_[1]]
        values, counts = np.unique(block, return_counts=True)
        got = {int(r["class"]): int(r["count"]) for r in rows if r["zone"] == zone}
        assert got == dict(zip(values.tolist(), counts.tolist(), strict=True)), zone
    # the log tells the stages; the item is private to ana
    logs = requests.get(f"{jobs_url}/ogcapi/jobs/{job['jobID']}/logs", headers=_auth(tokens["ana"]),
                        timeout=10).json()["lines"]  # fmt: skip
    messages = [line["message"] for line in logs]
    assert "stage STATISTICS" in messages and "stage PUBLICATION" in messages
    item_url = results.json()["item"]["href"]
    assert requests.get(item_url, headers=_auth(tokens["ana"]), timeout=10).status_code == 200
    assert requests.get(item_url, timeout=10).status_code == 404  # anonymous
    assert requests.get(item_url, headers=_auth(tokens["bob"]), timeout=10).status_code == 404
    assert requests.get(f"{jobs_url}/ogcapi/jobs/{job['jobID']}", headers=_auth(tokens["bob"]),
                        timeout=10).status_code == 404  # fmt: skip
    assert requests.get(item_url, headers=_auth(tokens["admin"]), timeout=10).status_code == 200
    item = requests.get(item_url, headers=_auth(tokens["ana"]), timeout=10).json()
    assert item["properties"]["terrapole:process"] == "zonal-statistics"
    assert [link["title"] for link in item["links"] if link["rel"] == "derived_from"] == [
        "BDForet_ZoneTest"]  # fmt: skip


def test_continuous_statistics_honour_scale_and_nodata(
    jobs_url: str, tokens: dict[str, str]
) -> None:
    band = next((PRODUCTS / "theia" / THEIA_PRODUCT).glob("*_FRE_B4.tif"))
    zone = _zone(str(band), (5, 40), (10, 70))
    body = {"inputs": {"collection": "theia-sentinel-2-l2a", "item": THEIA_PRODUCT,
                       "asset": "FRE_B4", "zones": zone}}  # fmt: skip
    response = requests.post(f"{jobs_url}/ogcapi/processes/zonal-statistics/execution", json=body,
                             headers=_auth(tokens["bob"]), timeout=10)  # fmt: skip
    assert response.status_code == 201 and response.headers["Location"].endswith(
        response.json()["jobID"])  # fmt: skip
    job = _wait(jobs_url, response.json()["jobID"], tokens["bob"])
    assert job["status"] == "successful", job
    results = requests.get(f"{jobs_url}/ogcapi/jobs/{job['jobID']}/results",
                           headers=_auth(tokens["bob"]), timeout=10).json()  # fmt: skip
    (row,) = csv.DictReader(
        io.StringIO(
            requests.get(results["table"]["href"], headers=_auth(tokens["bob"]), timeout=10).text
        )
    )
    with rasterio.open(band) as ds:
        block = ds.read(1)[5:40, 10:70].astype("float64")
    valid = block[block != -10000] * 1e-4
    assert int(row["count"]) == valid.size
    assert float(row["mean"]) == pytest.approx(valid.mean(), rel=1e-9)
    assert float(row["median"]) == pytest.approx(np.median(valid), rel=1e-9)
    assert float(row["max"]) == pytest.approx(valid.max(), rel=1e-9)


BOWTIE = {"type": "Polygon", "coordinates": [[[5.345, 49.276], [5.355, 49.282], [5.355, 49.276],
                                              [5.345, 49.282], [5.345, 49.276]]]}  # fmt: skip
SQUARE = {"type": "Polygon", "coordinates": [[[5.346, 49.276], [5.354, 49.276], [5.354, 49.281],
                                              [5.346, 49.281], [5.346, 49.276]]]}  # fmt: skip


@pytest.mark.parametrize(
    ("process", "inputs", "status", "words"),
    [
        ("nope", {}, 404, "process 'nope' not found"),
        ("zonal-statistics", {"collection": "landcover", "item": "BDForet_ZoneTest",
                              "asset": "data", "zones": BOWTIE}, 400, "Self-intersection"),
        ("zonal-statistics", {"collection": "landcover", "item": "BDForet_ZoneTest",
                              "asset": "data", "zones": SQUARE, "colour": 1}, 400,
         "input 'colour'"),
        ("zonal-statistics", {"collection": "landcover", "item": "BDForet_ZoneTest",
                              "asset": 3, "zones": SQUARE}, 400, "input 'asset'"),
        ("zonal-statistics", {"collection": "nowhere", "item": "x", "asset": "data",
                              "zones": SQUARE}, 404, "item 'nowhere/x' not found"),
        ("zonal-statistics", {"collection": "landcover", "item": "BDForet_ZoneTest",
                              "asset": "B99", "zones": SQUARE}, 400, "no asset 'B99'"),
        ("zonal-statistics", {"collection": "landcover", "item": "BDForet_ZoneTest",
                              "asset": "data"}, 400, "input 'zones': is required"),
        ("burn", {"seconds": 550}, 402, "left of their credit"),
    ],
)  # fmt: skip
def test_bad_requests_are_refused_and_create_no_job(
    jobs_url: str, tokens: dict[str, str], process: str, inputs: dict[str, Any], status: int,
    words: str,
) -> None:  # fmt: skip
    headers = _auth(tokens["bob"])
    before = len(
        requests.get(f"{jobs_url}/ogcapi/jobs", headers=headers, timeout=10).json()["jobs"]
    )
    response = requests.post(f"{jobs_url}/ogcapi/processes/{process}/execution",
                             json={"inputs": inputs}, headers=headers, timeout=10)  # fmt: skip
    assert response.status_code == status, response.text
    assert words in response.json()["description"]
    after = len(requests.get(f"{jobs_url}/ogcapi/jobs", headers=headers, timeout=10).json()["jobs"])
    assert after == before


def test_every_landing_page_link_answers(jobs_url: str) -> None:
    links = requests.get(f"{jobs_url}/ogcapi/", timeout=10).json()["links"]
    for link in links:
        response = requests.get(link["href"], timeout=30)
        assert response.status_code == 200, link
    (desc,) = [link["href"] for link in links if link["rel"] == "service-desc"]
    assert (
        "/ogcapi/processes/{process_id}/execution" in requests.get(desc, timeout=30).json()["paths"]
    )


def test_a_job_list_offset_beyond_a_database_integer_is_a_400(
    jobs_url: str, tokens: dict[str, str]
) -> None:
    """Found by the fuzzer on PostgreSQL: offset=1.8e21 was a 500 (integer out of range)."""
    response = requests.get(f"{jobs_url}/ogcapi/jobs", params={"offset": 1849265125615920218112},
                            headers=_auth(tokens["ana"]), timeout=10)  # fmt: skip
    assert response.status_code == 400 and "offset" in response.text


def test_anonymous_may_look_but_not_run(jobs_url: str) -> None:
    assert requests.get(f"{jobs_url}/ogcapi/processes", timeout=10).status_code == 200
    response = requests.post(f"{jobs_url}/ogcapi/processes/burn/execution",
                             json={"inputs": {"seconds": 0}}, timeout=10)  # fmt: skip
    assert response.status_code == 401


@pytest.fixture(autouse=True)
def _open_gates() -> Iterator[None]:
    """No job stays held at a gate after its test, passed or failed."""
    yield
    gate.release_all()


def _settle(jobs_app: Any, job_id: str) -> None:
    """Wait until the runner has concluded the job's task (final state and CPU·s recorded)."""
    jobs_app.state.jobs.settled(job_id).result(timeout=gate.WAIT_S)


def test_cpu_is_measured_not_wall_time_and_a_dismissed_job_stops(
    jobs_app: Any, jobs_url: str, tokens: dict[str, str]
) -> None:
    headers = _auth(tokens["ana"])
    post = f"{jobs_url}/ogcapi/processes/burn/execution"
    busy = requests.post(post, json={"inputs": {"seconds": 1.0}}, headers=headers, timeout=10)
    idle = requests.post(post, json={"inputs": {"seconds": 1.0, "sleep": True}}, headers=headers,
                         timeout=10)  # fmt: skip
    busy_job = _wait(jobs_url, busy.json()["jobID"], tokens["ana"])
    idle_job = _wait(jobs_url, idle.json()["jobID"], tokens["ana"])
    assert busy_job["status"] == idle_job["status"] == "successful"
    assert busy_job["cpu_s"] >= 1.0  # it spun until its thread had used 1 CPU·s: all counted
    # it slept 1 s, with ten stage reports of a few CPU·ms: neither wall time nor the CPU of
    # the process (the busy job spun beside it) is counted
    assert idle_job["cpu_s"] < 0.5
    long = requests.post(post, json={"inputs": {"seconds": 10, "sleep": True, "hold": 2}},
                         headers=headers, timeout=10).json()  # fmt: skip
    gate.reached(long["jobID"])  # held before its third stage; its last report said 10 %
    dismissed = requests.delete(f"{jobs_url}/ogcapi/jobs/{long['jobID']}", headers=headers,
                                timeout=10).json()  # fmt: skip
    assert dismissed["status"] == "dismissed"
    gate.release(long["jobID"])
    _settle(jobs_app, long["jobID"])
    final = requests.get(f"{jobs_url}/ogcapi/jobs/{long['jobID']}", headers=headers,
                         timeout=10).json()  # fmt: skip
    assert final["status"] == "dismissed" and final["progress"] == 10
    logs = requests.get(f"{jobs_url}/ogcapi/jobs/{long['jobID']}/logs", headers=headers,
                        timeout=10).json()["lines"]  # fmt: skip
    assert "burnt" not in [line["message"] for line in logs]  # it stopped before its end
    credit = requests.get(f"{jobs_url}/ogcapi/credits", headers=headers, timeout=10).json()
    assert credit["reserved_cpu_s"] == 0 and credit["used_cpu_s"] >= busy_job["cpu_s"]


def test_a_dismissed_job_is_charged_the_cpu_it_used_until_it_stopped(
    jobs_app: Any, jobs_url: str, tokens: dict[str, str]
) -> None:
    headers = _auth(tokens["bob"])
    job = requests.post(f"{jobs_url}/ogcapi/processes/burn/execution",
                        json={"inputs": {"seconds": 10, "hold": 2}}, headers=headers,
                        timeout=10).json()  # fmt: skip
    status_url = f"{jobs_url}/ogcapi/jobs/{job['jobID']}"
    gate.reached(job["jobID"])  # 1 CPU·s a stage: two burnt, its last report was after one
    reported = requests.get(status_url, headers=headers, timeout=10).json()
    assert reported["status"] == "running" and 1.0 <= reported["cpu_s"] < 2.0
    requests.delete(status_url, headers=headers, timeout=10)
    gate.release(job["jobID"])  # it stops at the stage report that follows
    _settle(jobs_app, job["jobID"])
    final = requests.get(status_url, headers=headers, timeout=10).json()
    assert final["status"] == "dismissed"
    # charged the two stages it burnt, more than its last report said, and not a third
    assert 2.0 <= final["cpu_s"] < 3.0
