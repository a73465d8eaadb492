"""Process graphs that cannot run are refused before any job exists: 4xx with the node named.
(An unknown collection is not refused here: the job fails when it runs, test_conformance.)"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from .test_client_flow import BBOX, PERIOD

LOAD = {"process_id": "load_collection",
        "arguments": {"id": "theia-sentinel-2-l2a", "spatial_extent": BBOX,
                      "temporal_extent": PERIOD, "bands": ["FRE_B4"]}}  # fmt: skip
SAVE = {"process_id": "save_result", "arguments": {"data": {"from_node": "load"}, "format": "GTiff"},
        "result": True}  # fmt: skip


def _graph(**nodes: Any) -> dict[str, Any]:
    return {"process": {"process_graph": nodes}}


# a valid graph that fails when it runs: ndvi of a cube with no red/NIR pair (only FRE_B4)
NDVI_OF_RED_ONLY = _graph(
    load=LOAD, ndvi={"process_id": "ndvi", "arguments": {"data": {"from_node": "load"}}},
    save={**SAVE, "arguments": {"data": {"from_node": "ndvi"}, "format": "GTiff"}})  # fmt: skip


CASES = [
    (_graph(load=LOAD, save={**SAVE, "process_id": "teleport"}), "unknown process 'teleport'"),
    (_graph(a={"process_id": "absolute", "arguments": {"x": {"from_node": "b"}}},
            b={"process_id": "absolute", "arguments": {"x": {"from_node": "a"}}, "result": True}),
     "cycle: a -> b -> a"),
    (_graph(load=LOAD, save={**SAVE, "arguments": {"data": {"from_node": "gone"}}}),
     "from_node 'gone' is not a node"),
    (_graph(load=LOAD, save={**SAVE, "result": False}), "exactly one result node"),
    (_graph(load={**LOAD, "arguments": {**LOAD["arguments"], "spatial_extent": {"west": "x"}}},
            save=SAVE), "spatial_extent"),
    (_graph(load={**LOAD, "arguments": {**LOAD["arguments"], "bands": ["B99"]}}, save=SAVE),
     "no band 'B99'"),
    (_graph(load={**LOAD, "arguments": {**LOAD["arguments"], "spatial_extent":
                  {"west": 0, "south": 0, "east": 1, "north": 1}}}, save=SAVE), "no item"),
    ({"process": {"process_graph": {}}}, "non-empty object of nodes"),
    ({"nothing": 1}, "process_graph"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "reason"), CASES)
def test_bad_graphs_are_400_and_create_no_job(
    url: str, tokens: dict[str, str], openeo_app: Any, body: Any, reason: str
) -> None:
    headers = {"Authorization": f"Bearer basic//{tokens['ana']}"}
    jobs = openeo_app.state.jobs.jobs
    before = len(jobs.find("ana", limit=1000))
    for path in ("/openeo/1.2/result", "/openeo/1.2/jobs"):
        response = httpx.post(url + path, json=body, headers=headers, timeout=60)
        assert response.status_code == 400, (path, response.text)
        assert reason in response.json()["message"], response.json()
    assert len(jobs.find("ana", limit=1000)) == before
    checked = httpx.post(url + "/openeo/1.2/validation", json=body.get("process", body),
                         headers=headers, timeout=60)  # fmt: skip
    assert checked.status_code == 200 and reason in checked.json()["errors"][0]["message"]


def test_anonymous_requests_are_401(url: str) -> None:
    body = _graph(load=LOAD, save=SAVE)
    for path in ("/openeo/1.2/result", "/openeo/1.2/jobs"):
        assert httpx.post(url + path, json=body, timeout=60).status_code == 401
    assert httpx.get(url + "/openeo/1.2/me", timeout=60).status_code == 401
    wrong = httpx.get(url + "/openeo/1.2/credentials/basic", auth=("ana", "not-a-token"))
    assert wrong.status_code == 401


def test_a_failing_graph_ends_failed_with_the_reason(url: str, tokens: dict[str, str]) -> None:
    """Valid structure, wrong at run time (ndvi without red/NIR bands): 400, reason given."""
    headers = {"Authorization": f"Bearer basic//{tokens['ana']}"}
    response = httpx.post(url + "/openeo/1.2/result", json=NDVI_OF_RED_ONLY, headers=headers,
                          timeout=120)  # fmt: skip
    assert response.status_code == 400
    assert "NIR" in response.json()["message"] or "nir" in response.json()["message"]


def test_requests_over_the_size_limit_are_refused_before_reading(
    url: str, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from terrapole.jobs.services import openeo_graph

    monkeypatch.setitem(openeo_graph.LIMITS, "sync", 10_000)  # 3 dates x 80 x 80 = 19,200
    headers = {"Authorization": f"Bearer basic//{tokens['ana']}"}
    response = httpx.post(url + "/openeo/1.2/result", json=_graph(load=LOAD, save=SAVE),
                          headers=headers, timeout=60)  # fmt: skip
    assert response.status_code == 400
    assert "19,200 values to load" in response.json()["message"]
    assert "a sync request may load 10,000" in response.json()["message"]


def test_a_failed_batch_job_logs_its_error_at_error_level(url: str, tokens: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer basic//{tokens['ana']}"}
    created = httpx.post(url + "/openeo/1.2/jobs", json=NDVI_OF_RED_ONLY, headers=headers,
                         timeout=60)  # fmt: skip
    assert created.status_code == 201
    job = created.headers["OpenEO-Identifier"]
    assert httpx.post(f"{url}/openeo/1.2/jobs/{job}/results", headers=headers).status_code == 202
    deadline = time.monotonic() + 60
    while (status := httpx.get(f"{url}/openeo/1.2/jobs/{job}", headers=headers).json())[
        "status"
    ] not in ("error", "finished"):
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
    assert status["status"] == "error"
    logs = httpx.get(f"{url}/openeo/1.2/jobs/{job}/logs", headers=headers).json()["logs"]
    assert any(line["level"] == "error" for line in logs), logs
    assert {line["level"] for line in logs} <= {"error", "warning", "info", "debug"}
