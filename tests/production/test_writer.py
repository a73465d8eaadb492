"""The workers write a window's layers straight into raw rasters that GDAL reads through VRTs."""

from __future__ import annotations

from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import rasterio
from affine import Affine
from odc.geo.geobox import GeoBox
from odc.geo.xr import wrap_xr

from terrapole.config import Settings
from terrapole.production.chain import Layer
from terrapole.production.cluster import dask_client
from terrapole.production.writer import RawTarget, write_layers

FINE = GeoBox((700, 900), Affine(10, 0, 600000, 0, -10, 5500000), "EPSG:2154")
COARSE = GeoBox((350, 450), Affine(20, 0, 600000, 0, -20, 5500000), "EPSG:2154")


def _layer(key: str, values: np.ndarray, geobox: GeoBox, nodata: float | None = None,
           chunks: int | tuple[int, int] | None = 256) -> Layer:  # fmt: skip
    data = da.from_array(values, chunks=chunks) if chunks else values
    return Layer(key, wrap_xr(data, geobox), key, nodata=nodata)


def test_layers_on_two_grids_are_written_by_worker_processes(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    reflectance = rng.integers(-10000, 10000, (700, 900)).astype("int16")
    dates = rng.normal(0, 10, (700, 900)).astype("float32")
    dates[::7, ::5] = np.nan
    flags = rng.integers(0, 5, (350, 450)).astype("uint8")
    mask = rng.random((350, 450)) < 0.3
    layers = [
        _layer("FRC", reflectance, FINE, -10000),  # 256 px chunks: partial ones at both edges
        _layer("DTS", dates, FINE, float("nan")),
        _layer("FLG", flags, COARSE, None, chunks=None),  # numpy: chunked by the writer
        _layer("MSK", mask, COARSE, 0, chunks=(100, 450)),  # whole-row chunks, booleans
    ]
    with dask_client(Settings(dask_workers=2), processes=True) as client:
        paths, _ = write_layers(layers, tmp_path, client)
    expected = {"FRC": reflectance, "DTS": dates, "FLG": flags, "MSK": mask.astype("uint8")}
    assert set(paths) == set(expected)
    for key, values in expected.items():
        with rasterio.open(paths[key]) as ds:
            np.testing.assert_array_equal(ds.read(1), values, err_msg=key)
            grid = FINE if key in ("FRC", "DTS") else COARSE
            assert ds.crs == "EPSG:2154" and ds.transform == grid.transform, key
            assert ds.dtypes[0] == values.dtype.name, key
    with rasterio.open(paths["FRC"]) as ds:
        assert ds.nodata == -10000
    with rasterio.open(paths["DTS"]) as ds:
        assert ds.nodata is not None and np.isnan(ds.nodata)
    with rasterio.open(paths["FLG"]) as ds:
        assert ds.nodata is None


def test_a_target_writes_blocks_at_their_place_and_nothing_else(tmp_path: Path) -> None:
    raw = tmp_path / "layer.raw"
    raw.write_bytes(b"\xff" * 2 * 6 * 10)
    target = RawTarget(str(raw), "<i2", 10)
    target[slice(1, 3), slice(4, 7)] = np.array([[1, 2, 3], [4, 5, 6]], dtype="int16")
    target[slice(5, 6), slice(0, 10)] = np.arange(10, dtype="int16")
    written = np.fromfile(raw, dtype="<i2").reshape(6, 10)
    expected = np.full((6, 10), -1, dtype="int16")
    expected[1:3, 4:7] = [[1, 2, 3], [4, 5, 6]]
    expected[5] = np.arange(10)
    np.testing.assert_array_equal(written, expected)


def test_a_layer_of_a_type_gdal_does_not_store_is_refused(tmp_path: Path) -> None:
    complex_layer = _layer("CPX", np.zeros((700, 900), "complex64"), FINE)
    with pytest.raises(ValueError, match="complex64"):
        write_layers([complex_layer], tmp_path, client=None)  # type: ignore[arg-type]
    assert not list(tmp_path.iterdir())
