"""CQL2 parsing (text and JSON) into one normalised JSON tree, and the declared queryables."""

from __future__ import annotations

import re
from typing import Any

import cql2 as _cql2
import orjson

from terrapole.catalog.timeutil import normalise
from terrapole.errors import InvalidFilter
from terrapole.jsontypes import Json

COMPARISON = {"=", "<>", "<", "<=", ">", ">="}
SPATIAL = {
    "s_intersects",
    "s_within",
    "s_contains",
    "s_disjoint",
    "s_equals",
    "s_touches",
    "s_overlaps",
    "s_crosses",
}
TEMPORAL = {
    "t_intersects",
    "t_disjoint",
    "t_before",
    "t_after",
    "t_equals",
    "t_during",
    "t_contains",
    "t_meets",
    "t_metby",
    "t_overlaps",
    "t_overlappedby",
    "t_starts",
    "t_startedby",
    "t_finishes",
    "t_finishedby",
}
LOGICAL = {"and", "or", "not"}
OTHER = {"like", "in", "between", "isnull", "casei", "accenti"}
SUPPORTED = COMPARISON | SPATIAL | TEMPORAL | LOGICAL | OTHER

CONFORMANCE = [
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
]


# Limits checked before the parser and the validator see a filter. cql2's text parser recurses
# once per parenthesis and per prefix operator (a few thousand overflow the stack and kill the
# process), the parsed tree is as deep as an operator chain is long, and its validator
# takes time and memory exponential in the nesting of NOT (10 levels: 3 s and 300 MB). Real
# filters stay far below these.
MAX_FILTER_CHARS = 20_000
MAX_PARENTHESES = 40  # nesting of parentheses in CQL2 text
MAX_JSON_DEPTH = 80  # nesting of objects and arrays in CQL2 JSON
MAX_LOGICAL_DEPTH = 20  # nesting of AND / OR / NOT
MAX_NOT_DEPTH = 5  # NOT inside NOT inside ...
MAX_PREFIX_RUN = 10  # NOT, - or + in a row (each is one more level of the parser's recursion)


def _text_nesting(text: str) -> int:
    """The deepest nesting of parentheses outside the string literals of CQL2 text."""
    depth = deepest = 0
    quoted = False
    for char in text:
        if char == "'":
            quoted = not quoted  # '' inside a literal toggles twice: still quoted
        elif not quoted and char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif not quoted and char == ")":
            depth -= 1
    return deepest


def _json_nesting(value: Any) -> int:
    """The deepest nesting of objects and arrays, without recursion (any depth is measured)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            return depth
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _logical_nesting(tree: Any) -> tuple[int, int]:
    """The deepest nesting of AND/OR/NOT and of NOT alone, walked without recursion."""
    deepest = (0, 0)
    stack: list[tuple[Any, int, int]] = [(tree, 0, 0)]
    while stack:
        node, depth, nots = stack.pop()
        if isinstance(node, list):
            stack.extend((child, depth, nots) for child in node)
            continue
        if not isinstance(node, dict):
            continue
        op = str(node.get("op", "")).lower()
        if op in LOGICAL:
            depth, nots = depth + 1, nots + (op == "not")
            deepest = (max(deepest[0], depth), max(deepest[1], nots))
        stack.append((node.get("args", []), depth, nots))
    return deepest


_LITERAL = re.compile(r"'(?:[^']|'')*'")
_PREFIX_RUN = re.compile(
    r"(?:(?:\bNOT\b|[-+])\s*){" + str(MAX_PREFIX_RUN + 1) + ",}", re.IGNORECASE
)


def _check_size(value: str | Json) -> None:
    """Refuse, before parsing, a filter too long or too deeply nested to parse safely."""
    if isinstance(value, str):
        if len(value) > MAX_FILTER_CHARS:
            raise InvalidFilter(f"{len(value):,} characters; at most {MAX_FILTER_CHARS:,}")
        if value.lstrip().startswith(("{", "[")):
            try:
                value = orjson.loads(value)
            except orjson.JSONDecodeError:
                return  # the parser says what is wrong
        elif _text_nesting(value) > MAX_PARENTHESES:
            raise InvalidFilter(f"parentheses nested more than {MAX_PARENTHESES} deep")
        elif _PREFIX_RUN.search(_LITERAL.sub("''", value)):
            raise InvalidFilter(f"more than {MAX_PREFIX_RUN} NOT, - or + in a row")
    if not isinstance(value, str) and _json_nesting(value) > MAX_JSON_DEPTH:
        raise InvalidFilter(f"JSON nested more than {MAX_JSON_DEPTH} deep")


def _check_nesting(tree: Json) -> None:
    if _json_nesting(tree) > MAX_JSON_DEPTH:  # e.g. 1+1+1...: one level per operator
        raise InvalidFilter(f"expression nested more than {MAX_JSON_DEPTH} deep")
    logical, nots = _logical_nesting(tree)
    if logical > MAX_LOGICAL_DEPTH:
        raise InvalidFilter(f"AND/OR/NOT nested more than {MAX_LOGICAL_DEPTH} deep")
    if nots > MAX_NOT_DEPTH:
        raise InvalidFilter(f"NOT nested more than {MAX_NOT_DEPTH} deep")


def _check_time(node: Json) -> None:
    """Dates, timestamps and interval ends are real moments (the parser checks only the form:
    a 13th month reached the database and failed there)."""
    for key in ("date", "timestamp"):
        if isinstance(node.get(key), str):
            normalise(node[key], field=f"filter {key}")
    ends = node.get("interval")
    if isinstance(ends, list):
        moments = [
            normalise(end, field="filter interval", end_of_day=n == 1)
            for n, end in enumerate(ends)
            if isinstance(end, str) and end not in ("..", "")
        ]
        if len(moments) == 2 and moments[0] > moments[1]:
            raise InvalidFilter(f"INTERVAL {ends[0]!r} to {ends[1]!r} ends before it starts")


def _check_ops(node: Any) -> None:
    if isinstance(node, dict):
        _check_time(node)
        op = node.get("op")
        if op is not None:
            if str(op).lower() not in SUPPORTED:
                raise InvalidFilter(f"operator {op!r} is not supported")
            node["op"] = str(op).lower()
        for value in node.values():
            _check_ops(value)
    elif isinstance(node, list):
        for value in node:
            _check_ops(value)


def _legacy_between(node: Json) -> Json:
    """Rewrite pre-1.0 ``between`` (``[prop, [low, high]]``) to the published 3-argument form.

    Drafts of CQL2 JSON, still sent by some clients and by stac-api-validator, put the bounds
    in one array; the standard takes them as two arguments.
    """
    args = node.get("args")
    if not isinstance(args, list):
        return node
    args = [_legacy_between(a) if isinstance(a, dict) else a for a in args]
    if node.get("op") == "between" and len(args) == 2 and isinstance(args[1], list):
        args = [args[0], *args[1]]
    return {**node, "args": args}


def parse_filter(value: str | Json, lang: str | None = None) -> Json:
    """Parse a CQL2 filter given as text or JSON into a validated JSON tree.

    Example:
        >>> parse_filter("eo:cloud_cover < 10")["op"]
        '<'
    """
    _check_size(value)
    try:
        if isinstance(value, dict) or lang == "cql2-json":
            if isinstance(value, dict):
                value = _legacy_between(value)
            try:
                text = value if isinstance(value, str) else orjson.dumps(value).decode()
            except orjson.JSONEncodeError as exc:  # e.g. an integer beyond 64 bits
                raise InvalidFilter(f"cannot read the JSON filter: {exc}") from None
            expr = _cql2.parse_json(text)
        elif lang in (None, "cql2-text"):
            expr = _cql2.parse_text(value)
        else:
            raise InvalidFilter(f"filter-lang {lang!r} is not cql2-text or cql2-json")
        tree = expr.to_json()
        if isinstance(tree, dict):
            _check_nesting(tree)  # before the validator, whose cost grows with it
        expr.validate()
    except (_cql2.ParseError, _cql2.ValidationError, ValueError) as exc:
        first = str(exc).strip().splitlines()
        raise InvalidFilter(f"cannot parse CQL2: {' '.join(first)[:300]}") from exc
    if not isinstance(tree, dict):
        raise InvalidFilter("a filter must be a boolean expression")
    _check_ops(tree)
    return tree


def queryables(base_url: str, collection: str | None = None) -> Json:
    """The JSON Schema of the properties filters and sorts may use."""
    suffix = f"/collections/{collection}" if collection else ""
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": f"{base_url}{suffix}/queryables",
        "type": "object",
        "title": "Queryables",
        "properties": {
            "id": {"title": "Item id", "type": "string"},
            "collection": {"title": "Collection id", "type": "string"},
            "geometry": {"title": "Footprint", "$ref": "https://geojson.org/schema/Geometry.json"},
            "datetime": {"title": "Acquisition time", "type": "string", "format": "date-time"},
            "start_datetime": {"type": "string", "format": "date-time"},
            "end_datetime": {"type": "string", "format": "date-time"},
            "platform": {"title": "Platform", "type": "string"},
            "constellation": {"title": "Constellation", "type": "string"},
            "instruments": {"title": "Instruments", "type": "array", "items": {"type": "string"}},
            "eo:cloud_cover": {
                "title": "Cloud cover (%)",
                "type": "number",
                "minimum": 0,
                "maximum": 100,
            },
            "gsd": {"title": "Ground sample distance (m)", "type": "number"},
        },
        "additionalProperties": True,
    }
