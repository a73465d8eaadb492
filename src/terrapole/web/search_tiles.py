"""The mosaic tiles route: ``/maps/mosaic/tiles/{z}/{x}/{y}.png?collections=…&preset=…``.

The query string is a STAC item search (collections, bbox, datetime, filter, q) plus
``preset``; ``terrapole.maps.search_tiles`` draws the tile.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from terrapole.catalog.query import search_query
from terrapole.errors import InvalidInput
from terrapole.maps import search_tiles
from terrapole.maps.presets import named
from terrapole.web.services import WebServices

SEARCH_KEYS = ("collections", "ids", "bbox", "datetime", "filter", "filter-lang", "q")


def router(services: WebServices) -> APIRouter:
    """The mosaic tile route."""
    api = APIRouter(tags=["maps"])

    @api.get(
        "/maps/mosaic/tiles/{z}/{x}/{y}.png",
        summary="XYZ tile of the items a search matches, least cloudy on top",
    )
    def mosaic_tile(
        z: int, x: int, y: int, request: Request, preset: str = Query("truecolor")
    ) -> Response:
        search_tiles.check_tile(z, x, y)
        named(preset)  # an unknown preset is refused even where no item would use it
        params = {k: v for k, v in request.query_params.items() if k in SEARCH_KEYS}
        if "filter-lang" in params:
            params["filter_lang"] = params.pop("filter-lang")
        if "bbox" in params:  # the query string's "minx,miny,maxx,maxy"
            params["bbox"] = params["bbox"].split(",")  # type: ignore[assignment]
        if not params.get("collections"):
            raise InvalidInput("collections", "a mosaic needs at least one collection")
        query = search_query(params, max_limit=1, hidden=services.hidden(request))
        body = search_tiles.mosaic_tile(services.store, services.storage, query, z, x, y, preset)
        return Response(body, media_type="image/png")

    return api
