"""openEO's no-data and value rules on plain JSON values, where the library alone differs
(values from the openeo-processes definitions and their tests in the openeo-processes repo)."""

from __future__ import annotations

from typing import Any

import pytest

from terrapole.openeo import formats, graph


def _value(process_id: str, **arguments: Any) -> Any:
    node = {"process_id": process_id, "arguments": arguments, "result": True}
    graph.check({"n": node})
    return formats.plain(graph.evaluate({"n": node}, lambda _: None, lambda *a: True))


@pytest.mark.parametrize(
    ("process_id", "arguments", "expected"),
    [
        ("add", {"x": 1, "y": None}, None),
        ("sqrt", {"x": None}, None),
        ("eq", {"x": 1, "y": 1}, True),
        ("eq", {"x": 1, "y": None}, None),
        ("lt", {"x": "a", "y": 1}, False),
        ("and", {"x": None, "y": False}, False),
        ("and", {"x": None, "y": True}, None),
        ("or", {"x": None, "y": True}, True),
        ("mean", {"data": [1, None, 3]}, 2.0),
        ("max", {"data": []}, None),
        ("extrema", {"data": []}, [None, None]),
        ("count", {"data": [1, None, 2], "condition": True}, 3),
        ("text_concat", {"data": [None, True, 1.5, "a"], "separator": "-"}, "null-true-1.5-a"),
        ("between", {"x": "a", "min": 0, "max": 1}, False),
        ("is_nan", {"x": "nan"}, True),
        ("is_nan", {"x": 1}, False),
        ("is_valid", {"x": None}, False),
    ],
)
def test_a_process_follows_the_openeo_rules_on_json_values(
    process_id: str, arguments: dict[str, Any], expected: Any
) -> None:
    answer = _value(process_id, **arguments)
    assert answer == expected and type(answer) is type(expected), answer


def test_a_failure_inside_the_library_is_a_clear_input_error() -> None:
    from terrapole.errors import InvalidInput

    with pytest.raises(InvalidInput, match="array_element"):
        _value("array_element", data=[1, 2], index=5)


def test_array_element_of_a_json_array_follows_the_spec() -> None:
    from terrapole.errors import InvalidInput

    assert _value("array_element", data=[1, 2], index=1) == 2
    assert _value("array_element", data=[1, 2], index=2, return_nodata=True) is None
    with pytest.raises(InvalidInput, match="ArrayElementNotAvailable"):
        _value("array_element", data=[1, 2], index=-1)
    with pytest.raises(InvalidInput, match="ArrayNotLabeled"):
        _value("array_element", data=[1, 2], label="B01")
    assert _value("exp", p=None) is None


def _callback(process_id: str, **arguments: Any) -> dict[str, Any]:
    node = {"process_id": process_id, "arguments": arguments, "result": True}
    return {"process_graph": {"f": node}}


@pytest.mark.parametrize(
    ("process_id", "arguments", "expected"),
    [
        # each element's own result, not the first one's (the parser keeps node results)
        ("array_apply", {"data": [1, -2, 3], "process": _callback("absolute", x={"from_parameter": "x"})},
         [1, 2, 3]),
        ("array_apply", {"data": [1, -2, 3], "context": 10,
                         "process": _callback("add", x={"from_parameter": "x"}, y={"from_parameter": "context"})},
         [11, 8, 13]),
        ("array_apply", {"data": [5, 6], "process": _callback("add", x={"from_parameter": "x"}, y={"from_parameter": "index"})},
         [5, 7]),
        ("array_filter", {"data": [1, 5, -2, 7],
                          "condition": _callback("gt", x={"from_parameter": "x"}, y=2)},
         [5, 7]),
    ],
)  # fmt: skip
def test_callbacks_run_once_per_element(process_id: str, arguments: Any, expected: Any) -> None:
    assert _value(process_id, **arguments) == expected
