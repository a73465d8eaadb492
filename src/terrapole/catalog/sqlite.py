"""The embedded catalogue store: one SQLite file with an R*Tree, an FTS5 index and JSON documents.

Writes happen in transactions (``BEGIN IMMEDIATE``); readers use WAL snapshots. Each thread gets
its own connection, since the API runs synchronous handlers in a thread pool.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import shapely
from shapely.geometry.base import BaseGeometry

from terrapole.catalog import paging
from terrapole.catalog.antimeridian import region, side_boxes
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
    SortKey,
)
from terrapole.catalog.sqlite_filter import SqliteFilter, property_sql, rtree_candidates
from terrapole.catalog.store import AGGREGATIONS, DATETIME_INTERVALS, OnConflict
from terrapole.errors import AlreadyExists, InvalidInput, NotFound
from terrapole.jsontypes import Json

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS collections (
    id TEXT PRIMARY KEY,
    content TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    rid INTEGER PRIMARY KEY,
    collection TEXT NOT NULL REFERENCES collections(id),
    id TEXT NOT NULL,
    start TEXT NOT NULL,
    end TEXT NOT NULL,
    platform TEXT,
    cloud_cover REAL,
    geometry BLOB,
    content TEXT NOT NULL,
    UNIQUE (collection, id)
);
CREATE INDEX IF NOT EXISTS items_start ON items (start);
CREATE INDEX IF NOT EXISTS items_collection_start ON items (collection, start);
CREATE INDEX IF NOT EXISTS items_id ON items (id);
-- covering index for facet counts (collection, platform, cloud cover, dates): no row reads
CREATE INDEX IF NOT EXISTS items_facets ON items (collection, platform, cloud_cover, start, end);
CREATE VIRTUAL TABLE IF NOT EXISTS items_rtree USING rtree (rid, minx, maxx, miny, maxy);
CREATE VIRTUAL TABLE IF NOT EXISTS items_fts USING fts5 (title, description, keywords);
"""
NOT_NULL_COLUMNS = {"i.id", "i.collection", "i.start", "i.end", "i.rid"}
DEFAULT_SORT = (SortKey("datetime", "desc"),)
_INSERT_ITEM = (
    "INSERT INTO items (rid, collection, id, start, end, platform, cloud_cover, geometry, content)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@functools.lru_cache(maxsize=64)
def _query_geometry(wkb: bytes) -> BaseGeometry:
    geom = shapely.from_wkb(wkb)
    shapely.prepare(geom)
    return geom


def _spatial(op: str, item_wkb: bytes | None, query_wkb: bytes) -> int:
    """SQL function tp_spatial(op, item geometry, query geometry) -> 0/1."""
    if item_wkb is None:
        return 0
    query = _query_geometry(query_wkb)
    item = shapely.from_wkb(item_wkb)
    if op == "intersects":
        return int(query.intersects(item))
    # Other predicates read "item OP query", e.g. within: the item lies within the query.
    return int(getattr(item, op)(query))


def _unaccent(value: str | bytes | int | float | None) -> str | bytes | int | float | None:
    if not isinstance(value, str):
        return value
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def fts_query(terms: tuple[str, ...]) -> str:
    """Turn free-text terms into an FTS5 query: any term matches (OR), each as a phrase."""
    if any("\x00" in term for term in terms):  # FTS5 reads NUL as the end of the query
        raise InvalidInput("q", "a NUL character is not allowed")
    phrases = ['"' + term.replace('"', '""') + '"' for term in terms if term.strip()]
    if not phrases:
        raise InvalidInput("q", "free-text search needs at least one term")
    return " OR ".join(phrases)


def _row_values(item: PreparedItem, rid: int) -> tuple[Any, ...]:
    return (
        rid,
        item.collection,
        item.id,
        item.start,
        item.end,
        item.platform,
        item.cloud_cover,
        item.wkb,
        item.encoded.decode(),
    )


LARGE_REGION = 5000  # items in the R*Tree region above which search scans in sort order


class SqliteStore:
    """Catalogue in one SQLite file (the embedded default)."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        with self._tx() as con:
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise InvalidInput("database", f"schema version {version} is not supported")
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    con.execute(statement)
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- connections -----------------------------------------------------------------
    @property
    def _con(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = NORMAL")
            con.execute("PRAGMA busy_timeout = 10000")
            con.execute("PRAGMA cache_size = -65536")
            con.execute("PRAGMA mmap_size = 1073741824")
            con.execute("PRAGMA case_sensitive_like = ON")
            con.create_function("tp_spatial", 3, _spatial, deterministic=True)
            con.create_function("tp_unaccent", 1, _unaccent, deterministic=True)
            self._local.con = con
        return con

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        con = self._con
        with self._write_lock:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def close(self) -> None:
        """Close this thread's connection (others close with their threads)."""
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

    # -- collections ------------------------------------------------------------------
    def create_collection(self, doc: Json) -> None:
        """Insert a new collection; raise AlreadyExists if the id is taken."""
        doc = prepare_collection(doc)
        with self._tx() as con:
            try:
                con.execute(
                    "INSERT INTO collections (id, content) VALUES (?, ?)",
                    (doc["id"], orjson.dumps(doc).decode()),
                )
            except sqlite3.IntegrityError as exc:
                raise AlreadyExists("collection", doc["id"]) from exc

    def upsert_collection(self, doc: Json) -> None:
        """Insert or replace a collection document (its items are kept)."""
        doc = prepare_collection(doc)
        with self._tx() as con:
            con.execute(
                "INSERT INTO collections (id, content) VALUES (?, ?) "
                "ON CONFLICT (id) DO UPDATE SET content = excluded.content",
                (doc["id"], orjson.dumps(doc).decode()),
            )

    def update_collection(self, doc: Json) -> None:
        """Replace an existing collection; raise NotFound if absent."""
        doc = prepare_collection(doc)
        with self._tx() as con:
            cur = con.execute(
                "UPDATE collections SET content = ? WHERE id = ?",
                (orjson.dumps(doc).decode(), doc["id"]),
            )
            if cur.rowcount == 0:
                raise NotFound("collection", doc["id"])

    def delete_collection(self, collection_id: str) -> None:
        """Delete a collection and all its items, index entries included."""
        with self._tx() as con:
            sub = "SELECT rid FROM items WHERE collection = ?"
            con.execute(f"DELETE FROM items_rtree WHERE rid IN ({sub})", (collection_id,))
            west = "SELECT -rid FROM items WHERE collection = ?"  # second boxes (antimeridian)
            con.execute(f"DELETE FROM items_rtree WHERE rid IN ({west})", (collection_id,))
            con.execute(f"DELETE FROM items_fts WHERE rowid IN ({sub})", (collection_id,))
            con.execute("DELETE FROM items WHERE collection = ?", (collection_id,))
            cur = con.execute("DELETE FROM collections WHERE id = ?", (collection_id,))
            if cur.rowcount == 0:
                raise NotFound("collection", collection_id)

    def get_collection(self, collection_id: str, *, hidden: frozenset[str] = frozenset()) -> Json:
        """Return a collection document or raise NotFound (also when hidden)."""
        row = self._con.execute(
            "SELECT content FROM collections WHERE id = ?", (collection_id,)
        ).fetchone()
        if row is None or collection_id in hidden:
            raise NotFound("collection", collection_id)
        doc: Json = orjson.loads(row[0])
        return doc

    def list_collections(self, query: CollectionQuery) -> tuple[list[Json], int]:
        """Return one page of matching collections and the number matched."""
        rows = self._con.execute("SELECT content FROM collections ORDER BY id").fetchall()
        return filter_collections([orjson.loads(r[0]) for r in rows], query)

    # -- items ------------------------------------------------------------------------
    def get_item(
        self, collection_id: str, item_id: str, *, hidden: frozenset[str] = frozenset()
    ) -> Json:
        """Return an item document or raise NotFound (also when its collection is hidden)."""
        if collection_id in hidden:
            raise NotFound("item", f"{collection_id}/{item_id}")
        row = self._con.execute(
            "SELECT content FROM items WHERE collection = ? AND id = ?", (collection_id, item_id)
        ).fetchone()
        if row is None:
            raise NotFound("item", f"{collection_id}/{item_id}")
        doc: Json = orjson.loads(row[0])
        return doc

    def create_item(self, item: PreparedItem) -> None:
        """Insert a new item; raise AlreadyExists, or NotFound for a missing collection."""
        self.load_items([item], on_conflict="error")

    def update_item(self, item: PreparedItem) -> None:
        """Replace an existing item; raise NotFound if absent."""
        with self._tx() as con:
            row = con.execute(
                "SELECT rid FROM items WHERE collection = ? AND id = ?", (item.collection, item.id)
            ).fetchone()
            if row is None:
                raise NotFound("item", f"{item.collection}/{item.id}")
            self._replace(con, item, row[0])

    def delete_item(self, collection_id: str, item_id: str) -> None:
        """Delete one item and its index entries, or raise NotFound."""
        with self._tx() as con:
            row = con.execute(
                "SELECT rid FROM items WHERE collection = ? AND id = ?", (collection_id, item_id)
            ).fetchone()
            if row is None:
                raise NotFound("item", f"{collection_id}/{item_id}")
            con.execute("DELETE FROM items_rtree WHERE rid IN (?, ?)", (row[0], -row[0]))
            for table, key in (("items_fts", "rowid"), ("items", "rid")):
                con.execute(f"DELETE FROM {table} WHERE {key} = ?", (row[0],))

    def _replace(self, con: sqlite3.Connection, item: PreparedItem, rid: int) -> None:
        con.execute("DELETE FROM items WHERE rid = ?", (rid,))
        con.execute("DELETE FROM items_rtree WHERE rid IN (?, ?)", (rid, -rid))
        con.execute("DELETE FROM items_fts WHERE rowid = ?", (rid,))
        self._insert(con, [(rid, item)])

    @staticmethod
    def _insert(con: sqlite3.Connection, rows: list[tuple[int, PreparedItem]]) -> None:
        con.executemany(_INSERT_ITEM, [_row_values(item, rid) for rid, item in rows])
        con.executemany(
            "INSERT INTO items_rtree (rid, minx, maxx, miny, maxy) VALUES (?, ?, ?, ?, ?)",
            [  # a second box (across the antimeridian) goes under the negated rid
                (rid * sign, minx, maxx, miny, maxy)
                for rid, item in rows
                for sign, (minx, miny, maxx, maxy) in zip((1, -1), item.boxes, strict=False)
            ],
        )
        con.executemany(
            "INSERT INTO items_fts (rowid, title, description, keywords) VALUES (?, ?, ?, ?)",
            [(rid, *item.text) for rid, item in rows if any(item.text)],
        )

    def load_items(
        self, items: Iterable[PreparedItem], *, on_conflict: OnConflict = "error"
    ) -> LoadReport:
        """Write many items in ONE transaction: all of them, or none if one conflicts."""
        batch = list(items)
        report = LoadReport()
        with self._tx() as con:
            known = {r[0] for r in con.execute("SELECT id FROM collections")}
            for item in batch:
                if item.collection not in known:
                    raise NotFound("collection", item.collection)
            existing = self._existing(con, batch)
            next_rid = (con.execute("SELECT max(rid) FROM items").fetchone()[0] or 0) + 1
            fresh: list[tuple[int, PreparedItem]] = []
            seen: set[tuple[str, str]] = set()
            for item in batch:
                key = (item.collection, item.id)
                if key in existing or key in seen:
                    if on_conflict == "error":
                        raise AlreadyExists("item", f"{item.collection}/{item.id}")
                    if on_conflict == "skip":
                        report.skipped += 1
                        continue
                    if key in existing:
                        self._replace(con, item, existing[key])
                        report.loaded += 1
                        continue
                seen.add(key)
                fresh.append((next_rid, item))
                next_rid += 1
            self._insert(con, fresh)
            report.loaded += len(fresh)
        return report

    @staticmethod
    def _existing(con: sqlite3.Connection, batch: list[PreparedItem]) -> dict[tuple[str, str], int]:
        found: dict[tuple[str, str], int] = {}
        by_collection: dict[str, list[str]] = {}
        for item in batch:
            by_collection.setdefault(item.collection, []).append(item.id)
        for collection, ids in by_collection.items():
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for rid, ident in con.execute(
                    f"SELECT rid, id FROM items WHERE collection = ? AND id IN ({marks})",
                    (collection, *chunk),
                ):
                    found[(collection, ident)] = rid
        return found

    def count_items(self, collection_id: str | None = None) -> int:
        """Number of items in one collection or in the whole store."""
        if collection_id is None:
            return int(self._con.execute("SELECT count(*) FROM items").fetchone()[0])
        sql = "SELECT count(*) FROM items WHERE collection = ?"
        return int(self._con.execute(sql, (collection_id,)).fetchone()[0])

    # -- search -----------------------------------------------------------------------
    @staticmethod
    def _spatial_clause(
        query: SearchQuery, *, scan_in_order: bool, coarse: bool
    ) -> tuple[str, list[Any]] | None:
        """The bbox/intersects term: R*Tree candidates, then (unless coarse) the exact test."""
        area = region(query.bbox, query.intersects)
        if area is None:
            return None
        boxes = side_boxes(area)
        exact = "tp_spatial('intersects', i.geometry, ?)"
        exact_params: list[Any] = [area.wkb]
        if query.intersects is None:
            # A bbox query: an item whose box lies inside it intersects it for sure; only
            # items across its edge need the exact (Python) geometry test.
            inside = " OR ".join(
                ["(c.minx >= ? AND c.maxx <= ? AND c.miny >= ? AND c.maxy <= ?)"] * len(boxes)
            )
            exact = (
                f"(EXISTS (SELECT 1 FROM items_rtree c WHERE c.rid = i.rid AND ({inside}))"
                f" OR {exact})"
            )
            exact_params = [*(v for b in boxes for v in (b[0], b[2], b[1], b[3])), area.wkb]
        candidates, candidate_params = rtree_candidates(boxes)
        if coarse:
            exact, exact_params = "1", []
        clause = f"{'+' if scan_in_order else ''}i.rid IN ({candidates}) AND {exact}"
        return clause, [*candidate_params, *exact_params]

    def _where(
        self, query: SearchQuery, *, scan_in_order: bool = False, coarse: bool = False
    ) -> tuple[str, list[Any]]:
        """SQL condition and parameters for ``query``.

        ``coarse``: only the indexed terms (collections, ids, boxes, dates), a superset of the
        matches that is cheap to count, for estimates.

        ``scan_in_order``: keep the spatial term from driving the plan (unary ``+``), so SQLite
        walks the sort index and stops at the page size: faster when the region holds many
        items, as search() decides from the R*Tree count.
        """
        clauses: list[str] = []
        params: list[Any] = []

        def add(clause: str, *values: Any) -> None:
            clauses.append(clause)
            params.extend(values)

        if query.collections is not None:
            marks = ",".join("?" * len(query.collections))
            add(f"i.collection IN ({marks})", *query.collections)
        if query.hidden_collections:
            marks = ",".join("?" * len(query.hidden_collections))
            add(f"i.collection NOT IN ({marks})", *sorted(query.hidden_collections))
        if query.ids is not None:
            add(f"i.id IN ({','.join('?' * len(query.ids))})", *query.ids)
        spatial = self._spatial_clause(query, scan_in_order=scan_in_order, coarse=coarse)
        if spatial is not None:
            add(spatial[0], *spatial[1])
        if query.datetime is not None:
            if query.datetime.start is not None:
                add("i.end >= ?", query.datetime.start)
            if query.datetime.end is not None:
                add("i.start <= ?", query.datetime.end)
        if coarse:
            return (" AND ".join(clauses) or "1"), params
        if query.q:
            add(
                "i.rid IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)", fts_query(query.q)
            )
        if query.filter is not None:
            translator = SqliteFilter()
            add(translator.where(query.filter), *translator.params)
        return (" AND ".join(clauses) or "1"), params

    def _region_is_large(self, query: SearchQuery) -> bool:
        """Whether the search region holds so many items that scanning in sort order is cheaper.

        Only for the default (datetime) order without a datetime range, which would otherwise
        lead the plan; the R*Tree count is cheap (C, no row reads).
        """
        area = region(query.bbox, query.intersects)
        if area is None or query.sortby or query.datetime is not None or query.q or query.ids:
            return False
        candidates, params = rtree_candidates(side_boxes(area))
        (count,) = self._con.execute(f"SELECT count(*) FROM ({candidates})", params).fetchone()
        return bool(count > LARGE_REGION)

    @staticmethod
    def _order(sortby: tuple[SortKey, ...]) -> list[tuple[str, str]]:
        """Flatten sort keys into (SQL expression, asc|desc), nulls last, rid as tie-breaker."""
        keys: list[tuple[str, str]] = []
        for key in sortby or DEFAULT_SORT:
            expr = property_sql(key.field)
            if expr not in NOT_NULL_COLUMNS:
                keys.append((f"({expr} IS NULL)", "asc"))
            keys.append((expr, key.direction))
        keys.append(("i.rid", (sortby or DEFAULT_SORT)[0].direction))
        return keys

    @staticmethod
    def _keyset(keys: list[tuple[str, str]], values: list[Any]) -> tuple[str, list[Any]]:
        """Rows strictly after ``values`` in the order ``keys`` (lexicographic)."""
        ors: list[str] = []
        params: list[Any] = []
        for j, (expr, direction) in enumerate(keys):
            parts = [f"{keys[m][0]} IS ?" for m in range(j)]
            parts.append(f"{expr} {'>' if direction == 'asc' else '<'} ?")
            params.extend(values[: j + 1])
            ors.append("(" + " AND ".join(parts) + ")")
        return "(" + " OR ".join(ors) + ")", params

    def search(self, query: SearchQuery) -> Page:
        """Return one page of items matching ``query`` with keyset paging tokens."""
        where, params = self._where(query, scan_in_order=self._region_is_large(query))
        matched = self._count(query, where, params)
        keys = self._order(query.sortby)
        direction = "next"
        if query.token:
            direction, boundary = paging.decode(query.token, width=len(keys))
            if direction == "prev":
                keys = [(e, "desc" if d == "asc" else "asc") for e, d in keys]
            keyset, keyset_params = self._keyset(keys, boundary)
            where, params = f"{where} AND {keyset}", [*params, *keyset_params]
        order = ", ".join(f"{e} {d.upper()}" for e, d in keys)
        columns = ", ".join(e for e, _ in keys)
        # Two steps: sort only row ids and keys (small rows), then read the page's documents;
        # sorting whole rows would drag every candidate's JSON through the sorter.
        sql = f"SELECT i.rid, {columns} FROM items i WHERE {where} ORDER BY {order} LIMIT ?"
        con = self._con
        rows = con.execute(sql, (*params, query.limit + 1)).fetchall()
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        if direction == "prev":
            rows.reverse()
        rids = [r[0] for r in rows]
        marks = ",".join("?" * len(rids))
        docs = dict(con.execute(f"SELECT rid, content FROM items WHERE rid IN ({marks})", rids))
        page = Page(items=[apply_fields(orjson.loads(docs[rid]), query.fields) for rid in rids])
        if matched is not None:
            page.matched, page.matched_exact = matched
        if rows:
            has_next = more if direction == "next" else True
            has_prev = (query.token is not None) if direction == "next" else more
            page.next_token = paging.encode("next", list(rows[-1][1:])) if has_next else None
            page.prev_token = paging.encode("prev", list(rows[0][1:])) if has_prev else None
        return page

    def _count(self, query: SearchQuery, where: str, params: list[Any]) -> tuple[int, bool] | None:
        """Matches of ``query``: exact up to its count limit, beyond it the count of the coarse
        (indexed) terms, an upper bound that reads no document."""
        if query.count_limit is None:
            return None
        sql = f"SELECT count(*) FROM (SELECT 1 FROM items i WHERE {where} LIMIT ?)"
        (exact,) = self._con.execute(sql, (*params, query.count_limit + 1)).fetchone()
        if exact <= query.count_limit:
            return int(exact), True
        coarse, coarse_params = self._where(query, coarse=True)
        sql = f"SELECT count(*) FROM items i WHERE {coarse}"
        (upper,) = self._con.execute(sql, coarse_params).fetchone()
        return max(int(upper), int(exact)), False

    # -- aggregation ------------------------------------------------------------------
    def aggregate(
        self, query: SearchQuery, names: list[str], *, interval: str = "month"
    ) -> list[Aggregation]:
        """Compute the named aggregations over the items matching ``query`` in SQL."""
        where, params = self._where(query)
        out: list[Aggregation] = []
        con = self._con
        for name in names:
            if name not in AGGREGATIONS:
                raise InvalidInput("aggregations", f"unknown aggregation {name!r}")
            if name in ("total_count", "datetime_min", "datetime_max"):
                expr = {"total_count": "count(*)", "datetime_min": "min(i.start)",
                        "datetime_max": "max(i.end)"}[name]  # fmt: skip
                value = con.execute(f"SELECT {expr} FROM items i WHERE {where}", params).fetchone()
                out.append(Aggregation(name, AGGREGATIONS[name], value=value[0]))
                continue
            out.append(self._frequency(name, where, params, interval))
        return out

    def _frequency(self, name: str, where: str, params: list[Any], interval: str) -> Aggregation:
        source = "items i"
        if name == "datetime_frequency":
            if interval not in DATETIME_INTERVALS:
                raise InvalidInput("interval", f"{interval!r} is not one of year, month, day")
            key = f"substr(i.start, 1, {DATETIME_INTERVALS[interval]})"
        elif name == "cloud_cover_frequency":
            key = "min(CAST(i.cloud_cover / 10 AS INTEGER), 9) * 10"
        elif name == "instruments_frequency":
            source = "items i, json_each(i.content, '$.properties.instruments') j"
            key = "j.value"
        else:
            key = property_sql(name.removesuffix("_frequency"))
        if name in CASE_FREE_AGGREGATIONS:
            key = f"lower({key})"
        sql = (
            f"SELECT {key} AS k, count(*) FROM {source} WHERE {where} AND {key} IS NOT NULL "
            "GROUP BY k ORDER BY k"
        )
        buckets = []
        for bucket_key, count in self._con.execute(sql, params):
            upper = str(int(bucket_key) + 10) if name == "cloud_cover_frequency" else None
            buckets.append(Bucket(key=str(bucket_key), frequency=count, to=upper))
        return Aggregation(name, "frequency_distribution", buckets=tuple(buckets))
