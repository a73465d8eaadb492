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
from terrapole.cube.cluster import dask_client
from terrapole.production.chain import Layer
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


CALLS: list[tuple[int, int]] = []


def _counted(block: np.ndarray, block_info: dict | None = None) -> np.ndarray:  # type: ignore[type-arg]
    assert block_info is not None
    CALLS.append(tuple(block_info[0]["chunk-location"]))
    return block * 2


def test_lazy_values_are_computed_with_the_layers_each_chunk_once(tmp_path: Path) -> None:
    """An item property made from a layer's own chunks (a one-element dask array) comes back as
    its value, and no chunk task runs twice: once for the raster, once for the property."""
    values = np.arange(700 * 900, dtype="float32").reshape(700, 900)
    doubled = da.from_array(values, chunks=256).map_blocks(_counted, dtype="float32")
    layer = Layer("TWO", wrap_xr(doubled, FINE), "doubled")
    total = doubled.astype("float64").sum(keepdims=True)
    CALLS.clear()
    with dask_client(Settings(dask_workers=2), processes=False) as client:
        paths, found = write_layers([layer], tmp_path, client, {"total": total})
    assert found == {"total": float(values.astype("float64").sum() * 2)}
    assert type(found["total"]) is float
    assert sorted(CALLS) == sorted({(r, c) for r in range(3) for c in range(4)})  # 12 chunks
    with rasterio.open(paths["TWO"]) as ds:
        np.testing.assert_array_equal(ds.read(1), values * 2)


def test_a_delayed_value_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    """A Delayed made from a layer's array carries a graph of its own: its chunk tasks would
    run a second time beside the layer's, so only one-element dask arrays are taken."""
    values = da.from_array(np.ones((700, 900), dtype="float32"), chunks=256)
    layer = Layer("ONE", wrap_xr(values, FINE), "ones")
    with pytest.raises(TypeError, match="'total' must be a dask array of one element"):
        write_layers([layer], tmp_path, client=None, values={"total": values.sum().to_delayed()})  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
