"""The STAC API ``query`` extension, translated into the CQL2 JSON the stores already answer.

``{"eo:cloud_cover": {"lte": 10}, "platform": {"in": ["sentinel-2a"]}}`` becomes the AND of
one CQL2 comparison per property and operator (https://github.com/stac-api-extensions/query).
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from terrapole.catalog.timeutil import normalise
from terrapole.errors import InvalidInput
from terrapole.jsontypes import Json

CONFORMANCE = [
    "https://api.stacspec.org/v1.0.0/item-search#query",
    "https://api.stacspec.org/v1.0.0/ogcapi-features#query",
]
COMPARE = {"eq": "=", "neq": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
LIKE = {"startsWith": "{}%", "endsWith": "%{}", "contains": "%{}%"}
OPERATORS = (*COMPARE, *LIKE, "in")
TIMES = {"datetime", "start_datetime", "end_datetime", "created", "updated"}
NUMBERS = {"eo:cloud_cover", "gsd", "view:off_nadir", "view:sun_elevation", "sat:relative_orbit"}
MAX_TERMS = 50

Scalar = str | int | float | bool


def _number(value: Any, where: str) -> float | int:
    """A numeric property's value; a numeric string (eodag quotes some) is read as a number."""
    if isinstance(value, str):
        try:
            value = float(value) if any(c in value for c in ".eEnN") else int(value)
        except ValueError:
            pass
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return value
    raise InvalidInput("query", f"{where} compares a number, not {value!r}")


def _moment(value: str, where: str) -> str:
    """A time property's value as a CQL2 timestamp; a bad date names the property and value."""
    try:
        return normalise(value, field="query")
    except InvalidInput as exc:
        raise InvalidInput("query", f"{where}: {value!r} is not an RFC 3339 datetime") from exc


def _literal(name: str, value: Any, where: str) -> Json | Scalar:
    if name in NUMBERS:
        return _number(value, where)
    if isinstance(value, bool | int | float | str):
        if name in TIMES and isinstance(value, str):
            return {"timestamp": _moment(value, where)}
        return value
    raise InvalidInput("query", f"{where}: {value!r} is not a string, number or boolean")


def _like_pattern(value: Any, template: str, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput("query", f"{where} takes a string, not {value!r}")
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return template.format(escaped)


def _term(name: str, op: str, value: Any) -> Json:
    where = f"{name}.{op}"
    prop = {"property": name}
    if op in COMPARE:
        return {"op": COMPARE[op], "args": [prop, _literal(name, value, where)]}
    if op in LIKE:
        return {"op": "like", "args": [prop, _like_pattern(value, LIKE[op], where)]}
    if op == "in":
        if not isinstance(value, list) or not value:
            raise InvalidInput("query", f"{where} takes a non-empty array, not {value!r}")
        return {"op": "in", "args": [prop, [_literal(name, v, where) for v in value]]}
    raise InvalidInput("query", f"{where}: unknown operator; one of {', '.join(OPERATORS)}")


def _as_object(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InvalidInput("query", f"is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise InvalidInput("query", "must be a JSON object {property: {operator: value}}")
    return raw


def query_filter(raw: Any) -> Json | None:
    """The CQL2 JSON equivalent of a ``query`` (a JSON string or an object); None when empty.

    Example:
        >>> query_filter('{"eo:cloud_cover": {"lte": 10}}')
        {'op': '<=', 'args': [{'property': 'eo:cloud_cover'}, 10]}
    """
    if raw is None or raw == "":
        return None
    terms: list[Json] = []
    for name, ops in _as_object(raw).items():
        if not isinstance(name, str) or not name.strip() or "\x00" in name:
            raise InvalidInput("query", f"{name!r} is not a property name")
        if not isinstance(ops, dict) or not ops:
            raise InvalidInput("query", f"{name} must map to an object {{operator: value}}")
        prop = name.removeprefix("properties.")
        terms.extend(_term(prop, op, value) for op, value in ops.items())
    if len(terms) > MAX_TERMS:
        raise InvalidInput("query", f"{len(terms)} comparisons; at most {MAX_TERMS}")
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else {"op": "and", "args": terms}
