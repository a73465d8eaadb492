"""Every example of the vendored openeo-processes definitions (``examples``: arguments and the
value returned), evaluated as a one-node graph the way sync /result evaluates it, the answer
converted to JSON as /result sends it. Examples left out are listed with the reason."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from terrapole.openeo import formats, graph
from terrapole.openeo.cube import LoadRequest

# (process id, example index) -> why it is left out: openeo-processes-dask's implementation
# differs from the definition (strict: an example that starts passing must leave this list)
EXCLUDED: dict[tuple[str, int], str] = {
    ("array_modify", 1): "library: array_modify (proposal) mixes types or misplaces values",
    ("array_modify", 2): "library: array_modify (proposal) mixes types or misplaces values",
    ("count", 4): "the example writes its callback without the process_graph wrapper",
    ("cummax", 1): "library: cumulative proposals fail on nulls (isnan on objects)",
    ("cummax", 2): "library: cumulative proposals fail on nulls (isnan on objects)",
    ("cummin", 1): "library: cumulative proposals fail on nulls (isnan on objects)",
    ("cummin", 2): "library: cumulative proposals fail on nulls (isnan on objects)",
    ("cumproduct", 0): "library: cumulative proposals fail on nulls (isnan on objects)",
    ("cumproduct", 1): "library: cumulative proposals fail on nulls (isnan on objects)",
    ("cumproduct", 2): "library: cumulative proposals fail on nulls (isnan on objects)",
    ("cumsum", 0): "library: cumulative proposals fail on nulls (isnan on objects)",
    ("cumsum", 1): "library: cumulative proposals fail on nulls (isnan on objects)",
    ("cumsum", 2): "library: cumulative proposals fail on nulls (isnan on objects)",
}


def _examples() -> list[Any]:
    offered = graph.specs()
    cases = []
    for process_id, spec in offered.items():
        for index, example in enumerate(spec.get("examples", [])):
            if "returns" not in example or process_id in graph.OWN:
                continue
            marks = []
            if (process_id, index) in EXCLUDED:
                marks = [pytest.mark.xfail(reason=EXCLUDED[(process_id, index)], strict=True)]
            cases.append(pytest.param(process_id, example, id=f"{process_id}-{index}", marks=marks))
    return cases


def _no_load(request: LoadRequest) -> Any:
    raise AssertionError("an example loads no collection")


def _same(answer: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        return type(answer) is type(expected) and answer == expected
    if isinstance(expected, int | float):
        return (
            isinstance(answer, int | float)
            and not isinstance(answer, bool)
            and math.isclose(answer, expected, rel_tol=1e-9, abs_tol=1e-9)
        )
    if isinstance(expected, list):
        return (
            isinstance(answer, list)
            and len(answer) == len(expected)
            and all(_same(a, e) for a, e in zip(answer, expected, strict=True))
        )
    if isinstance(expected, dict):
        return (
            isinstance(answer, dict)
            and answer.keys() == expected.keys()
            and all(_same(answer[k], v) for k, v in expected.items())
        )
    return bool(answer == expected)


@pytest.mark.parametrize(("process_id", "example"), _examples())
def test_the_spec_example_evaluates_to_its_documented_value(
    process_id: str, example: dict[str, Any]
) -> None:
    node = {"process_id": process_id, "arguments": example["arguments"], "result": True}
    graph.check({"x": node})
    value = graph.evaluate({"x": node}, _no_load, lambda *a: True)
    answer = json.loads(json.dumps(formats.plain(value), allow_nan=False))
    assert _same(answer, example["returns"]), (answer, example["returns"])
