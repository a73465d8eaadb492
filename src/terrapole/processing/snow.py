"""Let-It-Snow: snow cover from a Sentinel-2 L2A date and a DEM (THEIA Snow collection).

Follows the LIS description summarised in ALGORITHMS.md (Gascoin et al. 2019):

1. NDSI = (green − SWIR16) / (green + SWIR16), reflectances in 0-1.
2. Pass 1, on pixels not cloudy in L2A: snow where NDSI > 0.40 and red > 0.200.
3. Snowline: the DEM cut in 100 m bands; the lowest band with more than 10 % of its pixels clear
   and more than 10 % of its clear pixels snowy (pass 1) sets z_s, the lower edge of the band two
   bands below it.
4. Pass 2, only if pass-1 snow covers more than 0.1 % of the image: above z_s, clear pixels with
   NDSI > 0.15 and red > 0.040 are snow too.
5. Cloud refinement: an L2A cloud pixel that the pass-1 tests call snow becomes snow; a "dark"
   cloud (red averaged over 12 x 12 pixels ≤ 0.300; blocks on the scene's grid, a partial one at
   the edge averaged over its pixels) that is not snow is released (no snow); bright clouds stay
   cloud.

Codes: 0 no snow, 100 snow, 205 cloud, 254 no data. Fractional snow cover for snow pixels:
FSC_TOC = 0.5 tanh(2.65 NDSI − 1.42) + 0.5 (0-1), FSC_OG = min(FSC_TOC / (1 − TCD), 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

NO_SNOW, SNOW, CLOUD, NODATA = 0, 100, 205, 254
DARK_BLOCK = 12  # pixels (240 m at 20 m) over which red is averaged for the dark-cloud test
Array = NDArray[Any]


@dataclass(frozen=True)
class SnowResult:
    """Snow codes, the snowline used (None when pass 2 did not run) and the NDSI."""

    codes: NDArray[np.uint8]
    snowline: float | None
    ndsi: Array


LOWEST_BAND, BANDS = -5, 95  # 100 m elevation bands from -500 m to 9000 m


def snowline_of(counts: Array) -> float | None:
    """z_s from (3, BANDS) counts per 100 m band from -500 m (pixels with a DEM, clear ones,
    clear snowy ones): two bands below the lowest band > 10 % clear and > 10 % snowy."""
    for n, (total, clear_n, snow_n) in enumerate(counts.T):
        if total and clear_n / total > 0.10 and snow_n / clear_n > 0.10:
            return float((n + LOWEST_BAND) * 100 - 200)
    return None


# thresholds, compared in the type of the values: pass-1 NDSI and red, pass-2 NDSI and red
PASS1_NDSI, PASS1_RED, PASS2_NDSI, PASS2_RED = 0.40, 0.200, 0.15, 0.040
DARK_RED = 0.300  # a cloud block whose mean red is at most this is "dark"


def _thresholds(dtype: np.dtype[Any], *found: float) -> Array:
    """``found`` in ``dtype`` (float64 for integers), so comparisons are those of numpy."""
    return np.array(found, dtype=dtype if dtype.kind == "f" else "float64")


def _ndsi_type(green: Array, swir16: Array) -> np.dtype[Any]:
    found = np.result_type(green.dtype, swir16.dtype)
    return found if found.kind == "f" else np.dtype("float64")


@njit(cache=True, nogil=True, inline="always")
def _pass_one(g: Any, r: Any, s: Any, ndsi_min: Any, red_min: Any) -> tuple[bool, Any, bool]:
    """One pixel's no-data flag, NDSI (NaN when green + SWIR is 0) and pass-1 test."""
    value = (g - s) / (g + s) if g + s != 0 else np.nan
    nodata = not (np.isfinite(g) and np.isfinite(r) and np.isfinite(s))
    return nodata, value, value > ndsi_min and r > red_min


def scene_summary(
    green: Array, red: Array, swir16: Array, cloud: NDArray[np.bool_], dem: Array
) -> Array:
    """What pass 2 needs of a scene, or of a part of it (parts add up): per 100 m band from
    -500 m (DEM values clipped to the bands) the pixels with a DEM, the clear ones and the clear
    pass-1 snowy ones, then the pass-1 snow pixels, the pixels with data and all pixels (one
    flat float64 vector)."""
    counts = np.zeros((3, BANDS), dtype="float64")
    totals = np.zeros(3, dtype="float64")
    _summarise(
        green, red, swir16, cloud, dem, _thresholds(_ndsi_type(green, swir16), PASS1_NDSI),
        _thresholds(red.dtype, PASS1_RED), _thresholds(dem.dtype, 100.0), counts, totals,
    )  # fmt: skip
    return np.concatenate([counts.ravel(), totals])


@njit(cache=True, nogil=True)
def _summarise(
    green: Array, red: Array, swir16: Array, cloud: Array, dem: Array, ndsi_min: Array,
    red_min: Array, hundred: Array, counts: Array, totals: Array,
) -> None:  # fmt: skip
    """Pass 1 pixel by pixel, counted (the compiled kernel of :func:`scene_summary`)."""
    rows, cols = green.shape
    for y in range(rows):
        for x in range(cols):
            nodata, _, test1 = _pass_one(green[y, x], red[y, x], swir16[y, x], ndsi_min[0],
                                         red_min[0])  # fmt: skip
            clear = not nodata and not cloud[y, x]
            snowy = clear and test1
            totals[0] += snowy
            totals[1] += not nodata
            z = dem[y, x]
            if np.isfinite(z):
                band = min(max(np.floor(z / hundred[0]) - LOWEST_BAND, 0), BANDS - 1)
                n = int(band)
                counts[0, n] += 1
                counts[1, n] += clear
                counts[2, n] += snowy
    totals[2] += rows * cols


def decide(summary: Array) -> tuple[float | None, float]:
    """From a scene's summary: the snow line (None when pass 1 found snow on 0.1 % of the data
    or less, or no band qualifies) and the share of pixels with a DEM."""
    counts, (snow_n, valid_n, pixels) = summary[: 3 * BANDS].reshape(3, BANDS), summary[-3:]
    line = snowline_of(counts) if snow_n > 0.001 * valid_n else None
    return line, float(counts[0].sum() / pixels) if pixels else 0.0


@dataclass(frozen=True)
class BlockSums:
    """Sums and pixel counts of red (NaN as 0) over the 12 x 12 blocks of the dark-cloud test
    that a part of the scene touches; blocks lie on the scene's grid, from its first pixel."""

    first: tuple[int, int]  # the first block's (row, col) in blocks
    sums: Array
    counts: Array


def red_block_sums(red: Array, origin: tuple[int, int] = (0, 0)) -> BlockSums:
    """:class:`BlockSums` of a part whose first pixel is ``origin`` (row, col) in the scene."""
    size = DARK_BLOCK
    (top, pad_top), (left, pad_left) = divmod(origin[0], size), divmod(origin[1], size)
    rows, cols = red.shape
    shape = (-(-(pad_top + rows) // size), -(-(pad_left + cols) // size))
    sums, counts = np.zeros(shape, dtype="float64"), np.zeros(shape, dtype="int64")
    _block_sums(red, pad_top, pad_left, sums, counts)
    return BlockSums((top, left), sums, counts)


@njit(cache=True, nogil=True)
def _block_sums(red: Array, pad_top: int, pad_left: int, sums: Array, counts: Array) -> None:
    """Red summed per block (NaN as 0) and every pixel counted (the kernel of
    :func:`red_block_sums`)."""
    for y in range(red.shape[0]):
        row = (pad_top + y) // DARK_BLOCK
        for x in range(red.shape[1]):
            col = (pad_left + x) // DARK_BLOCK
            value = red[y, x]
            if value == value:  # not NaN
                sums[row, col] += value
            counts[row, col] += 1


def dark_blocks(parts: list[BlockSums], shape: tuple[int, int]) -> NDArray[np.bool_]:
    """Blocks whose mean red (over their pixels in the scene) is ≤ 0.300, from every part's
    :class:`BlockSums` (parts may split blocks: their sums add up)."""
    grid = (-(-shape[0] // DARK_BLOCK), -(-shape[1] // DARK_BLOCK))
    sums, counts = np.zeros(grid), np.zeros(grid)
    for part in parts:
        (r, c), (rows, cols) = part.first, part.sums.shape
        sums[r : r + rows, c : c + cols] += part.sums
        counts[r : r + rows, c : c + cols] += part.counts
    with np.errstate(invalid="ignore", divide="ignore"):
        dark: NDArray[np.bool_] = sums / counts <= DARK_RED
    return dark


def snow_codes(
    green: Array, red: Array, swir16: Array, cloud: NDArray[np.bool_], dem: Array,
    line: float | None, dark: NDArray[np.bool_], origin: tuple[int, int] = (0, 0),
) -> tuple[NDArray[np.uint8], Array]:  # fmt: skip
    """Codes and NDSI of the scene, or of a part of it from ``origin``, once the snow line and
    the dark blocks (:func:`dark_blocks`, of the whole scene) are known."""
    codes = np.empty(green.shape, dtype=np.uint8)
    ndsi = np.empty(green.shape, dtype=_ndsi_type(green, swir16))
    _classify(
        green, red, swir16, cloud, dem, _thresholds(dem.dtype, 0.0 if line is None else line),
        line is not None, dark, origin[0], origin[1],
        _thresholds(ndsi.dtype, PASS1_NDSI, PASS2_NDSI),
        _thresholds(red.dtype, PASS1_RED, PASS2_RED),
        codes, ndsi,
    )  # fmt: skip
    return codes, ndsi


@njit(cache=True, nogil=True)
def _classify(
    green: Array, red: Array, swir16: Array, cloud: Array, dem: Array, line: Array,
    with_line: bool, dark: Array, top: int, left: int, ndsi_min: Array, red_min: Array,
    codes: Array, ndsi: Array,
) -> None:  # fmt: skip
    """Both passes and the cloud refinement pixel by pixel (the kernel of :func:`snow_codes`)."""
    rows, cols = green.shape
    for y in range(rows):
        for x in range(cols):
            r = red[y, x]
            nodata, value, test1 = _pass_one(green[y, x], r, swir16[y, x], ndsi_min[0],
                                             red_min[0])  # fmt: skip
            ndsi[y, x] = value
            if nodata:
                codes[y, x] = NODATA
            elif cloud[y, x]:
                # an L2A cloud the pass-1 tests call snow is snow; a dark one is released
                dark_here = dark[(top + y) // DARK_BLOCK, (left + x) // DARK_BLOCK]
                codes[y, x] = SNOW if test1 else (NO_SNOW if dark_here else CLOUD)
            elif test1 or (
                with_line and dem[y, x] >= line[0] and value > ndsi_min[1] and r > red_min[1]
            ):
                codes[y, x] = SNOW
            else:
                codes[y, x] = NO_SNOW


def detect(
    green: Array, red: Array, swir16: Array, cloud: NDArray[np.bool_], dem: Array
) -> SnowResult:
    """Snow codes of one date (all inputs on the same grid; NaN reflectance is no data)."""
    line, _ = decide(scene_summary(green, red, swir16, cloud, dem))
    dark = dark_blocks([red_block_sums(red)], red.shape)
    codes, ndsi = snow_codes(green, red, swir16, cloud, dem, line, dark)
    return SnowResult(codes, line, ndsi)


def fsc_toc(ndsi: Array, codes: NDArray[np.uint8]) -> Array:
    """Top-of-canopy fractional snow cover (0-1) on snow pixels, 0 elsewhere, NaN for no data."""
    fsc = np.clip(0.5 * np.tanh(2.65 * ndsi - 1.42) + 0.5, 0.0, 1.0)
    out = np.where(codes == SNOW, fsc, 0.0)
    return np.where(codes == NODATA, np.nan, out)


def fsc_og(toc: Array, tree_cover: Array) -> Array:
    """On-ground fractional snow cover: min(FSC_TOC / (1 − TCD), 1), TCD in 0-1."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.minimum(toc / (1.0 - tree_cover), 1.0)
    # under a closed canopy (TCD = 1) any snow seen from above means full cover on the ground
    result: Array = np.where(tree_cover >= 1.0, np.where(toc > 0, 1.0, 0.0), ratio)
    return result


@dataclass(frozen=True)
class SnowYear:
    """Annual synthesis (1 Sept - 31 Aug): SCD days, SOD/SMOD days since 1 Sept, NOBS."""

    scd: NDArray[np.int16]
    sod: NDArray[np.int16]
    smod: NDArray[np.int16]
    nobs: NDArray[np.int16]


def snow_year(days: list[int], codes: list[NDArray[np.uint8]], length: int = 365) -> SnowYear:
    """Gap-fill daily (each day takes its nearest clear observation, the earlier on ties) and
    count: SCD snow days, SOD/SMOD first and last+1 day of the longest snow period (−1 when
    none), NOBS clear observations. ``days`` count from 1 September (0-based).

    Vectorised over pixels: each clear observation holds the days from the midpoint after the
    previous clear one to the midpoint before the next, so one pass over the dates in order
    builds every pixel's daily series as consecutive segments.
    """
    order = np.argsort(days, kind="stable")
    shape = codes[0].shape
    nobs = np.zeros(shape, dtype=np.int16)
    scd = np.zeros(shape, dtype=np.int32)
    have = np.zeros(shape, dtype=bool)  # a clear observation seen
    last_day = np.zeros(shape, dtype=np.int32)
    last_snow = np.zeros(shape, dtype=bool)
    seg_start = np.zeros(shape, dtype=np.int32)
    run_start = np.full(shape, -1, dtype=np.int32)
    best = np.zeros(shape, dtype=np.int32)
    best_start = np.full(shape, -1, dtype=np.int32)

    def segment(where: NDArray[np.bool_], end: Array) -> None:
        """Close the running segment [seg_start, end) of the last observation at ``where``."""
        nonlocal scd
        snowy = where & last_snow
        scd += np.where(snowy, end - seg_start, 0).astype(np.int32)
        opens = snowy & (run_start < 0)
        run_start[opens] = seg_start[opens]
        closes = where & ~last_snow & (run_start >= 0)
        longer = closes & (seg_start - run_start > best)
        best[longer] = (seg_start - run_start)[longer]
        best_start[longer] = run_start[longer]
        run_start[closes] = -1

    for index in order:
        day = int(np.clip(days[index], 0, length - 1))
        code = codes[index]
        clear = (code == NO_SNOW) | (code == SNOW)
        nobs += clear
        clear &= ~(have & (last_day == day))  # two clear looks on one day: the first one counts
        boundary = np.where(have, last_day + (day - last_day) // 2 + 1, 0).astype(np.int32)
        segment(clear & have, boundary)
        seg_start = np.where(clear, boundary, seg_start)
        last_day = np.where(clear, day, last_day)
        last_snow = np.where(clear, code == SNOW, last_snow)
        have |= clear
    segment(have, np.full(shape, length, dtype=np.int32))
    ending = have & (run_start >= 0)  # a run lasting to the end of the year
    length_now = length - run_start
    longer = ending & (length_now > best)
    best[longer] = length_now[longer]
    best_start[longer] = run_start[longer]
    found = best > 0
    sod = np.where(found, best_start, -1).astype(np.int16)
    smod = np.where(found, best_start + best, -1).astype(np.int16)
    return SnowYear(scd.astype(np.int16), sod, smod, nobs)
