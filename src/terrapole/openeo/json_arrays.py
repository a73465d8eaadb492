"""openEO's array processes on plain JSON arrays (lists), where the library's numpy handling
differs from the openeo-processes definitions.

openeo-processes-dask turns a JSON array into a numpy array first: a mixed array becomes text
(``array_concat(['a'], [1])`` is ``['a', '1']``), nulls make it fail or disappear, and
``array_find`` answers the sentinel 999999 where nothing matches. The processes here compute
on the list itself, keeping each element's type, as the definitions say.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from terrapole.errors import InvalidInput


def _number(value: Any) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)


def _missing(value: Any) -> bool:
    """No-data in an array of numbers: null, or NaN."""
    return value is None or (_number(value) and math.isnan(float(value)))


def _boolean(value: Any) -> bool:
    return isinstance(value, bool | np.bool_)


def strictly_equal(x: Any, y: Any, case_sensitive: bool = True) -> bool:
    """eq's comparison of two non-null values: types checked strictly (a number is no text or
    boolean, 1 equals 1.0), text compared as text (temporal text too), arrays and objects never
    equal."""
    if _number(x) and _number(y):
        return bool(x == y)
    if isinstance(x, str) and isinstance(y, str):
        return x == y or (not case_sensitive and x.casefold() == y.casefold())
    if _boolean(x) and _boolean(y):
        return bool(x) == bool(y)
    return False


def _find(arguments: dict[str, Any]) -> Any:
    """array_find: the index of the first (``reverse``: last) element equal to ``value``; null
    where none is, or where ``value`` is null, an array or an object."""
    data: list[Any] = arguments["data"]
    value = arguments.get("value")
    if value is None or isinstance(value, list | dict):
        return None
    indices = range(len(data) - 1, -1, -1) if arguments.get("reverse") else range(len(data))
    return next((i for i in indices if strictly_equal(data[i], value)), None)


def _first(arguments: dict[str, Any], last: bool) -> Any:
    """first/last: the first (last) element, or with ``ignore_nodata`` the first (last) one that
    is not null; null for an empty array."""
    data: list[Any] = arguments["data"][::-1] if last else arguments["data"]
    if arguments.get("ignore_nodata", True):
        data = [v for v in data if v is not None]
    return data[0] if data else None


def _all_any(arguments: dict[str, Any], decisive: bool) -> tuple[bool, Any]:
    """all (``decisive`` false) / any (true): nulls left out, or with ``ignore_nodata`` false
    reduced by the definitions' truth tables (a null the decisive value does not override gives
    null). Arrays of anything but booleans and nulls are left to the library."""
    data: list[Any] = arguments["data"]
    if not all(v is None or _boolean(v) for v in data):
        return False, None
    values = [bool(v) for v in data if v is not None]
    if decisive in values:
        return True, decisive
    if None in data and not arguments.get("ignore_nodata", True):
        return True, None
    return True, not decisive


def _ordered(arguments: dict[str, Any]) -> list[int] | None:
    """order: the stable permutation that sorts ``data`` (``asc`` or descending), nulls left out
    (``nodata`` null), last (true) or first (false); None for arrays that are not all numbers or
    all text (with nulls)."""
    data: list[Any] = arguments["data"]
    present = [i for i, v in enumerate(data) if not _missing(v)]
    kinds = {"number" if _number(data[i]) else type(data[i]).__name__ for i in present}
    if not kinds <= {"number"} and kinds != {"str"}:
        return None
    ranked = sorted(present, key=lambda i: data[i], reverse=not arguments.get("asc", True))
    nodata = arguments.get("nodata")
    absent = [i for i, v in enumerate(data) if _missing(v)]
    if nodata is None:
        return ranked
    return [*ranked, *absent] if nodata else [*absent, *ranked]


def _interpolated(data: list[Any]) -> list[Any] | None:
    """array_interpolate_linear: each null/NaN between two numbers interpolated linearly over
    the indices; leading and trailing ones kept. None for arrays that are not of numbers."""
    if not all(_missing(v) or _number(v) for v in data):
        return None
    valid = [i for i, v in enumerate(data) if not _missing(v)]
    result = [None if _missing(v) else v for v in data]
    for before, after in zip(valid, valid[1:], strict=False):
        start, end = float(data[before]), float(data[after])
        for i in range(before + 1, after):
            result[i] = start + (end - start) * (i - before) / (after - before)
    return result


def _append(arguments: dict[str, Any]) -> list[Any]:
    if arguments.get("label") is not None:
        raise InvalidInput(
            "process array_append", "ArrayNotLabeled: a JSON array has no labels to extend"
        )
    return [*arguments["data"], arguments.get("value")]


def _decided(compute: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
    """A computation that always decides, as (True, result)."""
    return lambda arguments: (True, compute(arguments))


def _optional(compute: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
    """A computation that declines (None) for arrays it does not handle."""

    def run(arguments: dict[str, Any]) -> tuple[bool, Any]:
        result = compute(arguments)
        return result is not None, result

    return run


def _sorted(arguments: dict[str, Any]) -> list[Any] | None:
    """sort: the elements in :func:`_ordered`'s order (NaN as null)."""
    data: list[Any] = arguments["data"]
    order = _ordered(arguments)
    return None if order is None else [None if _missing(data[i]) else data[i] for i in order]


# process id -> (True, result), or (False, None) to leave it to the library; ``data`` a list
_ON_DATA: dict[str, Callable[[dict[str, Any]], tuple[bool, Any]]] = {
    "array_find": _decided(_find),
    "first": _decided(lambda a: _first(a, last=False)),
    "last": _decided(lambda a: _first(a, last=True)),
    "all": lambda a: _all_any(a, decisive=False),
    "any": lambda a: _all_any(a, decisive=True),
    "order": _optional(_ordered),
    "sort": _optional(_sorted),
    "array_append": _decided(_append),
    "array_interpolate_linear": _optional(lambda a: _interpolated(a["data"])),
}


def evaluate(process_id: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
    """(True, result) for an array process the definitions decide on JSON arrays; (False, None)
    to leave it to the library."""
    if process_id == "array_concat":
        first, second = arguments.get("array1"), arguments.get("array2")
        if isinstance(first, list) and isinstance(second, list):
            return True, [*first, *second]
        return False, None
    if process_id in _ON_DATA and isinstance(arguments.get("data"), list):
        return _ON_DATA[process_id](arguments)
    return False, None
