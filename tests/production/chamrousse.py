"""A scene on the real Grenoble DEM for the snow and water chain tests: rasters written on a UTM
31N grid whose upper-left corner is at Chamrousse (south-east of Grenoble, 510-2540 m)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.warp import Resampling, reproject

from .conftest import PRODUCTS

ORIGIN = (728000.0, 5000000.0)  # UTM 31N, upper left
GRENOBLE_DEM = PRODUCTS / "dem" / "Copernicus_DSM_10_N45_00_E005_00_DEM.tif"


def write(path: Path, data: np.ndarray, pixel: float) -> None:
    """One band on the scene's grid at ``pixel`` metres."""
    transform = Affine(pixel, 0, ORIGIN[0], 0, -pixel, ORIGIN[1])
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0],
                       count=1, dtype=data.dtype, crs="EPSG:32631", transform=transform) as ds:  # fmt: skip
        ds.write(data, 1)


def elevation(size: int) -> np.ndarray:
    """The real DEM on ``size`` × ``size`` pixels of 20 m (bilinear)."""
    out = np.zeros((size, size), dtype="float32")
    with rasterio.open(GRENOBLE_DEM) as src:
        reproject(rasterio.band(src, 1), out, dst_transform=Affine(20, 0, ORIGIN[0], 0, -20, ORIGIN[1]),
                  dst_crs="EPSG:32631", resampling=Resampling.bilinear)  # fmt: skip
    return out
