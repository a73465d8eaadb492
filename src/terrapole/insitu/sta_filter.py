"""SensorThings ``$filter``: parsed by odata-query's OData grammar, compiled to SQLAlchemy
conditions on the ``tp_sta_`` tables (every value a bound parameter, never SQL text).

Supported (SensorThings API 1.1, section 9.3.3.5):

- comparison ``eq ne gt ge lt le`` and ``in``; logical ``and or not``; arithmetic ``add sub mul
  div mod`` (a division by zero gives null, hence false);
- string functions ``substringof contains startswith endswith length indexof substring tolower
  toupper trim concat`` (case-sensitive on both databases);
- date functions ``year month day hour minute second fractionalseconds date time
  totaloffsetminutes now mindatetime maxdatetime`` (times are UTC, so the offset is 0);
- math ``round floor ceiling``;
- geospatial ``geo.intersects geo.distance geo.length st_equals st_disjoint st_touches
  st_within st_overlaps st_crosses st_intersects st_contains st_relate`` on a geometry property
  (``location``, ``feature``, ``observedArea``, also through paths such as
  ``FeatureOfInterest/feature``): the bbox columns pick candidates in SQL, shapely decides
  exactly, and the condition is ``id IN (matches)``. ``geo.distance`` and ``geo.length`` are in
  degrees (coordinates as stored, EPSG:4326) and must be compared with a number.
- paths through to-one navigation (``Datastream/ObservedProperty/name``), into JSON
  (``properties/station/code``) and ``unitOfMeasurement/symbol``.

An interval (an Observation's ``phenomenonTime``, a Datastream's ``phenomenonTime``) compared
with an instant: ``gt``/``ge`` compare its start, ``lt``/``le`` its end, ``eq`` both.
Not implemented (400 ``not implemented: <name>``): ``matchesPattern``, ``totalseconds``,
``hassubset``, ``hassubsequence``, lambda operators ``any``/``all``, durations, paths
through to-many navigation.
"""

from __future__ import annotations

import json
import logging
import re
import types
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import shapely
import sqlalchemy as sa
from odata_query import ast
from odata_query.exceptions import (
    ArgumentCountException,
    ODataException,
    ParsingException,
    TokenizingException,
)
from odata_query.grammar import ODataLexer, ODataParser
from shapely import wkt

from terrapole.errors import InvalidInput
from terrapole.insitu.geometry import geometry_of
from terrapole.insitu.sta_sets import SETS, EntitySet, Hidden
from terrapole.insitu.times import parse_time, to_micros

MAX_FILTER_LENGTH = 4000
"""Longer ``$filter`` texts are refused (400) before parsing."""
MAX_DEPTH = 60
"""Deeper nesting (parentheses, operators) is refused (400)."""
MAX_CANDIDATES = 200_000
"""A geospatial function checks at most this many candidate geometries exactly."""
_INT64 = 2**63 - 1
_EARLY_YEAR = re.compile(r"(?<![\w'])0\d{3}-\d\d-\d\d")
"""A date before year 1000: odata-query's lexer reads only years 1000 to 9999."""
_LOG = logging.getLogger(__name__)

_ARITY: dict[str, tuple[int, int]] = {
    **{n: (2, 2) for n in ("substringof", "contains", "startswith", "endswith", "indexof")},
    **{n: (2, 2) for n in ("concat", "geo.intersects", "geo.distance", "matchesPattern")},
    **{n: (1, 1) for n in ("length", "tolower", "toupper", "trim", "geo.length", "date")},
    **{n: (1, 1) for n in ("year", "month", "day", "hour", "minute", "second", "time")},
    **{n: (1, 1) for n in ("fractionalseconds", "totaloffsetminutes", "totalseconds")},
    **{n: (1, 1) for n in ("round", "floor", "ceiling")},
    **{n: (0, 0) for n in ("now", "mindatetime", "maxdatetime")},
    **{n: (2, 2) for n in ("hassubset", "hassubsequence")},
    "substring": (2, 3),
    **{
        f"st_{n}": (2, 2)
        for n in ("equals", "disjoint", "touches", "within", "overlaps", "crosses", "intersects")
    },
    "st_contains": (2, 2),
    "st_relate": (3, 3),
}
_NOT_IMPLEMENTED = frozenset(
    {"matchesPattern", "totalseconds", "hassubset", "hassubsequence"}
)  # fmt: skip


def _checked_call(_parser: Any, func: ast.Identifier, args: list[ast._Node]) -> ast.Call:
    name = _name(func)
    if name not in _ARITY:
        raise InvalidInput("$filter", f"unknown function {name!r}")
    low, high = _ARITY[name]
    if not low <= len(args) <= high:
        raise ArgumentCountException(name, low, high, len(args))
    return ast.Call(func, args)


def parse_filter(text: str) -> ast._Node:
    """The OData syntax tree of a ``$filter`` (InvalidInput naming the position otherwise)."""
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidInput("$filter", f"longer than {MAX_FILTER_LENGTH} characters")
    if "\x00" in text:
        raise InvalidInput("$filter", "contains a NUL character")
    if not text.strip():
        raise InvalidInput("$filter", "empty")
    parser = ODataParser()
    # SensorThings' functions (substringof, st_*) next to OData's: checked by our table
    parser._function_call = types.MethodType(_checked_call, parser)  # type: ignore[method-assign]
    try:
        tree = parser.parse(ODataLexer().tokenize(text))
    except TokenizingException as exc:
        raise InvalidInput(
            "$filter", f"cannot read {str(exc.token.value)[:30]!r} at position {exc.token.index}"
        ) from exc
    except ParsingException as exc:
        if _EARLY_YEAR.search(text):
            raise InvalidInput("$filter", "years before 1000 are not supported") from exc
        if exc.token is None:
            raise InvalidInput("$filter", "ends too early") from exc
        where = f"{str(exc.token.value)[:30]!r} at position {exc.token.index}"
        raise InvalidInput("$filter", f"syntax error at {where}") from exc
    except ODataException as exc:
        raise InvalidInput("$filter", str(exc)) from exc
    except RecursionError as exc:
        raise InvalidInput("$filter", "nested too deeply") from exc
    if tree is None:
        raise InvalidInput("$filter", "empty")
    _check_depth(tree)
    return cast(ast._Node, tree)


def _name(identifier: ast.Identifier) -> str:
    """The dotted name of an identifier (``geo.distance``)."""
    return ".".join((*identifier.namespace, identifier.name))


def _check_depth(node: Any, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise InvalidInput("$filter", f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(node, list):
        for child in node:
            _check_depth(child, depth + 1)
    elif isinstance(node, ast._Node):
        for value in vars(node).values():
            if isinstance(value, ast._Node | list):
                _check_depth(value, depth + 1)


# -- operands ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Operand:
    """A compiled expression and what it holds.

    ``kind``: number, text, bool, time (microseconds), interval (start, end), date, timeofday,
    json (cast on use), result (an Observation's number-or-JSON), geometry, null.
    """

    kind: str
    expr: Any = None
    end: Any = None  # an interval's end
    cast: Callable[[str], Any] | None = None  # json/result: the expression for a kind
    geometry: tuple[EntitySet, Any, str] | None = None  # set, id expression, column

    def as_kind(self, kind: str) -> Any:
        """The expression read as ``kind`` (number, text or bool)."""
        if self.cast is not None:
            return self.cast(kind)
        if self.kind == "interval" and kind == "time":
            return self.expr  # an interval read as an instant: its start
        if self.kind != kind and not (self.kind == "null"):
            raise InvalidInput("$filter", f"expected {kind}, got {self.kind}")
        return self.expr


def _literal_number(text: str) -> Any:
    value = (
        float(text)
        if any(c in text for c in ".eE") or "INF" in text or "NaN" in text
        else int(text)
    )
    if isinstance(value, int) and abs(value) > _INT64:
        return float(value)
    return value


def _time_literal(text: str) -> int:
    moment = parse_time(text, "$filter")
    try:
        return to_micros(moment)
    except OverflowError as exc:
        raise InvalidInput("$filter", f"time {text!r} out of range") from exc


class FilterCompiler:
    """Compiles a ``$filter`` tree on one entity set to a SQL condition.

    ``dialect`` picks the date functions' SQL; ``con`` runs the candidate queries of the
    geospatial functions; ``hidden`` limits those to visible rows.
    """

    def __init__(
        self, entity_set: EntitySet, dialect: str, con: sa.Connection, hidden: Hidden
    ) -> None:
        self.set = entity_set
        self.dialect = dialect
        self.con = con
        self.hidden = hidden

    def condition(self, node: ast._Node) -> sa.ColumnElement[bool]:
        """The SQL condition of ``node`` (a boolean expression)."""
        operand = self.operand(node)
        if operand.kind == "bool":
            return operand.expr  # type: ignore[no-any-return]
        if operand.kind == "json":
            return operand.as_kind("bool") == sa.true()  # type: ignore[no-any-return]
        raise InvalidInput("$filter", f"a condition is needed, got a {operand.kind}")

    # -- nodes ----------------------------------------------------------------------------
    def operand(self, node: ast._Node) -> Operand:
        """Compile any node."""
        if isinstance(node, ast.BoolOp):
            left, right = self.condition(node.left), self.condition(node.right)
            joined = sa.and_(left, right) if isinstance(node.op, ast.And) else sa.or_(left, right)
            return Operand("bool", joined)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return Operand("bool", sa.not_(self.condition(node.operand)))
            inner = self.operand(node.operand)
            return Operand("number", -inner.as_kind("number"))
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.BinOp):
            return self.arithmetic(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Identifier | ast.Attribute):
            return self.path(_segments(node))
        if isinstance(node, ast.CollectionLambda):
            raise InvalidInput("$filter", "not implemented: any/all")
        return self.literal(node)

    def literal(self, node: ast._Node) -> Operand:
        """A literal as a bound parameter."""
        if isinstance(node, ast.Null):
            return Operand("null", sa.null())
        if isinstance(node, ast.Boolean):
            return Operand("bool", sa.literal(node.val.lower() == "true"))
        if isinstance(node, ast.Integer | ast.Float):
            return Operand("number", sa.literal(_literal_number(node.val)))
        if isinstance(node, ast.String):
            if "\x00" in node.val:
                raise InvalidInput("$filter", "a string holds a NUL character")
            return Operand("text", sa.literal(node.val, sa.String))
        if isinstance(node, ast.DateTime):
            return Operand("time", sa.literal(_time_literal(node.val)))
        if isinstance(node, ast.Date):
            return Operand("date", sa.literal(node.val, sa.String))
        if isinstance(node, ast.Time):
            hms = (node.val.split(".")[0] + ":00")[:8] if node.val.count(":") == 1 else node.val
            return Operand("timeofday", sa.literal(hms.split(".")[0], sa.String))
        if isinstance(node, ast.Geography):
            return Operand("geometry", _shape(node.val))
        if isinstance(node, ast.List):
            raise InvalidInput("$filter", "a list is only allowed after 'in'")
        raise InvalidInput("$filter", f"not implemented: {type(node).__name__} literals")

    def compare(self, node: ast.Compare) -> Operand:
        """A comparison."""
        left = self.operand(node.left)
        if isinstance(node.comparator, ast.In):
            if not isinstance(node.right, ast.List):
                raise InvalidInput("$filter", "'in' needs a list: name in ('a', 'b')")
            values = [self.operand(v) for v in node.right.val]
            kind = _common_kind(left, values[0]) if values else "text"
            return Operand("bool", left.as_kind(kind).in_([v.as_kind(kind) for v in values]))
        right = self.operand(node.right)
        op = type(node.comparator).__name__
        if right.kind == "null" or left.kind == "null":
            other = left if right.kind == "null" else right
            expr = other.expr if other.cast is None else other.as_kind("text")
            if op == "Eq":
                return Operand("bool", expr.is_(None))
            if op == "NotEq":
                return Operand("bool", expr.is_not(None))
            raise InvalidInput("$filter", "null can only be compared with eq or ne")
        if left.kind == "geo" or right.kind == "geo":
            flipped = {"Lt": "Gt", "LtE": "GtE", "Gt": "Lt", "GtE": "LtE"}.get(op, op)
            if left.kind == "geo":
                return self.geo_compare(left, op, right)
            return self.geo_compare(right, flipped, left)
        if left.kind == "interval" or right.kind == "interval":
            return self._interval_compare(left, right, op)
        kind = _common_kind(left, right)
        if kind == "result_text":
            result, text = (left, right) if left.kind == "result" else (right, left)
            encoded = sa.literal(json.dumps(getattr(text.expr, "value", "")), sa.Text)
            if result is right:
                return Operand("bool", _OPS[op](encoded, result.as_kind("json_text")))
            return Operand("bool", _OPS[op](result.as_kind("json_text"), encoded))
        return Operand("bool", _OPS[op](left.as_kind(kind), right.as_kind(kind)))

    def _interval_compare(self, left: Operand, right: Operand, op: str) -> Operand:
        if right.kind == "interval" and left.kind != "interval":
            flipped = {"Lt": "Gt", "LtE": "GtE", "Gt": "Lt", "GtE": "LtE"}.get(op, op)
            return self._interval_compare(right, left, flipped)
        if right.kind == "interval":
            starts = _OPS[op](left.expr, right.expr)
            if op in ("Eq", "NotEq"):
                ends = _OPS[op](left.end, right.end)
                both = sa.and_(starts, ends) if op == "Eq" else sa.or_(starts, ends)
                return Operand("bool", both)
            return Operand("bool", starts)
        value = right.as_kind("time")
        if op in ("Gt", "GtE"):
            return Operand("bool", _OPS[op](left.expr, value))
        if op in ("Lt", "LtE"):
            return Operand("bool", _OPS[op](left.end, value))
        same = sa.and_(left.expr == value, left.end == value)
        return Operand("bool", same if op == "Eq" else sa.not_(same))

    def arithmetic(self, node: ast.BinOp) -> Operand:
        """``add sub mul div mod`` on numbers (div and mod by zero: null)."""
        left = self.operand(node.left).as_kind("number")
        right = self.operand(node.right).as_kind("number")
        op = type(node.op).__name__
        if op == "Add":
            return Operand("number", left + right)
        if op == "Sub":
            return Operand("number", left - right)
        if op == "Mult":
            return Operand("number", left * right)
        divisor = sa.func.nullif(sa.cast(right, sa.Float), 0.0)
        if op == "Div":
            return Operand("number", sa.cast(left, sa.Float) / divisor)
        if self.dialect == "postgresql":
            numeric = sa.Numeric()
            return Operand("number", sa.func.mod(sa.cast(left, numeric), sa.cast(divisor, numeric)))
        remainder = sa.func.mod(left, divisor)
        return Operand("number", sa.case((divisor.is_(None), sa.null()), else_=remainder))

    # -- paths ------------------------------------------------------------------------------
    def path(self, segments: list[str]) -> Operand:  # noqa: C901 - one branch per kind
        """A property, through to-one navigation and into JSON."""
        current, ident = self.set, None  # ident None: the row being filtered
        rest = list(segments)
        while rest and rest[0] in current.navs:
            nav = current.navs[rest.pop(0)]
            if nav.many:
                raise InvalidInput("$filter", "not implemented: paths through to-many navigation")
            fk = nav.fk
            assert fk is not None
            ident = _value(current, ident, lambda t: t.c[fk])  # noqa: B023 - called at once
            current = SETS[nav.target]
        if not rest:
            raise InvalidInput("$filter", f"{'/'.join(segments)} is an entity, not a property")
        name, keys = rest[0], rest[1:]
        if name not in current.props:
            raise InvalidInput("$filter", f"{current.singular} has no property {name!r}")
        prop = current.prop(name)
        cols = prop.columns
        if prop.kind in ("id", "text", "time"):
            if keys:
                raise InvalidInput("$filter", f"{name} has no member {keys[0]!r}")
            kind = {"id": "number", "text": "text", "time": "time"}[prop.kind]
            return Operand(kind, _value(current, ident, lambda t: t.c[cols[0]]))
        if prop.kind == "interval":
            start = _value(current, ident, lambda t: t.c[cols[0]])
            return Operand("interval", start, end=_value(current, ident, lambda t: t.c[cols[1]]))
        if prop.kind == "unit":
            member = {"name": 0, "symbol": 1, "definition": 2}.get(keys[0] if keys else "")
            if member is None or len(keys) != 1:
                raise InvalidInput("$filter", "unitOfMeasurement/name, /symbol or /definition")
            return Operand("text", _value(current, ident, lambda t: t.c[cols[member]]))
        if prop.kind == "geometry":
            if keys:
                raise InvalidInput("$filter", f"{name} has no member {keys[0]!r}")
            return Operand("geometry", None, geometry=(current, ident, name))
        if prop.kind == "result":
            return self._result(current, ident, keys)
        return self._json(current, ident, cols[0], keys)

    def _json(self, entity: EntitySet, ident: Any, column: str, keys: list[str]) -> Operand:
        if not keys:
            raise InvalidInput("$filter", f"compare a member of {column}, e.g. {column}/name")

        def cast(kind: str) -> Any:
            def member(t: Any) -> Any:
                element = t.c[column][tuple(keys)]
                if kind == "number":
                    return element.as_float()
                if kind == "bool":
                    return element.as_boolean()
                return element.as_string()

            return _value(entity, ident, member)

        return Operand("json", cast=cast)

    def _json_text(self, table: Any) -> Any:
        """A JSON string result as text (unquoted)."""
        if self._pg:
            return sa.func.btrim(sa.cast(table.c.result_json, sa.Text), '"')
        return sa.func.json_extract(table.c.result_json, "$")

    def _result(self, entity: EntitySet, ident: Any, keys: list[str]) -> Operand:
        if keys:
            return self._json(entity, ident, "result_json", keys)

        def cast(kind: str) -> Any:
            if kind == "number":
                return _value(entity, ident, lambda t: t.c.result_number)
            if kind == "json_text":
                return _value(entity, ident, lambda t: sa.cast(t.c.result_json, sa.Text))
            if kind == "text":
                return _value(entity, ident, self._json_text)
            return _value(entity, ident, lambda t: t.c.result_json.as_boolean())

        return Operand("result", cast=cast)

    # -- functions ----------------------------------------------------------------------------
    def call(self, node: ast.Call) -> Operand:
        """A function call."""
        name = _name(node.func)
        if name in _NOT_IMPLEMENTED:
            raise InvalidInput("$filter", f"not implemented: {name}")
        if name.startswith(("st_", "geo.")):
            return self.geo(name, node.args)
        if name in ("now", "mindatetime", "maxdatetime"):
            moments = {"now": datetime.now(UTC), "mindatetime": datetime(1, 1, 2, tzinfo=UTC)}
            moment = moments.get(name, datetime(9999, 12, 30, tzinfo=UTC))
            return Operand("time", sa.literal(to_micros(moment)))
        args = [self.operand(a) for a in node.args]
        if name in ("round", "floor", "ceiling"):
            sql = {"round": sa.func.round, "floor": sa.func.floor, "ceiling": sa.func.ceil}[name]
            value = sa.cast(args[0].as_kind("number"), sa.Float)
            # SQLite's math functions fail on a null argument: null stays null here
            return Operand("number", sa.case((value.is_(None), sa.null()), else_=sql(value)))
        if name in _DATE_PARTS or name in ("date", "time", "fractionalseconds"):
            return self.date_part(name, args[0])
        if name == "totaloffsetminutes":
            return Operand("number", sa.literal(0))
        return self.text_function(name, args)

    def text_function(self, name: str, args: list[Operand]) -> Operand:  # noqa: C901
        """The string functions (case-sensitive on both databases)."""
        text = [a.as_kind("text") if a.kind != "number" else a.expr for a in args]
        if name == "substringof":
            return Operand("bool", self._index(text[1], text[0]) > 0)
        if name == "contains":
            return Operand("bool", self._index(text[0], text[1]) > 0)
        if name == "startswith":
            head = sa.func.substr(text[0], 1, sa.func.length(text[1]))
            return Operand("bool", head == text[1])
        if name == "endswith":
            start = sa.func.length(text[0]) - sa.func.length(text[1]) + 1
            tail = sa.func.substr(text[0], sa.func.greatest(start, 1) if self._pg else start)
            return Operand("bool", sa.and_(start >= 1, tail == text[1]))
        if name == "length":
            return Operand("number", sa.func.length(text[0]))
        if name == "indexof":
            return Operand("number", self._index(text[0], text[1]) - 1)
        if name == "tolower":
            return Operand("text", sa.func.lower(text[0]))
        if name == "toupper":
            return Operand("text", sa.func.upper(text[0]))
        if name == "trim":
            return Operand("text", sa.func.trim(text[0]))
        if name == "concat":
            return Operand("text", sa.type_coerce(text[0].op("||")(text[1]), sa.String))
        if name == "substring":
            start = sa.cast(args[1].as_kind("number"), sa.Integer) + 1
            if len(args) == 3:
                length = sa.cast(args[2].as_kind("number"), sa.Integer)
                return Operand("text", sa.func.substr(text[0], start, length))
            return Operand("text", sa.func.substr(text[0], start))
        raise InvalidInput("$filter", f"not implemented: {name}")

    @property
    def _pg(self) -> bool:
        return self.dialect == "postgresql"

    def _index(self, text: Any, part: Any) -> Any:
        """1-based position of ``part`` in ``text``, 0 if absent."""
        return sa.func.strpos(text, part) if self._pg else sa.func.instr(text, part)

    def date_part(self, name: str, operand: Operand) -> Operand:
        """year … second, date, time of a time (an interval: of its start)."""
        micros = operand.as_kind("time") if operand.kind != "interval" else operand.expr
        if name == "fractionalseconds":
            return Operand("number", sa.cast(micros % 1_000_000, sa.Float) / 1_000_000.0)
        if self._pg:
            moment = sa.func.timezone("UTC", sa.func.to_timestamp(micros / 1_000_000.0))
            if name in ("date", "time"):
                pattern = "YYYY-MM-DD" if name == "date" else "HH24:MI:SS"
                return Operand(
                    "date" if name == "date" else "timeofday", sa.func.to_char(moment, pattern)
                )
            part = sa.func.floor(sa.extract(name, moment))
            return Operand("number", sa.cast(part, sa.Integer))
        seconds = sa.cast(micros / 1_000_000, sa.Integer)
        if name in ("date", "time"):
            sql = sa.func.date if name == "date" else sa.func.time
            return Operand("date" if name == "date" else "timeofday", sql(seconds, "unixepoch"))
        text = sa.func.strftime(_DATE_PARTS[name], seconds, "unixepoch")
        return Operand("number", sa.cast(text, sa.Integer))

    # -- geospatial ---------------------------------------------------------------------------
    def geo(self, name: str, nodes: list[ast._Node]) -> Operand:
        """A geospatial function: the ids whose geometry satisfies it, decided by shapely."""
        args = [self.operand(n) for n in nodes]
        stored = [a for a in args if a.geometry is not None]
        given = [a for a in args if a.kind == "geometry" and a.geometry is None]
        if name == "geo.length":
            if not stored:
                raise InvalidInput("$filter", "geo.length needs a geometry property")
            return Operand("geo", cast=None, geometry=stored[0].geometry, end=("length", None))
        if len(stored) != 1 or len(given) != 1:
            raise InvalidInput(
                "$filter", f"{name} needs one geometry property and one geography'...' literal"
            )
        shape = given[0].expr
        if name == "geo.distance":
            return Operand("geo", geometry=stored[0].geometry, end=("distance", shape))
        first_is_stored = args[0].geometry is not None
        pattern = None
        if name == "st_relate":
            if not isinstance(nodes[2], ast.String):
                raise InvalidInput("$filter", "st_relate needs a DE-9IM pattern string")
            pattern = nodes[2].val

        def test(geometry: Any) -> bool:
            a, b = (geometry, shape) if first_is_stored else (shape, geometry)
            if pattern is not None:
                return bool(shapely.relate_pattern(a, b, pattern))
            method = {"geo.intersects": "intersects"}.get(name, name.removeprefix("st_"))
            return bool(getattr(a, method)(b))

        prefilter = name not in ("st_disjoint", "st_relate")
        assert stored[0].geometry is not None
        return Operand(
            "bool", self._matching(stored[0].geometry, test, shape if prefilter else None)
        )

    def geo_compare(self, operand: Operand, op: str, number: Any) -> Operand:
        """``geo.distance(...) lt 2`` and ``geo.length(...) gt 1``: decided by shapely."""
        assert operand.geometry is not None and operand.end is not None
        what, shape = operand.end
        bound = _number_value(number)
        compare = _PY_OPS[op]

        def test(geometry: Any) -> bool:
            value = geometry.length if what == "length" else geometry.distance(shape)
            return bool(compare(value, bound))

        return Operand("bool", self._matching(operand.geometry, test, None))

    def _matching(
        self, where: tuple[EntitySet, Any, str], test: Callable[[Any], bool], near: Any
    ) -> sa.ColumnElement[bool]:
        entity, ident, prop_name = where
        cols = entity.prop(prop_name).columns
        table = entity.table
        query = sa.select(table.c.id, table.c[cols[0]]).where(
            table.c[cols[0]].is_not(None), entity.visible(table, self.hidden)
        )
        if near is not None:
            west, south, east, north = near.bounds
            query = query.where(
                table.c.max_x >= west, table.c.min_x <= east,
                table.c.max_y >= south, table.c.min_y <= north,
            )  # fmt: skip
        rows = self.con.execute(query.limit(MAX_CANDIDATES + 1)).all()
        if len(rows) > MAX_CANDIDATES:
            raise InvalidInput(
                "$filter", f"the geospatial test would check over {MAX_CANDIDATES} geometries"
            )
        matches = sorted(r.id for r in rows if _passes(test, r.id, r[1]))
        target = table.c.id if ident is None else ident
        return target.in_(matches)


def _value(entity: EntitySet, ident: Any, column: Callable[[Any], Any]) -> Any:
    """``column`` of the row being filtered (``ident`` None) or of ``entity``'s row ``ident``."""
    if ident is None:
        return column(entity.table)
    alias = entity.table.alias()
    # correlated to the filtered row only: never to a table of an inner hop
    query = sa.select(column(alias)).where(alias.c.id == ident).correlate_except(alias)
    return query.scalar_subquery()


def _segments(node: ast._Node) -> list[str]:
    if isinstance(node, ast.Identifier):
        if node.namespace:
            raise InvalidInput("$filter", f"unknown name {_name(node)!r}")
        return [node.name]
    assert isinstance(node, ast.Attribute)
    return [*_segments(node.owner), node.attr]


def _shape(text: str) -> Any:
    body = text.split(";", 1)[1] if text.upper().startswith("SRID=") else text
    try:
        return wkt.loads(body)
    except (shapely.errors.ShapelyError, ValueError) as exc:
        raise InvalidInput("$filter", f"geography'{text[:40]}' is not WKT") from exc


def _stored_shape(document: Any) -> Any:
    geometry = geometry_of(
        json.loads(document) if isinstance(document, str) else document, "geometry"
    )
    return shapely.geometry.shape(geometry)


def _passes(test: Callable[[Any], bool], ident: int, document: Any) -> bool:
    """``test`` on a stored geometry; one that shapely cannot read (stored before geometries
    were checked) matches nothing rather than failing every geospatial query."""
    try:
        return test(_stored_shape(document))
    except (InvalidInput, ValueError, TypeError, shapely.errors.ShapelyError) as exc:
        _LOG.warning("geometry of row %s left out of a geospatial $filter: %s", ident, exc)
        return False


def _number_value(operand: Operand) -> float:
    value = getattr(operand.expr, "value", None)
    if operand.kind != "number" or not isinstance(value, int | float):
        raise InvalidInput("$filter", "geo.distance and geo.length compare with a number literal")
    return float(value)


def _common_kind(left: Operand, right: Operand) -> str:
    kinds = {left.kind, right.kind}
    fixed = kinds - {"json", "result"}
    if not fixed:
        return "text"
    if len(fixed) > 1:
        raise InvalidInput("$filter", f"cannot compare {left.kind} with {right.kind}")
    kind = fixed.pop()
    if kind == "text" and "result" in kinds:
        return "result_text"
    if kind in ("bool", "number", "text", "time", "date", "timeofday"):
        return kind
    raise InvalidInput("$filter", f"cannot compare a {kind}")


_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "Eq": lambda a, b: a == b,
    "NotEq": lambda a, b: a != b,
    "Lt": lambda a, b: a < b,
    "LtE": lambda a, b: a <= b,
    "Gt": lambda a, b: a > b,
    "GtE": lambda a, b: a >= b,
}
_PY_OPS = _OPS
_DATE_PARTS = {
    "year": "%Y",
    "month": "%m",
    "day": "%d",
    "hour": "%H",
    "minute": "%M",
    "second": "%S",
}
