"""Render the items of a catalogue search as one image: least cloudy on top (rio-tiler mosaic).

Used by WMS GetMap and by the mosaic tiles of a search. Items come from the Store with the
caller's hidden collections excluded in the query; each item is read for the requested window
and grid with its preset (assets, expression), the first valid pixel wins in order of
increasing cloud cover, then the preset's rescale, colormap or algorithm is applied once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from rasterio.crs import CRS
from rio_tiler.colormap import cmap, parse_color
from rio_tiler.errors import EmptyMosaicError, TileOutsideBounds
from rio_tiler.models import ImageData
from rio_tiler.mosaic import mosaic_reader
from rio_tiler.types import ColorMapType
from titiler.core.algorithm import algorithms

from terrapole.catalog.model import SearchQuery, SortKey
from terrapole.catalog.store import Store
from terrapole.errors import InvalidInput, SourceUnavailable
from terrapole.jsontypes import Json
from terrapole.maps.presets import resolve
from terrapole.storage import Storage

MAX_ITEMS = 50  # items composed per image at most (the least cloudy ones)
MAX_UNREADABLE = 3  # items whose files cannot be read, before a mosaic with nothing drawn stops


class _OutOfReach(Exception):
    """The first items' files all failed to open: the rest are not tried."""


@dataclass(frozen=True)
class Window:
    """What to draw: bounds in ``crs``, and the output grid size."""

    bounds: tuple[float, float, float, float]
    crs: CRS
    width: int
    height: int


def find_items(store: Store, query: SearchQuery) -> list[Json]:
    """The items to compose, least cloudy first, then most recent."""
    ordered = replace(
        query,
        sortby=(SortKey("eo:cloud_cover", "asc"), SortKey("datetime", "desc")),
        limit=MAX_ITEMS,
        token=None,
    )
    return list(store.search(ordered).items)


def compose(items: list[Json], preset: str, window: Window, storage: Storage) -> ImageData | None:
    """The mosaic of ``items`` rendered with ``preset`` (None when nothing covers the window)."""
    from terrapole.maps.tiles import ItemReader

    if not items:
        return None
    params = resolve(preset, items[0])
    buffer = float(params.get("buffer", 0))  # the algorithm's edge pixels, cropped by it
    unreadable: list[SourceUnavailable] = []
    drawn: list[str] = []

    def read(item: Json, *args: Any, **kwargs: Any) -> ImageData:
        options = resolve(preset, item)
        with ItemReader(storage.localise(item)) as src:  # type: ignore[arg-type]
            try:
                part: ImageData = src.part(
                    window.bounds,
                    dst_crs=window.crs,
                    bounds_crs=window.crs,
                    width=window.width,
                    height=window.height,
                    assets=options["assets"],
                    expression=options.get("expression"),
                    asset_as_band=bool(options.get("asset_as_band")),
                    buffer=buffer or None,
                )
            except SourceUnavailable as exc:
                unreadable.append(exc)
                if not drawn and len(unreadable) >= MAX_UNREADABLE:
                    raise _OutOfReach from exc  # not one item read: stop trying the others
                raise
        drawn.append(item["id"])
        return part

    try:
        image, _ = mosaic_reader(
            items, read, threads=1, allowed_exceptions=(TileOutsideBounds, SourceUnavailable)
        )
    except _OutOfReach:
        raise unreadable[0] from None  # a 502: the files are where they cannot be read
    except EmptyMosaicError:  # nothing intersects the window, or nothing could be read
        if unreadable:
            raise unreadable[0] from None
        return None
    return finish(image, params)


def finish(image: ImageData, params: dict[str, Any]) -> ImageData:
    """Apply the preset's algorithm or rescale (colormaps are applied when rendering).

    Class rasters keep their values: the palette maps each one to its colour.
    """
    if "algorithm" in params:
        options = json.loads(params.get("algorithm_params", "{}"))
        algorithm = algorithms.get(params["algorithm"])(**options)
        with np.errstate(invalid="ignore"):  # flat or nodata neighbourhoods (NaN slopes)
            result: ImageData = algorithm(image)
        return result
    if "colormap" in params:
        return image
    ranges: list[tuple[float, float]] = []
    for text in params.get("rescale", []):
        low, high = (float(v) for v in text.split(","))
        ranges.append((low, high))
    if ranges:
        image.rescale(in_range=ranges)
    elif image.array.dtype != np.uint8:
        stats = image.statistics()
        image.rescale(in_range=[(s.min, s.max) for s in stats.values()])
    return image


def palette(params: dict[str, Any]) -> ColorMapType | None:
    """The preset's colour map: a named ramp, or a class palette (``{"value": "#rrggbb"}``)."""
    if "colormap_name" in params:
        ramp: ColorMapType = cmap.get(params["colormap_name"])
        return ramp
    if "colormap" in params:
        classes = json.loads(params["colormap"])
        return {int(value): parse_color(colour) for value, colour in classes.items()}
    return None


def render(image: ImageData, params: dict[str, Any], fmt: str, transparent: bool) -> bytes:
    """Encode as PNG (transparent outside data if asked) or JPEG, through the preset's colours."""
    if fmt not in ("PNG", "JPEG"):
        raise InvalidInput("format", f"{fmt} is not image/png or image/jpeg")
    body: bytes = image.render(
        img_format=fmt, colormap=palette(params), add_mask=transparent and fmt == "PNG"
    )
    return body


def blank(window: Window, fmt: str, transparent: bool) -> bytes:
    """An empty image of the window's size (no item covers it)."""
    array = np.zeros((1, window.height, window.width), dtype=np.uint8)
    mask = np.zeros((window.height, window.width), dtype=bool)
    image = ImageData(np.ma.MaskedArray(array, mask=np.broadcast_to(~mask, array.shape)))
    body: bytes = image.render(img_format=fmt, add_mask=transparent and fmt == "PNG")
    return body
