"""Let-It-Snow written again in plain numpy, step by step as the reference runs it: the test oracle.

Written from the reference code, not from terrapole's kernels (nothing is shared with
``terrapole.processing.snow``): orfeotoolbox/let-it-snow, branch ``develop`` at d11de01
(``python/s2snow/snow_detector.py`` pass0/pass1/pass2, ``app/build_json.py`` defaults,
``src/histo_utils.cxx`` and ``src/ComputeSnowLine.cxx``), the ITK histogram it relies on
(``itkHistogram.hxx``: float32 bin width, last bin closed), GDAL's warper for the coarse red
(bilinear, checked against rasterio's GDAL in the tests) and, for the year, the LIS 1.7+ synthesis
(``snow_synthesis.py``, ``compute_SOD_SMOD.py``, ``compute_NOBS.py``) with OTB's linear
gap filling. See docs/algorithms.md (Let-It-Snow).

Inputs are in stored numbers as the reference reads them: reflectance × 10000 as float64 with NaN
for no data, the raw MAJA CLM byte, the DEM in metres (NaN: no DEM there, a terrapole addition).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float64]

# app/build_json.py (S2 / MUSCATE): reflectance thresholds × multi (10) in stored numbers
DZ = 100
NDSI_PASS1, RED_PASS1 = 0.4, 2000.0
NDSI_PASS2, RED_PASS2 = 0.15, 400.0
FSNOW_LIM, FCLEAR_LIM, FSNOW_TOTAL_LIM = 0.1, 0.1, 0.001
RED_DARKCLOUD, RED_BACKTOCLOUD = 3000.0, 1000.0
RF = 12
SHADOW_IN, SHADOW_OUT, HIGH_CLOUD = 32, 64, 128
NO_SNOW, SNOW, CLOUD, NODATA = 0, 100, 205, 254
NODATA_DN = -10000


def triangle_weights(n: int, m: int) -> F:
    """(m, n) weights of GDAL's bilinear warp from n pixels to m coarser ones on one axis: the
    triangle of half-width one coarse pixel, centred on the coarse pixel's centre."""
    centre = (np.arange(m) + 0.5) * n / m
    distance = (np.arange(n)[None, :] + 0.5 - centre[:, None]) * m / n
    return np.maximum(0.0, 1.0 - np.abs(distance))


def coarse_red(red: F, rf: int = RF) -> tuple[F, F]:
    """``red`` warped to (rows // rf, cols // rf) pixels bilinearly (no-data pixels left out of
    the weights; a cell whose centre pixel is no data is no data), written as Int16 (rounded
    half up; no data -10000) as the reference's red_coarse.tif, then warped back to the full grid
    by nearest neighbour (red_nn.tif). Returns (coarse grid, full-resolution grid)."""
    n_r, n_c = red.shape
    m_r, m_c = max(n_r // rf, 1), max(n_c // rf, 1)
    valid = np.isfinite(red)
    wy, wx = triangle_weights(n_r, m_r), triangle_weights(n_c, m_c)
    num = wy @ np.where(valid, red, 0.0) @ wx.T
    den = wy @ valid.astype(float) @ wx.T
    # GDAL picks a source pixel as floor(position + 1e-10)
    centre_r = np.floor((np.arange(m_r) + 0.5) * n_r / m_r + 1e-10).astype(int)
    centre_c = np.floor((np.arange(m_c) + 0.5) * n_c / m_c + 1e-10).astype(int)
    ok = valid[np.ix_(centre_r, centre_c)]
    with np.errstate(invalid="ignore", divide="ignore"):
        coarse = np.where(ok, np.floor(num / den + 0.5), NODATA_DN)
    back_r = np.floor((np.arange(n_r) + 0.5) * m_r / n_r + 1e-10).astype(int)
    back_c = np.floor((np.arange(n_c) + 0.5) * m_c / n_c + 1e-10).astype(int)
    return coarse, coarse[np.ix_(back_r, back_c)]


def snowline(dem: F, snow: NDArray[np.bool_], cloud: NDArray[np.bool_]) -> int:
    """ComputeSnowLine: the DEM read as 16-bit integers, an ITK histogram from its min to its max
    in floor((max - min) / dz) bins (float32 width; the max in the last bin), the lowest bin with
    clear/all > fclear_lim and snow/clear > fsnow_lim, and floor(centre of the bin two below
    - dz/2); -1 when there is none."""
    known = np.isfinite(dem)
    if not known.any():
        return -1
    z = np.trunc(dem[known]).astype(np.int64)
    lo, hi = int(z.min()), int(z.max())
    nb = int((hi - lo) / DZ)
    if nb < 1:
        return -1
    width = np.float32(np.float32(hi) - np.float32(lo)) / np.float32(nb)
    mins = [lo + float(np.float32(j) * width) for j in range(nb)]
    maxs = [lo + float(np.float32(j + 1) * width) for j in range(nb - 1)] + [float(hi)]
    index = np.searchsorted(np.array(mins), z.astype(float), side="right") - 1
    s, c = snow[known], cloud[known]
    for i in range(nb):
        here = index == i
        total = int(here.sum())
        clear = int((here & ~c).sum())
        snowy = int((here & ~c & s).sum())
        clear_fraction = clear / total if total else 0.0
        if clear_fraction > np.float32(FCLEAR_LIM) and snowy / clear > np.float32(FSNOW_LIM):
            j = max(i - 2, 0)
            return math.floor((mins[j] + maxs[j]) / 2.0 + int(-DZ / 2))
    return -1


@dataclass(frozen=True)
class Detection:
    """The LIS result of one date and its intermediate masks (for counting in tests)."""

    codes: NDArray[np.uint8]
    zs: int
    pass2: bool
    shadow: NDArray[np.bool_]
    high: NDArray[np.bool_]
    dark: NDArray[np.bool_]  # cloud pixels released by the dark-cloud test


def detect(green: F, red: F, swir: F, clm: NDArray[Any], dem: F) -> Detection:
    """pass0 (masks, coarse red), pass1, the snow line, pass2 and the final coding."""
    clm = clm.astype(np.int64)
    all_cloud = clm > 0
    shadow = ((clm & SHADOW_IN) == SHADOW_IN) | ((clm & SHADOW_OUT) == SHADOW_OUT)
    high = (clm & HIGH_CLOUD) == HIGH_CLOUD
    red_nn = coarse_red(red)[1]
    back_to_cloud = all_cloud & (red > RED_BACKTOCLOUD)
    with np.errstate(invalid="ignore", divide="ignore"):
        ndsi = (green - swir) / (green + swir)
    pass1 = ~all_cloud & (ndsi > NDSI_PASS1) & (red > RED_PASS1)
    refined = (all_cloud & (red_nn > RED_DARKCLOUD)) | shadow | high
    fraction = pass1.sum() / pass1.size * 100 / 100
    zs = snowline(dem, pass1, all_cloud)
    run = bool(fraction > FSNOW_TOTAL_LIM and zs != -1)
    snow = pass1.copy()
    if run:
        with np.errstate(invalid="ignore"):
            snow |= ~refined & (dem > zs) & (ndsi > NDSI_PASS2) & (red > RED_PASS2)
    codes = np.where(snow, SNOW, np.where(refined | back_to_cloud, CLOUD, NO_SNOW))
    codes = np.where(np.isnan(swir), NODATA, codes).astype(np.uint8)
    dark = all_cloud & ~refined & ~back_to_cloud & ~snow
    return Detection(codes, zs, run, shadow, high, dark)


@dataclass(frozen=True)
class Year:
    """SCD, SOD, SMOD (-1: not computed) and NOBS of one pixel."""

    scd: int
    sod: int
    smod: int
    nobs: int


def merge_same_day(days: list[int], codes: list[int]) -> tuple[list[int], list[int]]:
    """merge_masks_at_same_date: on a day with several products, the first whose code is at
    most 100 (clear), else the last one's code. Returns sorted days and their codes."""
    merged: dict[int, list[int]] = {}
    for day, code in zip(days, codes, strict=True):
        merged.setdefault(day, []).append(code)
    out = []
    for day in sorted(merged):
        looks = merged[day]
        out.append(next((c for c in looks if c <= SNOW), looks[-1]))
    return sorted(merged), out


def year_of_pixel(days: list[int], codes: list[int], length: int) -> Year:
    """One pixel's year from its products (days since 1 September, any order, margin dates
    included): binary snow ×100, masked where cloud or no data, linearly gap-filled onto days
    0..length-1 (OTB: constant before the first and after the last clear date; all masked: 0),
    snow where the filled value is ≥ 50; SCD the snow days; SOD/SMOD first and last day of the
    longest run (the first of equal ones) when SCD > 10; NOBS the clear dates."""
    days, codes = merge_same_day(days, codes)
    clear = [(d, 100.0 if c == SNOW else 0.0) for d, c in zip(days, codes, strict=True)
             if c in (NO_SNOW, SNOW)]  # fmt: skip
    nobs = len(clear)
    if not clear:
        return Year(0, -1, -1, nobs)
    x = np.array([d for d, _ in clear], dtype=float)
    y = np.array([v for _, v in clear])
    filled = np.interp(np.arange(length, dtype=float), x, y)
    daily = (filled >= 50.0 - 1e-9).astype(int)  # an exact midpoint (50) is snow
    scd = int(daily.sum())
    if scd <= 10:
        return Year(scd, -1, -1, nobs)
    runs = [list(g) for k, g in itertools.groupby(enumerate(daily), key=lambda t: t[1]) if k == 1]
    longest = max(runs, key=len)
    return Year(scd, longest[0][0], longest[-1][0], nobs)
