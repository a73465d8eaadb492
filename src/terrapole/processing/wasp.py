"""WASP: the weighted monthly cloud-free synthesis of surface reflectance (THEIA Level 3A).

The rules of docs/algorithms.md (WASP), as CNES/WASP implements them:

- W_cloud: the binary cloud mask (MAJA CLM bit 0, clouds and their shadows) taken to 240 m cells
  (a cell is cloudy when more than half of its pixels are), blurred by two discrete Gaussians
  (ITK's kernel, σ = 2 and σ = 10 cells, truncation error 0.01) into S and L; S and L are brought
  back to each pixel by bicubic interpolation (OTB BCO, radius 2, α = −0.5, edge cells
  repeated); W_cloud = (1 − |S|)(1 − |L|), 0 where |S| or |L| reaches 1 (to 1e-6, the rounding
  of a fully cloudy neighbourhood); 0 on cloudy pixels.
- W_AOT = 0.33 + 0.67 (1 − AOT / 0.8) below AOT 0.8, else 0.33 (1 when no AOT is given).
- W_date = 1 − 0.5 |D − D0| / 23 (days); W_sensor 1 for Sentinel-2, 0.33 for Landsat 8.
- Per pixel, over the dates in time order: the weighted mean of its clear land observations
  (flag land); else, without one, the latest snow or water observation (MG2 bits 2 and 0, when
  a geophysical mask is given; flag snow or water, weight 0); else the darkest (lowest blue)
  cloudy observation (flag cloud, weight 0); else no data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from operator import attrgetter
from typing import Any

import dask.array as da
import numpy as np
from dask.base import compute, persist
from dask.delayed import delayed
from numba import njit
from numpy.typing import NDArray
from scipy.ndimage import correlate1d
from scipy.special import ive

from terrapole.processing.grid import block_mean, pad_to_blocks

CLOUD_CELL_M = 240.0
CLOUDY_CELL = 0.5  # a 240 m cell is cloudy above this fraction of cloudy pixels
SIGMA_SMALL, SIGMA_LARGE = 2.0, 10.0  # Gaussian blurs, in 240 m cells
GAUSSIAN_MAX_ERROR = 0.01  # ITK DiscreteGaussianImageFilter: the mass left out of the kernel
BCO_RADIUS, BCO_ALPHA = 2, -0.5  # OTB bicubic interpolation of S and L back to the pixels
# |S| or |L| at least 1 within this: a fully cloudy neighbourhood blurs to 1 only up to rounding
FULL_BLUR = 1.0 - 1e-6
HALF_WINDOW_DAYS = 23
DATE_WEIGHT_MIN = 0.5
AOT_MAX, AOT_WEIGHT_MIN, AOT_WEIGHT_MAX = 0.8, 0.33, 1.0
SENSOR_WEIGHT = {"sentinel-2": 1.0, "landsat-8": 0.33}
CLOUD_BITS = 0b1  # MAJA CLM bit 0: all clouds (but the thinnest) and cloud shadows
WATER_BITS, SNOW_BITS = 0b1, 0b100  # MAJA MG2 bit 0 (water) and bit 2 (snow)
FLAG_NODATA, FLAG_CLOUD, FLAG_SNOW, FLAG_WATER, FLAG_LAND = 0, 1, 2, 3, 4
NODATA = -10000

Array = NDArray[Any]


@dataclass(frozen=True)
class Observation:
    """One date: reflectance (band, y, x) in 0-1 with NaN for nodata, cloud mask (y, x): booleans
    or MAJA CLM codes (bit 0 read)."""

    reflectance: Array
    cloud: Array
    day: date
    sensor: str = "sentinel-2"
    aot: Array | None = None  # aerosol optical thickness (y, x), or None when not delivered
    cells: Array | None = None  # cloudy fraction of each 240 m cell, when known (else computed)
    surface: Array | None = None  # MAJA MG2 codes (y, x) for snow and water, or None


@dataclass(frozen=True)
class Composite:
    """WASP outputs: FRC (band, y, x) ×10000 int16, WGT ×1000, DTS days from D0, FLG."""

    frc: NDArray[np.int16]
    wgt: NDArray[np.int16]
    dts: NDArray[np.float32]
    flg: NDArray[np.uint8]


def date_weight(day: date, centre: date) -> float:
    """1 at the synthesis date, 0.5 at ±23 days, 0 beyond."""
    gap = abs((day - centre).days)
    if gap > HALF_WINDOW_DAYS:
        return 0.0
    return 1.0 - (1.0 - DATE_WEIGHT_MIN) * gap / HALF_WINDOW_DAYS


def aot_weight(aot: Array | None) -> Array | float:
    """0.33 + 0.67 (1 − AOT/0.8) below 0.8, else 0.33, and 0 for a negative AOT (as the
    reference's WeightOnAOT); 1 when the AOT is not known."""
    if aot is None:
        return 1.0
    span = AOT_WEIGHT_MAX - AOT_WEIGHT_MIN
    weight = np.where(aot < AOT_MAX, AOT_WEIGHT_MIN + span * (1.0 - aot / AOT_MAX), AOT_WEIGHT_MIN)
    return np.where(aot < 0, 0.0, weight)


def cloudy(mask: Any, bits: int = CLOUD_BITS) -> Any:
    """Where ``mask`` is cloudy: booleans as given, codes where they have one of ``bits``."""
    if mask.dtype == bool:
        return mask
    return (mask.astype("int64") & bits) != 0


def _cell_factor(pixel_size: float) -> int:
    return max(1, round(CLOUD_CELL_M / pixel_size))


def cloudy_fraction(cloud: Array, pixel_size: float, bits: int = CLOUD_BITS) -> Array:
    """Cloudy fraction of each 240 m cell of a mask of ``pixel_size`` (lazy for a dask mask:
    the grid is small)."""
    factor = _cell_factor(pixel_size)
    binary = cloudy(cloud, bits).astype("float32")
    if isinstance(cloud, da.Array):
        padded = pad_to_blocks(binary, factor)
        aligned = padded.rechunk(tuple(max(factor, c // factor * factor) for c in padded.chunksize))
        return da.coarsen(np.mean, aligned, {0: factor, 1: factor})
    return block_mean(binary, factor)


def whole_cells(chunk: int, pixel_size: float) -> int:
    """The largest chunk side up to ``chunk`` pixels that holds whole 240 m cells."""
    factor = _cell_factor(pixel_size)
    return max(factor, chunk - chunk % factor)


def cloudy_fractions(masks: Array, pixel_size: float, bits: int = CLOUD_BITS) -> Array:
    """(date, y'', x'') cloudy fraction of each 240 m cell of a (date, y, x) mask.

    A dask mask whose chunks hold whole cells (:func:`whole_cells`) is done chunk by chunk,
    every date in the chunk's one task; any other is coarsened date by date.
    """
    factor = _cell_factor(pixel_size)

    def fractions(block: Array) -> Array:
        return np.stack([block_mean(cloudy(m, bits).astype("float32"), factor) for m in block])

    if not isinstance(masks, da.Array):
        return fractions(np.asarray(masks))
    if all(c % factor == 0 for axis in masks.chunks[1:] for c in axis[:-1]):
        coarse = tuple(tuple(-(-c // factor) for c in axis) for axis in masks.chunks[1:])
        return masks.map_blocks(fractions, dtype="float32", chunks=(masks.chunks[0], *coarse))
    return da.stack([cloudy_fraction(masks[t], pixel_size, bits) for t in range(masks.shape[0])])


def gaussian_kernel(sigma: float, max_error: float = GAUSSIAN_MAX_ERROR) -> NDArray[np.float64]:
    """ITK's discrete Gaussian of variance σ² (Lindeberg's e^(−t) I_n(t)), cut where the mass
    kept reaches 1 − ``max_error`` and normalised to 1."""
    variance = sigma * sigma
    taps = [float(ive(0, variance)), float(ive(1, variance))]
    total = taps[0] + 2 * taps[1]
    while total < 1.0 - max_error and taps[-1] > 0.0:
        taps.append(float(ive(len(taps), variance)))
        total += 2 * taps[-1]
    half = np.array(taps) / total
    return np.concatenate([half[:0:-1], half])


def cell_grids(cells: Array) -> NDArray[np.float32]:
    """(2, y'', x''): S and L, the σ = 2 and σ = 10 blurs of one date's cloudy 240 m cells."""
    grid = (np.asarray(cells) > CLOUDY_CELL).astype("float64")
    out = np.empty((2, *grid.shape), "float32")
    for n, sigma in enumerate((SIGMA_SMALL, SIGMA_LARGE)):
        kernel = gaussian_kernel(sigma)
        rows = correlate1d(grid, kernel, axis=0, mode="nearest")
        out[n] = correlate1d(rows, kernel, axis=1, mode="nearest")
    return out


def _cell_grids(cells: Any) -> NDArray[np.float32]:
    """(date, 2, y'', x'') S and L from each date's cloudy fractions (a list or an array)."""
    return np.stack([cell_grids(np.asarray(c)) for c in cells])


def bco_taps(start: int, count: int, factor: int, cells: int) -> tuple[Array, Array]:
    """The cells and weights of OTB's BCO interpolation (radius 2, α = −0.5) at the centres of
    pixels ``start`` … ``start + count − 1`` of a grid ``factor`` times finer than ``cells``
    cells sharing its edges: (count, 5) cell indexes (clamped to the grid) and weights."""
    centre = (np.arange(start, start + count) + 0.5) / factor - 0.5  # in cell units
    base = np.floor(centre + 0.5)
    taps = np.arange(-BCO_RADIUS, BCO_RADIUS + 1)
    dist = np.abs(taps[None, :] - (centre - base)[:, None])
    a = BCO_ALPHA
    near = (a + 2) * dist**3 - (a + 3) * dist**2 + 1
    far = a * dist**3 - 5 * a * dist**2 + 8 * a * dist - 4 * a
    weights = np.where(dist <= 1, near, np.where(dist <= 2, far, 0.0))
    weights /= weights.sum(axis=1, keepdims=True)
    index = np.clip(base[:, None].astype(np.int64) + taps[None, :], 0, cells - 1)
    return index, weights


def cloud_weight(cloud: Array, pixel_size: float, cells: Array | None = None) -> Array:
    """W_cloud of one date on the pixel grid of ``cloud`` (numpy): 0 on cloudy pixels.

    ``cloud``: booleans or CLM codes; ``cells``: its 240 m cloudy fractions when known.
    """
    factor = _cell_factor(pixel_size)
    mask = cloudy(np.asarray(cloud))
    grids = cell_grids(cloudy_fraction(mask, pixel_size) if cells is None else cells)
    rows, cols = mask.shape
    row_index, row_weight = bco_taps(0, rows, factor, grids.shape[1])
    col_index, col_weight = bco_taps(0, cols, factor, grids.shape[2])
    blurred = []
    for grid in grids:
        lines = np.einsum("rk,rkc->rc", row_weight, grid[row_index])
        blurred.append(np.abs(np.einsum("ck,rck->rc", col_weight, lines[:, col_index])))
    small, large = blurred
    full = (small >= FULL_BLUR) | (large >= FULL_BLUR)
    weight = np.where(full, 0.0, (1 - small) * (1 - large))
    return np.where(mask, 0.0, weight).astype("float32")


@dataclass(frozen=True)
class Stack:
    """Every date at once, as the compiled synthesis reads them.

    ``reflectance`` (date, band, y, x): stored numbers (reflectance = value × ``scale``,
    ``nodata`` and NaN invalid). ``cloud`` (date, y', x'): booleans, or codes that are cloudy
    where they have one of ``cloud_bits``, on a grid ``cloud_factor`` times coarser that shares
    the pixel edges (1: the same grid). ``cells`` (date, y'', x''): the cloudy fraction of each
    240 m cell (numpy, or dask: then the synthesis waits for them on the cluster, not here).
    ``aot`` (date, y, x) or None. ``surface`` (date, y', x'): MAJA MG2 codes on the cloud
    mask's grid (snow and water), or None.
    """

    reflectance: Array
    cloud: Array
    days: list[date]
    cells: Any  # a list of (y'', x'') arrays or one (date, y'', x'') array
    sensors: list[str]
    cloud_factor: int = 1
    aot: Array | None = None
    cloud_bits: int = CLOUD_BITS
    surface: Array | None = None


@dataclass(frozen=True)
class _Params:
    """What the compiled synthesis needs besides the arrays (small: sent with every task)."""

    cloud_factor: int
    cell: int
    scalars: Array  # date × sensor weight, per date
    offsets: Array  # days from D0, per date
    order: Array  # the dates in time order
    blue: int
    invalid: float
    scale: float
    cloud_bits: int


def _block(
    refl: Array, cloud: Array, grids: Array, aot: Array | None, surface: Array | None,
    origin: tuple[int, int], params: _Params,
) -> Composite:  # fmt: skip
    rows, cols = refl.shape[2:]
    row_index, row_weight = bco_taps(origin[0], rows, params.cell, grids.shape[2])
    col_index, col_weight = bco_taps(origin[1], cols, params.cell, grids.shape[3])
    top, bottom = int(row_index.min()), int(row_index.max())
    first, last = int(col_index.min()), int(col_index.max())
    air = np.ones((1, 1, 1), "float32") if aot is None else np.asarray(aot, "float32")
    ground = np.zeros((1, 1, 1), "uint8") if surface is None else np.asarray(surface)
    frc, wgt, dts, flg = _synthesise(
        refl, np.asarray(cloud), params.cloud_factor, params.cloud_bits,
        np.ascontiguousarray(grids[:, :, top : bottom + 1, first : last + 1]),
        row_index - top, row_weight,
        col_index - first, col_weight, air, aot is not None, ground, surface is not None,
        params.scalars, params.offsets, params.order, params.blue, params.invalid, params.scale,
    )  # fmt: skip
    return Composite(frc, wgt, dts, flg)


def _task(
    refl: Array, cloud: Array, grids: Array, *extra: Array, params: _Params, has_aot: bool,
    block_info: dict[Any, Any] | None = None,
) -> Composite:  # fmt: skip
    """One chunk's synthesis. A module-level function, so that Dask sends it by reference and
    the workers run this module's compiled kernel from numba's on-disk cache (a closure would
    carry a copy of the kernel that every new worker compiles again: about 4 s)."""
    assert block_info is not None
    (_, _), (_, _), (r0, _), (c0, _) = block_info[0]["array-location"]
    aot = extra[0] if has_aot else None
    surface = extra[-1] if len(extra) > int(has_aot) else None
    return _block(refl, cloud, grids, aot, surface, (r0, c0), params)


def synthesis(
    stack: Stack,
    centre: date,
    pixel_size: float,
    blue: int = 0,
    *,
    scale: float = 1.0,
    nodata: float | None = None,
) -> Composite:
    """The WASP synthesis of a :class:`Stack` (numpy: now; dask: lazy, one task per chunk).

    Each pixel is done in one compiled pass over its dates: the weights (W_cloud interpolated
    from the 240 m S and L grids × AOT × date × sensor, 0 on cloudy pixels) are formed on the
    fly, so no per-date weight or float copy of the bands is ever stored. The S and L grids of
    the whole scene are made once and each chunk interpolates them at its own pixels, so a
    chunked synthesis equals the whole-scene one.
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, not {scale}")
    if len(stack.days) == 0:
        raise ValueError("a composite needs at least one observation")
    invalid = float("nan") if nodata is None else float(nodata)
    lazy_cells = isinstance(stack.cells, da.Array) or any(
        isinstance(c, da.Array) for c in stack.cells
    )
    grids: Any = (
        # one small task after the masks' pass, persisted (not awaited) on a distributed
        # cluster: the chunks' reads start while the masks are still being read
        persist(delayed(_cell_grids, pure=False)(stack.cells))[0]  # type: ignore[no-untyped-call]
        if lazy_cells
        else _cell_grids(stack.cells)
    )
    scalars = np.array(
        [date_weight(d, centre) * SENSOR_WEIGHT.get(s, 1.0)
         for d, s in zip(stack.days, stack.sensors, strict=True)], "float32"
    )  # fmt: skip
    offsets = np.array([float((d - centre).days) for d in stack.days], "float32")
    order = np.argsort(offsets, kind="stable").astype(np.int64)
    params = _Params(stack.cloud_factor, _cell_factor(pixel_size), scalars, offsets, order, blue,
                     invalid, scale, stack.cloud_bits)  # fmt: skip
    refl, cloud, aot, surface = stack.reflectance, stack.cloud, stack.aot, stack.surface
    if not isinstance(refl, da.Array):
        if lazy_cells:
            grids = grids.compute()
        return _block(refl, np.asarray(cloud), grids, aot, surface, (0, 0), params)
    bands = refl.shape[1]
    refl = refl.rechunk({0: -1, 1: -1})
    yx = refl.chunks[2:]
    coarse = tuple(tuple(-(-c // stack.cloud_factor) for c in axis) for axis in yx)
    cloud = da.asarray(cloud).rechunk(((cloud.shape[0],), *coarse))
    extra = [] if aot is None else [da.asarray(aot).rechunk(((aot.shape[0],), *yx))]
    if surface is not None:
        extra.append(da.asarray(surface).rechunk(((surface.shape[0],), *coarse)))

    # the S and L grids (a few MB for a tile) go into the graph once, not into every task
    shared = grids if lazy_cells else delayed(grids, pure=True)
    results = da.map_blocks(_task, refl, cloud, shared, *extra, params=params,
                            has_aot=aot is not None, drop_axis=[0, 1], chunks=yx, dtype=object,
                            meta=np.empty((0, 0), dtype=object))  # fmt: skip

    def field(name: str, dtype: Any, leading: bool = False) -> Array:
        pick = attrgetter(name)
        meta = np.empty((0,) * (3 if leading else 2), dtype=dtype)
        if leading:
            return results.map_blocks(pick, dtype=dtype, new_axis=0, meta=meta,
                                      chunks=((bands,), *yx))  # fmt: skip
        return results.map_blocks(pick, dtype=dtype, meta=meta, chunks=yx)

    return Composite(
        frc=field("frc", np.int16, leading=True),
        wgt=field("wgt", np.int16),
        dts=field("dts", np.float32),
        flg=field("flg", np.uint8),
    )


def composite(
    observations: list[Observation],
    centre: date,
    pixel_size: float,
    blue: int = 0,
    *,
    scale: float = 1.0,
    nodata: float | None = None,
) -> Composite:
    """The WASP synthesis of ``observations`` around ``centre``; ``blue`` is the blue band index.

    Reflectance may also be given as stored numbers (e.g. int16): reflectance = value x
    ``scale`` (> 0), and ``nodata`` marks invalid values besides NaN. Works on numpy arrays
    (eager) or dask arrays (lazy: one fused task per chunk; compute or store the fields of the
    result to run it). The observations are stacked and passed to :func:`synthesis`.
    """
    if not observations:
        raise ValueError("a composite needs at least one observation")
    shape = observations[0].reflectance.shape
    for obs in observations:
        if obs.reflectance.shape != shape:
            raise ValueError(f"{obs.day}: shape {obs.reflectance.shape} differs from {shape}")
    # every date's 240 m cloud grid at once (one pass on the cluster for a lazy stack)
    fractions = [
        cloudy_fraction(obs.cloud, pixel_size) if obs.cells is None else obs.cells
        for obs in observations
    ]
    cells = [np.asarray(f) for f in compute(*fractions)]  # type: ignore[no-untyped-call]
    lazy = isinstance(observations[0].reflectance, da.Array)
    stack_of = da.stack if lazy else np.stack
    optional: dict[str, Any] = {}
    for name, what in (("aot", "AOT"), ("surface", "MG2 mask")):
        given: list[Any] = [getattr(o, name) for o in observations if getattr(o, name) is not None]
        if given and len(given) != len(observations):
            raise ValueError(f"give the {what} of every observation or of none")
        optional[name] = stack_of(given) if given else None
    stack = Stack(
        reflectance=stack_of([o.reflectance for o in observations]),
        cloud=stack_of([o.cloud for o in observations]),
        days=[o.day for o in observations],
        cells=cells,
        sensors=[o.sensor for o in observations],
        **optional,
    )
    return synthesis(stack, centre, pixel_size, blue, scale=scale, nodata=nodata)


@njit(cache=True, nogil=True)
def _across(grids: Array, col_index: Array, col_weight: Array) -> Array:
    """S and L of every date interpolated (BCO) along the rows of cells at the block's pixel
    columns: (date, 2, cell rows, cols). The interpolation is separable; done once per block,
    it leaves each pixel row a contiguous pass down the few cell rows it needs."""
    dates, grids_n, cell_rows = grids.shape[0], grids.shape[1], grids.shape[2]
    cols, taps = col_index.shape
    out = np.zeros((dates, grids_n, cell_rows, cols), np.float64)
    for t in range(dates):
        for g in range(grids_n):
            for r in range(cell_rows):
                for x in range(cols):
                    value = 0.0
                    for k in range(taps):
                        value += col_weight[x, k] * grids[t, g, r, col_index[x, k]]
                    out[t, g, r, x] = value
    return out


@njit(cache=True, nogil=True)
def _cloud_row(
    across: Array, t: int, row_index: Array, row_weight: Array, y: int, small: Array,
    large: Array, out: Array,
) -> None:  # fmt: skip
    """W_cloud of row ``y`` before the cloud mask: S and L interpolated (BCO) down the cell
    rows of :func:`_across` at its pixels."""
    small[:] = 0.0
    large[:] = 0.0
    for k in range(row_index.shape[1]):
        weight, r = row_weight[y, k], row_index[y, k]
        for x in range(out.shape[0]):
            small[x] += weight * across[t, 0, r, x]
            large[x] += weight * across[t, 1, r, x]
    for x in range(out.shape[0]):
        s, lg = abs(small[x]), abs(large[x])
        full = s >= FULL_BLUR or lg >= FULL_BLUR
        out[x] = 0.0 if full else (1.0 - s) * (1.0 - lg)


@njit(cache=True, nogil=True)
def _date_weights(
    row: Array, cloud_row: Array, cloud_cols: Array, cloud_bits: int, w_cloud: Array,
    aot: Array, with_aot: bool, t: int, y: int, scalar: float, nodata: float, valid: Array,
    clear: Array, weight: Array,
) -> None:  # fmt: skip
    """One date of one row: which pixels are valid (every band neither nodata nor NaN), which
    are clear of clouds, and their weight (W_cloud × W_AOT × date and sensor; 0 if cloudy)."""
    for x in range(row.shape[1]):
        ok = True
        for b in range(row.shape[0]):
            value = row[b, x]
            ok = ok & (value != nodata) & (value == value)  # value == value: not NaN
        valid[x] = ok
        clear[x] = (np.int64(cloud_row[cloud_cols[x]]) & cloud_bits) == 0
        w = w_cloud[x] * scalar if ok and clear[x] else 0.0
        if with_aot:
            a = aot[t, y, x]
            if a < 0:  # the reference's WeightOnAOT: a negative AOT weighs nothing
                w = 0.0
            elif a < AOT_MAX:
                w *= AOT_WEIGHT_MIN + (AOT_WEIGHT_MAX - AOT_WEIGHT_MIN) * (1.0 - a / AOT_MAX)
            else:
                w *= AOT_WEIGHT_MIN
        weight[x] = w


@njit(cache=True, nogil=True)
def _finish_row(
    y: int, refl: Array, total: Array, sum_w: Array, days: Array, dark: Array, ground: Array,
    ground_flag: Array, offsets: Array, to_frc: float, frc: Array, wgt: Array, dts: Array,
    flg: Array,
) -> None:  # fmt: skip
    """Row ``y`` of the outputs from its sums: the weighted mean of the clear land dates, else
    the latest snow or water date, else the darkest cloudy (or zero-weight) date."""
    for x in range(total.shape[1]):
        if sum_w[x] > 0:
            for b in range(total.shape[0]):
                frc[b, y, x] = np.int16(np.rint(total[b, x] / sum_w[x] * to_frc))
            dts[y, x], flg[y, x] = days[x] / sum_w[x], FLAG_LAND
            wgt[y, x] = np.int16(np.rint(min(sum_w[x] * 1000.0, 32767.0)))
            continue
        pick, flag = (ground[x], ground_flag[x]) if ground[x] >= 0 else (dark[x], FLAG_CLOUD)
        if pick >= 0:
            for b in range(total.shape[0]):
                frc[b, y, x] = np.int16(np.rint(refl[pick, b, y, x] * to_frc))
            dts[y, x], flg[y, x] = offsets[pick], flag


@njit(cache=True, nogil=True)
def _synthesise(
    refl: Array, cloud: Array, cloud_factor: int, cloud_bits: int, grids: Array,
    row_index: Array, row_weight: Array, col_index: Array, col_weight: Array, aot: Array,
    with_aot: bool, surface: Array, with_surface: bool, scalars: Array, offsets: Array,
    order: Array, blue: int, nodata: float, scale: float,
) -> tuple[Array, Array, Array, Array]:  # fmt: skip
    """FRC, WGT, DTS, FLG of a block: for each pixel, one pass over its dates in time order.

    Sums are of stored numbers, scaled once at the end. A date is valid at a pixel when every
    band is neither ``nodata`` nor NaN. A valid clear date is snow or water when its MG2 code
    says so (kept if it is the latest and no land date weighs), else land: weight W_cloud ×
    W_AOT × date and sensor weight. Cloudy dates weigh 0; where nothing weighs and no snow or
    water date was seen, the valid zero-weight date darkest in blue is kept, flagged cloud.
    """
    dates, bands, rows, cols = refl.shape
    to_frc = scale * 10000.0
    frc = np.full((bands, rows, cols), NODATA, np.int16)
    wgt = np.zeros((rows, cols), np.int16)
    dts = np.full((rows, cols), np.nan, np.float32)
    flg = np.full((rows, cols), FLAG_NODATA, np.uint8)
    # one row at a time: the row's sums stay in cache while every date streams through
    total = np.zeros((bands, cols), np.float64)
    sum_w = np.zeros(cols, np.float64)
    days = np.zeros(cols, np.float64)
    dark = np.zeros(cols, np.int64)
    dark_blue = np.zeros(cols, np.float64)
    ground = np.zeros(cols, np.int64)
    ground_flag = np.zeros(cols, np.uint8)
    weight = np.zeros(cols, np.float64)
    w_cloud = np.zeros(cols, np.float64)
    across = _across(grids, col_index, col_weight)
    small = np.zeros(cols, np.float64)
    large = np.zeros(cols, np.float64)
    valid = np.zeros(cols, np.bool_)
    clear = np.zeros(cols, np.bool_)
    cloud_cols = np.arange(cols) // cloud_factor  # integer divisions once per block
    for y in range(rows):
        cloud_y = y // cloud_factor
        total[:] = 0.0
        sum_w[:] = 0.0
        days[:] = 0.0
        dark[:] = -1
        dark_blue[:] = np.inf
        ground[:] = -1
        for t in order:
            _cloud_row(across, t, row_index, row_weight, y, small, large, w_cloud)
            _date_weights(
                refl[t, :, y, :], cloud[t, cloud_y], cloud_cols, cloud_bits, w_cloud, aot,
                with_aot, t, y, scalars[t], nodata, valid, clear, weight,
            )  # fmt: skip
            if with_surface:  # snow and water dates weigh nothing; the latest one is kept
                for x in range(cols):
                    code = np.int64(surface[t, cloud_y, cloud_cols[x]])
                    wet, snowy = (code & WATER_BITS) != 0, (code & SNOW_BITS) != 0
                    if valid[x] and clear[x] and (wet or snowy):
                        weight[x] = 0.0
                        ground[x] = t
                        ground_flag[x] = FLAG_WATER if wet else FLAG_SNOW
            # branch-free passes (the compiler vectorises them): invalid values count as 0
            for b in range(bands):
                for x in range(cols):
                    value = refl[t, b, y, x]
                    total[b, x] += weight[x] * (value if valid[x] else 0)
            for x in range(cols):
                sum_w[x] += weight[x]
                days[x] += weight[x] * offsets[t]
                candidate = refl[t, blue, y, x]
                # the all-cloudy fallback: cloudy dates, and clear ones that weigh nothing
                darker = valid[x] and weight[x] == 0.0 and candidate < dark_blue[x]
                darker = darker and (not with_surface or not clear[x] or ground[x] != t)
                dark[x] = t if darker else dark[x]
                dark_blue[x] = candidate if darker else dark_blue[x]
        _finish_row(y, refl, total, sum_w, days, dark, ground, ground_flag, offsets, to_frc,
                    frc, wgt, dts, flg)  # fmt: skip
    return frc, wgt, dts, flg
