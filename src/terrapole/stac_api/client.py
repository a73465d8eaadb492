"""stac-fastapi clients over a catalogue Store: core, filter, aggregation, transactions."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

import attr
import orjson
from fastapi import Request
from stac_fastapi.extensions.aggregation.client import BaseAggregationClient
from stac_fastapi.extensions.bulk_transactions import BaseBulkTransactionsClient
from stac_fastapi.extensions.filter.client import BaseFiltersClient
from stac_fastapi.extensions.transaction.client import BaseTransactionsClient
from stac_fastapi.types.core import BaseCoreClient
from stac_fastapi.types.requests import get_base_url
from starlette.responses import Response

from terrapole.catalog import cql2
from terrapole.catalog.documents import parse_bbox
from terrapole.catalog.model import CollectionQuery, Page, SearchQuery
from terrapole.catalog.properties import check_known, compared_properties
from terrapole.catalog.query import free_text, search_query
from terrapole.catalog.stac_query import NUMBERS, query_filter
from terrapole.catalog.store import AGGREGATIONS
from terrapole.catalog.timeutil import parse_interval
from terrapole.errors import InvalidInput
from terrapole.jsontypes import Json
from terrapole.stac_api.links import collection_links, item_links, page_link
from terrapole.web.services import WebServices

# Parameters each search route reads; any other is refused by name, never ignored.
SEARCH_GET = frozenset(
    {"collections", "ids", "bbox", "intersects", "datetime", "limit", "query", "filter",
     "filter-lang", "filter_lang", "filter-crs", "sortby", "fields", "q", "token"}
)  # fmt: skip
ITEMS_GET = SEARCH_GET - {"collections", "ids", "intersects"}
# GET /collections: the collection-search parameters we answer (and those pystac-client, eodag
# and STAC Browser send); any other is refused, as on search.
COLLECTIONS_GET = frozenset({"limit", "offset", "bbox", "datetime", "q"})


def refuse_unknown(names: Iterable[str], known: frozenset[str]) -> None:
    """Raise InvalidInput naming the first parameter the route does not know."""
    for name in names:
        if name not in known:
            raise InvalidInput(
                name, f"is not a search parameter here; known: {', '.join(sorted(known))}"
            )


def geojson(doc: Json, status_code: int = 200) -> Response:
    """Serialise a response with orjson, skipping FastAPI's generic (slow) encoder."""
    return Response(orjson.dumps(doc), status_code=status_code, media_type="application/geo+json")


def _dump(model: Any) -> Json:
    if isinstance(model, dict):
        return model
    data: Json = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return data


def _numbers_read(doc: Json) -> Json:
    """An item whose numeric properties came as numeric strings (``"eo:cloud_cover": "3.14"``,
    as stac-api-validator sends) with those read as numbers; other values are left to the
    item checks, which refuse what is not a number."""
    props = doc.get("properties")
    if not isinstance(props, dict):
        return doc
    fixed = dict(props)
    for name in NUMBERS & props.keys():
        value = props[name]
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                continue
            if math.isfinite(number):
                fixed[name] = int(number) if number.is_integer() and "." not in value else number
    return {**doc, "properties": fixed}


def _patch_body(patch: Any) -> Json:
    if isinstance(patch, list):
        raise InvalidInput("patch", "JSON Patch (RFC 6902) is not supported; send a merge patch")
    return _dump(patch)


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply an RFC 7396 JSON merge patch: null deletes, objects merge, the rest replaces."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def _filter_params(kwargs: dict[str, Any], request: Request) -> dict[str, Any]:
    """The GET parameters with ``filter-lang`` (or ``filter_lang``) and ``filter-crs`` read
    from the query string, whichever spelling came."""
    query = request.query_params
    lang = query.get("filter-lang") or query.get("filter_lang")
    if lang is not None:
        kwargs["filter_lang"] = lang
    kwargs["filter_crs"] = query.get("filter-crs")
    return kwargs


COLLECTIONS_PAGE = 1000  # GET /collections without a limit: every collection, for most servers


@attr.s
class CoreClient(BaseCoreClient):
    """Core STAC API, item search, features and collection search over a Store."""

    services: WebServices = attr.ib(default=None)

    def _page(self, page: Page, request: Request, body: Json | None) -> Json:
        base = get_base_url(request)
        url = str(request.url).split("?")[0]
        links: list[Json] = [
            {"rel": "self", "type": "application/geo+json", "href": str(request.url)},
            {"rel": "root", "type": "application/json", "href": base},
        ]
        query = dict(request.query_params)
        for rel, token in (("next", page.next_token), ("prev", page.prev_token)):
            if token:
                links.append(page_link(rel, token, url=url, query=query, body=body))
        doc: Json = {
            "type": "FeatureCollection",
            "features": [item_links(item, base) if "id" in item else item for item in page.items],
            "links": links,
            "numberReturned": len(page.items),
        }
        if page.matched is not None:
            doc["numberMatched"] = page.matched
            doc["numberMatchedExact"] = page.matched_exact
        return doc

    def _search(self, params: dict[str, Any], request: Request, body: Json | None) -> Response:
        if body is None and "limit" not in request.query_params:  # stac-fastapi's 10 (GET)
            params.pop("limit", None)
        hidden = self.services.hidden(request)
        settings = self.services.settings
        query = search_query(params, max_limit=settings.max_limit, hidden=hidden,
                             default_limit=settings.default_limit,
                             count_limit=settings.count_exact_limit)  # fmt: skip
        queried = frozenset(compared_properties(query_filter(params.get("query"))))
        check_known(self.services.store, query, from_query=queried)
        return geojson(self._page(self.services.store.search(query), request, body))

    def post_search(self, search_request: Any, **kwargs: Any) -> Response:
        """POST /search."""
        if "fields" in search_request.model_fields_set and search_request.fields is None:
            raise InvalidInput("fields", "must be an object with include/exclude arrays")
        fields = type(search_request).model_fields
        known = frozenset(f.alias or name for name, f in fields.items())
        refuse_unknown(search_request.model_extra or {}, known)
        body = search_request.model_dump(mode="json", by_alias=True, exclude_none=True)
        params = search_request.model_dump(exclude_none=True)
        if "limit" not in search_request.model_fields_set:  # stac-fastapi's 10, not the client's
            body.pop("limit", None)
            params.pop("limit", None)
        params["fields"] = getattr(search_request, "fields", None)
        params["intersects"] = body.get("intersects")
        params["datetime"] = body.get("datetime")
        params["filter_expr"] = body.get("filter")
        return self._search(params, kwargs["request"], body)

    def get_search(self, **kwargs: Any) -> Response:
        """GET /search."""
        request = kwargs.pop("request")
        refuse_unknown(request.query_params.keys(), SEARCH_GET)
        return self._search(_filter_params(kwargs, request), request, None)

    def item_collection(self, collection_id: str, **kwargs: Any) -> Response:
        """GET /collections/{id}/items (OGC API Features)."""
        request = kwargs.pop("request")
        refuse_unknown(request.query_params.keys(), ITEMS_GET)
        hidden = self.services.hidden(request)
        self.services.store.get_collection(collection_id, hidden=hidden)
        kwargs["collections"] = [collection_id]
        return self._search(_filter_params(kwargs, request), request, None)

    def get_item(self, item_id: str, collection_id: str, **kwargs: Any) -> Response:
        """GET /collections/{cid}/items/{iid}."""
        request = kwargs["request"]
        item = self.services.store.get_item(
            collection_id, item_id, hidden=self.services.hidden(request)
        )
        return geojson(item_links(item, get_base_url(request)))

    def get_collection(self, collection_id: str, **kwargs: Any) -> Json:
        """GET /collections/{id}."""
        request = kwargs["request"]
        doc = self.services.store.get_collection(
            collection_id, hidden=self.services.hidden(request)
        )
        return collection_links(doc, get_base_url(request))

    def all_collections(self, **kwargs: Any) -> Json:
        """GET /collections, with the collection-search parameters."""
        request = kwargs["request"]
        refuse_unknown(request.query_params.keys(), COLLECTIONS_GET)
        given = "limit" in request.query_params  # not the model's 10: clients read page one
        limit = int(kwargs.get("limit") or 0) if given else COLLECTIONS_PAGE
        offset = int(kwargs.get("offset") or 0)
        if limit < 1 or offset < 0:
            raise InvalidInput("limit", "limit must be positive and offset not negative")
        datetime = kwargs.get("datetime")
        query = CollectionQuery(
            bbox=parse_bbox(kwargs["bbox"]) if kwargs.get("bbox") else None,
            datetime=parse_interval(datetime) if isinstance(datetime, str) else None,
            q=free_text(kwargs.get("q")),
            limit=min(limit, self.services.settings.max_limit),
            offset=offset,
            hidden_collections=self.services.hidden(request),
        )
        docs, matched = self.services.store.list_collections(query)
        base = get_base_url(request)
        links: list[Json] = [
            {"rel": "root", "type": "application/json", "href": base},
            {"rel": "self", "type": "application/json", "href": str(request.url)},
        ]
        if offset + limit < matched:
            params = {**dict(request.query_params), "offset": str(offset + limit)}
            href = f"{base}collections?{urlencode(params)}"
            links.append({"rel": "next", "type": "application/json", "href": href})
        return {
            "collections": [collection_links(d, base) for d in docs],
            "links": links,
            "numberMatched": matched,
            "numberReturned": len(docs),
        }


@attr.s
class FiltersClient(BaseFiltersClient):
    """Queryables for the filter extension."""

    services: WebServices = attr.ib(default=None)

    def get_queryables(self, collection_id: str | None = None, **kwargs: Any) -> Json:
        """GET /queryables and /collections/{id}/queryables."""
        request = kwargs["request"]
        if collection_id is not None:
            self.services.store.get_collection(collection_id, hidden=self.services.hidden(request))
        return cql2.queryables(get_base_url(request).rstrip("/"), collection_id)


@attr.s
class AggregationClient(BaseAggregationClient):
    """Counts and histograms for search facets (aggregation extension)."""

    services: WebServices = attr.ib(default=None)

    def _links(self, request: Request) -> list[Json]:
        base = get_base_url(request)
        return [
            {"rel": "root", "type": "application/json", "href": base},
            {"rel": "self", "type": "application/json", "href": str(request.url)},
        ]

    def _collection(self, request: Request) -> str | None:
        """The collection of ``/collections/{id}/aggregate`` (NotFound unless visible)."""
        collection_id: str | None = request.path_params.get("collection_id")
        if collection_id is not None:
            self.services.store.get_collection(collection_id, hidden=self.services.hidden(request))
        return collection_id

    def get_aggregations(self, collection_id: str | None = None, **kwargs: Any) -> Json:
        """GET /aggregations: what may be asked."""
        self._collection(kwargs["request"])
        return {
            "type": "AggregationCollection",
            "aggregations": [{"name": n, "data_type": t} for n, t in AGGREGATIONS.items()],
            "links": self._links(kwargs["request"]),
        }

    def aggregate(self, search: Any = None, **kwargs: Any) -> Json:
        """GET/POST /aggregate over the same parameters as a search."""
        request = kwargs.pop("request")
        if search is not None:
            body = search.model_dump(mode="json", by_alias=True, exclude_none=True)
            params = search.model_dump(exclude_none=True)
            params["intersects"], params["datetime"] = body.get("intersects"), body.get("datetime")
            params["filter_expr"] = body.get("filter")
        else:
            params = dict(kwargs)
        if (collection_id := self._collection(request)) is not None:
            params["collections"] = [collection_id]  # scoped to its collection, whatever asked
        params.pop("collection_id", None)
        names = params.pop("aggregations", None) or list(AGGREGATIONS)
        interval = str(params.pop("interval", None) or "month")
        query: SearchQuery = search_query(params, max_limit=1, hidden=self.services.hidden(request))
        results = self.services.store.aggregate(query, list(names), interval=interval)
        out = []
        for agg in results:
            entry: Json = {"name": agg.name, "data_type": agg.data_type}
            if agg.buckets is not None:
                entry["buckets"] = [
                    {"key": b.key, "data_type": b.data_type, "frequency": b.frequency}
                    | ({"from": float(b.key), "to": float(b.to)} if b.to is not None else {})
                    for b in agg.buckets
                ]
            else:
                entry["value"] = agg.value
            out.append(entry)
        return {"type": "AggregationCollection", "aggregations": out, "links": self._links(request)}


@attr.s
class TransactionsClient(BaseTransactionsClient):
    """Create/update/delete items and collections; every call needs an admin token."""

    services: WebServices = attr.ib(default=None)

    def create_item(self, collection_id: str, item: Any, **kwargs: Any) -> Response | None:
        """POST /collections/{id}/items (a Feature or a FeatureCollection)."""
        request = kwargs["request"]
        self.services.admin(request)
        doc = _dump(item)
        if doc.get("type") == "FeatureCollection":
            features = [_numbers_read(f) for f in doc["features"]]
            prepared = [self.services.prepare(f, collection_id) for f in features]
            self.services.store.load_items(prepared, on_conflict="error")
            return None
        prepared_one = self.services.prepare(_numbers_read(doc), collection_id)
        self.services.store.create_item(prepared_one)
        return geojson(item_links(dict(prepared_one.doc), get_base_url(request)), 201)

    def update_item(self, collection_id: str, item_id: str, item: Any, **kwargs: Any) -> Response:
        """PUT /collections/{cid}/items/{iid}."""
        request = kwargs["request"]
        self.services.admin(request)
        doc = _dump(item)
        if doc.get("id") != item_id:
            raise InvalidInput("item id", f"body id {doc.get('id')!r} differs from URL {item_id!r}")
        prepared = self.services.prepare(_numbers_read(doc), collection_id)
        self.services.store.update_item(prepared)
        return geojson(item_links(dict(prepared.doc), get_base_url(request)))

    def patch_item(self, collection_id: str, item_id: str, patch: Any, **kwargs: Any) -> Response:
        """PATCH /collections/{cid}/items/{iid} with a JSON merge patch (RFC 7396)."""
        request = kwargs["request"]
        self.services.admin(request)
        current = self.services.store.get_item(collection_id, item_id)
        merged = merge_patch(current, _patch_body(patch))
        prepared = self.services.prepare(_numbers_read(merged), collection_id)
        if prepared.id != item_id:
            raise InvalidInput("item id", "a patch may not change the id")
        self.services.store.update_item(prepared)
        return geojson(item_links(dict(prepared.doc), get_base_url(request)))

    def delete_item(self, item_id: str, collection_id: str, **kwargs: Any) -> Response:
        """DELETE /collections/{cid}/items/{iid}."""
        self.services.admin(kwargs["request"])
        self.services.store.delete_item(collection_id, item_id)
        return Response(status_code=204)

    def create_collection(self, collection: Any, **kwargs: Any) -> Json:
        """POST /collections."""
        request = kwargs["request"]
        self.services.admin(request)
        doc = _dump(collection)
        self.services.store.create_collection(doc)
        return collection_links(
            self.services.store.get_collection(doc["id"]), get_base_url(request)
        )

    def update_collection(self, collection_id: str, collection: Any, **kwargs: Any) -> Json:
        """PUT /collections/{id}."""
        request = kwargs["request"]
        self.services.admin(request)
        doc = _dump(collection)
        if doc.get("id") != collection_id:
            raise InvalidInput("collection id", f"body id differs from URL {collection_id!r}")
        self.services.store.update_collection(doc)
        return collection_links(
            self.services.store.get_collection(doc["id"]), get_base_url(request)
        )

    def patch_collection(self, collection_id: str, patch: Any, **kwargs: Any) -> Json:
        """PATCH /collections/{id} with a JSON merge patch (RFC 7396)."""
        request = kwargs["request"]
        self.services.admin(request)
        merged = merge_patch(self.services.store.get_collection(collection_id), _patch_body(patch))
        if merged.get("id") != collection_id:
            raise InvalidInput("collection id", "a patch may not change the id")
        self.services.store.update_collection(merged)
        return collection_links(
            self.services.store.get_collection(collection_id), get_base_url(request)
        )

    def delete_collection(self, collection_id: str, **kwargs: Any) -> Response:
        """DELETE /collections/{id}: the collection and all its items."""
        self.services.admin(kwargs["request"])
        self.services.store.delete_collection(collection_id)
        return Response(status_code=204)


@attr.s
class BulkTransactionsClient(BaseBulkTransactionsClient):
    """POST /collections/{id}/bulk_items: all items in one transaction, or none."""

    services: WebServices = attr.ib(default=None)

    def bulk_item_insert(self, items: Any, chunk_size: int | None = None, **kwargs: Any) -> Json:
        """Insert (or upsert, with method=upsert) every item, atomically; the extension's
        BulkTransaction counts (all or nothing, so never an error next to a success)."""
        self.services.admin(kwargs["request"])
        request = kwargs["request"]
        collection_id = request.path_params["collection_id"]
        docs = list(items.items.values())
        if len(docs) > self.services.settings.max_bulk_items:
            raise InvalidInput("items", f"at most {self.services.settings.max_bulk_items} a call")
        prepared = [self.services.prepare(_dump(d), collection_id) for d in docs]
        mode = "upsert" if str(getattr(items, "method", "insert")).endswith("upsert") else "error"
        report = self.services.store.load_items(prepared, on_conflict=mode)  # type: ignore[arg-type]
        return {"received": len(docs), "success": report.loaded, "skipped": report.skipped,
                "errors": []}  # fmt: skip
