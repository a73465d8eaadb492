"""Helpers shared by the chains: stored numbers -> reflectance, arrays -> output layers."""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from terrapole.catalog.model import Json
from terrapole.errors import InvalidInput
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


def band_stack(stack: xr.Dataset, keys: tuple[str, ...], t: int) -> Any:
    """Several bands of one date as one (band, y, x) dask array of stored numbers."""
    return da.stack([stack[key].isel(time=t).data for key in keys])


def on_grid(values: Any, like: xr.DataArray) -> xr.DataArray:
    """A (y, x) array (numpy or dask) on the grid of ``like`` (keeps the odc geobox)."""
    template = like.isel(time=0, drop=True) if "time" in like.dims else like
    if not isinstance(values, da.Array):
        values = da.from_array(np.asarray(values), chunks=template.data.chunksize)
    return xr.DataArray(values, coords=template.coords, dims=template.dims)


def upsample(coarse: xr.DataArray, like: xr.DataArray) -> Any | None:
    """``coarse`` (time, y, x) repeated onto ``like``'s finer grid when the grids nest, else None.

    The grids nest when they share CRS and origin and the coarse pixel is a whole number of fine
    ones (THEIA's 20 m masks under its 10 m bands): then each coarse pixel is repeated, which is
    nearest-neighbour resampling without a warp. Fine rows or columns past the coarse grid's
    edge repeat its last ones.
    """
    fine_box, coarse_box = like.odc.geobox, coarse.odc.geobox
    fine, big = fine_box.transform, coarse_box.transform
    factor = big.a / fine.a
    if (
        fine_box.crs != coarse_box.crs
        or (fine.c, fine.f) != (big.c, big.f)
        or big.e != -big.a
        or fine.e != -fine.a
        or factor != round(factor)
        or factor < 1
    ):
        return None
    size = int(factor)
    rows, cols = like.shape[-2:]
    data = coarse.data
    if size > 1:
        data = da.repeat(da.repeat(data, size, axis=-2), size, axis=-1)
    pad_rows, pad_cols = max(0, rows - data.shape[-2]), max(0, cols - data.shape[-1])
    if pad_rows or pad_cols:
        data = da.pad(data, ((0, 0), (0, pad_rows), (0, pad_cols)), mode="edge")
    return data[..., :rows, :cols].rechunk(like.data.chunks)


def classes(*entries: tuple[int, str, str]) -> tuple[dict[str, Any], ...]:
    """classification:classes entries from (value, description, colour hex)."""
    return tuple(
        {"value": value, "description": text, "color_hint": colour}
        for value, text, colour in entries
    )
