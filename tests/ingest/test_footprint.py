"""Footprint geometry on hand-made rasters: nodata holes, and a scene across the antimeridian."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import shape

from terrapole.ingest.footprint import data_footprint


def _write(path: Path, data: np.ndarray, crs: str, transform: object) -> str:  # type: ignore[type-arg]
    with rasterio.open(
        path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
        dtype=data.dtype, crs=crs, transform=transform,
    ) as ds:  # fmt: skip
        ds.write(data, 1)
    return str(path)


def test_footprint_follows_the_valid_pixels_not_the_raster_square(tmp_path: Path) -> None:
    data = np.zeros((100, 100), dtype=np.int16)
    data[:, :50] = 7  # only the western half holds data
    path = _write(tmp_path / "half.tif", data, "EPSG:32631", from_origin(500000, 5000000, 10, 10))
    fp = data_footprint(path, 1, 0)
    assert fp is not None
    native = shape(fp.native)
    assert abs(native.area - 500 * 1000) < 1e-6  # 50 x 100 pixels of 10 m
    assert shape(fp.geometry).is_valid


def test_footprint_across_the_antimeridian_is_split_and_valid(tmp_path: Path) -> None:
    # UTM zone 60N (central meridian 177 E): at 65 N, x = 600-800 km spans lon ~179 to ~183
    data = np.ones((200, 200), dtype=np.uint8)
    path = _write(tmp_path / "am.tif", data, "EPSG:32660", from_origin(600000, 7300000, 1000, 1000))
    fp = data_footprint(path, 1, None)
    assert fp is not None
    geom = shape(fp.geometry)
    assert geom.is_valid and geom.geom_type == "MultiPolygon"
    minx, _, maxx, _ = geom.bounds
    assert minx >= -180 and maxx <= 180
    assert any(p.bounds[2] == 180 for p in geom.geoms) and any(
        p.bounds[0] == -180 for p in geom.geoms
    )


def test_all_nodata_gives_no_footprint(tmp_path: Path) -> None:
    data = np.full((10, 10), -10000, dtype=np.int16)
    path = _write(tmp_path / "empty.tif", data, "EPSG:32631", from_origin(0, 0, 10, 10))
    assert data_footprint(path, 1, -10000) is None
