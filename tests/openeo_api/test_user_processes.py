"""User-defined processes stored at /process_graphs are callable from the same user's graphs
(namespace ``user``, or none for an id that is no predefined process), also from one another;
another user's graph does not see them."""

from __future__ import annotations

from typing import Any

import httpx

API = "/openeo/1.2"


def _headers(tokens: dict[str, str], who: str = "ana") -> dict[str, str]:
    return {"Authorization": f"Bearer basic//{tokens[who]}"}


def _store(url: str, tokens: dict[str, str], ident: str, graph: dict[str, Any]) -> None:
    body = {"parameters": [{"name": "x", "description": "a number", "schema": {"type": "number"}},
                           {"name": "step", "description": "added", "schema": {"type": "number"},
                            "optional": True, "default": 1}],
            "process_graph": graph}  # fmt: skip
    response = httpx.put(f"{url}{API}/process_graphs/{ident}", json=body, headers=_headers(tokens))
    assert response.status_code == 200, response.text


def _run(
    url: str, tokens: dict[str, str], node: dict[str, Any], who: str = "ana"
) -> httpx.Response:
    graph = {"process": {"process_graph": {"n": {**node, "result": True}}}}
    return httpx.post(f"{url}{API}/result", json=graph, headers=_headers(tokens, who), timeout=120)


def test_a_stored_process_is_called_with_its_arguments_and_defaults(
    url: str, tokens: dict[str, str]
) -> None:
    add_step = {"a": {"process_id": "add", "result": True, "arguments": {
        "x": {"from_parameter": "x"}, "y": {"from_parameter": "step"}}}}  # fmt: skip
    _store(url, tokens, "add_step", add_step)
    called = {"process_id": "add_step", "namespace": "user", "arguments": {"x": 41}}
    answer = _run(url, tokens, called)
    assert answer.status_code == 200, answer.text
    assert answer.json() == 42  # step's default: 1
    plain = {"process_id": "add_step", "arguments": {"x": 40, "step": 3}}  # no namespace
    assert _run(url, tokens, plain).json() == 43
    # one stored process calling another
    twice = {"a": {"process_id": "add_step", "arguments": {"x": {"from_parameter": "x"}}},
             "b": {"process_id": "add_step", "result": True,
                   "arguments": {"x": {"from_node": "a"}}}}  # fmt: skip
    _store(url, tokens, "add_twice", twice)
    assert _run(url, tokens, {"process_id": "add_twice", "arguments": {"x": 1}}).json() == 3


def test_another_users_graph_cannot_call_a_stored_process(url: str, tokens: dict[str, str]) -> None:
    graph = {"a": {"process_id": "multiply", "result": True,
                   "arguments": {"x": {"from_parameter": "x"}, "y": 2}}}  # fmt: skip
    _store(url, tokens, "double", graph)
    node = {"process_id": "double", "namespace": "user", "arguments": {"x": 4}}
    assert _run(url, tokens, node).json() == 8
    refused = _run(url, tokens, node, who="bob")
    assert refused.status_code == 400
    assert "unknown process 'double'" in refused.json()["message"]


def test_a_stored_process_that_calls_itself_is_refused_before_it_runs(
    url: str, tokens: dict[str, str]
) -> None:
    loop = {"a": {"process_id": "add", "result": True,
                  "arguments": {"x": {"from_parameter": "x"}, "y": 1}}}  # fmt: skip
    _store(url, tokens, "loop", loop)
    # replaced by a version calling itself: stored (it was known), refused when called
    selfish = {
        "a": {"process_id": "loop", "result": True, "arguments": {"x": {"from_parameter": "x"}}}
    }
    _store(url, tokens, "loop", selfish)
    refused = _run(url, tokens, {"process_id": "loop", "arguments": {"x": 1}})
    assert refused.status_code == 400
    assert "cycle: loop -> loop" in refused.json()["message"]
