"""Assemble the STAC API (stac-fastapi + extensions) over the terrapole clients."""

from __future__ import annotations

import re
import warnings
from typing import Any, Literal

from brotli_asgi import BrotliMiddleware
from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field, field_validator, model_validator
from stac_fastapi.api.app import StacApi
from stac_fastapi.api.middleware import ProxyHeaderMiddleware
from stac_fastapi.api.models import (
    ItemCollectionUri,
    create_get_request_model,
    create_post_request_model,
    create_request_model,
)
from stac_fastapi.extensions import (
    AggregationExtension,
    BulkTransactionExtension,
    CollectionSearchExtension,
    FieldsExtension,
    FreeTextExtension,
    ItemCollectionFilterExtension,
    OffsetPaginationExtension,
    QueryExtension,
    SearchFilterExtension,
    TokenPaginationExtension,
)
from stac_fastapi.extensions.aggregation.request import (
    AggregationExtensionGetRequest,
    AggregationExtensionPostRequest,
)
from stac_fastapi.extensions.fields import FieldsConformanceClasses
from stac_fastapi.extensions.filter.request import FilterExtensionPostRequest
from stac_fastapi.extensions.free_text import FreeTextConformanceClasses
from stac_fastapi.extensions.sort import ItemCollectionSortExtension, SearchSortExtension
from stac_fastapi.types.config import ApiSettings
from stac_fastapi.types.extension import ApiExtension
from stac_fastapi.types.search import APIRequest, BaseSearchPostRequest
from starlette.middleware import Middleware

from terrapole import __version__
from terrapole.catalog import cql2, stac_query
from terrapole.stac_api.client import (
    AggregationClient,
    BulkTransactionsClient,
    CoreClient,
    FiltersClient,
    TransactionsClient,
)
from terrapole.stac_api.transactions import LinkFreeTransactionExtension
from terrapole.web.services import WebServices

FEATURES_CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
]
# v1.0.0 and v1.1.0 of the sort extension: clients (pystac-client) look for either.
SORT_CONFORMANCE = [
    "https://api.stacspec.org/v1.0.0/item-search#sort",
    "https://api.stacspec.org/v1.1.0/item-search#sort",
]
FILTER_CONFORMANCE = [
    "https://api.stacspec.org/v1.0.0-rc.2/item-search#filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    *cql2.CONFORMANCE,
]


class TextOrJsonFilterPost(FilterExtensionPostRequest):
    """The filter of a POST /search body in either encoding: CQL2 JSON (an object) or CQL2
    text (a string, ``"filter-lang": "cql2-text"``, what pystac-client sends by default). Without
    ``filter-lang`` an object is read as JSON and a string as text."""

    filter_expr: dict[str, Any] | str | None = Field(None, alias="filter")  # type: ignore[assignment]
    filter_lang: Literal["cql2-json", "cql2-text"] | None = Field(  # type: ignore[assignment]
        None, alias="filter-lang"
    )


def _search_filter(client: FiltersClient) -> SearchFilterExtension:
    """The search filter extension, its POST body read by :class:`TextOrJsonFilterPost`
    (stac-fastapi recognises the extension by its class name, so it is not subclassed)."""
    extension = SearchFilterExtension(client=client, conformance_classes=FILTER_CONFORMANCE)
    extension.POST = TextOrJsonFilterPost
    return extension


def _extensions(services: WebServices) -> dict[str, list[ApiExtension]]:
    filters = FiltersClient(services=services)
    search: list[ApiExtension] = [
        _search_filter(filters),
        SearchSortExtension(conformance_classes=SORT_CONFORMANCE),
        FieldsExtension(),
        FreeTextExtension(),
        TokenPaginationExtension(),
        QueryExtension(conformance_classes=[stac_query.CONFORMANCE[0]]),
    ]
    items: list[ApiExtension] = [
        ItemCollectionFilterExtension(client=filters, conformance_classes=FILTER_CONFORMANCE),
        ItemCollectionSortExtension(
            conformance_classes=[
                c.replace("item-search", "ogcapi-features") for c in SORT_CONFORMANCE
            ]
        ),
        FieldsExtension(conformance_classes=[FieldsConformanceClasses.ITEMS]),
        FreeTextExtension(conformance_classes=[FreeTextConformanceClasses.ITEMS]),
        TokenPaginationExtension(),
        QueryExtension(conformance_classes=[stac_query.CONFORMANCE[1]]),
    ]
    return {"search": search, "items": items}


def _a_json_object(value: Any) -> Any:
    # stac-pydantic's own validators assume a dict and crash (500) on [] or "x".
    if not isinstance(value, dict):
        raise ValueError("the request body must be a JSON object")
    return value


class SearchPostRequest(BaseSearchPostRequest):
    """POST /search body; a lone string for ``collections``/``ids`` is read as a list of one.

    stac-api-validator and some scripts send ``"collections": "name"``; accepting it costs
    nothing and matches what GET does with a single value. Unknown members are kept
    (``extra="allow"``) so that the search refuses them by name instead of ignoring them.
    """

    model_config = ConfigDict(extra="allow")

    _object = model_validator(mode="before")(_a_json_object)

    @field_validator("collections", "ids", mode="before")
    @classmethod
    def _one_to_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class AggregatePostRequest(AggregationExtensionPostRequest):
    """POST /aggregate body (a search plus the aggregations wanted)."""

    _object = model_validator(mode="before")(_a_json_object)


def create_stac_api(
    services: WebServices,
    status_codes: dict[type[Exception], int],
    *,
    prefix: str = "/stac",
    **fastapi_kwargs: Any,
) -> FastAPI:
    """Build the application with the STAC API under ``prefix``; ``create_app`` adds the rest."""
    ext = _extensions(services)
    post_model = create_post_request_model(ext["search"], base_model=SearchPostRequest)
    get_model = create_get_request_model(ext["search"])
    items_model: type[APIRequest] = create_request_model(  # type: ignore[assignment]
        model_name="ItemCollectionUri",
        base_model=ItemCollectionUri,
        extensions=ext["items"],
        request_type="GET",
    )
    collection_search = CollectionSearchExtension.from_extensions(
        [
            FreeTextExtension(conformance_classes=[FreeTextConformanceClasses.COLLECTIONS]),
            OffsetPaginationExtension(),
        ]
    )
    aggregation = AggregationExtension(client=AggregationClient(services=services))
    filter_and_text = [ext["search"][0], ext["search"][3]]
    aggregation.GET = create_request_model(  # type: ignore[assignment]
        "AggregationGetRequest",
        base_model=AggregationExtensionGetRequest,
        extensions=filter_and_text,
        request_type="GET",
    )
    aggregation.POST = create_request_model(  # type: ignore[assignment]
        "AggregationPostRequest",
        base_model=AggregatePostRequest,
        extensions=filter_and_text,
        request_type="POST",
    )
    settings = ApiSettings(
        stac_fastapi_title="terrapole STAC API",
        stac_fastapi_description="Earth-observation and in-situ data catalogue",
        stac_fastapi_version=__version__,
        stac_fastapi_landing_id="terrapole",
    )
    extensions: list[ApiExtension] = [
        *ext["search"],
        *ext["items"],
        collection_search,
        aggregation,
        LinkFreeTransactionExtension(
            client=TransactionsClient(services=services),
            settings=settings,
            response_class=JSONResponse,
        ),  # fmt: skip
        BulkTransactionExtension(client=BulkTransactionsClient(services=services)),
    ]
    client = CoreClient(
        services=services,
        extensions=extensions,
        landing_page_id=settings.stac_fastapi_landing_id,
        title=settings.stac_fastapi_title,
        description=settings.stac_fastapi_description,
    )
    client.base_conformance_classes = [*client.base_conformance_classes, *FEATURES_CONFORMANCE]
    api = StacApi(
        app=FastAPI(
            title="terrapole",
            version=__version__,
            description="Find, see, download, process, produce and publish Earth data.",
            openapi_url=f"{prefix}/api",
            docs_url=f"{prefix}/api.html",
            redoc_url=None,
            **fastapi_kwargs,
        ),
        router=APIRouter(prefix=prefix),
        settings=settings,
        extensions=extensions,
        client=client,
        response_class=JSONResponse,
        search_get_request_model=get_model,
        search_post_request_model=post_model,
        items_get_request_model=items_model,
        collections_get_request_model=collection_search.GET,
        exceptions=status_codes,
        middlewares=[
            # Compress JSON/HTML, not images or files that are compressed already.
            Middleware(BrotliMiddleware, excluded_handlers=[r"^/maps/", r"^/assets/", r"^/wms"]),
            Middleware(
                CORSMiddleware,
                allow_origins=["*"],
                allow_methods=["OPTIONS", "POST", "GET"],
                allow_headers=["Content-Type", "Authorization"],
                max_age=600,
            ),
            Middleware(ProxyHeaderMiddleware),
        ],
    )
    _tidy_openapi(api.app)
    return api.app


def _tidy_openapi(app: FastAPI) -> None:
    """Fix two upstream flaws in the generated OpenAPI document.

    stac-fastapi registers some endpoints (aggregations) as one route answering two methods,
    which FastAPI names alike (OpenAPI forbids duplicate operationIds), and mounts
    ``/collections/{collection_id}/aggregate`` with a request model that does not declare
    ``collection_id``. Each operation gets its own id and every templated path parameter
    is declared.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Duplicate Operation ID", UserWarning)
                schema = build()
            seen: set[str] = set()
            for path, operations in schema.get("paths", {}).items():
                templated = re.findall(r"{(\w+)}", path)
                for method, operation in operations.items():
                    op_id = operation.get("operationId")
                    if op_id in seen:
                        operation["operationId"] = f"{op_id}_{method}_{len(seen)}"
                    seen.add(operation.get("operationId"))
                    params = operation.setdefault("parameters", [])
                    declared = {p.get("name") for p in params if p.get("in") == "path"}
                    for name in templated:
                        if name not in declared:
                            params.append(
                                {"name": name, "in": "path", "required": True,
                                 "schema": {"type": "string"}}
                            )  # fmt: skip
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
