"""Let-It-Snow: the production kernels against the plain-numpy oracle (tests/oracles/lis.py) on
real data.

The bands are the 97 real THEIA L2A dates with data of tile T31UFQ (tests/data/t31ufq, 40 x 40
pixels at 20 m): B3 and B4 (10 m) averaged 2 x 2 over their pixels with data, as the chain loads
them ("average" resampling), B11 and the CLM_R2 cloud mask at 20 m. The series has no snow and
no relief, so it is paired with real elevations: the 40 x 40 window rows 400-439, columns 440-479
of the Copernicus GLO-30 tile of Grenoble (demo/products/dem, 671-2727 m, values as float) —
a DEM that does not lie under these bands, used as a realistic elevation field.

The kernels get what the chain gives them (float32 reflectance = DN × 1e-4, NaN for no data);
the oracle works in stored numbers (float64), as the reference does.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.warp import Resampling, reproject

from terrapole.processing import snow
from terrapole.processing.grid import valid_block_mean

from . import lis

ROOT = Path(__file__).resolve().parents[2]
SERIES = ROOT / "tests" / "data" / "t31ufq"
DEM = ROOT / "demo" / "products" / "dem" / "Copernicus_DSM_10_N45_00_E005_00_DEM.tif"
DEM_WINDOW = (slice(400, 440), slice(440, 480))


@dataclass(frozen=True)
class Date:
    """One date in stored numbers (float64, NaN for no data) and the raw CLM byte."""

    day: date
    green: np.ndarray  # type: ignore[type-arg]
    red: np.ndarray  # type: ignore[type-arg]
    swir: np.ndarray  # type: ignore[type-arg]
    clm: np.ndarray  # type: ignore[type-arg]

    def reflectance(self) -> dict[str, np.ndarray]:  # type: ignore[type-arg]
        """The kernel's inputs as the chain builds them: float32 DN (the 2 x 2 means in float32)
        times float32(1e-4), NaN for no data."""
        return {k: np.float32(getattr(self, k).astype(np.float32)) * np.float32(1e-4)
                for k in ("green", "red", "swir")}  # fmt: skip


def _read(folder: Path, band: str) -> np.ndarray:  # type: ignore[type-arg]
    path = next(folder.glob(f"*_FRE_{band}.tif"))
    with rasterio.open(path) as ds:
        return ds.read(1)


def _ten_to_twenty(dn: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
    """Mean of each 2 x 2 block over its pixels that are not -10000 (NaN when none)."""
    mean = valid_block_mean(dn.astype(np.float32), 2, -10000.0).astype(np.float64)
    return np.where(mean == -10000.0, np.nan, mean)


@functools.lru_cache(maxsize=1)
def series() -> tuple[Date, ...]:
    """Every date of the series with data."""
    dates = []
    for folder in sorted(SERIES.glob("SENTINEL2*")):
        swir = _read(folder, "B11").astype(np.float64)
        with rasterio.open(next((folder / "MASKS").glob("*_CLM_R2.tif"))) as ds:
            clm = ds.read(1)
        stamp = folder.name.split("_")[1]
        day = date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8]))
        dates.append(Date(day, _ten_to_twenty(_read(folder, "B3")),
                          _ten_to_twenty(_read(folder, "B4")),
                          np.where(swir == -10000, np.nan, swir), clm))  # fmt: skip
    return tuple(sorted(dates, key=lambda d: d.day))


@functools.lru_cache(maxsize=1)
def elevation() -> np.ndarray:  # type: ignore[type-arg]
    """The 40 x 40 Grenoble DEM window in metres (float)."""
    with rasterio.open(DEM) as ds:
        return ds.read(1)[DEM_WINDOW].astype(np.float64)


def test_the_series_is_the_97_real_dates() -> None:
    dates = series()
    assert len(dates) == 97 and dates[0].day == date(2015, 12, 30)
    assert all(d.green.shape == d.swir.shape == d.clm.shape == (40, 40) for d in dates)
    z = elevation()
    assert z.min() == 671 and z.max() == 2727


def _gdal_coarse_red(red: np.ndarray, rf: int = 12) -> np.ndarray:  # type: ignore[type-arg]
    """The reference's pass 0 by GDAL itself (rasterio's): bilinear warp of red to 1/rf of the
    pixels into Int16 (no data -10000), then nearest back onto the full grid."""
    rows, cols = red.shape
    cells = (rows // rf, cols // rf)
    fine = Affine(20, 0, 670540, 0, -20, 5461500)
    coarse_t = Affine(20 * cols / cells[1], 0, 670540, 0, -20 * rows / cells[0], 5461500)
    coarse = np.full(cells, -10000, dtype=np.int16)
    kw = {"src_crs": "EPSG:32631", "dst_crs": "EPSG:32631"}
    reproject(np.where(np.isnan(red), -10000, red), coarse, src_transform=fine,
              dst_transform=coarse_t, src_nodata=-10000, dst_nodata=-10000,
              resampling=Resampling.bilinear, **kw)  # fmt: skip
    back = np.full((rows, cols), -10000, dtype=np.int16)
    reproject(coarse, back, src_transform=coarse_t, dst_transform=fine, src_nodata=-10000,
              dst_nodata=-10000, resampling=Resampling.nearest, **kw)  # fmt: skip
    return back


def test_oracle_coarse_red_is_gdals_warp_on_every_date() -> None:
    """The oracle's coarse red (triangle weights, centre-pixel rule, Int16 rounding, nearest
    back) equals GDAL's two warps on the 97 real red bands, on crops whose sides are not
    multiples of 12 and, as the series' red has no no-data pixel, with no data where the date's
    CLM is not 0 (holes shaped like real clouds)."""
    compared = holes = 0
    for d in series():
        for crop in ((slice(None), slice(None)), (slice(3, 40), slice(0, 29))):
            for red in (d.red[crop], np.where(d.clm[crop] > 0, np.nan, d.red[crop])):
                np.testing.assert_array_equal(lis.coarse_red(red)[1], _gdal_coarse_red(red))
                compared += 1
                holes += int(np.isnan(red).sum())
    assert compared == 388 and holes > 10000


def test_kernel_codes_equal_the_oracle_on_every_date() -> None:
    """Codes identical on all 97 dates, whole and in 16 px parts (the parts split the 3 x 3
    coarse cells of 13.3 px); the series holds shadows, high clouds, bright clouds and released
    dark clouds, so the test cannot pass on clear skies alone."""
    z = elevation()
    shadow = high = dark = bright_cloud = pixels = 0
    for d in series():
        expected = lis.detect(d.green, d.red, d.swir, d.clm, z)
        refl = d.reflectance()
        found = snow.detect(refl["green"], refl["red"], refl["swir"], d.clm, z.astype(np.float32))
        np.testing.assert_array_equal(found.codes, expected.codes, err_msg=str(d.day))
        assert found.snowline == (expected.zs if expected.pass2 else None)
        parts = _in_parts(refl, d.clm, z.astype(np.float32), 16)
        np.testing.assert_array_equal(parts, expected.codes, err_msg=str(d.day))
        shadow += int(expected.shadow.sum())
        high += int(expected.high.sum())
        dark += int(expected.dark.sum())
        bright_cloud += int(((d.clm > 0) & (expected.codes == lis.CLOUD)).sum())
        pixels += expected.codes.size
    assert pixels == 97 * 1600
    assert shadow > 1000 and high > 1000 and dark > 1000 and bright_cloud > 1000, (
        shadow, high, dark, bright_cloud,
    )  # fmt: skip


Grid = np.ndarray  # type: ignore[type-arg]


def _in_parts(refl: dict[str, Grid], clm: Grid, dem: Grid, size: int) -> Grid:
    """The kernel part by part as the chain runs it: every part's share, the scene, then the
    codes part by part."""
    shape = clm.shape
    parts = [(slice(r, r + size), slice(c, c + size))
             for r in range(0, shape[0], size) for c in range(0, shape[1], size)]  # fmt: skip
    g, r, s = refl["green"], refl["red"], refl["swir"]
    shares = [snow.scene_share(g[p], r[p], s[p], clm[p], dem[p], origin=(p[0].start, p[1].start),
                               shape=shape) for p in parts]  # fmt: skip
    scene = snow.scene_of(shares, shape)
    codes = np.empty(shape, dtype=np.uint8)
    for p in parts:
        codes[p] = snow.snow_codes(g[p], r[p], s[p], clm[p], dem[p], scene,
                                   origin=(p[0].start, p[1].start), shape=shape)[0]  # fmt: skip
    return codes


def _snowy(d: Date, z: Grid) -> Date:
    """``d`` with snow painted by elevation on its real bands (stored numbers): bright snow
    from 2000 m (green 6000, red 5500, SWIR 1000: pass 1), thin snow from 1500 to 2000 m (green
    3000, red 1000, SWIR 2000: NDSI 0.2, pass 2 only), the real bands below."""
    bright, thin = z >= 2000, (z >= 1500) & (z < 2000)

    def band(real: Grid, snow_dn: float, thin_dn: float) -> Grid:
        return np.where(bright, snow_dn, np.where(thin, thin_dn, real))

    return Date(d.day, band(d.green, 6000, 3000), band(d.red, 5500, 1000),
                band(d.swir, 1000, 2000), d.clm)  # fmt: skip


def test_snow_line_and_pass_two_on_real_bands_and_dem() -> None:
    """No real snowy Sentinel-2 crop is in the repository (tests/data/snowy_s2 absent), so the
    pass-2 case is built from real data: the clear 2016-05-08 bands with snow painted by the
    real Grenoble elevations (:func:`_snowy`). By hand: 671-2727 m gives 20 bins of 102.8 m
    from 671 m; [1904.6, 2007.4) holds 124 pixels of which 7 (2000-2007 m) are pass-1 snow,
    5.6 % <= 10 %; [2007.4, 2110.2) is all snow (150 pixels), so z_s comes from two bins lower,
    [1801.8, 1904.6): floor(1853.2 - 50) = 1803 m (100 m bins from 0 m would give 1800 m).
    Thin snow above 1803 m becomes snow, below stays no snow. Then the same scene under the
    real cloud masks of 2016-04-28 (45 % cloud, shadows) and 2017-04-03 (35 %, high clouds):
    kernel and oracle agree, and pass 2 never reaches a shadow or a high cloud."""
    z = elevation()
    clear = next(d for d in series() if d.day == date(2016, 5, 8))
    assert (clear.clm == 0).all()
    s = _snowy(clear, z)
    expected = lis.detect(s.green, s.red, s.swir, s.clm, z)
    assert expected.zs == 1803 and expected.pass2
    refl = s.reflectance()
    found = snow.detect(refl["green"], refl["red"], refl["swir"], s.clm, z.astype(np.float32))
    assert found.snowline == 1803
    np.testing.assert_array_equal(found.codes, expected.codes)
    thin = (z >= 1500) & (z < 2000)
    assert (found.codes[z >= 2000] == lis.SNOW).all()
    assert (found.codes[thin & (z > 1803)] == lis.SNOW).all() and (thin & (z > 1803)).sum() > 150
    assert (found.codes[thin & (z <= 1803)] == lis.NO_SNOW).all() and (thin & (z <= 1803)).any()
    for cloudy_day in (date(2016, 4, 28), date(2017, 4, 3)):
        clm = next(d for d in series() if d.day == cloudy_day).clm
        expected = lis.detect(s.green, s.red, s.swir, clm, z)
        found = snow.detect(refl["green"], refl["red"], refl["swir"], clm, z.astype(np.float32))
        np.testing.assert_array_equal(found.codes, expected.codes, err_msg=str(cloudy_day))
        assert expected.pass2 and found.snowline == expected.zs
        under = (expected.shadow | expected.high) & thin & (z > expected.zs)
        assert under.sum() > 20 and (found.codes[under] == lis.CLOUD).all()
        parts = _in_parts(refl, clm, z.astype(np.float32), 16)
        np.testing.assert_array_equal(parts, expected.codes)


def _seasonal(d: Date, z: Grid) -> Date:
    """``d`` with bright snow painted above a snow line that moves with the season (900 m in
    mid-January, 3100 m in mid-July: none on the DEM), under the date's real clouds."""
    turn = 2 * np.pi * (d.day.timetuple().tm_yday - 15) / 365.25
    above = z >= 900 + 2200 * (1 - np.cos(turn)) / 2

    def band(real: Grid, snow_dn: float) -> Grid:
        return np.where(above, snow_dn, real)

    return Date(d.day, band(d.green, 6000), band(d.red, 5500), band(d.swir, 1000), d.clm)


def test_annual_synthesis_equals_the_oracle_on_the_series() -> None:
    """Snow years 2015-16 to 2019-20 from the 97 dates with seasonal snow (:func:`_seasonal`)
    and their real clouds, plus a second product on 12 of the days (the next date's codes) so
    that days have two looks: with the 15-day margins, SCD, SOD, SMOD and NOBS of every pixel
    equal the oracle's, which fills each pixel's days with numpy's linear interpolation."""
    z = elevation()
    dated = []
    for d in series():
        s = _seasonal(d, z)
        refl = s.reflectance()
        found = snow.detect(refl["green"], refl["red"], refl["swir"], s.clm, z.astype(np.float32))
        np.testing.assert_array_equal(
            found.codes, lis.detect(s.green, s.red, s.swir, s.clm, z).codes
        )
        dated.append((d.day, found.codes))
    dated += [(dated[i][0], dated[i + 1][1]) for i in range(0, 96, 8)]  # same-day looks
    compared = snowy = with_dates = 0
    for year in range(2015, 2020):
        first = date(year, 9, 1)
        length = (date(year + 1, 9, 1) - first).days
        inside = [(day, c) for day, c in dated
                  if -15 <= (day - first).days < length + 15]  # fmt: skip
        days = [(day - first).days for day, _ in inside]
        got = snow.snow_year(days, [c for _, c in inside], length)
        for y, x in np.ndindex(40, 40):
            want = lis.year_of_pixel(days, [int(c[y, x]) for _, c in inside], length)
            assert (got.scd[y, x], got.sod[y, x], got.smod[y, x], got.nobs[y, x]) == (
                want.scd, want.sod, want.smod, want.nobs,
            ), (year, y, x)  # fmt: skip
            compared += 1
            snowy += want.scd > 0
            with_dates += want.sod >= 0
    assert compared == 5 * 1600 and snowy > 4000 and with_dates > 3000, (snowy, with_dates)
