"""True-colour (or grey) PNG previews with a per-band 2-98 % stretch; nodata transparent.

A classification (one raster whose classes carry colours) is drawn in its classes' colours
(nearest resampling, so no class is averaged into another); values without a class are
transparent.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import rasterio
from numpy.typing import NDArray
from PIL import Image
from rasterio.enums import Resampling

from terrapole.ingest.footprint import reduced_shape
from terrapole.ingest.model import Raster

THUMBNAIL_SIDE = 256
QUICKLOOK_SIDE = 1024


def stretch(
    values: NDArray[Any], valid: NDArray[np.bool_], low: float = 2, high: float = 98
) -> NDArray[np.uint8]:
    """Map the ``low``-``high`` percentile range of valid pixels to 1-255 (0 stays for nodata);
    a NaN (a metric a pixel has no value for) counts as nodata."""
    out = np.zeros(values.shape, dtype=np.uint8)
    valid = valid & np.isfinite(values)
    if not valid.any():
        return out
    lo, hi = np.percentile(values[valid], [low, high])
    span = max(float(hi - lo), 1e-12)
    scaled = np.clip((values.astype("float64") - lo) / span, 0, 1) * 254 + 1
    out[valid] = scaled[valid].astype(np.uint8)
    return out


def _palette(classes: tuple[dict[str, Any], ...]) -> dict[int, tuple[int, int, int]]:
    colours = {}
    for entry in classes:
        hint = str(entry.get("color_hint", "")).lstrip("#")
        if len(hint) == 6:
            colours[int(entry["value"])] = tuple(int(hint[i : i + 2], 16) for i in (0, 2, 4))
    return colours  # type: ignore[return-value]


def _classes_png(raster: Raster, rows: int, cols: int) -> Image.Image:
    with rasterio.open(raster.path) as ds:
        data = ds.read(raster.index, out_shape=(rows, cols), resampling=Resampling.nearest)
    rgba = np.zeros((rows, cols, 4), dtype=np.uint8)
    for value, colour in _palette(raster.classes).items():
        inside = data == value
        rgba[inside] = (*colour, 255)
    return Image.fromarray(rgba, mode="RGBA")


def preview_png(rasters: list[Raster], max_side: int) -> bytes:
    """A PNG of one (grey) or three (RGB) rasters, at most ``max_side`` pixels wide or high."""
    with rasterio.open(rasters[0].path) as ds:
        rows, cols = reduced_shape(ds.width, ds.height, max_side)
    if len(rasters) == 1 and _palette(rasters[0].classes):
        buffer = io.BytesIO()
        _classes_png(rasters[0], rows, cols).save(buffer, format="PNG", compress_level=6)
        return buffer.getvalue()
    channels: list[NDArray[Any]] = []
    valid = np.ones((rows, cols), dtype=bool)
    for raster in rasters:
        with rasterio.open(raster.path) as ds:
            data = ds.read(raster.index, out_shape=(rows, cols), resampling=Resampling.average)
        if raster.nodata is not None:
            valid &= data != raster.nodata
        channels.append(data)
    bands = [stretch(c, valid) for c in channels]
    alpha = np.where(valid, 255, 0).astype(np.uint8)
    if len(bands) == 1:
        image = Image.fromarray(np.dstack([bands[0], alpha]), mode="LA")
    else:
        image = Image.fromarray(np.dstack([*bands, alpha]), mode="RGBA")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()
