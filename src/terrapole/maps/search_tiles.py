"""Mosaic tiles of a catalogue search: one WebMercatorQuad tile of the items a query matches.

A month of Sentinel-2 with ``filter=eo:cloud_cover < 20`` becomes one layer, the least cloudy
item on top wherever items overlap. The route (``/maps/mosaic/tiles/{z}/{x}/{y}.png``, a STAC
item search in its query string plus ``preset``) is in ``terrapole.web.search_tiles``.
"""

from __future__ import annotations

from dataclasses import replace

import morecantile
from rasterio.crs import CRS

from terrapole.catalog.antimeridian import BBox, intersect_bboxes
from terrapole.catalog.model import SearchQuery
from terrapole.catalog.store import Store
from terrapole.errors import InvalidInput
from terrapole.maps.mosaic import Window, blank, compose, find_items, render
from terrapole.maps.presets import resolve
from terrapole.storage import Storage

WEB_MERCATOR = morecantile.tms.get("WebMercatorQuad")


def check_tile(z: int, x: int, y: int) -> None:
    """Refuse a tile address outside WebMercatorQuad (zoom levels 0..24)."""
    if not 0 <= z <= 24 or not (0 <= x < 2**z and 0 <= y < 2**z):
        raise InvalidInput("tile", f"{z}/{x}/{y} is not a WebMercatorQuad tile")


def mosaic_tile(
    store: Store, storage: Storage, query: SearchQuery, z: int, x: int, y: int, preset: str
) -> bytes:
    """The PNG tile ``z/x/y`` of the items ``query`` matches, drawn with ``preset``.

    A tile nothing covers (or outside the query's bbox) is a transparent blank tile.
    """
    bounds = WEB_MERCATOR.xy_bounds(morecantile.Tile(x, y, z))
    window = Window(tuple(bounds), CRS.from_epsg(3857), 256, 256)  # type: ignore[arg-type]
    lon_lat = WEB_MERCATOR.bounds(morecantile.Tile(x, y, z))
    tile: BBox = (lon_lat.left, lon_lat.bottom, lon_lat.right, lon_lat.top)
    # the search's bbox may cross 180°: what the tile shares with it
    tile_box = tile if query.bbox is None else intersect_bboxes(query.bbox, tile)
    if tile_box is None or tile_box[1] >= tile_box[3] or tile_box[0] == tile_box[2]:
        return blank(window, "PNG", True)
    items = find_items(store, replace(query, bbox=tile_box))
    image = compose(items, preset, window, storage)
    if image is None:
        return blank(window, "PNG", True)
    return render(image, resolve(preset, items[0]), "PNG", True)
