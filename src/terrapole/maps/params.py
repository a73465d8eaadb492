"""Limits on what a map request may ask for: image sizes, statistics and histogram options.

titiler validates the types of its query parameters, not their ranges: a percentile of 500, a
histogram range whose minimum exceeds its maximum, zero bins or a 100,000 px preview reach numpy
or GDAL and fail there (or exhaust memory). These checks refuse them first, as invalid input
naming the parameter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from titiler.core.dependencies import HistogramParams, StatisticsParams

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


@dataclass
class BoundedStatistics(StatisticsParams):
    """titiler's statistics options, with percentiles between 0 and 100."""

    def __post_init__(self) -> None:
        """Refuse percentiles numpy cannot compute."""
        super().__post_init__()  # type: ignore[no-untyped-call]
        for value in self.percentiles or []:
            if not 0 <= value <= 100:
                raise InvalidInput("p", f"percentile {value} is not between 0 and 100")


@dataclass
class HistogramOptions(HistogramParams):
    """titiler's histogram options, with 1..MAX_BINS bins, increasing edges and min <= max."""

    def __post_init__(self) -> None:
        """Refuse bins and ranges numpy cannot use."""
        super().__post_init__()  # type: ignore[no-untyped-call]
        bins: int | list[float] = self.bins  # type: ignore[assignment]
        if isinstance(bins, int) and not 0 < bins <= MAX_BINS:
            raise InvalidInput("histogram_bins", f"{bins} is not between 1 and {MAX_BINS}")
        if isinstance(bins, list) and (
            len(bins) > MAX_BINS + 1 or any(b >= a for a, b in zip(bins[1:], bins, strict=False))
        ):
            raise InvalidInput(
                "histogram_bins", f"edges must increase, at most {MAX_BINS + 1} of them"
            )
        value_range: list[float] | None = self.range  # type: ignore[assignment]
        if value_range is not None and value_range[0] > value_range[1]:
            raise InvalidInput("histogram_range", f"minimum {value_range[0]:g} exceeds maximum")
