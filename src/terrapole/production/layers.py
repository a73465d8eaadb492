"""Helpers shared by the chains: stored numbers -> reflectance, arrays -> output layers."""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np
import xarray as xr
from odc.geo.geobox import GeoBox

from terrapole.errors import InvalidInput
from terrapole.jsontypes import Json
from terrapole.processing.indices import reflectance

THEIA_NODATA = -10000
THEIA_SCALE = 1e-4


def band_key(item: Json, band: str) -> str:
    """The asset holding a THEIA band: flat-terrain reflectance (FRE) if there, else SRE."""
    for key in (f"FRE_{band}", f"SRE_{band}"):
        if key in item["assets"]:
            return key
    raise InvalidInput("inputs", f"{item['id']} has no {band} band (neither FRE_ nor SRE_{band})")


def surface_reflectance(stack: xr.Dataset, key: str, t: int) -> Any:
    """Reflectance 0-1 (float32, NaN for nodata) of one date, as a dask array."""
    stored = stack[key].isel(time=t).data
    return reflectance(stored, scale=THEIA_SCALE, nodata=THEIA_NODATA)


def on_grid(values: Any, like: xr.DataArray) -> xr.DataArray:
    """A (y, x) array (numpy or dask) on the grid of ``like`` (keeps the odc geobox)."""
    template = like.isel(time=0, drop=True) if "time" in like.dims else like
    if not isinstance(values, da.Array):
        values = da.from_array(np.asarray(values), chunks=template.data.chunksize)
    return xr.DataArray(values, coords=template.coords, dims=template.dims)


def nesting(coarse: GeoBox, fine: GeoBox) -> int | None:
    """How many ``fine`` pixels a ``coarse`` pixel spans when the grids nest, else None.

    The grids nest when they share CRS and origin, the coarse pixel is a whole number of fine
    ones and the coarse grid covers the fine one exactly (THEIA's 20 m masks under its 10 m
    bands): a fine pixel (y, x) then lies in coarse pixel (y // n, x // n).
    """
    big, small = coarse.transform, fine.transform
    factor = big.a / small.a
    if (
        coarse.crs != fine.crs
        or (big.c, big.f) != (small.c, small.f)
        or big.e != -big.a
        or small.e != -small.a
        or factor != round(factor)
        or factor < 1
    ):
        return None
    size = int(factor)
    rows, cols = fine.shape
    if tuple(coarse.shape) != (-(-rows // size), -(-cols // size)):
        return None
    return size


def classes(*entries: tuple[int, str, str]) -> tuple[dict[str, Any], ...]:
    """classification:classes entries from (value, description, colour hex)."""
    return tuple(
        {"value": value, "description": text, "color_hint": colour}
        for value, text, colour in entries
    )
