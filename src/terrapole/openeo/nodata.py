"""openEO's no-data semantics for processes evaluated on single values, around the library's.

openeo-processes-dask computes on arrays, where no-data is NaN; on the plain JSON values of a
pure graph (``add(1, null)``) it fails on ``None`` and answers booleans as 1.0/0.0. Each process
offered is wrapped (:func:`wrapped`) so that, as the openeo-processes definitions say:

* a no-data (``null``) operand of an arithmetic, math or comparison process gives ``null``
  (:data:`PROPAGATING`: the parameters that pass it through);
* ``and``/``or`` follow three-valued logic (``and(null, false)`` is ``false``), ``xor`` of
  ``null`` is ``null``;
* ``lt``/``lte``/``gt``/``gte`` of an operand that is not a number are ``false``;
* arrays of numbers with ``null`` elements reach the library as float arrays with NaN, which
  its ``ignore_nodata`` handling skips (and NaN results are answered as ``null``);
* a process defined to return a boolean returns one, not the library's float (NaN: ``null``).

The graph parser reads some JSON arrays and strings as temporal types (``[1, 2]`` as an
interval, ``"2018-01-01"`` as a date); a process that is not about data cubes gets them back
as the plain values they were (:func:`unparsed`).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

import numpy as np
from pydantic import RootModel

from terrapole.errors import InvalidInput, TerrapoleError
from terrapole.jsontypes import Json
from terrapole.openeo import json_arrays

_UNARY = (
    "absolute arccos arcosh arcsin arctan arsinh artanh ceil cos cosh floor int ln not "
    "round sgn sin sinh sqrt tan tanh between clip linear_scale_range"
).split()
_BINARY = "add subtract multiply divide mod eq neq lt lte gt gte normalized_difference".split()
# the parameters whose null makes the result null
PROPAGATING: dict[str, tuple[str, ...]] = {
    **{name: ("x",) for name in _UNARY},
    **{name: ("x", "y") for name in _BINARY},
    **{name: ("data",) for name in ("text_begins", "text_contains", "text_ends")},
    "exp": ("p",),
    "log": ("x", "base"),
    "power": ("base", "p"),
    "arctan2": ("y", "x"),
    "xor": ("x", "y"),
}
# reducers whose result on an empty array is null
REDUCERS = frozenset("min max mean median sd variance sum product extrema".split())
ORDERING = frozenset({"lt", "lte", "gt", "gte"})
# processes whose ``data`` array of numbers may hold nulls (NaN for the library)
NUMBER_ARRAYS = frozenset(
    "mean median sd variance sum product min max extrema quantiles order sort first last "
    "array_find count".split()
)


def _scalar(value: Any) -> bool:
    """A single JSON value (not an array, cube or labelled array)."""
    return value is None or isinstance(value, bool | int | float | str | np.generic)


def _number(value: Any) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)


def _with_nan(values: list[Any], always: bool = False) -> Any:
    """Numbers and nulls (or, ``always``, numbers only) as a float array with NaN; any other
    list as it is."""
    if (always or None in values) and all(v is None or _number(v) for v in values):
        return np.array([np.nan if v is None else v for v in values], dtype="float64")
    return values


def _text(value: Any) -> str:
    """A value as text_concat writes it: null, true and false as in JSON, numbers as written."""
    if value is None or isinstance(value, bool | np.bool_):
        return json.dumps(None if value is None else bool(value))
    return str(value)


def _three_valued(process_id: str, x: Any, y: Any) -> Any:
    """and/or with a null operand: the other operand decides when it can."""
    decisive = process_id == "or"  # true decides or, false decides and
    if x is decisive or y is decisive:
        return decisive
    return None


# the key of the object that keeps a text argument from the graph parser's temporal parsing
TEXT = "terrapole:text"


def texts_kept(graph: Json, values_only: Callable[[str], bool]) -> Json:
    """``graph`` with each text argument of a process that is ``values_only`` wrapped as
    ``{TEXT: text}``, in callbacks too: the parser would read text that looks like a date as
    one, and the exact text is lost ('...Z' and '...+00:00' become the same instant), while the
    definitions say temporal strings are normal strings there; :func:`unparsed` unwraps it."""
    kept: Json = {}
    for node_id, node in graph.items():
        if not isinstance(node, dict):
            kept[node_id] = node
            continue
        own = values_only(str(node.get("process_id")))
        arguments = {
            name: {TEXT: value}
            if own and isinstance(value, str)
            else _callbacks_kept(value, values_only)
            for name, value in (node.get("arguments") or {}).items()
        }
        kept[node_id] = {**node, "arguments": arguments}
    return kept


def _callbacks_kept(value: Any, values_only: Callable[[str], bool]) -> Any:
    if isinstance(value, dict) and isinstance(value.get("process_graph"), dict):
        return {**value, "process_graph": texts_kept(value["process_graph"], values_only)}
    return value


def unparsed(value: Any) -> Any:
    """A value as the graph gave it, without the parser's temporal types (dates as ISO text)."""
    if isinstance(value, dict) and value.keys() == {TEXT}:
        return value[TEXT]
    if isinstance(value, RootModel):
        return unparsed(value.root)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [unparsed(v) for v in value]
    if isinstance(value, dict):
        return {k: unparsed(v) for k, v in value.items()}
    return value


def on_cubes(spec: Json) -> bool:
    """Whether a process takes a data cube (its temporal arguments stay parsed)."""
    return "datacube" in json.dumps(spec.get("parameters", []))


def _returns(spec: Json) -> set[str]:
    schemas = spec["returns"]["schema"]
    types: set[str] = set()
    for schema in schemas if isinstance(schemas, list) else [schemas]:
        kind = schema.get("type", [])
        types.update([kind] if isinstance(kind, str) else kind)
    return types


def _as_boolean(value: Any) -> Any:
    """A scalar result of a boolean process: 1.0/0.0 -> true/false, NaN -> null."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, float | np.floating | int | np.integer):
        return None if math.isnan(value) else bool(value)
    return value


def _early(process_id: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
    """(True, result) where the no-data rules decide the result without the library."""
    names = PROPAGATING.get(process_id, ())
    if any(name in arguments and arguments[name] is None for name in names):
        return True, None
    x, y = arguments.get("x"), arguments.get("y")
    if process_id in ("eq", "neq") and isinstance(x, str) and isinstance(y, str):
        equal = json_arrays.strictly_equal(x, y, arguments.get("case_sensitive", True) is not False)
        return True, equal if process_id == "eq" else not equal
    if process_id in ("divide", "mod") and _number(x) and _number(y) and y == 0:
        # JSON has no infinity or NaN: the definitions' DivisionByZero
        raise InvalidInput(f"process {process_id}", f"DivisionByZero: {x} divided by zero")
    if process_id in ("and", "or") and _scalar(x) and _scalar(y) and None in (x, y):
        return True, _three_valued(process_id, x, y)
    if process_id in ORDERING and _scalar(x) and _scalar(y):
        if not (_number(x) and _number(y)):
            return True, False
    data = arguments.get("data")
    if isinstance(data, list) or isinstance(data, np.ndarray) and data.ndim == 1:
        return _on_list(process_id, arguments)
    if _scalar(x) or isinstance(x, list | dict):  # a JSON value, not an array or a cube
        return _on_value(process_id, x)
    return False, None


def _on_list(process_id: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
    """Processes of a JSON array ``data`` (nulls as NaN) that the library does not follow the
    spec on."""
    data = arguments["data"]
    if process_id == "count" and arguments.get("condition") is True:  # true: every element
        return True, len(data)
    if process_id in REDUCERS and len(data) == 0:  # nothing to reduce
        return True, [None, None] if process_id == "extrema" else None
    if process_id == "array_element" and isinstance(data, list):
        return True, _element(data, arguments)
    if process_id == "array_apply" and callable(arguments.get("process")):
        return True, _apply(list(data), arguments["process"], arguments.get("context"))
    if process_id == "text_concat" and isinstance(data, list):
        separator = _text(arguments.get("separator", ""))
        return True, separator.join(_text(v) for v in data)
    return False, None


def _element(data: list[Any], arguments: dict[str, Any]) -> Any:
    """array_element of a JSON array (which has no labels): by index, null past its end with
    return_nodata, ArrayElementNotAvailable otherwise."""
    if arguments.get("label") is not None:
        raise InvalidInput("array_element", "ArrayNotLabeled: a JSON array has no labels")
    index = arguments.get("index")
    if isinstance(index, int) and 0 <= index < len(data):
        return data[index]
    if arguments.get("return_nodata"):
        return None
    raise InvalidInput("array_element", f"ArrayElementNotAvailable: no element at index {index}")


def _apply(data: list[Any], process: Callable[..., Any], context: Any) -> list[Any]:
    """array_apply of a JSON array: the callback on each element, with its ``x``, ``index``,
    ``label`` (none: a JSON array has no labels) and ``context``; the library passes neither
    ``index`` nor ``label``."""
    return [
        process(value, positional_parameters={"x": 0},
                named_parameters={"x": value, "index": index, "label": None, "context": context})
        for index, value in enumerate(data)
    ]  # fmt: skip


def _on_value(process_id: str, x: Any) -> tuple[bool, Any]:
    """Processes of one JSON value ``x`` that the library does not follow the spec on."""
    if process_id == "is_valid":
        return True, x is not None and not (_number(x) and not math.isfinite(float(x)))
    if process_id == "between" and x is not None and not _number(x):
        return True, False  # only numbers lie between two numbers
    if process_id == "is_nan":  # as the openeo-processes tests say: non-numbers are NaN
        return True, not _number(x) or math.isnan(float(x))
    return False, None


def wrapped(process_id: str, official: Json, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` (the library's ``process_id``) with openEO's no-data rules for values."""
    boolean = "boolean" in _returns(official) and "number" not in _returns(official)
    values_only = not on_cubes(official)

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        if values_only:
            args = tuple(unparsed(a) for a in args)
            kwargs = {k: unparsed(v) for k, v in kwargs.items()}
        decided, result = json_arrays.evaluate(process_id, kwargs)
        if decided:
            return result
        if process_id in NUMBER_ARRAYS and isinstance(kwargs.get("data"), list):
            kwargs["data"] = _with_nan(kwargs["data"], always=process_id == "quantiles")
        decided, result = _early(process_id, kwargs)
        if not decided:
            try:
                result = function(*args, **kwargs)
            except TerrapoleError:
                raise
            except Exception as exc:  # the library's own failures (some raise bare Exception)
                raise InvalidInput(f"process {process_id}", f"{type(exc).__name__}: {exc}") from exc
        if process_id == "count" and isinstance(result, float | np.floating | np.integer):
            return int(result)  # a number of elements, which the library sums as floats
        return _as_boolean(result) if boolean else result

    return run
