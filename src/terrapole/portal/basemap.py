"""The portal maps' basemap: the bundled Natural Earth countries, or a configured tile service."""

from __future__ import annotations

from terrapole.config import Settings
from terrapole.jsontypes import Json

BUNDLED = "basemap/countries-110m.geojson"  # under the static folder; see basemap/PROVENANCE.md
BUNDLED_ATTRIBUTION = "Natural Earth (public domain)"
WMTS_NAMES = {"{TileMatrix}": "{z}", "{TileCol}": "{x}", "{TileRow}": "{y}"}


def basemap(settings: Settings, static: str) -> Json:
    """What the pages' maps draw beneath the products.

    ``TERRAPOLE_BASEMAP_URL`` (an XYZ template, or a WMTS REST template whose TileMatrix,
    TileCol and TileRow are read as z, x and y) gives raster tiles with
    ``TERRAPOLE_BASEMAP_ATTRIBUTION``; unset, the bundled vector countries (offline).
    """
    if settings.basemap_url:
        url = settings.basemap_url
        for wmts, xyz in WMTS_NAMES.items():
            url = url.replace(wmts, xyz)
        return {"tiles": url, "attribution": settings.basemap_attribution}
    return {"geojson": f"{static}/{BUNDLED}", "attribution": BUNDLED_ATTRIBUTION}
