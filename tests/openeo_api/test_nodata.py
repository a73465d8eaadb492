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
        ("array_find", {"data": [1, 2, 3], "value": 5}, None),
        ("array_find", {"data": [1, 2, 3, 2], "value": 2.0, "reverse": True}, 3),
        ("array_find", {"data": ["a", "B", "b"], "value": "b"}, 2),
        ("array_find", {"data": [True, 1], "value": 1}, 1),
        ("array_find", {"data": [0, False], "value": False}, 1),
        ("array_find", {"data": [None, 1], "value": None}, None),
        ("first", {"data": [None, "A", "B"]}, "A"),
        ("first", {"data": [None, "A"], "ignore_nodata": False}, None),
        ("last", {"data": ["A", "B", None]}, "B"),
        ("last", {"data": [None, None]}, None),
        ("all", {"data": [True, None], "ignore_nodata": False}, None),
        ("all", {"data": [False, None], "ignore_nodata": False}, False),
        ("any", {"data": [False, None], "ignore_nodata": False}, None),
        ("any", {"data": [True, None], "ignore_nodata": False}, True),
        ("any", {"data": [None]}, False),
        ("eq", {"x": "2018-01-01T00:00:00Z", "y": "2018-01-01T00:00:00+00:00"}, False),
        ("neq", {"x": "2018-01-01T00:00:00Z", "y": "2018-01-01T00:00:00+00:00"}, True),
        ("eq", {"x": "2018-01-01", "y": "2018-01-01"}, True),
        ("eq", {"x": "Abc", "y": "aBC", "case_sensitive": False}, True),
        (
            "text_begins",
            {"data": "2018-01-01T00:00:00+00:00", "pattern": "2018-01-01T00:00:00+"},
            True,
        ),
        ("order", {"data": [2, None, 1, 2], "asc": False, "nodata": False}, [1, 0, 3, 2]),
        ("order", {"data": [2, None, 1, 2], "nodata": True}, [2, 0, 3, 1]),
        ("order", {"data": ["b", None, "a"]}, [2, 0]),
        ("sort", {"data": [3, None, 1], "nodata": False}, [None, 1, 3]),
        ("sort", {"data": ["b", None, "a"], "asc": False, "nodata": True}, ["b", "a", None]),
        ("array_concat", {"array1": ["a", None], "array2": [1, True]}, ["a", None, 1, True]),
        ("array_append", {"data": [1, 2], "value": "a"}, [1, 2, "a"]),
        ("array_interpolate_linear", {"data": [1, None, None, 4, None]}, [1, 2.0, 3.0, 4, None]),
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


@pytest.mark.parametrize(
    ("process_id", "arguments", "error"),
    [
        ("mod", {"x": 2, "y": 0}, "DivisionByZero"),
        ("divide", {"x": 0, "y": 0.0}, "DivisionByZero"),
        ("array_append", {"data": [1, 2], "value": 3, "label": "B01"}, "ArrayNotLabeled"),
    ],
)
def test_a_value_the_spec_cannot_give_is_its_named_error(
    process_id: str, arguments: dict[str, Any], error: str
) -> None:
    from terrapole.errors import InvalidInput

    with pytest.raises(InvalidInput, match=error):
        _value(process_id, **arguments)


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
