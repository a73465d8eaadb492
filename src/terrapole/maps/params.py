"""Limits on what a map request may ask for: image sizes, zoom levels, nodata values.

titiler validates the types of its query parameters, not their ranges: a zoom level of 86400,
a nodata value the raster cannot hold or a 100,000 px preview reach numpy or GDAL and fail there
(or exhaust memory). These checks refuse them first, as invalid input naming the parameter
(the statistics and histogram options are checked in ``terrapole.web.tiles``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from terrapole.errors import InvalidInput

MAX_SIZE = 4096  # pixels a rendered image may have on each side (previews, parts, WMS, tiles)
MAX_BINS = 10_000  # histogram bins at most
MAX_ZOOM = 30  # deepest zoom level a tile set may be asked for
MAX_PIXELS = (2 * MAX_SIZE) ** 2  # a part read at the raster's own resolution (67 Mpx), at most


def check_nodata(value: Any, dtype: str) -> None:
    """Refuse a nodata value the raster's data type cannot hold (-inf for int16: a 500)."""
    if value is None:
        return
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput("nodata", f"{value!r} is not a number") from None
    kind = np.dtype(dtype)
    if kind.kind in "iu":
        info = np.iinfo(kind)
        if not math.isfinite(number) or not info.min <= number <= info.max:
            raise InvalidInput("nodata", f"{value} cannot be stored in this {dtype} raster")
    elif kind.kind == "f" and math.isfinite(number) and abs(number) > np.finfo(kind).max:
        raise InvalidInput("nodata", f"{value} cannot be stored in this {dtype} raster")


def check_zoom(name: str, value: str) -> None:
    """A zoom level of a tile set: 0..MAX_ZOOM (maxzoom=86400 made titiler compute 86,400
    tile matrices: seconds of CPU, then an overflow)."""
    try:
        zoom = int(value)
    except ValueError:
        raise InvalidInput(name, f"{value[:20]!r} is not a zoom level") from None
    if not 0 <= zoom <= MAX_ZOOM:
        raise InvalidInput(name, f"{zoom} is not a zoom level between 0 and {MAX_ZOOM}")


def check_size(name: str, value: int | None) -> None:
    """Refuse an image dimension outside 1..MAX_SIZE (``None``: not given)."""
    if value is not None and not 0 < value <= MAX_SIZE:
        raise InvalidInput(name, f"{value} is not a size in pixels between 1 and {MAX_SIZE}")
