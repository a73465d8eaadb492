"""``save_result``: a computed cube -> files (GeoTIFF per 2-D slice, netCDF, JSON).

GeoTIFF: a (y, x) result is one file ``result.tif``; a cube with more dimensions is one file per
slice, named by its labels (``result_2018-07-07_B4.tif``), float32 with NaN as nodata, on the
grid of the loaded data. netCDF: the whole cube in one file (CF coordinates, NETCDF3). JSON: the
values of a result that is not a raster (a number, a list), as plain JSON (:func:`plain`).
A graph without save_result is saved in :func:`default_format`.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import rasterio
import xarray as xr
from affine import Affine

from terrapole.errors import InvalidInput
from terrapole.jsontypes import Json

FORMATS: dict[str, dict[str, Any]] = {
    "GTiff": {"title": "GeoTIFF (one file per 2-D slice)", "gis_data_types": ["raster"],
              "media_type": "image/tiff; application=geotiff", "parameters": {}},
    "netCDF": {"title": "netCDF (the whole cube)", "gis_data_types": ["raster"],
               "media_type": "application/x-netcdf", "parameters": {}},
    "JSON": {"title": "JSON (values of a non-raster result)", "gis_data_types": ["other"],
             "media_type": "application/json", "parameters": {}},
}  # fmt: skip
ALIASES = {name.lower(): name for name in FORMATS} | {"geotiff": "GTiff", "tiff": "GTiff",
                                                       "nc": "netCDF"}  # fmt: skip


@dataclass(frozen=True)
class Written:
    """One file save_result wrote."""

    key: str
    path: Path
    media_type: str
    raster: bool


def format_name(text: str) -> str:
    """The canonical output format name (InvalidInput naming the supported ones)."""
    try:
        return ALIASES[text.lower()]
    except KeyError:
        raise InvalidInput("save_result format", f"{text!r} is not one of "
                           f"{', '.join(FORMATS)}") from None  # fmt: skip


def _slug(value: Any) -> str:
    text = (
        str(np.datetime_as_string(value, unit="D"))
        if isinstance(value, np.datetime64)
        else str(value)
    )
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-")


def transform_of(data: xr.DataArray) -> Affine:
    """The affine transform of a cube's regular x/y coordinates (pixel centres)."""
    x, y = data["x"].values, data["y"].values
    if len(x) < 2 or len(y) < 2:
        raise InvalidInput("save_result", "a GeoTIFF needs at least 2 x 2 pixels")
    dx, dy = float(x[1] - x[0]), float(y[1] - y[0])
    return Affine(dx, 0.0, float(x[0]) - dx / 2, 0.0, dy, float(y[0]) - dy / 2)


def plain(value: Any) -> Any:
    """A result as plain JSON values: arrays as lists, numpy numbers as numbers, dates as ISO
    text, NaN and infinities as null (JSON has no such numbers)."""
    if isinstance(value, xr.DataArray):
        value = value.values
    if isinstance(value, da.Array):  # some processes answer a lazy array (extrema)
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        value = value.tolist() if value.dtype.kind != "M" else list(value)
    if isinstance(value, np.datetime64):
        return str(np.datetime_as_string(value, unit="s")) + "Z"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def default_format(data: Any) -> str:
    """The format of a result no save_result wrote: GeoTIFF for a raster cube, JSON otherwise."""
    if isinstance(data, xr.DataArray) and {"x", "y"} <= set(data.dims):
        return "GTiff"
    return "JSON"


def _time_encoding(dataset: xr.Dataset) -> dict[str, Json]:
    """Dates as float64 milliseconds since 1970 (exact to the millisecond): netCDF3 has no int64,
    and xarray's own choice (int64 nanoseconds for most periods) cannot be cast to int32."""
    return {str(name): {"units": "milliseconds since 1970-01-01T00:00:00", "dtype": "float64"}
            for name, coord in dataset.coords.items() if coord.dtype.kind == "M"}  # fmt: skip


def save(data: Any, format: str, folder: Path, crs: str | None) -> list[Written]:
    """Write ``data`` in ``format`` into ``folder``; returns the files."""
    name = format_name(format)
    if name == "JSON" or not isinstance(data, xr.DataArray):
        if name != "JSON":
            raise InvalidInput("save_result", "the result is not a raster cube: save it as JSON")
        path = folder / "result.json"
        path.write_text(json.dumps(plain(data), allow_nan=False))
        return [Written("result", path, "application/json", False)]
    if name == "netCDF":
        path = folder / "result.nc"
        dataset = data.drop_attrs().to_dataset(name="result")
        dataset.to_netcdf(path, engine="scipy", encoding=_time_encoding(dataset))
        return [Written("result", path, "application/x-netcdf", False)]
    if not {"x", "y"} <= set(data.dims):
        raise InvalidInput("save_result", f"a GeoTIFF needs x and y dimensions; the result has "
                           f"{', '.join(map(str, data.dims)) or 'none'}")  # fmt: skip
    others = [d for d in data.dims if d not in ("y", "x")]
    cube = data.transpose(*others, "y", "x")
    transform = transform_of(cube)
    written = []
    labels = [cube[d].values for d in others]
    for combination in itertools.product(*[range(len(v)) for v in labels]):
        plane = cube.isel(dict(zip(others, combination, strict=True))).values.astype("float32")
        suffix = "_".join(_slug(labels[k][i]) for k, i in enumerate(combination))
        key = f"result_{suffix}" if suffix else "result"
        path = folder / f"{key}.tif"
        with rasterio.open(path, "w", driver="GTiff", width=plane.shape[1], height=plane.shape[0],
                           count=1, dtype="float32", crs=crs, transform=transform,
                           nodata=float("nan"), tiled=True, compress="deflate") as ds:  # fmt: skip
            ds.write(plane, 1)
        written.append(Written(key, path, FORMATS["GTiff"]["media_type"], True))
    return written
