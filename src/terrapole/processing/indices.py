"""Spectral indices from surface reflectance, honouring scale, offset and validity masks.

Inputs are reflectance arrays in 0-1 (use :func:`reflectance` to turn stored numbers into
that); where a pixel is invalid, or a ratio's denominator is zero, the index is NaN.
Formulas: NDVI (Rouse 1974), EVI (Huete 2002: G=2.5, C1=6, C2=7.5, L=1), NDWI (McFeeters 1996,
green and NIR), MNDWI (Xu 2006, green and SWIR 1.6 µm), NDSI (green and SWIR 1.6 µm), NBR (NIR and
SWIR 2.2 µm), SAVI (Huete 1988, L=0.5).
"""

from __future__ import annotations

from typing import Any, TypeVar

import dask.array as da
import numpy as np
import xarray as xr
from numba import njit
from numpy.typing import NDArray

A = TypeVar("A", xr.DataArray, np.ndarray)


def _nan_where(condition: A, values: A) -> A:
    """``values`` with NaN where ``condition`` holds (keeps xarray coordinates)."""
    if isinstance(values, xr.DataArray):
        return values.where(~condition)
    return np.where(condition, np.float32(np.nan), values)


def reflectance(stored: A, *, scale: float, offset: float = 0.0, nodata: float | None) -> A:
    """Stored numbers -> reflectance (float32): stored × scale + offset in float32; nodata
    becomes NaN. numpy arrays (and dask arrays, chunk by chunk) in one compiled pass."""
    if isinstance(stored, da.Array):
        found: A = da.map_blocks(_reflectance, stored, scale, offset, nodata, dtype="float32")
        return found
    if isinstance(stored, np.ndarray):
        return _reflectance(stored, scale, offset, nodata)
    values: A = stored.astype("float32") * np.float32(scale) + np.float32(offset)
    return values if nodata is None else _nan_where(stored == nodata, values)


def _reflectance(
    stored: NDArray[Any], scale: float, offset: float, nodata: float | None
) -> NDArray[np.float32]:
    source = np.ascontiguousarray(stored)
    out = np.empty(source.shape, dtype=np.float32)
    # nodata compared in the stored type when it is a float type (as numpy compares)
    kind = source.dtype if source.dtype.kind == "f" else np.dtype("float64")
    mark = np.array([0.0 if nodata is None else nodata], dtype=kind)
    _scale_into(source.reshape(-1), np.float32(scale), np.float32(offset), mark,
                nodata is not None, out.reshape(-1))  # fmt: skip
    return out


@njit(cache=True, nogil=True)
def _scale_into(
    stored: NDArray[Any], scale: np.float32, offset: np.float32, nodata: NDArray[Any],
    with_nodata: bool, out: NDArray[np.float32],
) -> None:  # fmt: skip
    for i in range(stored.size):
        value = stored[i]
        if with_nodata and value == nodata[0]:
            out[i] = np.nan
        else:
            out[i] = np.float32(value) * scale + offset


def _divide(top: Any, bottom: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return top / bottom


def _ratio(top: A, bottom: A) -> A:
    out: A
    if isinstance(top, da.Array):  # lazy: the division runs per chunk, under errstate too
        out = da.map_blocks(_divide, top, bottom, dtype=top.dtype)
    else:
        out = _divide(top, bottom)
    return _nan_where(bottom == 0, out)


def normalized_difference(a: A, b: A) -> A:
    """(a - b) / (a + b)."""
    return _ratio(a - b, a + b)


def ndvi(nir: A, red: A) -> A:
    """Normalized difference vegetation index."""
    return normalized_difference(nir, red)


def ndwi(green: A, nir: A) -> A:
    """McFeeters' normalized difference water index (green, NIR)."""
    return normalized_difference(green, nir)


def mndwi(green: A, swir16: A) -> A:
    """Xu's modified NDWI (green, SWIR 1.6 µm)."""
    return normalized_difference(green, swir16)


def ndsi(green: A, swir16: A) -> A:
    """Normalized difference snow index (green, SWIR 1.6 µm)."""
    return normalized_difference(green, swir16)


def nbr(nir: A, swir22: A) -> A:
    """Normalized burn ratio (NIR, SWIR 2.2 µm)."""
    return normalized_difference(nir, swir22)


def evi(nir: A, red: A, blue: A) -> A:
    """Enhanced vegetation index: 2.5 (nir - red) / (nir + 6 red - 7.5 blue + 1)."""
    return _ratio(2.5 * (nir - red), nir + 6.0 * red - 7.5 * blue + 1.0)


def savi(nir: A, red: A, soil: float = 0.5) -> A:
    """Soil-adjusted vegetation index: (1 + L) (nir - red) / (nir + red + L)."""
    return _ratio((1.0 + soil) * (nir - red), nir + red + soil)
