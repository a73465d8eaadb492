"""``GET /insitu/stations/{thing_id}/eo-series``: a catalogued raster's series at a station.

What no in-situ portal offers: beside a station's observations, the value of an EO product (NDVI
from the indices chain, snow cover, water occurrence, any raster asset) at the station's
location on every product covering it, each date linked to its item page. Thin: the station's
location comes from :mod:`terrapole.insitu`, the series from
:func:`terrapole.maps.pixel_series.pixel_series`; both read through the caller's hidden keys,
so a hidden station and a hidden collection are answered as unknown ones (404).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from shapely.geometry import shape

from terrapole.catalog.links import item_href, item_path
from terrapole.catalog.timeutil import parse_interval
from terrapole.errors import InvalidInput
from terrapole.insitu import InsituStore, Location
from terrapole.insitu.geometry import geometry_of
from terrapole.jsontypes import Json
from terrapole.maps.pixel_series import SERIES_PRESETS, pixel_series, preset_or_default
from terrapole.maps.series_formats import series_json
from terrapole.web.services import WebServices


def station_point(thing_id: int, locations: list[Location]) -> tuple[float, float]:
    """Where a station's EO series is read: its first Location, a Point as it is, another
    geometry by a point inside it (InvalidInput when the station has no Location)."""
    if not locations:
        raise InvalidInput("station", f"station {thing_id} has no location to read a series at")
    geometry = shape(geometry_of(locations[0].location, "Location.location"))
    point = geometry if geometry.geom_type == "Point" else geometry.representative_point()
    return float(point.x), float(point.y)


def router(services: WebServices, store: InsituStore | None = None) -> APIRouter:
    """The EO-series-at-a-station endpoint (``store``: the in-situ store; by default the one on
    the project database)."""
    api = APIRouter(tags=["insitu"])
    insitu = store if store is not None else InsituStore(services.access.engine)

    @api.get(
        "/insitu/stations/{thing_id}/eo-series",
        summary="A catalogued raster's values at a station's location, over a collection",
    )
    def eo_series(
        thing_id: int,
        request: Request,
        collection: Annotated[str, Query(description="collection whose items are read")],
        preset: Annotated[
            str | None,
            Query(
                description=f"index or band: {', '.join(SERIES_PRESETS)} (ndvi when no "
                "asset is named)"
            ),
        ] = None,  # fmt: skip
        asset: Annotated[str | None, Query(description="an asset key, instead of a preset")] = None,
        datetime: Annotated[
            str | None, Query(description="a period (start/end, '..' for an open end)")
        ] = None,
    ) -> Json:
        """Oldest first: item, date, value, bands, cloudy mark; each date with its item page
        (``href``) and STAC item (``item_href``); ``station`` names where it was read."""
        hidden = services.hidden(request)
        thing = insitu.get_thing(thing_id, hidden=hidden)  # NotFound when hidden or missing
        lon, lat = station_point(thing_id, insitu.locations_of(thing_id, hidden=hidden))
        found = pixel_series(
            services.store, services.storage, collection, lon, lat,
            preset=preset_or_default(preset, asset),
            asset=asset, period=parse_interval(datetime), hidden=hidden,
        )  # fmt: skip
        root = str(request.base_url).rstrip("/")
        doc = series_json(found)
        for point in doc["points"]:
            point["href"] = f"{root}/{item_path(collection, point['item'])}"
            point["item_href"] = root + item_href(collection, point["item"])
        doc["station"] = {"id": thing_id, "name": thing.name, "lon": lon, "lat": lat}
        return doc

    return api
