"""WASP on hand-computed pixels, and on real THEIA products (a clear and a fully cloudy date)."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import rasterio

from terrapole.processing.wasp import (
    FLAG_CLOUD,
    FLAG_LAND,
    FLAG_NODATA,
    FLAG_SNOW,
    FLAG_WATER,
    Observation,
    Stack,
    aot_weight,
    cloud_weight,
    cloudy_fraction,
    cloudy_fractions,
    composite,
    date_weight,
    synthesis,
    whole_cells,
)

from ..conftest import ROOT

D0 = date(2018, 9, 15)
THEIA = ROOT / "demo" / "products" / "theia"


def test_date_aot_and_sensor_weights() -> None:
    assert date_weight(D0, D0) == 1.0
    assert date_weight(date(2018, 10, 8), D0) == pytest.approx(0.5)  # +23 days
    assert date_weight(date(2018, 9, 4), D0) == pytest.approx(1 - 0.5 * 11 / 23)
    assert date_weight(date(2018, 11, 1), D0) == 0.0
    assert aot_weight(np.array([0.0, 0.4, 0.8, 1.2])) == pytest.approx([1.0, 0.665, 0.33, 0.33])
    assert aot_weight(None) == 1.0


def test_cloud_weight_is_zero_on_clouds_one_far_away_and_gaussian_in_between() -> None:
    cloud = np.zeros((101, 101), dtype=bool)
    cloud[50, 50] = True  # one cloudy 240 m cell (pixel size 240 m)
    w = cloud_weight(cloud, 240.0)
    assert w[50, 50] == 0.0 and w[0, 0] == pytest.approx(1.0, abs=1e-4)

    def g(d2: float, s: float) -> float:  # continuous 2-D Gaussian of unit mass
        return math.exp(-d2 / (2 * s * s)) / (2 * math.pi * s * s)

    # 3 cells east: S = g(9, 2), L = g(9, 10)
    assert w[50, 53] == pytest.approx((1 - g(9, 2)) * (1 - g(9, 10)), abs=2e-4)


def _obs(values: list[float], cloudy: list[bool], day: date) -> Observation:
    refl = np.array(values, dtype="float64").reshape(1, 1, -1)  # one band, one row
    return Observation(refl, np.array(cloudy).reshape(1, -1), day)


def test_composite_weights_dates_and_handles_clouds_and_nodata() -> None:
    # pixel 0: clear on both dates; pixel 1: cloudy on date 2; pixel 2: cloudy on both (darkest
    # wins); pixel 3: no data at all. Pixel size 240 m: cells are pixels; clouds sit far enough
    # (60 px) from pixel 0 for the blur to be negligible, so the weights are the date weights.
    width = 130
    v1, v2 = [0.1] * width, [0.3] * width
    c1, c2 = [False] * width, [False] * width
    v1[70], v2[70] = 0.2, 0.4
    c2[70] = True
    v1[128], v2[128] = 0.25, 0.15
    c1[128] = c2[128] = True
    v1[129] = v2[129] = float("nan")
    out = composite([_obs(v1, c1, D0), _obs(v2, c2, date(2018, 10, 8))], D0, 240.0)
    # pixel 0: (0.1 * 1 + 0.3 * 0.5) / 1.5, mean date (0 * 1 + 23 * 0.5) / 1.5
    assert out.frc[0, 0, 0] == round(10000 * 0.25 / 1.5)
    assert out.dts[0, 0] == pytest.approx(23 * 0.5 / 1.5, rel=1e-4)
    assert out.wgt[0, 0] == 1500 and out.flg[0, 0] == FLAG_LAND
    assert out.frc[0, 0, 70] == 2000  # only the clear date counts
    assert out.frc[0, 0, 128] == 1500 and out.flg[0, 128] == FLAG_CLOUD  # darkest of two clouds
    assert out.frc[0, 0, 129] == -10000 and out.flg[0, 129] == FLAG_NODATA


def _read(folder: Path) -> Observation:
    bands = []
    for name in ("FRE_B2", "FRE_B3", "FRE_B4"):
        with rasterio.open(next(folder.glob(f"*_{name}.tif"))) as ds:
            data = ds.read(1).astype("float64")
        bands.append(np.where(data == -10000, np.nan, data / 10000))
    with rasterio.open(next(folder.glob("MASKS/*_CLM_R2.tif"))) as ds:
        clm = ds.read(1)
    cloud = np.repeat(np.repeat(clm != 0, 2, axis=0), 2, axis=1)  # 20 m mask on the 10 m grid
    day = date(int(folder.name[11:15]), int(folder.name[15:17]), int(folder.name[17:19]))
    return Observation(np.stack(bands), cloud, day)


def test_real_clear_and_cloudy_dates_give_the_clear_reflectance() -> None:
    clear = _read(THEIA / "SENTINEL2A_20180826-104155-257_L2A_T31UFQ_D_V1-8")
    cloudy = _read(THEIA / "SENTINEL2A_20180905-104527-122_L2A_T31UFQ_D_V1-9")
    assert not clear.cloud.any() and cloudy.cloud.all()  # as their CLM masks say
    out = composite([clear, cloudy], D0, 10.0)
    assert np.array_equal(out.frc, np.round(clear.reflectance * 10000).astype(np.int16))
    assert (out.flg == FLAG_LAND).all()
    assert out.dts == pytest.approx(np.full(out.dts.shape, -20.0))  # 2018-08-26 is D0 - 20


def test_dask_chunks_give_the_same_composite_as_numpy() -> None:
    import dask
    import dask.array as da

    observations = [
        _read(THEIA / "SENTINEL2A_20180826-104155-257_L2A_T31UFQ_D_V1-8"),
        _read(THEIA / "SENTINEL2A_20180905-104527-122_L2A_T31UFQ_D_V1-9"),
        _read(THEIA / "SENTINEL2A_20151230-105153-392_L2A_T31UFQ_D_V1-1"),  # partly cloudy
    ]
    eager = composite(observations, D0, 10.0)
    lazy_obs = [
        Observation(
            da.from_array(o.reflectance, chunks=(3, 32, 32)),
            da.from_array(o.cloud, chunks=(32, 32)),
            o.day,
        )  # fmt: skip
        for o in observations
    ]
    lazy = composite(lazy_obs, D0, 10.0)
    assert isinstance(lazy.frc, da.Array)  # nothing computed yet
    with dask.config.set(scheduler="threads", num_workers=2):
        frc, wgt, dts, flg = dask.compute(lazy.frc, lazy.wgt, lazy.dts, lazy.flg)
    assert np.array_equal(frc, eager.frc) and np.array_equal(wgt, eager.wgt)
    assert np.array_equal(flg, eager.flg) and np.allclose(dts, eager.dts, equal_nan=True)


def test_stored_numbers_with_scale_and_nodata_give_the_same_composite() -> None:
    """int16 x 1e-4 with -10000 for nodata, read straight, equals the float reflectance route."""
    observations = [
        _read(THEIA / "SENTINEL2A_20180826-104155-257_L2A_T31UFQ_D_V1-8"),
        _read(THEIA / "SENTINEL2A_20151230-105153-392_L2A_T31UFQ_D_V1-1"),  # partly cloudy
    ]
    observations[0].reflectance[:, :, :10] = np.nan  # a swath edge: no data on the first date
    observations[0].reflectance[1, 40:45, 40:45] = np.nan  # and one band missing in a patch
    stored = [
        Observation(
            np.where(np.isnan(o.reflectance), -10000, np.round(o.reflectance * 10000)).astype(
                np.int16
            ),
            o.cloud,
            o.day,
        )
        for o in observations
    ]
    expected = composite(observations, D0, 10.0)
    got = composite(stored, D0, 10.0, scale=1e-4, nodata=-10000)
    # sums of stored numbers scaled at the end vs sums of scaled numbers: float rounding only
    assert np.abs(got.frc.astype(int) - expected.frc).max() <= 1
    assert np.array_equal(got.flg, expected.flg) and np.array_equal(got.wgt, expected.wgt)
    with pytest.raises(ValueError, match="scale must be positive"):
        composite(stored, D0, 10.0, scale=0.0)


def test_aot_lowers_a_hazy_date_weight_by_hand() -> None:
    width = 130
    hazy = np.full((1, width), 0.4)  # AOT 0.4: weight 0.33 + 0.67 * 0.5 = 0.665
    clear = np.zeros((1, width))
    first = _obs([0.1] * width, [False] * width, D0)
    second = _obs([0.3] * width, [False] * width, D0)
    first = Observation(first.reflectance, first.cloud, D0, aot=clear)
    second = Observation(second.reflectance, second.cloud, D0, aot=hazy)
    out = composite([first, second], D0, 240.0)
    assert out.frc[0, 0, 0] == round(10000 * (0.1 * 1 + 0.3 * 0.665) / 1.665)
    assert out.wgt[0, 0] == round(1000 * 1.665)
    with pytest.raises(ValueError, match="AOT of every observation or of none"):
        composite([first, _obs([0.3] * width, [False] * width, D0)], D0, 240.0)


def test_a_coarser_cloud_mask_equals_the_mask_repeated_on_the_band_grid() -> None:
    import dask.array as da

    folders = ("SENTINEL2A_20180826-104155-257_L2A_T31UFQ_D_V1-8",
               "SENTINEL2A_20151230-105153-392_L2A_T31UFQ_D_V1-1")  # fmt: skip
    observations = [_read(THEIA / f) for f in folders]
    expected = composite(observations, D0, 10.0)
    coarse = np.stack([o.cloud[::2, ::2] for o in observations])  # the 20 m mask as stored
    cells = [cloudy_fraction(o.cloud, 10.0) for o in observations]
    stack = Stack(
        reflectance=da.from_array(np.stack([o.reflectance for o in observations]),
                                  chunks=(1, 3, 32, 32)),
        cloud=da.from_array(coarse, chunks=(1, 16, 16)),
        days=[o.day for o in observations], cells=cells, sensors=["sentinel-2"] * 2,
        cloud_factor=2,
    )  # fmt: skip
    got = synthesis(stack, D0, 10.0)
    assert np.array_equal(got.frc.compute(), expected.frc)
    assert np.array_equal(got.flg.compute(), expected.flg)
    assert np.array_equal(got.wgt.compute(), expected.wgt)


def test_cloudy_fractions_by_chunks_of_whole_cells_equal_the_whole_grid() -> None:
    rng = np.random.default_rng(3)
    masks = (rng.random((3, 250, 301)) < 0.4).astype("uint8")  # partial cells at both edges
    expected = np.stack([cloudy_fraction(m, 20.0) for m in masks])  # 12 px cells
    assert whole_cells(100, 20.0) == 96 and whole_cells(5, 20.0) == 12
    aligned = da.from_array(masks, chunks=(-1, 96, 96))
    np.testing.assert_array_equal(cloudy_fractions(aligned, 20.0).compute(), expected)
    assert len(cloudy_fractions(aligned, 20.0).__dask_graph__()) < 40  # a task per chunk
    unaligned = da.from_array(masks, chunks=(-1, 100, 100))
    np.testing.assert_array_equal(cloudy_fractions(unaligned, 20.0).compute(), expected)
    np.testing.assert_array_equal(cloudy_fractions(masks, 20.0), expected)


def _kernel_cache_use() -> tuple[int, int]:
    from terrapole.processing import wasp

    stats = wasp._synthesise.stats
    return sum(stats.cache_hits.values()), sum(stats.cache_misses.values())


def test_a_new_worker_process_runs_the_kernel_from_numbas_disk_cache() -> None:
    """The chunk task travels by reference: a closure would carry a copy of the kernel that
    every new worker process compiles again (about 4 s each)."""
    from terrapole.config import Settings
    from terrapole.cube.cluster import dask_client

    observations = [
        _read(THEIA / "SENTINEL2A_20180826-104155-257_L2A_T31UFQ_D_V1-8"),
        _read(THEIA / "SENTINEL2A_20151230-105153-392_L2A_T31UFQ_D_V1-1"),
    ]
    eager = composite(observations, D0, 10.0)  # compiled here (and cached) if it was not
    lazy = composite(
        [Observation(da.from_array(o.reflectance, chunks=(3, 64, 64)), da.from_array(o.cloud),
                     o.day) for o in observations], D0, 10.0,
    )  # fmt: skip
    with dask_client(Settings(dask_workers=1), processes=True) as client:
        frc = client.compute(lazy.frc).result()
        used = list(client.run(_kernel_cache_use).values())
    assert np.array_equal(frc, eager.frc)
    assert used == [(1, 0)]  # loaded from the cache once, never compiled


def test_only_clm_bit_0_is_cloud_so_other_bits_keep_their_weight() -> None:
    # MAJA CLM codes: 2 (all clouds bit without the summary bit 0) and 64 (other shadows) are
    # not WASP clouds; 1 and 3 are. Pixel size 240 m: one pixel per cell.
    codes = np.zeros((1, 60), dtype=np.uint8)
    codes[0, 10], codes[0, 20], codes[0, 30], codes[0, 40] = 2, 64, 1, 3
    w = cloud_weight(codes, 240.0)
    assert w[0, 30] == 0.0 and w[0, 40] == 0.0
    assert w[0, 10] > 0.5 and w[0, 20] > 0.5
    refl = np.full((1, 1, 1, 60), 0.2)
    stack = Stack(refl, codes[None], [D0], cloudy_fractions(codes[None], 240.0), ["sentinel-2"])
    out = synthesis(stack, D0, 240.0)
    assert out.flg[0, 10] == out.flg[0, 20] == FLAG_LAND and out.flg[0, 30] == FLAG_CLOUD


def test_one_code_above_73_no_longer_makes_a_12_by_12_cell_cloudy() -> None:
    # the old chain averaged raw codes: one pixel coded 100 among 143 clear ones is a mean
    # above 0.5; as a binary mask (bit 0 clear in 100) the cell is clear
    codes = np.zeros((1, 12, 12), dtype=np.uint8)
    codes[0, 0, 0] = 100
    assert cloudy_fractions(codes, 20.0)[0, 0, 0] == 0.0
    codes[0, 0, 0] = 101  # bit 0 set: one cloudy pixel of 144
    assert cloudy_fractions(codes, 20.0)[0, 0, 0] == pytest.approx(1 / 144)


def test_cloud_weight_is_bicubic_between_cell_centres_not_nearest() -> None:
    # 20 m pixels, 12 per cell: the weight varies within a cell (BCO), and is smooth across
    # the cell edge where nearest-neighbour repetition would jump
    cloud = np.zeros((240, 240), dtype=bool)
    cloud[108:132, 108:132] = True  # 2 x 2 cells cloudy in the middle
    w = cloud_weight(cloud, 20.0)
    row = w[60, :]
    assert len(np.unique(np.round(row[:12], 6))) > 1  # not constant inside the first cell
    steps = np.abs(np.diff(row[36:108]))
    assert steps.max() < 0.05  # no jump at cell edges (pixels 47/48, 59/60, ...)


def test_snow_and_water_dates_are_kept_only_without_a_clear_land_date() -> None:
    # MG2: bit 0 water, bit 2 snow. Pixel 0: land then snow -> land mean; pixel 1: snow then
    # snow -> the latest snow date; pixel 2: water, then cloudy -> water; pixel 3: cloudy only
    width = 4
    refl = np.array([[[[0.1, 0.5, 0.05, 0.3]]], [[[0.6, 0.7, 0.2, 0.4]]]])  # (date, 1, 1, x)
    cloud = np.array([[[0, 0, 0, 1]], [[0, 0, 1, 1]]], dtype=np.uint8)
    mg2 = np.array([[[0, 4, 1, 0]], [[4, 4, 0, 0]]], dtype=np.uint8)
    days = [date(2018, 9, 10), date(2018, 9, 20)]
    cells = cloudy_fractions(np.zeros((2, 1, width), np.uint8), 240.0)  # no cloudy cell
    stack = Stack(refl, cloud, days, cells, ["sentinel-2"] * 2, surface=mg2)
    out = synthesis(stack, D0, 240.0)
    assert out.flg[0].tolist() == [FLAG_LAND, FLAG_SNOW, FLAG_WATER, FLAG_CLOUD]
    assert out.frc[0, 0].tolist() == [1000, 7000, 500, 3000]
    assert out.wgt[0, 1:].tolist() == [0, 0, 0]
    assert out.dts[0].tolist()[1:] == [5.0, -5.0, -5.0]


def test_chunks_interpolate_the_whole_scene_cloud_grid_exactly() -> None:
    """Chunks that cut 240 m cells (32 px of 10 m) give the whole-scene synthesis bit for bit,
    with CLM codes on the 20 m grid and an MG2 mask, as the chain passes them."""
    import dask

    series = ROOT / "tests" / "data" / "t31ufq"
    centre = date(2017, 6, 15)  # the window holds 2017-06-12, half cloudy
    folders = [
        p
        for p in sorted(series.iterdir())
        if p.is_dir()
        and abs((date(int(p.name[11:15]), int(p.name[15:17]), int(p.name[17:19])) - centre).days)
        <= 23
    ]
    refl, clm, days = [], [], []
    for folder in folders:
        bands = []
        for name in ("FRE_B2", "FRE_B3", "FRE_B4"):
            with rasterio.open(next(folder.glob(f"*_{name}.tif"))) as ds:
                bands.append(ds.read(1))
        with rasterio.open(next(folder.glob("MASKS/*_CLM_R2.tif"))) as ds:
            clm.append(ds.read(1))
        refl.append(np.stack(bands))
        stamp = folder.name.split("_")[1]
        days.append(date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8])))
    masks = np.stack(clm)
    mg2 = np.where(masks == 0, np.uint8(4) * (np.arange(40)[None, None, :] % 7 == 0), 0)
    assert ((masks & 1) != 0).mean() > 0.05 and ((masks & 1) == 0).mean() > 0.05
    cells = cloudy_fractions(masks, 20.0)
    whole = synthesis(Stack(np.stack(refl), masks, days, cells, ["sentinel-2"] * len(days), 2,
                            surface=mg2.astype(np.uint8)), centre, 10.0, scale=1e-4,
                      nodata=-10000)  # fmt: skip
    lazy = synthesis(
        Stack(da.from_array(np.stack(refl), chunks=(-1, -1, 32, 32)),
              da.from_array(masks, chunks=(-1, 16, 16)), days, cells,
              ["sentinel-2"] * len(days), 2,
              surface=da.from_array(mg2.astype(np.uint8), chunks=(-1, 16, 16))),
        centre, 10.0, scale=1e-4, nodata=-10000,
    )  # fmt: skip
    with dask.config.set(scheduler="threads", num_workers=2):
        frc, wgt, dts, flg = dask.compute(lazy.frc, lazy.wgt, lazy.dts, lazy.flg)
    assert np.array_equal(frc, whole.frc) and np.array_equal(wgt, whole.wgt)
    assert np.array_equal(flg, whole.flg) and np.array_equal(dts, whole.dts, equal_nan=True)
    assert len(np.unique(wgt)) > 20  # cloud edges in the scene: the weights vary
