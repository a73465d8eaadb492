"""User-defined processes stored at /process_graphs are callable from the same user's graphs
(namespace ``user``, or none for an id that is no predefined process), also from one another;
another user's graph does not see them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

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


def _put(url: str, tokens: dict[str, str], ident: str, body: Any) -> httpx.Response:
    return httpx.put(f"{url}{API}/process_graphs/{ident}", json=body, headers=_headers(tokens))


def test_a_stored_process_that_calls_itself_is_refused_when_stored(
    url: str, tokens: dict[str, str]
) -> None:
    loop = {"a": {"process_id": "add", "result": True,
                  "arguments": {"x": {"from_parameter": "x"}, "y": 1}}}  # fmt: skip
    _store(url, tokens, "loop", loop)
    # a new version calling itself: refused with the new body, the old one kept
    selfish = {
        "a": {"process_id": "loop", "result": True, "arguments": {"x": {"from_parameter": "x"}}}
    }
    refused = _put(url, tokens, "loop", {"process_graph": selfish, "parameters": [
        {"name": "x", "description": "a number", "schema": {}}]})  # fmt: skip
    assert refused.status_code == 400
    assert "cycle: loop -> loop" in refused.json()["message"]
    assert _run(url, tokens, {"process_id": "loop", "arguments": {"x": 1}}).json() == 2


def test_a_cycle_between_two_stored_processes_is_refused_when_stored(
    url: str, tokens: dict[str, str]
) -> None:
    one = {"a": {"process_id": "add", "result": True, "arguments": {"x": 1, "y": 1}}}
    _store(url, tokens, "ping", one)
    _store(url, tokens, "pong", {"a": {"process_id": "ping", "result": True, "arguments": {}}})
    back = {"process_graph": {"a": {"process_id": "pong", "result": True, "arguments": {}}}}
    refused = _put(url, tokens, "ping", back)
    assert refused.status_code == 400
    assert "cycle" in refused.json()["message"] and "ping" in refused.json()["message"]


def test_a_predefined_process_id_cannot_be_stored(url: str, tokens: dict[str, str]) -> None:
    body = {"process_graph": {"a": {"process_id": "subtract", "result": True,
                                    "arguments": {"x": 1, "y": 1}}}}  # fmt: skip
    refused = _put(url, tokens, "add", body)
    assert refused.status_code == 400
    assert "'add' is a predefined process" in refused.json()["message"]
    # and add still adds
    assert _run(url, tokens, {"process_id": "add", "arguments": {"x": 1, "y": 1}}).json() == 2
    # namespace user names a stored process only
    unknown = _run(url, tokens, {"process_id": "add", "namespace": "user",
                                 "arguments": {"x": 1, "y": 1}})  # fmt: skip
    assert unknown.status_code == 400
    assert "unknown process 'add'" in unknown.json()["message"]


def test_an_unknown_namespace_is_refused(url: str, tokens: dict[str, str]) -> None:
    node = {"process_id": "add", "namespace": "https://example.org/processes",
            "arguments": {"x": 1, "y": 1}}  # fmt: skip
    refused = _run(url, tokens, node)
    assert refused.status_code == 400
    assert "unknown namespace 'https://example.org/processes'" in refused.json()["message"]
    backend = _run(url, tokens, {**node, "namespace": "backend"})
    assert backend.status_code == 200 and backend.json() == 2


def test_stored_process_bodies_keep_texts_and_run_callbacks_per_element(
    url: str, tokens: dict[str, str]
) -> None:
    same = {"process_id": "eq", "arguments": {"x": "2018-01-01T00:00:00Z",
                                              "y": "2018-01-01T00:00:00+00:00"}}  # fmt: skip
    absolute = {"process_id": "array_apply", "arguments": {"data": [1, -2, 3], "process": {
        "process_graph": {"a": {"process_id": "absolute", "result": True,
                                "arguments": {"x": {"from_parameter": "x"}}}}}}}  # fmt: skip
    for name, node in (("same_text", same), ("absolutes", absolute)):
        top = _run(url, tokens, node)
        assert top.status_code == 200, top.text
        _put(url, tokens, name, {"process_graph": {"n": {**node, "result": True}}})
        stored = _run(url, tokens, {"process_id": name, "arguments": {}})
        assert stored.status_code == 200, stored.text
        assert stored.json() == top.json()
    assert _run(url, tokens, {"process_id": "same_text", "arguments": {}}).json() is False
    assert _run(url, tokens, {"process_id": "absolutes", "arguments": {}}).json() == [1, 2, 3]


BAD_PROCESSES = [
    ({"process_graph": {"a": {"process_id": "add", "result": True,
                              "arguments": {"x": {"from_parameter": "y"}, "y": 1}}}},
     "from_parameter 'y' is no parameter"),
    ({"parameters": {"x": 1}, "process_graph": {"a": {"process_id": "add", "result": True,
                                                       "arguments": {"x": 1, "y": 1}}}},
     "parameters: must be a list"),
    ({"parameters": [{"name": "x"}], "process_graph": {"a": {
        "process_id": "add", "result": True, "arguments": {"x": 1, "y": 1}}}},
     "parameters[0]: needs a description"),
    ({"returns": [], "process_graph": {"a": {"process_id": "add", "result": True,
                                             "arguments": {"x": 1, "y": 1}}}},
     "returns: must be an object"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "reason"), BAD_PROCESSES)
def test_malformed_processes_are_refused(
    url: str, tokens: dict[str, str], body: dict[str, Any], reason: str
) -> None:
    refused = _put(url, tokens, "malformed", body)
    assert refused.status_code == 400
    assert reason in refused.json()["message"]


def test_callback_parameters_may_be_used_in_a_stored_process(
    url: str, tokens: dict[str, str]
) -> None:
    body = {
        "process_graph": {
            "a": {
                "process_id": "array_apply",
                "result": True,
                "arguments": {
                    "data": [1, 2],
                    "process": {
                        "process_graph": {
                            "b": {
                                "process_id": "add",
                                "result": True,
                                "arguments": {
                                    "x": {"from_parameter": "x"},
                                    "y": {"from_parameter": "index"},
                                },
                            }
                        }
                    },
                },
            }
        }
    }
    assert _put(url, tokens, "shifted", body).status_code == 200, body  # fmt: skip
    assert _run(url, tokens, {"process_id": "shifted", "arguments": {}}).json() == [1, 3]


def test_process_bodies_over_a_megabyte_are_refused(url: str, tokens: dict[str, str]) -> None:
    body = {"description": "x" * 1_100_000,
            "process_graph": {"a": {"process_id": "add", "result": True,
                                    "arguments": {"x": 1, "y": 1}}}}  # fmt: skip
    refused = _put(url, tokens, "huge", body)
    assert refused.status_code == 400
    assert "over 1,000,000 bytes" in refused.json()["message"]


def test_the_number_of_stored_processes_per_user_is_limited(
    url: str, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from terrapole.openeo import user_processes

    monkeypatch.setattr(user_processes, "MAX_PROCESSES", 1)
    one = {"process_graph": {"a": {"process_id": "add", "result": True,
                                   "arguments": {"x": 1, "y": 1}}}}  # fmt: skip
    for_bob = {"Authorization": f"Bearer basic//{tokens['bob']}"}
    first = httpx.put(f"{url}{API}/process_graphs/mine_1", json=one, headers=for_bob)
    assert first.status_code == 200, first.text
    # replacing one is fine, a second is not
    again = httpx.put(f"{url}{API}/process_graphs/mine_1", json=one, headers=for_bob)
    assert again.status_code == 200
    second = httpx.put(f"{url}{API}/process_graphs/mine_2", json=one, headers=for_bob)
    assert second.status_code == 400
    assert "1 stored processes, the most kept per user" in second.json()["message"]
