"""Translate a CQL2 JSON tree into a parameterised SQLite WHERE clause over the items table.

Indexed columns (id, collection, start/end, platform, cloud cover, bbox) are used where a
property maps to one; other properties are read with ``json_extract``. Spatial predicates use
the R*Tree for candidates and an exact shapely test (a registered function) for the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shapely.geometry.base import BaseGeometry

from terrapole.catalog.antimeridian import BBox, bbox_geometry, side_boxes
from terrapole.catalog.cql2 import COMPARISON, SPATIAL, TEMPORAL
from terrapole.catalog.documents import parse_bbox, parse_geometry
from terrapole.catalog.timeutil import normalise
from terrapole.errors import InvalidFilter, InvalidInput
from terrapole.jsontypes import Json

COLUMNS = {
    "id": "i.id",
    "collection": "i.collection",
    "datetime": "i.start",
    "start_datetime": "i.start",
    "end_datetime": "i.end",
    "platform": "i.platform",
    "eo:cloud_cover": "i.cloud_cover",
}
TEMPORAL_COLUMNS = {"i.start", "i.end"}
_SQL_OP = {"=": "=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def property_sql(name: str) -> str:
    """SQL expression reading queryable ``name`` of an item row aliased ``i``."""
    name = name.removeprefix("properties.")
    if name in COLUMNS:
        return COLUMNS[name]
    if name in ("geometry", "bbox", "type", "stac_version", "links", "assets"):
        raise InvalidFilter(f"property {name!r} cannot be compared")
    if any(ord(ch) < 32 for ch in name):
        raise InvalidFilter(f"property {name!r} has a control character")
    # a JSON path in an SQL string literal: both quote kinds are doubled, so no name leaves it
    quoted = name.replace('"', '""').replace("'", "''")
    return f"json_extract(i.content, '$.properties.\"{quoted}\"')"


class SqliteFilter:
    """One translation: call :meth:`where` once, then read :attr:`params`."""

    def __init__(self) -> None:
        self.params: list[Any] = []

    def where(self, tree: Json) -> str:
        """Return the SQL boolean expression for ``tree``."""
        return self._bool(tree)

    # -- boolean nodes -------------------------------------------------------------------
    def _bool(self, node: Any) -> str:
        if isinstance(node, bool):
            return "1" if node else "0"
        if not isinstance(node, dict) or "op" not in node:
            raise InvalidFilter(f"expected a predicate, got {str(node)[:80]}")
        op, args = node["op"], node.get("args", [])
        handler = self._handlers().get(op)
        if handler is not None:
            return handler(args)
        if op in COMPARISON:
            return self._compare(op, args)
        if op in SPATIAL:
            return self._spatial(op, args)
        if op in TEMPORAL:
            return self._temporal(op, args)
        raise InvalidFilter(f"operator {op!r} is not a predicate")

    def _handlers(self) -> dict[str, Callable[[list[Any]], str]]:
        return {
            "and": lambda a: "(" + " AND ".join(self._bool(x) for x in a) + ")",
            "or": lambda a: "(" + " OR ".join(self._bool(x) for x in a) + ")",
            "not": lambda a: f"(NOT {self._bool(a[0])})",
            "like": self._like,
            "in": self._in,
            "between": self._between,
            "isnull": lambda a: f"({self._value(a[0])} IS NULL)",
        }

    def _compare(self, op: str, args: list[Any]) -> str:
        left, right = self._pair(args)
        return f"({left} {_SQL_OP[op]} {right})"

    def _like(self, args: list[Any]) -> str:
        left, right = self._pair(args)
        return f"({left} LIKE {right} ESCAPE '\\')"

    def _in(self, args: list[Any]) -> str:
        if len(args) != 2 or not isinstance(args[1], list) or not args[1]:
            raise InvalidFilter("IN needs a value and a non-empty list")
        left = self._value(args[0])
        temporal = left in TEMPORAL_COLUMNS
        values = ", ".join(self._value(v, temporal=temporal) for v in args[1])
        return f"({left} IN ({values}))"

    def _between(self, args: list[Any]) -> str:
        if len(args) != 3:
            raise InvalidFilter("BETWEEN needs a value, a low and a high bound")
        left = self._value(args[0])
        temporal = left in TEMPORAL_COLUMNS
        low = self._value(args[1], temporal=temporal)
        high = self._value(args[2], temporal=temporal)
        return f"({left} BETWEEN {low} AND {high})"

    def _pair(self, args: list[Any]) -> tuple[str, str]:
        if len(args) != 2:
            raise InvalidFilter("a comparison needs exactly two arguments")
        left = self._value(args[0])
        right = self._value(args[1], temporal=left in TEMPORAL_COLUMNS)
        if right in TEMPORAL_COLUMNS and left.startswith("?"):
            self.params[-1] = self._maybe_time(self.params[-1])
        return left, right

    # -- spatial -------------------------------------------------------------------------
    def _spatial(self, op: str, args: list[Any]) -> str:
        if len(args) != 2:
            raise InvalidFilter(f"{op} needs two geometries")
        prop, literal = args
        if isinstance(literal, dict) and literal.get("property") == "geometry":
            prop, literal = literal, prop
            op = {"s_within": "s_contains", "s_contains": "s_within"}.get(op, op)
        if not (isinstance(prop, dict) and prop.get("property") == "geometry"):
            raise InvalidFilter(f"{op} must compare the 'geometry' property with a geometry")
        geom = _geometry_literal(literal)
        if op == "s_disjoint":
            self.params.append(geom.wkb)
            return "(i.geometry IS NOT NULL AND NOT tp_spatial('intersects', i.geometry, ?))"
        candidates, params = rtree_candidates(side_boxes(geom))
        self.params.extend([*params, op.removeprefix("s_"), geom.wkb])
        return f"(i.rid IN ({candidates}) AND tp_spatial(?, i.geometry, ?))"

    # -- temporal ------------------------------------------------------------------------
    def _temporal(self, op: str, args: list[Any]) -> str:
        if len(args) != 2:
            raise InvalidFilter(f"{op} needs two temporal arguments")
        start, end = self._extent(args[0])
        lo, hi = self._extent(args[1])
        # Allen's interval relations between [start, end] and [lo, hi].
        relations = {
            "t_intersects": f"{start} <= {hi} AND {end} >= {lo}",
            "t_disjoint": f"NOT ({start} <= {hi} AND {end} >= {lo})",
            "t_before": f"{end} < {lo}",
            "t_after": f"{start} > {hi}",
            "t_equals": f"{start} = {lo} AND {end} = {hi}",
            "t_during": f"{start} > {lo} AND {end} < {hi}",
            "t_contains": f"{start} < {lo} AND {end} > {hi}",
            "t_meets": f"{end} = {lo}",
            "t_metby": f"{start} = {hi}",
            "t_overlaps": f"{start} < {lo} AND {end} > {lo} AND {end} < {hi}",
            "t_overlappedby": f"{start} > {lo} AND {start} < {hi} AND {end} > {hi}",
            "t_starts": f"{start} = {lo} AND {end} < {hi}",
            "t_startedby": f"{start} = {lo} AND {end} > {hi}",
            "t_finishes": f"{start} > {lo} AND {end} = {hi}",
            "t_finishedby": f"{start} < {lo} AND {end} = {hi}",
        }
        return f"({relations[op]})"

    def _extent(self, node: Any) -> tuple[str, str]:
        # Temporal literals are inlined as SQL text: the relations above repeat and reorder
        # them, and normalise() guarantees the fixed digits-and-separators format.
        if isinstance(node, dict) and "property" in node:
            if node["property"] in ("datetime", "properties.datetime"):
                return "i.start", "i.end"
            column = property_sql(node["property"])
            return column, column
        if isinstance(node, dict) and "interval" in node:
            lo, hi = node["interval"]
            return self._bound(lo, "0000-01-01T00:00:00.000000Z"), self._bound(
                hi, "9999-12-31T23:59:59.999999Z", end_of_day=True
            )
        instant = self._bound(node, "")
        return instant, instant

    def _bound(self, value: Any, open_value: str, *, end_of_day: bool = False) -> str:
        if value == "..":
            return f"'{open_value}'"
        if isinstance(value, dict) and "property" in value:
            return property_sql(value["property"])
        raw = (value.get("timestamp") or value.get("date")) if isinstance(value, dict) else value
        return f"'{self._time(raw, end_of_day=end_of_day)}'"

    # -- values --------------------------------------------------------------------------
    def _value(self, node: Any, *, temporal: bool = False) -> str:
        if isinstance(node, dict):
            if "property" in node:
                return property_sql(str(node["property"]))
            if "timestamp" in node or "date" in node:
                self.params.append(self._time(node.get("timestamp") or node["date"]))
                return "?"
            if node.get("op") == "casei":
                return f"lower({self._value(node['args'][0])})"
            if node.get("op") == "accenti":
                return f"tp_unaccent({self._value(node['args'][0])})"
            raise InvalidFilter(f"unsupported value {str(node)[:80]}")
        if isinstance(node, list):
            raise InvalidFilter("a list is only allowed on the right of IN")
        self.params.append(self._maybe_time(node) if temporal else node)
        return "?"

    @staticmethod
    def _time(value: Any, *, end_of_day: bool = False) -> str:
        try:
            return normalise(str(value), field="filter", end_of_day=end_of_day)
        except InvalidInput as exc:
            raise InvalidFilter(exc.reason) from exc

    def _maybe_time(self, value: Any) -> Any:
        return self._time(value) if isinstance(value, str) else value


def rtree_candidates(boxes: list[BBox]) -> tuple[str, list[float]]:
    """SQL selecting the rids of items whose R*Tree boxes meet any of ``boxes``, and its params.

    An item across the antimeridian has a second box stored under its negated rid.
    """
    where = (
        "SELECT abs(rid) FROM items_rtree WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?"
    )
    params = [v for minx, miny, maxx, maxy in boxes for v in (minx, maxx, miny, maxy)]
    return " UNION ".join([where] * len(boxes)), params


def _geometry_literal(literal: Any) -> BaseGeometry:
    try:
        if isinstance(literal, dict) and "bbox" in literal:
            return bbox_geometry(parse_bbox(literal["bbox"], field="filter bbox"))
        return parse_geometry(literal, field="filter geometry")
    except InvalidInput as exc:
        raise InvalidFilter(exc.reason) from exc
