"""Turn search request parameters (a STAC API GET query or POST body) into a SearchQuery.

Used by every adapter that searches the catalogue: the STAC API, the mosaic tiles of a search
and the portal. Parameters arrive as plain values (strings, lists, dicts or the request
models' objects); nothing here knows HTTP.
"""

from __future__ import annotations

from typing import Any

import orjson

from terrapole.catalog.cql2 import parse_filter
from terrapole.catalog.documents import parse_bbox, parse_geometry
from terrapole.catalog.facets import casefold_facets
from terrapole.catalog.model import Fields, SearchQuery, SortKey
from terrapole.catalog.stac_query import query_filter
from terrapole.catalog.timeutil import parse_interval
from terrapole.config import DEFAULT_LIMIT
from terrapole.errors import InvalidFilter, InvalidInput
from terrapole.jsontypes import Json


def _sortby(raw: Any) -> tuple[SortKey, ...]:
    keys: list[SortKey] = []
    for entry in raw or []:
        if isinstance(entry, str):
            direction = "desc" if entry.startswith("-") else "asc"
            name = entry.lstrip("+- ")
        else:
            data = entry if isinstance(entry, dict) else entry.model_dump()
            raw_direction = data.get("direction", "asc")
            name = data["field"]
            direction = str(getattr(raw_direction, "value", raw_direction)).lower()
        if not name or direction not in ("asc", "desc"):
            raise InvalidInput("sortby", f"{entry!r} is not FIELD or +FIELD/-FIELD")
        if any(ord(ch) < 32 for ch in name):
            raise InvalidInput("sortby", f"field {name!r} has a control character")
        keys.append(SortKey(name.removeprefix("properties."), direction))  # type: ignore[arg-type]
    return tuple(keys)


def _fields(raw: Any) -> Fields:
    if raw is None:
        return Fields()
    if isinstance(raw, list):
        return Fields(
            frozenset(f.lstrip("+") for f in raw if f and not f.startswith("-")),
            frozenset(f[1:] for f in raw if f.startswith("-")),
        )
    data = raw if isinstance(raw, dict) else raw.model_dump()
    include: set[str] = data.get("include") or set()
    exclude: set[str] = data.get("exclude") or set()
    explicit = "include" in (data if isinstance(raw, dict) else raw.model_fields_set)
    return Fields(frozenset(include), frozenset(exclude), from_defaults=explicit and not include)


def _intersects(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InvalidInput("intersects", "is not valid GeoJSON") from exc
        if not isinstance(raw, dict):
            raise InvalidInput("intersects", "must be a GeoJSON geometry object")
    data = raw if isinstance(raw, dict) else raw.model_dump(exclude_none=True)
    parse_geometry(data, field="intersects")
    return dict(data)


def _list(raw: Any) -> tuple[str, ...] | None:
    if raw is None:
        return None
    values = raw.split(",") if isinstance(raw, str) else list(raw)
    return tuple(str(v).strip() for v in values if str(v).strip()) or None


MAX_Q_TERMS = 20  # free-text terms: PostgreSQL's cost grows with each (500 terms: 19 s)
MAX_Q_CHARS = 1_000


def free_text(raw: Any) -> tuple[str, ...] | None:
    """The ``q`` terms, within the limits a search engine can answer quickly."""
    terms = _list(raw)
    if terms is None:
        return None
    if len(terms) > MAX_Q_TERMS:
        raise InvalidInput("q", f"{len(terms)} terms; at most {MAX_Q_TERMS}")
    if sum(len(term) for term in terms) > MAX_Q_CHARS:
        raise InvalidInput("q", f"longer than {MAX_Q_CHARS} characters")
    return terms


def _nul_in(value: Any) -> bool:
    """Whether a string in ``value`` (or in its lists, sets, dict keys and values) has a NUL."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_nul_in(k) or _nul_in(v) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_nul_in(v) for v in value)
    return False


def _refuse_nul(query: SearchQuery) -> SearchQuery:
    """Neither store can take NUL in a text: SQLite's FTS5 and PostgreSQL refuse it."""
    texts = {
        "collections": query.collections,
        "ids": query.ids,
        "q": query.q,
        "filter": query.filter,
        "intersects": query.intersects,
        "sortby": [key.field for key in query.sortby],
        "fields": [query.fields.include, query.fields.exclude],
        "token": query.token,
    }
    for name, value in texts.items():
        if _nul_in(value):
            raise InvalidInput(name, "a NUL character is not allowed")
    return query


CRS84 = frozenset(
    {
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "https://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "OGC:CRS84",
    }
)


def _check_filter_crs(params: dict[str, Any]) -> None:
    """``filter-crs`` (OGC API Features part 3) may only name CRS84, the one we answer."""
    crs = params.get("filter_crs", params.get("filter-crs"))
    if crs not in (None, "") and str(crs).strip() not in CRS84:
        raise InvalidInput(
            "filter-crs",
            f"{crs!r} is not supported; spatial literals are read in "
            "http://www.opengis.net/def/crs/OGC/1.3/CRS84 only",
        )


def _filter(params: dict[str, Any]) -> Json | None:
    """The CQL2 ``filter`` and the ``query`` extension's terms, ANDed into one tree, with
    platform and constellation compared without case (see :mod:`terrapole.catalog.facets`)."""
    _check_filter_crs(params)
    raw_filter = params.get("filter_expr", params.get("filter"))
    trees: list[Json] = []
    if raw_filter not in (None, "", {}):
        lang = params.get("filter_lang") or params.get("filter-lang")
        trees.append(parse_filter(raw_filter, lang))
    extra = query_filter(params.get("query"))
    if extra is not None:
        try:
            trees.append(parse_filter(extra))
        except InvalidFilter as exc:
            raise InvalidInput("query", exc.reason) from exc
    if not trees:
        return None
    tree = trees[0] if len(trees) == 1 else {"op": "and", "args": trees}
    folded: Json = casefold_facets(tree)
    return folded


def search_query(
    params: dict[str, Any],
    *,
    max_limit: int,
    hidden: frozenset[str],
    default_limit: int = DEFAULT_LIMIT,
    count_limit: int | None = None,
) -> SearchQuery:
    """Build a SearchQuery from request parameters; raise InvalidInput naming the bad one.

    A request without ``limit`` gets ``default_limit`` items a page (the STAC API passes the
    ``default_limit`` setting), never more than ``max_limit``. ``count_limit`` asks the store
    to count the matches (exactly up to that many).
    """
    if params.get("bbox") is not None and params.get("intersects") is not None:
        raise InvalidInput("bbox", "bbox and intersects cannot be used together")
    limit = params.get("limit")
    limit = default_limit if limit is None else int(limit)
    if limit < 1:
        raise InvalidInput("limit", "must be a positive integer")
    datetime = params.get("datetime")
    if datetime is not None and not isinstance(datetime, str):
        datetime = (
            "/".join(v.isoformat() if v else ".." for v in datetime)
            if isinstance(datetime, tuple)
            else datetime.isoformat()
        )
    query = SearchQuery(
        collections=_list(params.get("collections")),
        ids=_list(params.get("ids")),
        bbox=parse_bbox(params["bbox"]) if params.get("bbox") is not None else None,
        intersects=_intersects(params.get("intersects")),
        datetime=parse_interval(datetime),
        filter=_filter(params),
        q=free_text(params.get("q")),
        sortby=_sortby(params.get("sortby")),
        fields=_fields(params.get("fields")),
        limit=min(limit, max_limit),
        token=params.get("token") or None,
        hidden_collections=hidden,
        count_limit=count_limit,
    )
    return _refuse_nul(query)
