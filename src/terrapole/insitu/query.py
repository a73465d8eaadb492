"""SensorThings query options (``$filter $select $expand $orderby $top $skip $count
$resultFormat``) read from a request's parameters and run as SQL on the ``tp_sta_`` tables.

No HTTP: the SensorThings adapter (``terrapole.web.sta``) hands the parameters in and turns
the :class:`Found` entities it gets back into JSON with links. Every read is filtered by the
caller's ``hidden`` access keys in the query itself (:mod:`terrapole.insitu.visibility`).

Choices (SensorThings API 1.1 leaves them to the server):

- ``$top`` defaults to :data:`DEFAULT_TOP`; above :data:`MAX_TOP` is a 400 (not clamped), so
  a client never silently gets fewer rows than it asked for without a next link;
- ``$expand`` nests at most :data:`MAX_EXPAND_DEPTH` levels (400 beyond); an expanded
  collection takes its own ``$top`` (default :data:`DEFAULT_TOP`) per parent entity;
- ``$orderby`` takes property paths (to-one navigation, JSON members); the id is always the
  last key so that pages are stable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from odata_query import ast

from terrapole.errors import InvalidInput, NotFound
from terrapole.insitu.sta_filter import FilterCompiler, parse_filter
from terrapole.insitu.sta_sets import SETS, EntitySet, Hidden

DEFAULT_TOP = 100
MAX_TOP = 10_000
MAX_SKIP = 10_000_000
MAX_EXPAND_DEPTH = 4
OPTIONS = frozenset(
    {"$filter", "$select", "$expand", "$orderby", "$top", "$skip", "$count", "$resultFormat"}
)


@dataclass(frozen=True)
class Expand:
    """One navigation property to expand and the options of the expanded entities."""

    nav: str
    options: QueryOptions


@dataclass(frozen=True)
class QueryOptions:
    """The query options of one request (or of one ``$expand`` level)."""

    filter: ast._Node | None = None
    select: tuple[str, ...] = ()
    expand: tuple[Expand, ...] = ()
    orderby: tuple[tuple[tuple[str, ...], bool], ...] = ()  # (path, descending)
    top: int = DEFAULT_TOP
    skip: int = 0
    count: bool = False
    result_format: str | None = None
    given: tuple[tuple[str, str], ...] = ()
    """The options as written (name, text): what a next link of an expanded collection repeats."""


@dataclass
class Found:
    """One entity read: its set, id, row, SensorThings JSON and its expanded relations."""

    set: EntitySet
    id: int
    row: Any
    doc: dict[str, Any]
    select: tuple[str, ...] = ()
    expanded: dict[str, Found | Page | None] = field(default_factory=dict)


@dataclass
class Page:
    """Entities of a collection: ``more`` when rows follow the page, ``count`` when asked."""

    items: list[Found]
    more: bool
    count: int | None
    options: QueryOptions


# -- reading the options ------------------------------------------------------------------------
def _split(text: str, sep: str) -> list[str]:
    """``text`` split on ``sep`` outside parentheses and quoted strings."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and char == sep:
            parts.append(text[start:i])
            start = i + 1
    if depth != 0 or quoted:
        raise InvalidInput("query", f"unbalanced parentheses or quotes in {text[:60]!r}")
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _int(params: Mapping[str, str], name: str, default: int, high: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    if not text.strip().isdigit():
        raise InvalidInput(name, f"{text[:20]!r} is not a non-negative integer")
    value = int(text)
    if value > high:
        raise InvalidInput(name, f"{value} is above the server maximum {high}")
    return value


def parse_options(params: Mapping[str, str], entity_set: EntitySet, depth: int = 0) -> QueryOptions:
    """The options in ``params`` for ``entity_set`` (InvalidInput naming the bad one)."""
    unknown = sorted(k for k in params if k.startswith("$") and k not in OPTIONS)
    if unknown:
        raise InvalidInput(unknown[0], "unknown query option")
    select = tuple(s for s in _split(params.get("$select", ""), ",") if s)
    allowed = {*entity_set.props, *entity_set.navs}
    for name in select:
        if name not in allowed:
            raise InvalidInput("$select", f"{entity_set.singular} has no property {name!r}")
    count_text = params.get("$count", "false")
    if count_text not in ("true", "false"):
        raise InvalidInput("$count", "must be true or false")
    result_format = params.get("$resultFormat")
    if result_format not in (None, "dataArray"):
        raise InvalidInput("$resultFormat", f"{result_format!r} is not supported (dataArray)")
    filter_text = params.get("$filter")
    return QueryOptions(
        filter=None if filter_text is None else parse_filter(filter_text),
        select=select,
        expand=_expands(params.get("$expand", ""), entity_set, depth),
        orderby=_orderby(params.get("$orderby", "")),
        top=_int(params, "$top", DEFAULT_TOP, MAX_TOP),
        skip=_int(params, "$skip", 0, MAX_SKIP),
        count=count_text == "true",
        result_format=result_format,
        given=tuple((k, v) for k, v in params.items() if k in OPTIONS),
    )


def _orderby(text: str) -> tuple[tuple[tuple[str, ...], bool], ...]:
    keys = []
    for item in _split(text, ","):
        if not item:
            continue
        words = item.split()
        if len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise InvalidInput("$orderby", f"{item[:60]!r}: expected 'property [asc|desc]'")
        keys.append((tuple(words[0].split("/")), len(words) == 2 and words[1] == "desc"))
    return tuple(keys)


def _expands(text: str, entity_set: EntitySet, depth: int) -> tuple[Expand, ...]:
    found = []
    for item in _split(text, ","):
        if not item:
            continue
        path, _, rest = item.partition("(")
        nested: dict[str, str] = {}
        if rest:
            if not rest.endswith(")"):
                raise InvalidInput("$expand", f"{item[:60]!r}: options must end with ')'")
            for option in _split(rest[:-1], ";"):
                name, eq, value = option.partition("=")
                if not eq:
                    raise InvalidInput("$expand", f"{option[:60]!r}: expected $option=value")
                nested[name.strip()] = value
        found.append(_expand(path.strip().split("/"), nested, entity_set, depth + 1, rest))
    return tuple(found)


def _expand(
    path: list[str], nested: dict[str, str], entity_set: EntitySet, depth: int, text: str = ""
) -> Expand:
    """``path``'s first navigation expanded; ``text``: the nested options as written after
    the opening parenthesis (``$select=id)``), or empty."""
    if depth > MAX_EXPAND_DEPTH:
        raise InvalidInput("$expand", f"nested deeper than {MAX_EXPAND_DEPTH} levels")
    name = path[0]
    if name not in entity_set.navs:
        raise InvalidInput("$expand", f"{entity_set.singular} has no navigation {name!r}")
    target = SETS[entity_set.navs[name].target]
    if len(path) > 1:  # Datastreams/ObservedProperty: expand the rest inside
        inner = _expand(path[1:], nested, target, depth + 1, text)
        given = (("$expand", "/".join(path[1:]) + (f"({text}" if text else "")),)
        return Expand(name, QueryOptions(expand=(inner,), given=given))
    return Expand(name, parse_options(nested, target, depth))


# -- running them ---------------------------------------------------------------------------------
def read_page(
    con: sa.Connection,
    entity_set: EntitySet,
    options: QueryOptions,
    hidden: Hidden,
    *where: sa.ColumnElement[bool],
) -> Page:
    """The entities of ``entity_set`` matching ``where`` and the options, one page."""
    table = entity_set.table
    compiler = FilterCompiler(entity_set, con.dialect.name, con, hidden)
    conditions = [entity_set.visible(table, hidden), *where]
    if options.filter is not None:
        conditions.append(compiler.condition(options.filter))
    query = sa.select(table).where(*conditions)
    for path, descending in options.orderby:
        key = _order_key(compiler, list(path))
        query = query.order_by(key.desc() if descending else key.asc())
    query = query.order_by(table.c.id).offset(options.skip).limit(options.top + 1)
    count = None
    try:
        rows = con.execute(query).all()
        if options.count:
            count_query = sa.select(sa.func.count()).select_from(table).where(*conditions)
            count = con.execute(count_query).scalar_one()
    except sa.exc.DataError as exc:  # PostgreSQL: 1e308 mul 1e308, a substring of length -1
        raise InvalidInput("$filter", "a value is out of range for the database") from exc
    items = [_found(con, entity_set, r, options, hidden) for r in rows[: options.top]]
    # $top=0 asks for no entity (a count only): no next page, else clients loop on one URL
    more = options.top > 0 and len(rows) > options.top
    return Page(items, more, count, options)


def read_one(
    con: sa.Connection,
    entity_set: EntitySet,
    ident: int,
    options: QueryOptions,
    hidden: Hidden,
    *where: sa.ColumnElement[bool],
) -> Found:
    """One visible entity (NotFound, as for an unknown id, when hidden)."""
    table = entity_set.table
    query = sa.select(table).where(table.c.id == ident, entity_set.visible(table, hidden), *where)
    row = con.execute(query).first()
    if row is None:
        raise NotFound(entity_set.singular, str(ident))
    return _found(con, entity_set, row, options, hidden)


def related_id(con: sa.Connection, entity_set: EntitySet, ident: int, nav: str) -> int | None:
    """The id of the entity a to-one navigation ``nav`` leads to (None when unset)."""
    fk = entity_set.navs[nav].fk
    assert fk is not None
    table = entity_set.table
    value = con.execute(sa.select(table.c[fk]).where(table.c.id == ident)).scalar_one_or_none()
    return None if value is None else int(value)


def _order_key(compiler: FilterCompiler, path: list[str]) -> Any:
    try:
        operand = compiler.path(path)
    except InvalidInput as exc:  # the path reader words it for $filter
        raise InvalidInput("$orderby", exc.reason) from exc
    if operand.kind == "geometry":
        raise InvalidInput("$orderby", f"cannot order by a geometry ({'/'.join(path)})")
    if operand.cast is not None:
        return operand.as_kind("number" if operand.kind == "result" else "text")
    return operand.expr


def _found(
    con: sa.Connection, entity_set: EntitySet, row: Any, options: QueryOptions, hidden: Hidden
) -> Found:
    doc = entity_set.to_json(row)
    if options.select:
        doc = {k: v for k, v in doc.items() if k in options.select}
    found = Found(entity_set, int(row.id), row, doc, options.select)
    for expand in options.expand:
        nav = entity_set.navs[expand.nav]
        target = SETS[nav.target]
        related = entity_set.target_of(nav, row.id)
        if nav.many:
            found.expanded[expand.nav] = read_page(con, target, expand.options, hidden, related)
        else:
            one = read_page(con, target, _first(expand.options), hidden, related)
            found.expanded[expand.nav] = one.items[0] if one.items else None
    return found


def _first(options: QueryOptions) -> QueryOptions:
    return QueryOptions(filter=options.filter, select=options.select, expand=options.expand, top=1)
