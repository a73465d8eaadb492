"""Mosaic tiles of a catalogue search: ``/maps/mosaic/tiles/{z}/{x}/{y}.png?collections=…``.

The query string is a STAC item search (collections, bbox, datetime, filter, q) plus
``preset``; a month of Sentinel-2 with ``filter=eo:cloud_cover < 20`` becomes one layer, the
least cloudy item on top wherever items overlap.
"""

from __future__ import annotations

from dataclasses import replace

import morecantile
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from rasterio.crs import CRS

from terrapole.catalog.antimeridian import BBox, intersect_bboxes
from terrapole.errors import InvalidInput
from terrapole.maps.mosaic import Window, blank, compose, find_items, render
from terrapole.maps.presets import named, resolve
from terrapole.stac_api.client import Services
from terrapole.stac_api.requests import search_query

WEB_MERCATOR = morecantile.tms.get("WebMercatorQuad")
SEARCH_KEYS = ("collections", "ids", "bbox", "datetime", "filter", "filter-lang", "q")


def router(services: Services) -> APIRouter:
    """The mosaic tile route."""
    api = APIRouter(tags=["maps"])

    @api.get(
        "/maps/mosaic/tiles/{z}/{x}/{y}.png",
        summary="XYZ tile of the items a search matches, least cloudy on top",
    )
    def mosaic_tile(
        z: int, x: int, y: int, request: Request, preset: str = Query("truecolor")
    ) -> Response:
        if not 0 <= z <= 24 or not (0 <= x < 2**z and 0 <= y < 2**z):
            raise InvalidInput("tile", f"{z}/{x}/{y} is not a WebMercatorQuad tile")
        named(preset)  # an unknown preset is refused even where no item would use it
        params = {k: v for k, v in request.query_params.items() if k in SEARCH_KEYS}
        if "filter-lang" in params:
            params["filter_lang"] = params.pop("filter-lang")
        if "bbox" in params:  # the query string's "minx,miny,maxx,maxy"
            params["bbox"] = params["bbox"].split(",")  # type: ignore[assignment]
        if not params.get("collections"):
            raise InvalidInput("collections", "a mosaic needs at least one collection")
        query = search_query(params, max_limit=1, hidden=services.hidden(request))
        bounds = WEB_MERCATOR.xy_bounds(morecantile.Tile(x, y, z))
        window = Window(tuple(bounds), CRS.from_epsg(3857), 256, 256)  # type: ignore[arg-type]
        lon_lat = WEB_MERCATOR.bounds(morecantile.Tile(x, y, z))
        tile: BBox = (lon_lat.left, lon_lat.bottom, lon_lat.right, lon_lat.top)
        # the search's bbox may cross 180°: what the tile shares with it
        tile_box = tile if query.bbox is None else intersect_bboxes(query.bbox, tile)
        if tile_box is None or tile_box[1] >= tile_box[3] or tile_box[0] == tile_box[2]:
            return Response(blank(window, "PNG", True), media_type="image/png")
        items = find_items(services.store, replace(query, bbox=tile_box))
        image = compose(items, preset, window, services.storage)
        if image is None:
            return Response(blank(window, "PNG", True), media_type="image/png")
        body = render(image, resolve(preset, items[0]), "PNG", True)
        return Response(body, media_type="image/png")

    return api
