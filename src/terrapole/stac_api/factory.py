"""Assemble the STAC API (stac-fastapi + extensions) over the terrapole clients."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from stac_fastapi.api.app import StacApi
from stac_fastapi.api.models import (
    ItemCollectionUri,
    JSONResponse,
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
    SearchFilterExtension,
    TokenPaginationExtension,
    TransactionExtension,
)
from stac_fastapi.extensions.aggregation.request import (
    AggregationExtensionGetRequest,
    AggregationExtensionPostRequest,
)
from stac_fastapi.extensions.fields import FieldsConformanceClasses
from stac_fastapi.extensions.free_text import FreeTextConformanceClasses
from stac_fastapi.extensions.sort import ItemCollectionSortExtension, SearchSortExtension
from stac_fastapi.types.config import ApiSettings
from stac_fastapi.types.extension import ApiExtension

from terrapole import __version__
from terrapole.catalog import cql2
from terrapole.stac_api.client import (
    AggregationClient,
    BulkTransactionsClient,
    CoreClient,
    FiltersClient,
    Services,
    TransactionsClient,
)

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


def _extensions(services: Services) -> dict[str, list[ApiExtension]]:
    filters = FiltersClient(services=services)
    search: list[ApiExtension] = [
        SearchFilterExtension(client=filters, conformance_classes=FILTER_CONFORMANCE),
        SearchSortExtension(conformance_classes=SORT_CONFORMANCE),
        FieldsExtension(),
        FreeTextExtension(),
        TokenPaginationExtension(),
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
    ]
    return {"search": search, "items": items}


def create_stac_api(
    services: Services,
    status_codes: dict[type[Exception], int],
    *,
    prefix: str = "/stac",
    **fastapi_kwargs: Any,
) -> FastAPI:
    """Build the application with the STAC API under ``prefix``; ``create_app`` adds the rest."""
    ext = _extensions(services)
    post_model = create_post_request_model(ext["search"])
    get_model = create_get_request_model(ext["search"])
    items_model = create_request_model(
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
    aggregation.GET = create_request_model(
        "AggregationGetRequest",
        base_model=AggregationExtensionGetRequest,
        extensions=filter_and_text,
        request_type="GET",
    )
    aggregation.POST = create_request_model(
        "AggregationPostRequest",
        base_model=AggregationExtensionPostRequest,
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
        TransactionExtension(
            client=TransactionsClient(services=services),
            settings=settings,
            response_class=JSONResponse,
        ),  # fmt: skip
        BulkTransactionExtension(client=BulkTransactionsClient(services=services)),
    ]
    client = CoreClient(services=services, extensions=extensions)
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
    )
    return api.app
