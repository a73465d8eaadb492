"""The scale catalogue store: PostgreSQL + PostGIS with the pgstac schema (pypgstac).

Search, paging tokens, CQL2 and free text are pgstac's own ``search`` function; aggregations
run SQL over pgstac's items table with the WHERE clause pgstac derives from the same search.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

from terrapole.catalog.antimeridian import geojson, geometry_literals, region
from terrapole.catalog.collections import filter_collections
from terrapole.catalog.documents import PreparedItem, prepare_collection
from terrapole.catalog.facets import CASE_FREE_AGGREGATIONS
from terrapole.catalog.fields import apply_fields
from terrapole.catalog.model import (
    Aggregation,
    Bucket,
    CollectionQuery,
    LoadReport,
    Page,
    SearchQuery,
)
from terrapole.catalog.store import AGGREGATIONS, DATETIME_INTERVALS, OnConflict
from terrapole.catalog.timeutil import to_rfc3339
from terrapole.errors import AlreadyExists, InvalidFilter, InvalidInput, NotFound, StoreUnavailable
from terrapole.jsontypes import Json

try:
    import psycopg
    from psycopg.types.json import Jsonb
    from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout
    from pypgstac.db import PgstacDB
    from pypgstac.load import Loader, Methods
    from pypgstac.migrate import Migrate
except ImportError as exc:  # pragma: no cover - exercised only without the [pg] extra
    raise StoreUnavailable("the pgstac store needs `pip install terrapole[pg]`") from exc

# Typed queryables, so that pgstac sorts, pages and compares these as numbers or times.
QUERYABLES = [
    ("eo:cloud_cover", {"type": "number", "minimum": 0, "maximum": 100}, "to_float"),
    ("gsd", {"type": "number"}, "to_float"),
    ("platform", {"type": "string"}, "to_text"),
    ("updated", {"type": "string", "format": "date-time"}, "to_tstz"),  # production watermarks
]

_FREQUENCY_SQL = {
    "collection_frequency": "collection",
    "platform_frequency": "content->'properties'->>'platform'",
    "constellation_frequency": "content->'properties'->>'constellation'",
    "cloud_cover_frequency": (
        "(least(floor((content->'properties'->>'eo:cloud_cover')::float / 10), 9) * 10)::int"
    ),
}


def migrate(dsn: str) -> str:
    """Create or upgrade the pgstac schema; return its version."""

    with PgstacDB(dsn=dsn) as db:
        version: str = Migrate(db).run_migration()
    with psycopg.connect(dsn, autocommit=True, options="-c search_path=pgstac,public") as con:
        for name, definition, wrapper in QUERYABLES:
            con.execute(
                "INSERT INTO pgstac.queryables (name, definition, property_wrapper, "
                "property_index_type) SELECT %s, %s, %s, 'BTREE' WHERE NOT EXISTS "
                "(SELECT 1 FROM pgstac.queryables WHERE name = %s)",
                (name, Jsonb(definition), wrapper, name),
            )
    return version


class _Refused(InvalidInput):
    """A value PostgreSQL refused (a data error): callers that know the parameter rename it."""

    def __init__(self, exc: psycopg.Error) -> None:
        super().__init__("value", _reason(exc))


def _reason(exc: psycopg.Error) -> str:
    """PostgreSQL's one-line reason, without the DETAIL, CONTEXT and SQL that follow it."""
    text = str(exc)
    if "\\u0000" in text or "NUL (0x00)" in text:  # server-side (JSON) or client-side (text)
        return "a NUL character is not allowed"
    return exc.diag.message_primary or text.splitlines()[0]


def _search_error(reason: str) -> InvalidInput:
    """The search parameter a refusal of pgstac's ``search`` concerns."""
    if "token" in reason.lower():
        return InvalidInput("token", reason)
    return InvalidFilter(reason)


def _token_of(links: list[Json], rel: str) -> str | None:
    for link in links:
        if link.get("rel") == rel:
            values = parse_qs(urlsplit(link["href"]).query).get("token")
            return values[0] if values else None
    return None


def _q_filter(terms: tuple[str, ...]) -> Json:
    """Free text as CQL2: any term in title or description, case-insensitive.

    pgstac's own ``q`` concatenates tsvectors without COALESCE on the description, so an item
    with no description never matches; this filter has no such hole.
    """
    ors: list[Json] = []
    for term in terms:
        pattern = "%" + term.lower().replace("%", "\\%").replace("_", "\\_") + "%"
        for prop in ("title", "description"):
            casei = [
                {"op": "casei", "args": [{"property": prop}]},
                {"op": "casei", "args": [pattern]},
            ]
            ors.append({"op": "like", "args": casei})
    return {"op": "or", "args": ors}


class PgstacStore:
    """Catalogue on PostgreSQL/PostGIS with the pgstac schema (migrated on open)."""

    def __init__(self, dsn: str, *, max_size: int = 8, statement_timeout_s: float = 60.0) -> None:
        self.dsn = dsn.replace("postgres://", "postgresql://", 1)
        try:
            migrate(self.dsn)
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"cannot reach PostgreSQL: {exc}".strip()) from exc
        self._loader_db: PgstacDB | None = None
        self.pool = ConnectionPool(
            self.dsn,
            min_size=1,
            max_size=max_size,
            # a query running longer is cancelled by the server (a client that went away does
            # not stop PostgreSQL: a free-text search of 5,000 terms ran on for 15 minutes)
            kwargs={
                "options": "-c search_path=pgstac,public "
                f"-c statement_timeout={round(statement_timeout_s * 1000)}",
                "autocommit": True,
            },  # fmt: skip
            open=True,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self.pool.close()
        if self._loader_db is not None:
            self._loader_db.close()

    def _loader(self) -> Loader:
        if self._loader_db is None:
            self._loader_db = PgstacDB(dsn=self.dsn)
        return Loader(self._loader_db)

    @contextmanager
    def _cursor(self, *, tx: bool = False) -> Iterator[psycopg.Cursor[Any]]:
        try:
            with self.pool.connection() as con:
                if tx:
                    with con.transaction(), con.cursor() as cur:
                        yield cur
                else:
                    with con.cursor() as cur:
                        yield cur
        except psycopg.DataError as exc:  # a value PostgreSQL cannot take (NUL, a bad cast)
            raise _Refused(exc) from exc
        except psycopg.errors.QueryCanceled as exc:
            raise StoreUnavailable("the catalogue query ran past the statement timeout") from exc
        except (psycopg.OperationalError, PoolClosed, PoolTimeout) as exc:
            raise StoreUnavailable(f"cannot reach PostgreSQL: {exc}") from exc

    def _call(self, function: str, *args: Any, tx: bool = True) -> Any:
        marks = ", ".join("%s" for _ in args)
        try:
            with self._cursor(tx=tx) as cur:
                cur.execute(f"SELECT {function}({marks})", args)
                row = cur.fetchone()
        except psycopg.errors.UniqueViolation as exc:
            raise AlreadyExists("document", str(args[0])[:80]) from exc
        return row[0] if row else None

    # -- collections ------------------------------------------------------------------
    def create_collection(self, doc: Json) -> None:
        """Insert a new collection; raise AlreadyExists if the id is taken."""
        doc = prepare_collection(doc)
        if self._call("get_collection", doc["id"], tx=False) is not None:
            raise AlreadyExists("collection", doc["id"])
        self._call("create_collection", Jsonb(doc))

    def upsert_collection(self, doc: Json) -> None:
        """Insert or replace a collection document (its items are kept)."""
        self._call("upsert_collection", Jsonb(prepare_collection(doc)))

    def update_collection(self, doc: Json) -> None:
        """Replace an existing collection; raise NotFound if absent."""
        doc = prepare_collection(doc)
        self.get_collection(doc["id"])
        self._call("update_collection", Jsonb(doc))

    def delete_collection(self, collection_id: str) -> None:
        """Delete a collection and all its items."""
        self.get_collection(collection_id)
        with self._cursor(tx=True) as cur:
            cur.execute("DELETE FROM items WHERE collection = %s", (collection_id,))
            cur.execute("SELECT delete_collection(%s)", (collection_id,))

    def get_collection(self, collection_id: str, *, hidden: frozenset[str] = frozenset()) -> Json:
        """Return a collection document or raise NotFound (also when hidden)."""
        doc = (
            None
            if collection_id in hidden
            else self._call("get_collection", collection_id, tx=False)
        )
        if doc is None:
            raise NotFound("collection", collection_id)
        doc.setdefault("links", [])
        result: Json = doc
        return result

    def list_collections(self, query: CollectionQuery) -> tuple[list[Json], int]:
        """Return one page of matching collections and the number matched."""
        with self._cursor() as cur:
            cur.execute("SELECT content FROM collections ORDER BY id")
            docs = [row[0] for row in cur.fetchall()]
        return filter_collections(docs, query)

    # -- items ------------------------------------------------------------------------
    def get_item(
        self, collection_id: str, item_id: str, *, hidden: frozenset[str] = frozenset()
    ) -> Json:
        """Return an item document or raise NotFound."""
        if collection_id in hidden:
            raise NotFound("item", f"{collection_id}/{item_id}")
        body = {"ids": [item_id], "collections": [collection_id], "limit": 1}
        features = self._call("search", Jsonb(body), tx=False).get("features") or []
        if not features:
            raise NotFound("item", f"{collection_id}/{item_id}")
        item: Json = features[0]
        return item

    def _exists(self, collection_id: str, item_id: str) -> bool:
        with self._cursor() as cur:
            cur.execute(
                "SELECT 1 FROM items WHERE collection = %s AND id = %s", (collection_id, item_id)
            )
            return cur.fetchone() is not None

    def _check_collection(self, collection_id: str) -> None:
        if self._call("get_collection", collection_id, tx=False) is None:
            raise NotFound("collection", collection_id)

    def create_item(self, item: PreparedItem) -> None:
        """Insert a new item; raise AlreadyExists, or NotFound for a missing collection."""
        self.load_items([item], on_conflict="error")

    def update_item(self, item: PreparedItem) -> None:
        """Replace an existing item; raise NotFound if absent."""
        if not self._exists(item.collection, item.id):
            raise NotFound("item", f"{item.collection}/{item.id}")
        self._call("update_item", Jsonb(item.doc))

    def delete_item(self, collection_id: str, item_id: str) -> None:
        """Delete one item or raise NotFound."""
        if not self._exists(collection_id, item_id):
            raise NotFound("item", f"{collection_id}/{item_id}")
        self._call("delete_item", item_id, collection_id)

    def load_items(
        self, items: Iterable[PreparedItem], *, on_conflict: OnConflict = "error"
    ) -> LoadReport:
        """Write many items with pypgstac's loader (COPY straight into each partition).

        Items arrive validated; duplicates are checked first, so the COPY cannot meet a
        conflict. pypgstac commits per partition (collection x time range): an error there
        (server gone) can leave earlier partitions of this batch written, each one whole.
        """
        batch = list(items)
        report = LoadReport()
        if not batch:
            return report
        for name in {i.collection for i in batch}:
            self._check_collection(name)
        keys = {(i.collection, i.id) for i in batch}
        existing = self._existing(batch)
        if on_conflict == "error" and (existing or len(keys) < len(batch)):
            first = sorted(existing)[0] if existing else (batch[0].collection, batch[0].id)
            raise AlreadyExists("item", f"{first[0]}/{first[1]}")
        if on_conflict == "skip":
            seen: set[tuple[str, str]] = set()
            kept = []
            for item in batch:
                key = (item.collection, item.id)
                if key in existing or key in seen:
                    report.skipped += 1
                else:
                    seen.add(key)
                    kept.append(item)
            batch = kept
        self._loader().load_items(
            iter([item.doc for item in batch]),
            insert_mode=Methods.upsert if on_conflict == "upsert" else Methods.insert,
        )
        report.loaded += len(batch)
        return report

    def _existing(self, batch: list[PreparedItem]) -> set[tuple[str, str]]:
        pairs = [(i.collection, i.id) for i in batch]
        with self._cursor() as cur:
            cur.execute(
                "SELECT collection, id FROM items WHERE (collection, id) IN "
                "(SELECT * FROM unnest(%s::text[], %s::text[]))",
                ([p[0] for p in pairs], [p[1] for p in pairs]),
            )
            return {(row[0], row[1]) for row in cur.fetchall()}

    def count_items(self, collection_id: str | None = None) -> int:
        """Number of items in one collection or in the whole store."""
        with self._cursor() as cur:
            if collection_id is None:
                cur.execute("SELECT count(*) FROM items")
            else:
                cur.execute("SELECT count(*) FROM items WHERE collection = %s", (collection_id,))
            row = cur.fetchone()
        return int(row[0]) if row else 0

    # -- search -----------------------------------------------------------------------
    @staticmethod
    def _body(query: SearchQuery) -> Json:
        body: Json = {"limit": query.limit}
        if query.collections is not None:
            body["collections"] = list(query.collections)
        if query.ids is not None:
            body["ids"] = list(query.ids)
        if query.bbox is not None and query.bbox[0] <= query.bbox[2]:
            body["bbox"] = list(query.bbox)
        else:  # pgstac reads neither a bbox nor a geometry across 180°: given cut there
            area = region(query.bbox, query.intersects)
            if area is not None:
                body["intersects"] = geojson(area)
        if query.datetime is not None:
            body["datetime"] = to_rfc3339(query.datetime)
        if query.sortby:
            body["sortby"] = [{"field": k.field, "direction": k.direction} for k in query.sortby]
        if query.token:
            body["token"] = query.token
        filters = [geometry_literals(query.filter)] if query.filter is not None else []
        if query.q:
            filters.append(_q_filter(query.q))
        if query.hidden_collections:
            hidden = sorted(query.hidden_collections)
            filters.append(
                {"op": "not", "args": [{"op": "in", "args": [{"property": "collection"}, hidden]}]}
            )
        if filters:
            body["filter"] = filters[0] if len(filters) == 1 else {"op": "and", "args": filters}
            body["filter-lang"] = "cql2-json"
        return body

    def _run(self, function: str, body: Json) -> Any:
        try:
            return self._call(function, Jsonb(body), tx=False)
        except _Refused as exc:
            raise _search_error(exc.reason) from exc
        except (psycopg.errors.RaiseException, psycopg.errors.UndefinedFunction) as exc:
            raise _search_error(_reason(exc)) from exc

    def search(self, query: SearchQuery) -> Page:
        """Return one page of items via pgstac's ``search`` function."""
        result = self._run("search", self._body(query))
        links = result.get("links") or []
        page = Page(
            items=[apply_fields(f, query.fields) for f in result.get("features") or []],
            next_token=_token_of(links, "next"),
            prev_token=_token_of(links, "prev"),
        )
        if query.count_limit is not None:
            page.matched, page.matched_exact = self._count(query, query.count_limit)
        return page

    def _where(self, query: SearchQuery) -> str:
        """pgstac's WHERE clause for ``query`` over its items table (paging token aside)."""
        body = self._body(query)
        body.pop("token", None)
        return str(self._run("stac_search_to_where", body) or "TRUE")

    def _count(self, query: SearchQuery, limit: int) -> tuple[int, bool]:
        """Matches of ``query``: exact up to ``limit``, beyond it the planner's estimate."""
        where = self._where(query)
        try:
            exact = self._scalar(f"SELECT count(*) FROM (SELECT 1 FROM items WHERE {where} "
                                 f"LIMIT {int(limit) + 1}) s")  # fmt: skip
            if exact <= limit:
                return int(exact), True
            plan = self._scalar(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM items WHERE {where}")
        except _Refused as exc:
            raise InvalidFilter(exc.reason) from exc
        return max(int(plan[0]["Plan"]["Plan Rows"]), int(exact)), False

    # -- aggregation ------------------------------------------------------------------
    def aggregate(
        self, query: SearchQuery, names: list[str], *, interval: str = "month"
    ) -> list[Aggregation]:
        """Aggregations in SQL over the items pgstac's WHERE clause selects."""
        where = self._where(query)
        try:  # the filter's values are cast here, as its queryables say
            return self._aggregations(names, where, interval)
        except _Refused as exc:
            raise InvalidFilter(exc.reason) from exc

    def _aggregations(self, names: list[str], where: str, interval: str) -> list[Aggregation]:
        out: list[Aggregation] = []
        for name in names:
            if name not in AGGREGATIONS:
                raise InvalidInput("aggregations", f"unknown aggregation {name!r}")
            if name in ("total_count", "datetime_min", "datetime_max"):
                expr = {"total_count": "count(*)", "datetime_min": "min(datetime)",
                        "datetime_max": "max(end_datetime)"}[name]  # fmt: skip
                value = self._scalar(f"SELECT {expr} FROM items WHERE {where}")
                if name != "total_count" and value is not None:
                    value = value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                out.append(Aggregation(name, AGGREGATIONS[name], value=value))
            else:
                out.append(self._frequency(name, where, interval))
        return out

    def _scalar(self, sql: str) -> Any:
        with self._cursor() as cur:
            cur.execute(sql)
            row = cur.fetchone()
        return row[0] if row else None

    def _frequency(self, name: str, where: str, interval: str) -> Aggregation:
        source = "items"
        if name == "datetime_frequency":
            if interval not in DATETIME_INTERVALS:
                raise InvalidInput("interval", f"{interval!r} is not one of year, month, day")
            width = DATETIME_INTERVALS[interval]
            key = f"substr(to_char(datetime AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 1, {width})"
        elif name == "instruments_frequency":
            source = "items, jsonb_array_elements_text(content->'properties'->'instruments') j"
            key = "j"
        else:
            key = _FREQUENCY_SQL[name]
        if name in CASE_FREE_AGGREGATIONS:
            key = f"lower({key})"
        sql = (
            f"SELECT {key} AS k, count(*) FROM {source} WHERE {where} AND {key} IS NOT NULL "
            "GROUP BY k ORDER BY k"
        )
        with self._cursor() as cur:
            cur.execute(sql)
            rows = cur.fetchall()
        buckets = tuple(
            Bucket(
                key=str(k),
                frequency=int(n),
                to=str(int(k) + 10) if name == "cloud_cover_frequency" else None,
            )
            for k, n in rows
        )
        return Aggregation(name, "frequency_distribution", buckets=buckets)
