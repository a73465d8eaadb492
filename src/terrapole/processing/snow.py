"""Let-It-Snow (LIS): snow cover from a Sentinel-2 L2A date and a DEM (THEIA Snow collection).

The rules of the reference code (orfeotoolbox/let-it-snow, see docs/algorithms.md, Let-It-Snow):

1. Cloud masks from the MAJA CLM byte: all clouds CLM ≠ 0; shadows bits 32 and 64; high clouds
   bit 128. Coarse red: red warped bilinearly (GDAL's warper) onto a grid of
   (rows // 12) × (cols // 12) cells spanning the scene, rounded to whole stored numbers (DN),
   then read back at full resolution by nearest neighbour.
2. NDSI = (green − SWIR) / (green + SWIR). Pass 1 on non-cloud pixels: NDSI > 0.40, red > 0.200.
3. Refined cloud = (cloud AND coarse red > 0.300) OR shadow OR high cloud.
4. Snow line (ComputeSnowLine): the DEM as whole metres binned from its minimum to its maximum in
   floor((max − min) / dz) equal bins; the lowest bin with clear / all > fclear_lim and
   pass-1 snow / clear > fsnow_lim; z_s = floor(centre of the bin two below it − dz / 2).
5. Pass 2, when pass-1 snow covers more than fsnow_total_lim of ALL pixels and z_s exists:
   outside the refined cloud, DEM > z_s, NDSI > 0.15, red > 0.040.
6. Codes: snow (100) where pass 1 or 2; else cloud (205) where refined cloud or back-to-cloud
   (cloud AND red > 0.100); else no snow (0); no data (254) where SWIR is no data.

Everything a chunk needs from the whole scene (the DEM histogram, the pass-1 snow count, the
coarse red) adds up from its parts (:class:`SceneShare`), so a scene done chunk by chunk gives the
codes of the whole scene. The annual synthesis (:func:`snow_year`) follows LIS's gap filling.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

NO_SNOW, SNOW, CLOUD, NODATA = 0, 100, 205, 254
Array = NDArray[Any]


@dataclass(frozen=True)
class LisParameters:
    """Every LIS parameter (reference defaults for MUSCATE Sentinel-2; reflectances in 0-1)."""

    ndsi_pass1: float = 0.40
    red_pass1: float = 0.200
    ndsi_pass2: float = 0.15
    red_pass2: float = 0.040
    dz: int = 100  # m, snow-line bin height
    fsnow_lim: float = 0.1
    fclear_lim: float = 0.1
    fsnow_total_lim: float = 0.001
    snowline_bin_offset: int = -2  # z_s from the bin two below the first snowy one
    red_dark_cloud: float = 0.300
    red_back_to_cloud: float = 0.100
    resize_factor: int = 12
    reflectance_scale: float = 10000.0  # stored numbers per unit: the coarse red is whole DN
    shadow_bits: tuple[int, ...] = (32, 64)
    high_cloud_bits: tuple[int, ...] = (128,)
    fsc_toc: tuple[float, float, float, float] = field(default=(0.5, 2.65, -1.42, 0.5))

    def as_dict(self) -> dict[str, Any]:
        """The parameters as plain values (for the chain's parameters and items)."""
        found = asdict(self)
        a, b, c, d = self.fsc_toc
        found["fsc_toc"] = {"equation": "a*tanh(b*NDSI + c) + d, clipped to 0-1",
                            "a": a, "b": b, "c": c, "d": d}  # fmt: skip
        found["shadow_bits"] = list(self.shadow_bits)
        found["high_cloud_bits"] = list(self.high_cloud_bits)
        return found


DEFAULT = LisParameters()


def coarse_shape(shape: tuple[int, int], factor: int) -> tuple[int, int]:
    """Cells of the coarse red grid: (rows // factor, cols // factor), at least one each."""
    return (max(shape[0] // factor, 1), max(shape[1] // factor, 1))


def _axis_weights(n: int, m: int, first: int, count: int) -> tuple[Array, Array, Array]:
    """For pixels first..first+count-1 of an axis of n pixels warped to m cells: the cell at or
    before each pixel centre (in cell-centre coordinates, may be -1) and the bilinear weights of
    that cell and the next one (GDAL's triangle, one cell wide on each side)."""
    u = (np.arange(first, first + count) + 0.5) * (m / n) - 0.5
    low = np.floor(u)
    w_next = u - low
    return low.astype(np.int64), 1.0 - w_next, w_next


def _centres(n: int, m: int) -> Array:
    """The pixel under each cell's centre (it decides whether a cell has data; GDAL's
    floor(position + 1e-10))."""
    return _pixel_under(np.arange(m), n / m)


def _pixel_under(centres: Array, ratio: float) -> Array:
    """Index of the pixel under each centre position (GDAL: floor(position + 1e-10))."""
    return np.floor((centres + 0.5) * ratio + 1e-10).astype(np.int64)


@dataclass(frozen=True)
class CoarseRedShare:
    """A part's weighted red sums (DN) and weights over the coarse cells from ``first``, and how
    many of those cells have their centre pixel in the part with no red there."""

    first: tuple[int, int]
    sums: Array
    weights: Array
    centre_nodata: Array


@dataclass(frozen=True)
class SceneShare:
    """What a part of the scene contributes to the scene-wide decisions (parts add up): per whole
    metre of DEM from ``lowest`` the pixels, clear pixels and clear pass-1 snowy pixels; pass-1
    snow pixels; all pixels; the coarse red sums."""

    lowest: int
    elevations: Array
    pass1_snow: int
    pixels: int
    red: CoarseRedShare


def _masks(params: LisParameters) -> tuple[Array, Array]:
    return (np.array(params.shadow_bits, dtype=np.int64),
            np.array(params.high_cloud_bits, dtype=np.int64))  # fmt: skip


def scene_share(
    green: Array, red: Array, swir16: Array, clm: Array, dem: Array, *,
    origin: tuple[int, int] = (0, 0), shape: tuple[int, int] | None = None,
    params: LisParameters = DEFAULT,
) -> SceneShare:  # fmt: skip
    """The :class:`SceneShare` of a part whose first pixel is ``origin`` in a scene of ``shape``
    (the part itself when None)."""
    shape = shape or green.shape
    rows, cols = green.shape
    counts = _elevation_counts(green, red, swir16, clm, dem, params)
    lowest, elevations, pass1 = counts
    cells = coarse_shape(shape, params.resize_factor)
    row_cell, row_w0, row_w1 = _axis_weights(shape[0], cells[0], origin[0], rows)
    col_cell, col_w0, col_w1 = _axis_weights(shape[1], cells[1], origin[1], cols)
    top, left = max(int(row_cell[0]), 0), max(int(col_cell[0]), 0)
    bottom = min(int(row_cell[-1]) + 2, cells[0])
    right = min(int(col_cell[-1]) + 2, cells[1])
    sums = np.zeros((bottom - top, right - left))
    weights = np.zeros_like(sums)
    _coarse_sums(red, row_cell - top, row_w0, row_w1, col_cell - left, col_w0, col_w1,
                 params.reflectance_scale, sums, weights)  # fmt: skip
    nodata = np.zeros(sums.shape, dtype=np.int64)
    centre_rows = _centres(shape[0], cells[0])[top:bottom] - origin[0]
    centre_cols = _centres(shape[1], cells[1])[left:right] - origin[1]
    inside_r = (centre_rows >= 0) & (centre_rows < rows)
    inside_c = (centre_cols >= 0) & (centre_cols < cols)
    picked = red[np.ix_(centre_rows[inside_r], centre_cols[inside_c])]
    nodata[np.ix_(inside_r, inside_c)] = np.isnan(picked)
    red_share = CoarseRedShare((top, left), sums, weights, nodata)
    return SceneShare(lowest, elevations, pass1, rows * cols, red_share)


@njit(cache=True, nogil=True, inline="always")
def _bits(code: Any, masks: Array) -> bool:
    """Whether any of ``masks`` is wholly set in ``code`` (ComputeCloudMask, one per mask)."""
    for m in masks:
        if (code & m) == m:
            return True
    return False


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _ndsi(g: Any, s: Any) -> float:
    """NDSI in float64 (±inf when green + SWIR is 0 and they differ, NaN for no data)."""
    gg, ss = np.float64(g), np.float64(s)
    return (gg - ss) / (gg + ss)


SHORT_MIN, SHORT_MAX = -32768, 32767  # the reference reads the DEM as 16-bit integers


def _elevation_counts(
    green: Array, red: Array, swir16: Array, clm: Array, dem: Array, params: LisParameters
) -> tuple[int, Array, int]:
    """Pass 1 counted per whole metre of DEM (the lowest metre with a pixel, the (3, metres)
    counts from it) and the part's pass-1 snow pixels."""
    counts = np.zeros((3, SHORT_MAX - SHORT_MIN + 1), dtype=np.int64)
    total = np.zeros(1, dtype=np.int64)
    red_min = np.array([params.red_pass1], dtype=_red_type(red))
    _count_pass_one(green, red, swir16, clm, dem, np.float64(params.ndsi_pass1), red_min,
                    counts, total)  # fmt: skip
    used = np.flatnonzero(counts[0])
    if used.size == 0:
        return 0, counts[:, :0].copy(), int(total[0])
    return SHORT_MIN + int(used[0]), counts[:, used[0] : used[-1] + 1].copy(), int(total[0])


def _red_type(red: Array) -> np.dtype[Any]:
    return red.dtype if red.dtype.kind == "f" else np.dtype("float64")


@njit(cache=True, nogil=True, error_model="numpy")
def _count_pass_one(
    green: Array, red: Array, swir16: Array, clm: Array, dem: Array, ndsi_min: float,
    red_min: Array, counts: Array, total: Array,
) -> None:  # fmt: skip
    """Pass 1 pixel by pixel, counted per whole metre of the DEM truncated as a 16-bit read
    (the compiled kernel of :func:`scene_share`)."""
    for y in range(green.shape[0]):
        for x in range(green.shape[1]):
            cloudy = clm[y, x] != 0
            snowy = (not cloudy and _ndsi(green[y, x], swir16[y, x]) > ndsi_min
                     and red[y, x] > red_min[0])  # fmt: skip
            total[0] += snowy
            z = dem[y, x]
            if z == z:
                metre = min(max(int(z), SHORT_MIN), SHORT_MAX) - SHORT_MIN
                counts[0, metre] += 1
                counts[1, metre] += not cloudy
                counts[2, metre] += snowy


@njit(cache=True, nogil=True)
def _coarse_sums(
    red: Array, row_cell: Array, row_w0: Array, row_w1: Array, col_cell: Array, col_w0: Array,
    col_w1: Array, scale: float, sums: Array, weights: Array,
) -> None:  # fmt: skip
    """Each red pixel with data added to the (up to) 2 x 2 cells whose triangle covers it,
    row by row: first along the row, then the row into its (up to) 2 cell rows."""
    n_rows, n_cols = sums.shape
    line, line_w = np.zeros(n_cols + 2), np.zeros(n_cols + 2)  # cells -1 .. n_cols
    for y in range(red.shape[0]):
        line[:] = 0.0
        line_w[:] = 0.0
        for x in range(red.shape[1]):
            v = red[y, x]
            if v == v:
                j = col_cell[x] + 1
                dn = np.float64(v) * scale
                line[j] += col_w0[x] * dn
                line_w[j] += col_w0[x]
                line[j + 1] += col_w1[x] * dn
                line_w[j + 1] += col_w1[x]
        for dy in range(2):
            i = row_cell[y] + dy
            a = row_w0[y] if dy == 0 else row_w1[y]
            if 0 <= i < n_rows and a > 0.0:
                for j in range(n_cols):
                    sums[i, j] += a * line[j + 1]
                    weights[i, j] += a * line_w[j + 1]


@dataclass(frozen=True)
class Scene:
    """The scene-wide decisions: the snow line z_s (None when none), whether pass 2 runs, the
    coarse cells whose red makes a cloud bright, and the share of pixels with a DEM."""

    snowline: int | None
    pass2: bool
    bright: NDArray[np.bool_]
    covered: float


def scene_of(
    shares: list[SceneShare], shape: tuple[int, int], params: LisParameters = DEFAULT
) -> Scene:
    """The :class:`Scene` from every part's share (the parts together cover the scene once)."""
    known = [s for s in shares if s.elevations.shape[1]]
    pixels = sum(s.pixels for s in shares)
    line: int | None = None
    covered = 0.0
    if known:
        lowest = min(s.lowest for s in known)
        highest = max(s.lowest + s.elevations.shape[1] - 1 for s in known)
        counts = np.zeros((3, highest - lowest + 1), dtype=np.int64)
        for s in known:
            start = s.lowest - lowest
            counts[:, start : start + s.elevations.shape[1]] += s.elevations
        line = snowline(counts, lowest, params)
        covered = float(counts[0].sum() / pixels)
    snow_fraction = sum(s.pass1_snow for s in shares) / pixels * 100 / 100  # compute_percent
    run = snow_fraction > params.fsnow_total_lim and line is not None
    return Scene(line, run, _bright_cells(shares, shape, params), covered)


def _bright_cells(
    shares: list[SceneShare], shape: tuple[int, int], params: LisParameters
) -> NDArray[np.bool_]:
    """Coarse cells whose red, rounded to whole DN as the reference's Int16 raster, is above
    red_dark_cloud (cells without data are not bright)."""
    cells = coarse_shape(shape, params.resize_factor)
    sums, weights = np.zeros(cells), np.zeros(cells)
    nodata = np.zeros(cells, dtype=np.int64)
    for s in shares:
        (top, left), part = s.red.first, s.red.sums.shape
        window = (slice(top, top + part[0]), slice(left, left + part[1]))
        sums[window] += s.red.sums
        weights[window] += s.red.weights
        nodata[window] += s.red.centre_nodata
    with np.errstate(invalid="ignore", divide="ignore"):
        whole_dn = np.floor(sums / weights + 0.5)
    limit = params.red_dark_cloud * params.reflectance_scale
    bright: NDArray[np.bool_] = (nodata == 0) & (weights > 0) & (whole_dn > limit)
    return bright


def snowline(counts: Array, lowest: int, params: LisParameters = DEFAULT) -> int | None:
    """z_s from (3, metres) counts per whole metre from ``lowest`` (pixels, clear, clear snowy):
    ITK's histogram from the DEM's min to max (float32 bin width, the max in the last bin)."""
    known = np.flatnonzero(counts[0])
    if known.size == 0:
        return None
    low, high = lowest + int(known[0]), lowest + int(known[-1])
    bins = int((high - low) / params.dz)
    if bins < 1:
        return None
    width = np.float32(np.float32(high) - np.float32(low)) / np.float32(bins)
    lower = low + (np.arange(bins, dtype=np.float32) * width).astype(np.float64)
    upper = np.append(low + (np.arange(1, bins, dtype=np.float32) * width).astype(np.float64), high)
    metres = np.arange(low, high + 1)
    where = np.searchsorted(lower, metres, side="right") - 1
    part = counts[:, known[0] : known[-1] + 1]
    per_bin = np.stack([np.bincount(where, weights=row, minlength=bins) for row in part])
    clear_lim, snow_lim = np.float32(params.fclear_lim), np.float32(params.fsnow_lim)
    for i, (total, clear, snowy) in enumerate(per_bin.T):
        clear_share = clear / total if total else 0.0
        if clear_share > clear_lim and snowy / clear > snow_lim:
            j = max(i + params.snowline_bin_offset, 0)
            return math.floor(float(lower[j] + upper[j]) / 2.0 + int(-params.dz / 2))
    return None


def snow_codes(
    green: Array, red: Array, swir16: Array, clm: Array, dem: Array, scene: Scene, *,
    origin: tuple[int, int] = (0, 0), shape: tuple[int, int] | None = None,
    params: LisParameters = DEFAULT,
) -> tuple[NDArray[np.uint8], Array]:  # fmt: skip
    """Codes and NDSI (float32) of the scene, or of a part
    of it from ``origin`` in a scene of ``shape``, once the :class:`Scene` is known."""
    shape = shape or green.shape
    cells = scene.bright.shape
    rows = _pixel_under(np.arange(origin[0], origin[0] + green.shape[0]), cells[0] / shape[0])
    cols = _pixel_under(np.arange(origin[1], origin[1] + green.shape[1]), cells[1] / shape[1])
    codes = np.empty(green.shape, dtype=np.uint8)
    ndsi = np.empty(green.shape, dtype=np.float32)
    red_type = _red_type(red)
    thresholds = np.array([params.red_pass1, params.red_pass2, params.red_back_to_cloud],
                          dtype=red_type)  # fmt: skip
    shadow, high = _masks(params)
    _classify(
        green, red, swir16, clm, dem, scene.bright, rows, cols,
        np.float64(params.ndsi_pass1), np.float64(params.ndsi_pass2), thresholds, shadow, high,
        scene.pass2, np.float64(-1 if scene.snowline is None else scene.snowline), codes, ndsi,
    )  # fmt: skip
    return codes, ndsi


@njit(cache=True, nogil=True, error_model="numpy")
def _classify(
    green: Array, red: Array, swir16: Array, clm: Array, dem: Array, bright: Array,
    cell_rows: Array, cell_cols: Array, ndsi1: float, ndsi2: float, red_min: Array,
    shadow: Array, high: Array, pass2: bool, line: float, codes: Array, ndsi: Array,
) -> None:  # fmt: skip
    """Both passes, the refined cloud mask and the coding pixel by pixel (the compiled kernel of
    :func:`snow_codes`)."""
    for y in range(green.shape[0]):
        for x in range(green.shape[1]):
            r, s, c = red[y, x], swir16[y, x], clm[y, x]
            value = _ndsi(green[y, x], s)
            ndsi[y, x] = value
            cloudy = c != 0
            refined = cloudy and (bright[cell_rows[y], cell_cols[x]] or _bits(c, shadow)
                                  or _bits(c, high))  # fmt: skip
            snowy = not cloudy and value > ndsi1 and r > red_min[0]
            if not snowy and pass2 and not refined:
                snowy = dem[y, x] > line and value > ndsi2 and r > red_min[1]
            if s != s:
                codes[y, x] = NODATA
            elif snowy:
                codes[y, x] = SNOW
            elif refined or (cloudy and r > red_min[2]):
                codes[y, x] = CLOUD
            else:
                codes[y, x] = NO_SNOW


@dataclass(frozen=True)
class SnowResult:
    """Snow codes, the snow line used (None when pass 2 did not run) and the NDSI."""

    codes: NDArray[np.uint8]
    snowline: int | None
    ndsi: Array


def detect(
    green: Array, red: Array, swir16: Array, clm: Array, dem: Array,
    params: LisParameters = DEFAULT,
) -> SnowResult:  # fmt: skip
    """Snow codes of one date (inputs on one grid; reflectance 0-1 with NaN for no data, the raw
    CLM byte, the DEM in metres with NaN where unknown)."""
    share = scene_share(green, red, swir16, clm, dem, params=params)
    scene = scene_of([share], green.shape, params)
    codes, ndsi = snow_codes(green, red, swir16, clm, dem, scene, params=params)
    return SnowResult(codes, scene.snowline if scene.pass2 else None, ndsi)


def fsc_toc(ndsi: Array, codes: NDArray[np.uint8], params: LisParameters = DEFAULT) -> Array:
    """Top-of-canopy fractional snow cover (0-1) on snow pixels, 0 elsewhere, NaN for no data."""
    a, b, c, d = params.fsc_toc
    with np.errstate(invalid="ignore"):
        fsc = np.clip(a * np.tanh(b * ndsi + c) + d, 0.0, 1.0)
    out = np.where(codes == SNOW, fsc, 0.0)
    return np.where(codes == NODATA, np.nan, out)


def fsc_og(toc: Array, tree_cover: Array) -> Array:
    """On-ground fractional snow cover: min(FSC_TOC / (1 − TCD), 1) with TCD in 0-1; FSC_TOC
    where TCD is unknown or outside 0-1 (never a made-up full cover)."""
    valid = np.isfinite(tree_cover) & (tree_cover >= 0.0) & (tree_cover <= 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.minimum(toc / (1.0 - tree_cover), 1.0)
    # under a closed canopy (TCD = 1) the reference's division gives full cover where any snow
    ratio = np.where(tree_cover >= 1.0, np.where(toc > 0, 1.0, toc), ratio)
    result: Array = np.where(valid, ratio, toc)
    return result


@dataclass(frozen=True)
class SnowYear:
    """Annual synthesis: SCD days, SOD/SMOD days since the first day (−1: not computed), NOBS."""

    scd: NDArray[np.int16]
    sod: NDArray[np.int16]
    smod: NDArray[np.int16]
    nobs: NDArray[np.int16]


MIN_SCD_FOR_DATES = 10  # compute_SOD_SMOD: SOD/SMOD only where SCD > 10 days


def one_per_day(days: list[int], codes: list[NDArray[np.uint8]]) -> tuple[list[int], Array]:
    """The products merged per day as LIS does: a day's code is its first clear (0 or 100) look
    in the given order, else its last look. Returns the days in order and a (days, y, x) stack."""
    merged: list[NDArray[np.uint8]] = []
    found = sorted(set(days))
    for day in found:
        looks = [c for d, c in zip(days, codes, strict=True) if d == day]
        out = looks[-1].copy()
        for look in reversed(looks[:-1]):  # earlier clear looks win
            out = np.where((look == NO_SNOW) | (look == SNOW), look, out)
        merged.append(out)
    return found, np.stack(merged)


def snow_year(
    days: list[int], codes: list[NDArray[np.uint8]], length: int = 365,
    min_scd: int = MIN_SCD_FOR_DATES,
) -> SnowYear:  # fmt: skip
    """The year's synthesis from every product (``days`` since the year's first day, margin
    products before 0 or from ``length`` on included): one code per day, the clear ones filled
    linearly onto each day of the year (constant before the first and after the last) and snow
    where the filled snow share is ≥ 1/2 (a day exactly midway between a snow and a no-snow
    observation is snow); SCD the snow days, SOD/SMOD first and last day of the longest snow
    run (the earliest of equal ones) where SCD > ``min_scd``, NOBS the clear days."""
    shape = codes[0].shape
    if not days:
        zero = np.zeros(shape, dtype=np.int16)
        return SnowYear(zero, zero - 1, zero - 1, zero)
    found, stack = one_per_day(days, codes)
    out = np.zeros((4, *shape), dtype=np.int16)
    _year(np.ascontiguousarray(stack), np.array(found, dtype=np.int64), length, min_scd, out)
    return SnowYear(out[0], out[1], out[2], out[3])


@njit(cache=True, nogil=True)
def _year(stack: Array, days: Array, length: int, min_scd: int, out: Array) -> None:
    """Per pixel, the snow runs between the change points of its clear observations (the
    compiled kernel of :func:`snow_year`)."""
    for y in range(stack.shape[1]):
        for x in range(stack.shape[2]):
            scd, best, best_start, nobs = 0, 0, -1, 0
            prev_day, prev_snow, run_start = 0, False, 0
            for t in range(stack.shape[0]):
                code = stack[t, y, x]
                if code != NO_SNOW and code != SNOW:
                    continue
                day, snowy = days[t], code == SNOW
                if nobs == 0:
                    run_start = -(2**40)  # the first clear value holds from the beginning
                elif snowy != prev_snow:
                    twice = prev_day + day
                    if prev_snow:  # snow to no snow: the midpoint is still snow
                        scd, best, best_start = _close(run_start, twice // 2, length, scd, best,
                                                       best_start)  # fmt: skip
                    else:
                        run_start = (twice + 1) // 2
                nobs += 1
                prev_day, prev_snow = day, snowy
            if nobs and prev_snow:
                scd, best, best_start = _close(run_start, 2**40, length, scd, best, best_start)
            found = scd > min_scd and best > 0
            out[0, y, x] = scd
            out[1, y, x] = best_start if found else -1
            out[2, y, x] = best_start + best - 1 if found else -1
            out[3, y, x] = nobs


@njit(cache=True, nogil=True, inline="always")
def _close(
    start: int, end: int, length: int, scd: int, best: int, best_start: int
) -> tuple[int, int, int]:
    """A snow run over days start..end (inclusive) kept within the year: SCD and the longest."""
    first, last = max(start, 0), min(end, length - 1)
    if first > last:
        return scd, best, best_start
    days = last - first + 1
    if days > best:
        return scd + days, days, first
    return scd + days, best, best_start
