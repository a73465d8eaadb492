"""What a graph may ask for is bounded: loads inside stored processes are priced per call and
limited in total, stored processes expand to at most 10,000 nodes nested 16 deep, arrays hold
at most the values a request may load, the internal text marker cannot be written, and the
back-end's own failures are not passed off as the graph's."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from terrapole.errors import InvalidInput
from terrapole.openeo import graph, nodata

from .test_bad_graphs import LOAD
from .test_client_flow import PERIOD

API = "/openeo/1.2"
SAVE = {"process_id": "save_result", "result": True,
        "arguments": {"data": {"from_node": "load"}, "format": "GTiff"}}  # fmt: skip


def _headers(tokens: dict[str, str], who: str = "ana") -> dict[str, str]:
    return {"Authorization": f"Bearer basic//{tokens[who]}"}


def _put(url: str, tokens: dict[str, str], ident: str, body: Any) -> httpx.Response:
    return httpx.put(f"{url}{API}/process_graphs/{ident}", json=body, headers=_headers(tokens))


def _result(url: str, tokens: dict[str, str], nodes: dict[str, Any]) -> httpx.Response:
    body = {"process": {"process_graph": nodes}}
    return httpx.post(f"{url}{API}/result", json=body, headers=_headers(tokens), timeout=120)


def _calls(ident: str, times: int) -> dict[str, Any]:
    """A graph calling the stored process ``ident`` ``times`` times."""
    nodes = {f"c{i}": {"process_id": ident, "arguments": {}} for i in range(times)}
    return nodes | {"n": {"process_id": "constant", "arguments": {"x": 1}, "result": True}}


def test_check_counts_the_loads_of_stored_processes_once_per_call() -> None:
    user = {"loader": {"process_graph": {"load": LOAD, "save": SAVE}}}
    assert len(graph.check(_calls("loader", 2), user=user)) == 2
    assert len(graph.check(_calls("loader", 3), user=user)) == 3


def test_stored_processes_expanding_past_the_node_limit_are_refused() -> None:
    # p_i calls p_{i-1} twice: 2**15 nodes from 16 small processes
    user: dict[str, Any] = {"p0": {"process_graph": {
        "n": {"process_id": "constant", "arguments": {"x": 1}, "result": True}}}}  # fmt: skip
    for i in range(1, 16):
        user[f"p{i}"] = {"process_graph": _calls(f"p{i - 1}", 2)}
    graph.check(_calls("p5", 1), user=user)  # small enough
    with pytest.raises(InvalidInput, match="runs over 10,000 nodes") as refused:
        graph.check(_calls("p15", 1), user=user)
    assert "user-defined process 'p" in str(refused.value)


def test_stored_processes_nested_too_deep_are_refused() -> None:
    user: dict[str, Any] = {"q0": {"process_graph": {
        "n": {"process_id": "constant", "arguments": {"x": 1}, "result": True}}}}  # fmt: skip
    for i in range(1, 20):
        user[f"q{i}"] = {"process_graph": _calls(f"q{i - 1}", 1)}
    graph.check(_calls("q15", 1), user=user)  # 16 deep
    with pytest.raises(InvalidInput, match="nest deeper than 16") as refused:
        graph.check(_calls("q19", 1), user=user)
    assert "user-defined process 'q" in str(refused.value)


def test_the_load_limit_counts_the_loads_inside_stored_processes(
    url: str, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from terrapole.jobs.services import openeo_graph

    monkeypatch.setitem(openeo_graph.LIMITS, "sync", 30_000)  # one load: 19,200 values
    assert _put(url, tokens, "red_cube", {"process_graph": {"load": LOAD, "save": SAVE}}).is_success
    refused = _result(url, tokens, _calls("red_cube", 2))
    assert refused.status_code == 400
    assert "38,400 values to load" in refused.json()["message"]


def test_loads_priced_only_when_run_are_limited_in_total(
    url: str, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from terrapole.jobs.services import openeo_graph

    monkeypatch.setitem(openeo_graph.LIMITS, "sync", 30_000)
    dated = {**LOAD, "arguments": {**LOAD["arguments"],
                                   "temporal_extent": {"from_parameter": "period"}}}  # fmt: skip
    body = {"parameters": [{"name": "period", "description": "dates", "schema": {}}],
            "process_graph": {"load": {**dated, "result": True}}}  # fmt: skip
    assert _put(url, tokens, "dated_cube", body).is_success
    call = {"process_id": "dated_cube", "arguments": {"period": PERIOD}}
    once = _result(url, tokens, {"load": call, "save": SAVE})
    assert once.status_code == 200, once.text
    both = {"process_id": "subtract", "arguments": {"x": {"from_node": "a"},
                                                    "y": {"from_node": "b"}}}  # fmt: skip
    twice = _result(url, tokens, {"a": call, "b": call, "load": both, "save": SAVE})
    assert twice.status_code == 400
    assert "the limit here is 10,800" in twice.json()["message"]  # 30,000 - 19,200 left


def test_huge_arrays_are_refused_before_they_are_made(url: str, tokens: dict[str, str]) -> None:
    node = {"process_id": "array_create", "arguments": {"data": [1], "repeat": 10**10},
            "result": True}  # fmt: skip
    refused = _result(url, tokens, {"n": node})
    assert refused.status_code == 400
    assert "array_create" in refused.json()["message"]
    assert "10,000,000,000 values" in refused.json()["message"]
    small = {"process_id": "array_create", "arguments": {"data": [1, 2], "repeat": 2}}
    assert _result(url, tokens, {"n": {**small, "result": True}}).json() == [1, 2, 1, 2]


def test_array_arguments_and_results_over_the_limit_are_refused() -> None:
    def run(node: dict[str, Any]) -> Any:
        graph.check({"n": node})
        return graph.evaluate({"n": node}, lambda _: None, lambda *a: True, max_values=5)

    with pytest.raises(InvalidInput, match="process sum: an array argument of 6 values"):
        run({"process_id": "sum", "arguments": {"data": [1] * 6}, "result": True})
    with pytest.raises(InvalidInput, match="process array_concat: a result of 6 values"):
        run({"process_id": "array_concat", "arguments": {"array1": [1] * 3, "array2": [1] * 3},
             "result": True})  # fmt: skip
    assert run({"process_id": "sum", "arguments": {"data": [1] * 5}, "result": True}) == 5


def test_the_internal_text_marker_cannot_be_written(url: str, tokens: dict[str, str]) -> None:
    node = {"process_id": "add", "arguments": {"x": {nodata.TEXT: 5}, "y": 1}, "result": True}
    refused = _result(url, tokens, {"n": node})
    assert refused.status_code == 400
    assert "reserved" in refused.json()["message"]


def test_our_own_failures_are_not_reported_as_the_graphs(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(process_id: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
        raise TypeError("a bug of ours")

    monkeypatch.setattr(nodata.json_arrays, "evaluate", broken)
    node = {"process_id": "add", "arguments": {"x": 1, "y": 1}, "result": True}
    with pytest.raises(TypeError, match="a bug of ours"):
        graph.evaluate({"n": node}, lambda _: None, lambda *a: True)


def test_count_is_an_integer() -> None:
    node = {"process_id": "count", "arguments": {"data": [1, None, 3]}, "result": True}
    graph.check({"n": node})
    counted = graph.evaluate({"n": node}, lambda _: None, lambda *a: True)
    assert counted == 2 and isinstance(counted, int)


def test_an_admin_starting_a_job_resolves_its_owners_processes(
    url: str, tokens: dict[str, str], openeo_app: Any
) -> None:
    admin = openeo_app.state.services.access.create_token("root", groups=[], admin=True)
    tripled = {"process_graph": {"a": {"process_id": "multiply", "result": True,
                                       "arguments": {"x": 3, "y": 2}}}}  # fmt: skip
    assert _put(url, tokens, "sixfold", tripled).is_success
    job = {"process": {"process_graph": {"a": {"process_id": "sixfold", "arguments": {},
                                               "result": True}}}}  # fmt: skip
    created = httpx.post(f"{url}{API}/jobs", json=job, headers=_headers(tokens))
    assert created.status_code == 201, created.text
    job_id = created.headers["OpenEO-Identifier"]
    as_admin = {"Authorization": f"Bearer basic//{admin}"}
    estimate = httpx.get(f"{url}{API}/jobs/{job_id}/estimate", headers=as_admin)
    assert estimate.status_code == 200, estimate.text
    started = httpx.post(f"{url}{API}/jobs/{job_id}/results", headers=as_admin)
    assert started.status_code == 202, started.text
