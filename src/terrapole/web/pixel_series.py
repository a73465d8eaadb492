"""``GET /maps/collections/{collection_id}/series``: a pixel's time series (maps.pixel_series)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from terrapole.catalog.timeutil import parse_interval
from terrapole.jsontypes import Json
from terrapole.maps.pixel_series import SERIES_PRESETS, pixel_series, preset_or_default
from terrapole.maps.series_formats import series_json
from terrapole.web.services import WebServices


def router(services: WebServices) -> APIRouter:
    """The pixel time-series endpoint, over the items the caller may see."""
    api = APIRouter(tags=["maps"])

    @api.get(
        "/maps/collections/{collection_id}/series",
        summary="Values of a preset (index or bands) or of an asset at a point over a "
        "collection's items",
    )
    def series(
        collection_id: str,
        request: Request,
        lon: Annotated[float, Query(description="longitude (WGS84)")],
        lat: Annotated[float, Query(description="latitude (WGS84)")],
        preset: Annotated[
            str | None,
            Query(
                description=f"rendering whose bands are read: {', '.join(SERIES_PRESETS)} "
                "(ndvi when no asset is named)"
            ),
        ] = None,  # fmt: skip
        asset: Annotated[str | None, Query(description="an asset key, instead of a preset")] = None,
        datetime: Annotated[
            str | None, Query(description="a period (start/end, '..' for an open end)")
        ] = None,
    ) -> Json:
        """Oldest first: date, value, bands (physical units), cloudy mark, cloud cover.

        At most ``limits.items`` items are read, of which ``limits.remote_items`` with assets
        over http (the newest); ``truncated`` is true when some were left out.
        """
        hidden = services.hidden(request)
        found = pixel_series(
            services.store, services.storage, collection_id, lon, lat,
            preset=preset_or_default(preset, asset),
            asset=asset, period=parse_interval(datetime), hidden=hidden,
        )  # fmt: skip
        return series_json(found)

    return api
