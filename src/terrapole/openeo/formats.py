"""``save_result``: a computed cube -> files (GeoTIFF per 2-D slice, netCDF, JSON).

GeoTIFF: a (y, x) result is one file ``result.tif``; a cube with more dimensions is one file per
slice, named by its labels (``result_2018-07-07_B4.tif``), float32 with NaN as nodata, on the
grid of the loaded data. netCDF: the whole cube in one file (CF coordinates, NETCDF3). JSON: the
values of a result that is not a raster (a number, a list).
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import xarray as xr
from affine import Affine

from terrapole.errors import InvalidInput

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


def save(data: Any, format: str, folder: Path, crs: str | None) -> list[Written]:
    """Write ``data`` in ``format`` into ``folder``; returns the files."""
    name = format_name(format)
    if name == "JSON" or not isinstance(data, xr.DataArray):
        if name != "JSON":
            raise InvalidInput("save_result", "the result is not a raster cube: save it as JSON")
        values = data.values.tolist() if isinstance(data, xr.DataArray) else data
        path = folder / "result.json"
        path.write_text(json.dumps(values, default=str))
        return [Written("result", path, "application/json", False)]
    if name == "netCDF":
        path = folder / "result.nc"
        data.drop_attrs().to_dataset(name="result").to_netcdf(path, engine="scipy")
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
