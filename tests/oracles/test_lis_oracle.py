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
        day = date.fromisoformat(folder.name.split("_")[1][:8].replace("", "")[:8][:4] + "-"
                                 + folder.name.split("_")[1][4:6] + "-"
                                 + folder.name.split("_")[1][6:8])  # fmt: skip
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
