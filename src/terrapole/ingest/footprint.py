"""Footprints and cloud cover computed from the pixels, not from the tile square."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import rasterio
import shapely
from numpy.typing import NDArray
from rasterio.enums import Resampling
from rasterio.features import shapes
from rasterio.transform import Affine
from rasterio.warp import transform_geom
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

MAX_SIDE = 1024  # pixels read for footprint/cloud statistics: a decimated view of the band


@dataclass(frozen=True)
class Footprint:
    """The data footprint in EPSG:4326 (GeoJSON) and in the raster's own CRS (proj:geometry)."""

    geometry: dict[str, Any]
    native: dict[str, Any]
    bbox: tuple[float, float, float, float]


def valid_mask(
    path: str, index: int, nodata: float | None, shape_: tuple[int, int]
) -> NDArray[Any]:
    """Boolean array (``shape_``) of pixels holding data, read at reduced resolution."""
    with rasterio.open(path) as ds:
        data = ds.read(index, out_shape=shape_, resampling=Resampling.nearest)
    valid = np.ones(data.shape, dtype=bool)
    if nodata is not None and not (isinstance(nodata, float) and math.isnan(nodata)):
        valid &= data != nodata
    if np.issubdtype(data.dtype, np.floating):
        valid &= np.isfinite(data)
    return valid


def reduced_shape(width: int, height: int, max_side: int = MAX_SIDE) -> tuple[int, int]:
    """(rows, cols) of a view no larger than ``max_side`` on its longest side."""
    factor = max(1.0, max(width, height) / max_side)
    return max(1, round(height / factor)), max(1, round(width / factor))


def band_statistics(path: str, nodata: float | None) -> dict[str, float]:
    """raster:bands statistics of a (COG) band, from an overview-sized read."""
    with rasterio.open(path) as ds:
        rows, cols = reduced_shape(ds.width, ds.height)
        data = ds.read(1, out_shape=(rows, cols), resampling=Resampling.nearest)
    valid = valid_mask(path, 1, nodata, (rows, cols))
    if not valid.any():
        return {"valid_percent": 0.0}
    values = data[valid].astype("float64")
    return {
        "minimum": float(values.min()),
        "maximum": float(values.max()),
        "mean": round(float(values.mean()), 4),
        "stddev": round(float(values.std()), 4),
        "valid_percent": round(100.0 * float(valid.mean()), 2),
    }


def data_footprint(path: str, index: int, nodata: float | None) -> Footprint | None:
    """Polygon(s) around the valid pixels, simplified, valid, split at the antimeridian.

    None when the raster holds no valid pixel.
    """
    with rasterio.open(path) as ds:
        rows, cols = reduced_shape(ds.width, ds.height)
        transform = ds.transform @ Affine.scale(ds.width / cols, ds.height / rows)
        crs = ds.crs
    valid = valid_mask(path, index, nodata, (rows, cols))
    if not valid.any():
        return None
    pieces = [
        shape(geom)
        for geom, value in shapes(valid.astype(np.uint8), mask=valid, transform=transform)
        if value == 1
    ]
    native: BaseGeometry = shapely.union_all(pieces)
    pixel = max(abs(transform.a), abs(transform.e))
    native = shapely.make_valid(native.simplify(pixel, preserve_topology=True))
    native = shapely.normalize(native)
    wgs84 = transform_geom(
        crs, "EPSG:4326", mapping(native), antimeridian_cutting=True, precision=7
    )
    geom = shapely.make_valid(shape(wgs84))
    geom = shapely.geometry.polygon.orient(geom) if geom.geom_type == "Polygon" else geom
    minx, miny, maxx, maxy = geom.bounds
    return Footprint(mapping(geom), mapping(native), (minx, miny, maxx, maxy))


def cloud_cover(
    mask_path: str,
    valid_path: str,
    valid_index: int,
    nodata: float | None,
    cloudy_values: tuple[int, ...] | None,
) -> float | None:
    """Percentage of valid pixels the mask flags as cloud (any non-zero, or the listed classes)."""
    with rasterio.open(mask_path) as ds:
        rows, cols = reduced_shape(ds.width, ds.height)
        mask = ds.read(1, out_shape=(rows, cols), resampling=Resampling.nearest)
    valid = valid_mask(valid_path, valid_index, nodata, (rows, cols))
    total = int(valid.sum())
    if total == 0:
        return None
    cloudy = np.isin(mask, cloudy_values) if cloudy_values is not None else mask != 0
    return round(100.0 * int((cloudy & valid).sum()) / total, 2)
