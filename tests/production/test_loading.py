"""Loading inputs: windowed reads of files on the grid's pixel edges give exactly what odc-stac
gives with nearest resampling (whole grid, a shifted sub-grid, a grid past the files' edge)."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from odc.geo.geobox import GeoBox

from terrapole.catalog.model import SearchQuery
from terrapole.catalog.search import search_all
from terrapole.config import Settings
from terrapole.cube import loading
from terrapole.jsontypes import Json
from terrapole.storage import LocalStorage

from .conftest import ingest_demo

KEYS = ("FRE_B4", "CLM_R2")


@pytest.fixture(scope="module")
def items(tmp_path_factory: pytest.TempPathFactory) -> list[Json]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("loading"))
    store = ingest_demo(settings, ("theia",))
    storage = LocalStorage(settings.assets_dir)
    found = search_all(store, SearchQuery(collections=("theia-sentinel-2-l2a",)))
    return [storage.localise(i) for i in found]


def _by_odc(items: list[Json], keys: tuple[str, ...], like: GeoBox) -> dict[str, np.ndarray]:
    stack = loading.load(items, keys, like, direct=False).data
    return {k: stack[k].values for k in keys}


@pytest.mark.parametrize(("key", "size"), [("FRE_B4", 10.0), ("CLM_R2", 20.0)])
def test_windowed_reads_equal_odc_stac(items: list[Json], key: str, size: float) -> None:
    grid = loading.grid(items, (key,), size, None)
    shifted = GeoBox((30, 50), grid.transform * Affine.translation(-7, 13), grid.crs)  # past edge
    for like in (grid, shifted):
        assert loading._direct(items, (key,), like, 16) is not None  # the fast path applies
        stack = loading.load(items, (key,), like, chunk=16).data
        reference = _by_odc(items, (key,), like)[key]
        np.testing.assert_array_equal(stack[key].values, reference)
        assert stack[key].shape == (len(items), *like.shape)
        assert stack[key].odc.geobox == like
        assert stack[key].attrs.get("nodata") == (-10000 if key == "FRE_B4" else None)
    # the shifted grid's first 13 columns lie west of the files: nodata there
    edge = loading.load(items, (key,), shifted, chunk=16).data[key].values[:, :, :7]
    assert (edge == (-10000 if key == "FRE_B4" else 0)).all()


def test_other_resolutions_go_through_odc_stac(items: list[Json], tmp_path: Path) -> None:
    coarse = loading.grid(items, ("FRE_B4",), 20.0, None)
    assert loading._direct(items, ("FRE_B4",), coarse, 16) is None
    stack = loading.load(items, ("FRE_B4",), coarse).data
    assert stack["FRE_B4"].shape == (len(items), 40, 40)


def test_band_stacks_read_straight_equal_odc_stac_and_slice_like_arrays(items: list[Json]) -> None:
    keys = ("FRE_B2", "FRE_B3", "FRE_B4")
    like = loading.grid(items, keys, 10.0, None)
    bands, moved = loading.load_bands(items, keys, like, chunk=32)
    assert moved == () and bands.dims == ("time", "band", "y", "x")
    assert bands.shape == (len(items), 3, 80, 80) and bands.odc.geobox == like
    assert bands.data.numblocks == (1, 1, 3, 3)  # one read task per chunk, all dates and bands
    reference = _by_odc(items, keys, like)
    for b, key in enumerate(keys):
        np.testing.assert_array_equal(bands.values[:, b], reference[key])
    # integer indexing folded into the reads (dask optimises x[t, b] into the getter)
    np.testing.assert_array_equal(bands.data[1, 2].compute(), reference["FRE_B4"][1])
    # an asset whose data type the item does not give goes through odc-stac, same numbers
    unknown = copy.deepcopy(items)
    del unknown[0]["assets"]["FRE_B2"]["raster:bands"][0]["data_type"]
    warped, _ = loading.load_bands(unknown, keys, like, chunk=32)
    np.testing.assert_array_equal(warped.values, bands.values)


def test_open_files_are_kept_per_thread_and_reopened_when_rewritten(tmp_path: Path) -> None:
    import os

    import rasterio
    from rasterio.transform import from_origin

    path = tmp_path / "band.tif"

    def write(value: int) -> None:
        with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1,
                           dtype="uint8", crs="EPSG:32631",
                           transform=from_origin(0, 40, 10, 10)) as ds:  # fmt: skip
            ds.write(np.full((4, 4), value, "uint8"), 1)

    write(1)
    first = loading._dataset(str(path))
    assert loading._dataset(str(path)) is first  # kept open
    write(2)
    stamp = path.stat().st_mtime_ns
    os.utime(path, ns=(stamp + 10**9, stamp + 10**9))  # a later modification time
    again = loading._dataset(str(path))
    assert again is not first and int(again.read(1)[0, 0]) == 2 and first.closed
    loading.close_files()
    assert again.closed


def test_bands_averaged_onto_a_coarser_grid_equal_odc_stacs_average(items: list[Json]) -> None:
    keys = ("FRE_B3", "FRE_B4", "CLM_R2")
    methods = {"FRE_B3": "average", "FRE_B4": "average"}  # 10 m onto 20 m; the mask as it is
    grid = loading.grid(items, keys, 20.0, None)
    shifted = GeoBox((30, 50), grid.transform * Affine.translation(-3, 5), grid.crs)  # past edge
    for like in (grid, shifted):
        assert loading._direct(items, keys, like, 12, methods) is not None  # the fast path
        stack = loading.load(items, keys, like, methods, chunk=12).data
        reference = loading.load(items, keys, like, methods, direct=False).data
        for key in keys:
            assert stack[key].dtype == reference[key].dtype == np.float32, key
            np.testing.assert_allclose(stack[key].values, reference[key].values, rtol=1e-6,
                                       err_msg=key)  # fmt: skip
    # the first 3 columns of the shifted grid lie west of the files: nodata there, as odc-stac
    assert (stack["FRE_B4"].values[:, :, :3] == -10000).all()
    # a factor that is not whole, or another method, goes through odc-stac
    odd = GeoBox((20, 20), grid.transform * Affine.scale(1.5), grid.crs)
    assert loading._direct(items, keys, odd, 12, methods) is None
    assert loading._direct(items, keys, grid, 12, {"FRE_B3": "bilinear"}) is None
