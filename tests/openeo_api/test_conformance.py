"""openEO API conformance, with the openeo client where it can: pure process graphs, unknown
collections failing at run time, user-defined processes, openEO error bodies, OIDC off, the
served process descriptions equal to the vendored openeo-processes ones, netCDF with a time
dimension, ndvi without band names and a geographic collection (the DEM)."""

from __future__ import annotations

import io
import json
import time
from importlib import resources
from typing import Any

import httpx
import numpy as np
import openeo
import pytest
import xarray as xr
from openeo.rest import OpenEoApiError

from .test_client_flow import BBOX, PERIOD, connect

API = "/openeo/1.2"
S2 = "theia-sentinel-2-l2a"


def _node(process_id: str, **arguments: Any) -> dict[str, Any]:
    return {"a": {"process_id": process_id, "arguments": arguments, "result": True}}


def _wait(job: Any) -> str:
    deadline = time.monotonic() + 120
    while (status := job.status()) not in ("finished", "error", "canceled"):
        assert time.monotonic() < deadline, status
        time.sleep(0.3)
    return str(status)


# -- pure process graphs ------------------------------------------------------------------------
def test_a_graph_loading_nothing_is_evaluated_synchronously(
    url: str, tokens: dict[str, str]
) -> None:
    connection = connect(url, tokens["ana"])
    assert connection.execute(_node("add", x=1, y=2)) == 3
    assert connection.execute(_node("sort", data=[3, 1, 2])) == [1, 2, 3]
    assert connection.execute(_node("mean", data=[1, 2, 3, 4])) == 2.5
    assert connection.execute(_node("text_concat", data=["a", "b"], separator="-")) == "a-b"
    with pytest.raises(OpenEoApiError) as refused:  # a process's own error: 400, said
        connection.execute(_node("array_element", data=[1, 2], index=5))
    assert refused.value.http_status_code == 400


def test_a_graph_loading_nothing_runs_as_a_batch_job(
    url: str, tokens: dict[str, str], tmp_path: Any
) -> None:
    connection = connect(url, tokens["ana"])
    job = connection.create_job(_node("multiply", x=6, y=7))
    job.start()
    assert _wait(job) == "finished"
    files = job.get_results().download_files(tmp_path)
    assert [json.loads(f.read_text()) for f in files if f.name == "result.json"] == [42]


# -- unknown collections fail when the job runs --------------------------------------------------
UNKNOWN = {"load": {"process_id": "load_collection",
                    "arguments": {"id": "no-such-collection", "spatial_extent": BBOX,
                                  "temporal_extent": PERIOD}},
           "save": {"process_id": "save_result", "result": True,
                    "arguments": {"data": {"from_node": "load"}, "format": "GTiff"}}}  # fmt: skip


def test_an_unknown_collection_is_created_and_fails_with_collection_not_found(
    url: str, tokens: dict[str, str]
) -> None:
    connection = connect(url, tokens["ana"])
    job = connection.create_job(UNKNOWN)  # accepted: nothing is read before the job runs
    assert job.status() == "created"
    job.start()
    assert _wait(job) == "error"
    errors = [line for line in job.logs() if line["level"] == "error"]
    assert errors and errors[-1]["code"] == "CollectionNotFound"
    assert "no-such-collection" in errors[-1]["message"]
    with pytest.raises(OpenEoApiError) as sync:
        connection.execute(UNKNOWN)
    assert sync.value.code == "CollectionNotFound" and sync.value.http_status_code == 400
    checked = httpx.post(url + API + "/validation", json={"process_graph": UNKNOWN},
                         headers={"Authorization": f"Bearer basic//{tokens['ana']}"})  # fmt: skip
    assert checked.json()["errors"][0]["code"] == "CollectionNotFound"


# -- user-defined processes ---------------------------------------------------------------------
def test_user_defined_processes_are_stored_per_user(url: str, tokens: dict[str, str]) -> None:
    ana, bob = connect(url, tokens["ana"]), connect(url, tokens["bob"], "bob")
    graph = {"twice": {"process_id": "multiply", "result": True,
                       "arguments": {"x": {"from_parameter": "x"}, "y": 2}}}  # fmt: skip
    parameters = [{"name": "x", "description": "a number", "schema": {"type": "number"}}]
    udp = ana.save_user_defined_process("double", graph, parameters=parameters,
                                        summary="Doubles x")  # fmt: skip
    described = udp.describe()
    assert described["id"] == "double" and described["process_graph"] == graph
    assert described["parameters"] == parameters
    listed = ana.list_user_defined_processes()
    assert [p["id"] for p in listed] == ["double"] and "process_graph" not in listed[0]
    assert listed[0]["summary"] == "Doubles x"
    assert bob.list_user_defined_processes() == []  # another user's are not listed
    with pytest.raises(OpenEoApiError) as hidden:
        bob.user_defined_process("double").describe()
    assert hidden.value.http_status_code == 404 and hidden.value.code == "ProcessGraphNotFound"
    ana.save_user_defined_process("double", {**graph, "twice": {**graph["twice"],
                                  "arguments": {"x": {"from_parameter": "x"}, "y": 3}}},
                                  parameters=parameters)  # fmt: skip
    assert ana.user_defined_process("double").describe()["process_graph"]["twice"][
        "arguments"]["y"] == 3  # replaced  # fmt: skip
    udp.delete()
    assert ana.list_user_defined_processes() == []
    with pytest.raises(OpenEoApiError) as gone:
        udp.delete()
    assert gone.value.http_status_code == 404


@pytest.mark.parametrize(("ident", "body", "code"), [
    ("not-valid", {"process_graph": _node("absolute", x=1)}, "ProcessGraphIdInvalid"),
    ("ok_id", {"summary": "no graph"}, "InvalidInput"),
    ("ok_id", {"process_graph": _node("teleport")}, "InvalidInput"),
])  # fmt: skip
def test_bad_user_defined_processes_are_400(
    url: str, tokens: dict[str, str], ident: str, body: Any, code: str
) -> None:
    headers = {"Authorization": f"Bearer basic//{tokens['ana']}"}
    response = httpx.put(f"{url}{API}/process_graphs/{ident}", json=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    assert httpx.get(f"{url}{API}/process_graphs", headers=headers).json()["processes"] == []


# -- errors, capabilities, OIDC -----------------------------------------------------------------
@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/nothing/here", 404), ("DELETE", "/collections", 405), ("POST", "/jobs", 400),
    ("PUT", "/process_graphs/x", 400), ("GET", "/process_graphs/nothing", 404),
    ("GET", "/jobs/nothing", 404),
])  # fmt: skip
def test_every_error_body_is_openeo_shaped(
    url: str, tokens: dict[str, str], method: str, path: str, status: int
) -> None:
    headers = {"Authorization": f"Bearer basic//{tokens['ana']}"}
    response = httpx.request(method, url + API + path, headers=headers)
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"id", "code", "message", "links"} and body["code"] and body["message"]


def test_oidc_is_off_and_capabilities_list_only_served_endpoints(
    url: str, tokens: dict[str, str]
) -> None:
    assert httpx.get(url + API + "/credentials/oidc").json() == {"providers": []}
    capabilities = httpx.get(url + API + "/").json()
    assert "OpenID Connect is off" in capabilities["description"]
    listed = {(e["path"], m) for e in capabilities["endpoints"] for m in e["methods"]}
    assert ("/process_graphs/{process_graph_id}", "PUT") in listed
    # the API's schema wants at least one provider: without OIDC the endpoint is not claimed,
    # though it answers the clients that probe it anyway
    assert ("/credentials/oidc", "GET") not in listed
    headers = {"Authorization": f"Bearer basic//{tokens['bob']}"}
    for path, method in listed:  # served: no 405, and no 404 of a route that does not exist
        target = url + API + path.replace("{job_id}", "none").replace("{collection_id}", "none")
        target = target.replace("{process_graph_id}", "none")
        answer = httpx.request(method, target, headers=headers, json={}, timeout=60)
        assert answer.status_code != 405, (path, method)
        assert answer.status_code != 404 or answer.json()["message"] != "Not Found", (path, method)


# -- process descriptions -----------------------------------------------------------------------
def _vendored() -> dict[str, Any]:
    folder = resources.files("terrapole.openeo") / "specs"
    files = [*folder.iterdir(), *(folder / "proposals").iterdir()]
    return {f.name[:-5]: json.loads(f.read_text()) for f in files if f.name.endswith(".json")}


def test_served_process_descriptions_are_the_vendored_official_ones(url: str) -> None:
    served = httpx.get(url + API + "/processes").json()["processes"]
    vendored = _vendored()
    assert len(served) >= 100 and {"load_collection", "save_result", "ndvi"} <= {
        p["id"] for p in served}  # fmt: skip
    for process in served:
        assert process == vendored[process["id"]], process["id"]
    cos = next(p for p in served if p["id"] == "cos")  # a definition the library had shortened
    assert cos["returns"]["schema"]["minimum"] == -1 and cos["returns"]["schema"]["maximum"] == 1


# -- cubes --------------------------------------------------------------------------------------
def test_netcdf_with_a_time_dimension_for_any_period(url: str, tokens: dict[str, str]) -> None:
    connection = connect(url, tokens["ana"])
    for period in (PERIOD, ["2015-12-01", "2019-12-31"]):
        cube = connection.load_collection(S2, spatial_extent=BBOX, temporal_extent=period,
                                          bands=["FRE_B4"])  # fmt: skip
        data = xr.open_dataset(io.BytesIO(cube.download(format="netCDF")))
        times = data["t"].values
        assert len(times) >= 3 and np.all(np.diff(times) > np.timedelta64(0, "s"))
        assert str(times[0]).startswith(("2018-07-07", "2015-12-30"))


def test_ndvi_finds_red_and_nir_by_their_common_names(url: str, tokens: dict[str, str]) -> None:
    connection = connect(url, tokens["ana"])
    metadata = connection.describe_collection(S2)
    common = {b["name"]: b.get("common_name") for b in metadata["summaries"]["eo:bands"]}
    assert common["FRE_B4"] == "red" and common["FRE_B8A"] == "nir08"
    cube = connection.load_collection(
        S2, spatial_extent=BBOX, temporal_extent=PERIOD, bands=["red", "nir08"]
    )  # common names, found by the client
    data = xr.open_dataset(io.BytesIO(cube.ndvi().download(format="netCDF")))
    values = data["result"].values
    assert np.nanmin(values) >= -1 and np.nanmax(values) <= 1 and np.isfinite(values).any()
    everything = connection.load_collection(S2, spatial_extent=BBOX, temporal_extent=PERIOD)
    every = xr.open_dataset(io.BytesIO(everything.ndvi().download(format="netCDF")))["result"]
    assert every.dims == ("t", "y", "x") and np.isfinite(every.values).any()  # found its two


def test_a_geographic_collection_loads_on_x_and_y(url: str, tokens: dict[str, str]) -> None:
    connection = connect(url, tokens["ana"])
    box = {"west": 5.1, "south": 45.1, "east": 5.12, "north": 45.12}
    data = xr.open_dataset(io.BytesIO(
        connection.load_collection("dem", spatial_extent=box).download(format="netCDF")))  # fmt: skip
    assert {"x", "y"} <= set(data.dims)
    assert 5.09 <= float(data["x"].min()) and float(data["x"].max()) <= 5.13
    heights = data["result"].values
    assert np.isfinite(heights).all() and float(np.nanmax(heights)) > 100
    assert openeo.__version__  # the real client ran every flow above
