"""WASP: the weighted monthly cloud-free synthesis of surface reflectance (THEIA Level 3A).

Follows the WASP ATBD as summarised in ALGORITHMS.md: per observation a weight
W = W_cloud · W_AOT · W_date · W_sensor; the output is the weighted mean Σ W·ρ / Σ W, the
weighted mean date offset, the total weight and a flag; where every valid observation is cloudy
the darkest (lowest blue) one is kept and flagged cloud.

- W_cloud: the cloud mask is taken to a 240 m grid (a cell is cloudy when more than half of its
  pixels are), blurred by Gaussians of σ = 2 and σ = 10 cells (S, L), W = (1 − S)(1 − L), brought
  back to the pixel grid; cloudy pixels weigh 0.
- W_AOT = 0.33 + 0.67 (1 − AOT / 0.8) below AOT 0.8, else 0.33. Deviation: when a product has no
  AOT band (THEIA crops without ATB) the weight is 1 for every date, so the other weights decide.
- W_date = 1 − 0.5 |D − D0| / 23 (days), W_sensor 1 for Sentinel-2 and 0.33 for Landsat 8.

Not done here (no input mask carries them in the supported products): the snow and water rules
and flags 2/3 of the ATBD; FLG uses 0 no data, 1 cloud (all-cloudy fallback), 4 land.
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
from scipy.ndimage import gaussian_filter

from terrapole.processing.grid import block_mean, expand, pad_to_blocks

CLOUD_CELL_M = 240.0
HALF_WINDOW_DAYS = 23
SENSOR_WEIGHT = {"sentinel-2": 1.0, "landsat-8": 0.33}
FLAG_NODATA, FLAG_CLOUD, FLAG_LAND = 0, 1, 4
NODATA = -10000

Array = NDArray[Any]


@dataclass(frozen=True)
class Observation:
    """One date: reflectance (band, y, x) in 0-1 with NaN for nodata, cloud mask (y, x)."""

    reflectance: Array
    cloud: NDArray[np.bool_]
    day: date
    sensor: str = "sentinel-2"
    aot: Array | None = None  # aerosol optical thickness (y, x), or None when not delivered
    cells: Array | None = None  # cloudy fraction of each 240 m cell, when known (else computed)


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
    return max(0.0, 1.0 - 0.5 * gap / HALF_WINDOW_DAYS) if gap <= HALF_WINDOW_DAYS else 0.0


def aot_weight(aot: Array | None) -> Array | float:
    """0.33 + 0.67 (1 − AOT/0.8) below 0.8, else 0.33; 1 when the AOT is not known."""
    if aot is None:
        return 1.0
    return np.where(aot < 0.8, 0.33 + 0.67 * (1.0 - aot / 0.8), 0.33)


def cloudy_fraction(cloud: Array, pixel_size: float) -> Array:
    """Cloudy fraction of each 240 m cell of a mask of ``pixel_size`` (lazy for a dask mask:
    the grid is small)."""
    factor = _cell_factor(pixel_size)
    if isinstance(cloud, da.Array):
        padded = pad_to_blocks(cloud.astype("float32"), factor)
        aligned = padded.rechunk(tuple(max(factor, c // factor * factor) for c in padded.chunksize))
        return da.coarsen(np.mean, aligned, {0: factor, 1: factor})
    return block_mean(cloud.astype("float32"), factor)


def _cell_factor(pixel_size: float) -> int:
    return max(1, round(CLOUD_CELL_M / pixel_size))


def whole_cells(chunk: int, pixel_size: float) -> int:
    """The largest chunk side up to ``chunk`` pixels that holds whole 240 m cells."""
    factor = _cell_factor(pixel_size)
    return max(factor, chunk - chunk % factor)


def cloudy_fractions(masks: Array, pixel_size: float) -> Array:
    """(date, y'', x'') cloudy fraction of each 240 m cell of a (date, y, x) mask.

    A dask mask whose chunks hold whole cells (:func:`whole_cells`) is done chunk by chunk,
    every date in the chunk's one task; any other is coarsened date by date.
    """
    factor = _cell_factor(pixel_size)

    def fractions(block: Array) -> Array:
        return np.stack([block_mean(m.astype("float32"), factor) for m in block])

    if not isinstance(masks, da.Array):
        return fractions(np.asarray(masks))
    if all(c % factor == 0 for axis in masks.chunks[1:] for c in axis[:-1]):
        coarse = tuple(tuple(-(-c // factor) for c in axis) for axis in masks.chunks[1:])
        return masks.map_blocks(fractions, dtype="float32", chunks=(masks.chunks[0], *coarse))
    return da.stack([cloudy_fraction(masks[t], pixel_size) for t in range(masks.shape[0])])


def cell_weights(cells: Array) -> NDArray[np.float32]:
    """(1 − S)(1 − L) on the 240 m grid of one date, from the cloudy fraction of each cell."""
    grid = (cells > 0.5).astype("float64")
    small = gaussian_filter(grid, sigma=2, mode="nearest")
    large = gaussian_filter(grid, sigma=10, mode="nearest")
    weights: NDArray[np.float32] = ((1.0 - small) * (1.0 - large)).astype("float32")
    return weights


def _cell_grids(cells: Any) -> NDArray[np.float32]:
    """(date, y'', x'') cell weights from each date's cloudy fractions (a list or an array)."""
    return np.stack([cell_weights(np.asarray(c)) for c in cells])


def cloud_weight(cloud: Array, pixel_size: float, cells: Array | None = None) -> Array:
    """(1 − S)(1 − L) from the 240 m cloud grid blurred at σ = 2 and σ = 10 cells; 0 on clouds.

    A cell is cloudy when more than half its pixels are. ``cloud`` may be a numpy or a dask
    array; with dask the result stays lazy and chunked like the mask. ``cells``: the cloudy
    fraction per cell when already computed (the grid is small: ~460 x 460 for a tile).
    """
    factor = _cell_factor(pixel_size)
    if cells is None:
        cells = np.asarray(compute(cloudy_fraction(cloud, pixel_size))[0])  # type: ignore[no-untyped-call]
    weight = cell_weights(cells)
    if isinstance(cloud, da.Array):

        def block(mask: Array, block_info: dict[Any, Any] | None = None) -> Array:
            (r0, _), (c0, _) = block_info[0]["array-location"]
            return np.where(mask, np.float32(0.0), expand(weight, factor, mask.shape, (r0, c0)))

        lazy: Array = cloud.map_blocks(block, dtype="float32")
        return lazy
    return np.where(cloud, np.float32(0.0), expand(weight, factor, cloud.shape))


@dataclass(frozen=True)
class Stack:
    """Every date at once, as the compiled synthesis reads them.

    ``reflectance`` (date, band, y, x): stored numbers (reflectance = value × ``scale``,
    ``nodata`` and NaN invalid). ``cloud`` (date, y', x'): non-zero where cloudy, on a grid
    ``cloud_factor`` times coarser that shares the pixel edges (1: the same grid). ``cells``
    (date, y'', x''): the cloudy fraction of each 240 m cell (numpy, or dask: then the synthesis
    waits for them on the cluster, not here). ``aot`` (date, y, x) or None.
    """

    reflectance: Array
    cloud: Array
    days: list[date]
    cells: Any  # a list of (y'', x'') arrays or one (date, y'', x'') array
    sensors: list[str]
    cloud_factor: int = 1
    aot: Array | None = None


@dataclass(frozen=True)
class _Params:
    """What the compiled synthesis needs besides the arrays (small: sent with every task)."""

    cloud_factor: int
    cell: int
    scalars: Array  # date × sensor weight, per date
    offsets: Array  # days from D0, per date
    blue: int
    invalid: float
    scale: float


def _block(
    refl: Array, cloud: Array, grids: Array, aot: Array | None, origin: tuple[int, int],
    params: _Params,
) -> Composite:  # fmt: skip
    air = np.ones((1, 1, 1), "float32") if aot is None else np.asarray(aot, "float32")
    frc, wgt, dts, flg = _synthesise(
        refl, cloud, params.cloud_factor, grids, params.cell, origin[0], origin[1], air,
        aot is not None, params.scalars, params.offsets, params.blue, params.invalid,
        params.scale,
    )  # fmt: skip
    return Composite(frc, wgt, dts, flg)


def _task(
    refl: Array, cloud: Array, grids: Array, *aot: Array, params: _Params,
    block_info: dict[Any, Any] | None = None,
) -> Composite:  # fmt: skip
    """One chunk's synthesis. A module-level function, so that Dask sends it by reference and
    the workers run this module's compiled kernel from numba's on-disk cache (a closure would
    carry a copy of the kernel that every new worker compiles again: about 4 s)."""
    assert block_info is not None
    (_, _), (_, _), (r0, _), (c0, _) = block_info[0]["array-location"]
    return _block(refl, cloud, grids, aot[0] if aot else None, (r0, c0), params)


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

    Each pixel is done in one compiled pass over its dates: the weights (cloud cell weight ×
    AOT × date × sensor, 0 on cloudy pixels) are formed on the fly, so no per-date weight or
    float copy of the bands is ever stored.
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, not {scale}")
    if len(stack.days) == 0:
        raise ValueError("a composite needs at least one observation")
    invalid = float("nan") if nodata is None else float(nodata)
    factor = _cell_factor(pixel_size)
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
    params = _Params(stack.cloud_factor, factor, scalars, offsets, blue, invalid, scale)
    refl, cloud, aot = stack.reflectance, stack.cloud, stack.aot
    if not isinstance(refl, da.Array):
        if lazy_cells:
            grids = grids.compute()
        return _block(refl, np.asarray(cloud), grids, aot, (0, 0), params)
    bands = refl.shape[1]
    refl = refl.rechunk({0: -1, 1: -1})
    yx = refl.chunks[2:]
    coarse = tuple(tuple(-(-c // stack.cloud_factor) for c in axis) for axis in yx)
    cloud = da.asarray(cloud).rechunk(((cloud.shape[0],), *coarse))
    extra = [] if aot is None else [da.asarray(aot).rechunk(((aot.shape[0],), *yx))]

    # the cell weights (a few MB for a tile) go into the graph once, not into every task
    shared = grids if lazy_cells else delayed(grids, pure=True)
    results = da.map_blocks(_task, refl, cloud, shared, *extra, params=params,
                            drop_axis=[0, 1], chunks=yx, dtype=object,
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
    with_aot: list[Any] = [o.aot for o in observations if o.aot is not None]
    if with_aot and len(with_aot) != len(observations):
        raise ValueError("give the AOT of every observation or of none")
    stack = Stack(
        reflectance=stack_of([o.reflectance for o in observations]),
        cloud=stack_of([o.cloud for o in observations]),
        days=[o.day for o in observations],
        cells=cells,
        sensors=[o.sensor for o in observations],
        aot=stack_of(with_aot) if with_aot else None,
    )
    return synthesis(stack, centre, pixel_size, blue, scale=scale, nodata=nodata)


@njit(cache=True, nogil=True)
def _date_weights(
    row: Array, cloud_row: Array, cloud_cols: Array, grid_row: Array, grid_cols: Array,
    aot: Array, with_aot: bool, t: int, y: int, scalar: float, nodata: float, valid: Array,
    weight: Array,
) -> None:  # fmt: skip
    """One date of one row: which pixels are valid (every band neither nodata nor NaN) and
    their weight (0 under the cloud mask, else cell weight × AOT weight × date and sensor)."""
    for x in range(row.shape[1]):
        ok = True
        for b in range(row.shape[0]):
            value = row[b, x]
            ok = ok & (value != nodata) & (value == value)  # value == value: not NaN
        valid[x] = ok
        w = grid_row[grid_cols[x]] * scalar if ok and cloud_row[cloud_cols[x]] == 0 else 0.0
        if with_aot:
            a = aot[t, y, x]
            w *= 0.33 + 0.67 * (1.0 - a / 0.8) if a < 0.8 else 0.33
        weight[x] = w


@njit(cache=True, nogil=True)
def _finish_row(
    y: int, refl: Array, total: Array, sum_w: Array, days: Array, dark: Array, to_frc: float,
    frc: Array, wgt: Array, dts: Array, flg: Array,
) -> None:  # fmt: skip
    """Row ``y`` of the outputs from its sums: the weighted mean, else the darkest cloudy date."""
    for x in range(total.shape[1]):
        if sum_w[x] > 0:
            for b in range(total.shape[0]):
                frc[b, y, x] = np.int16(np.rint(total[b, x] / sum_w[x] * to_frc))
            dts[y, x], flg[y, x] = days[x] / sum_w[x], FLAG_LAND
            wgt[y, x] = np.int16(np.rint(min(sum_w[x] * 1000.0, 32767.0)))
        elif dark[x] >= 0:
            for b in range(total.shape[0]):
                frc[b, y, x] = np.int16(np.rint(refl[dark[x], b, y, x] * to_frc))
            flg[y, x] = FLAG_CLOUD


@njit(cache=True, nogil=True)
def _synthesise(
    refl: Array, cloud: Array, cloud_factor: int, grids: Array, cell: int, r0: int, c0: int,
    aot: Array, with_aot: bool, scalars: Array, offsets: Array, blue: int, nodata: float,
    scale: float,
) -> tuple[Array, Array, Array, Array]:  # fmt: skip
    """FRC, WGT, DTS, FLG of a block: for each pixel, one pass over its dates.

    Sums are of stored numbers, scaled once at the end. A date is valid at a pixel when every
    band is neither ``nodata`` nor NaN; its weight is 0 where the cloud mask is set, else
    cell weight × AOT weight × date and sensor weight. Where no valid date has a weight above 0
    (every one cloudy), the valid date darkest in blue is kept, flagged cloud.
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
    weight = np.zeros(cols, np.float64)
    valid = np.zeros(cols, np.bool_)
    cloud_cols = np.arange(cols) // cloud_factor  # integer divisions once per block
    grid_cols = (c0 + np.arange(cols)) // cell
    for y in range(rows):
        cloud_y, grid_y = y // cloud_factor, (r0 + y) // cell
        total[:] = 0.0
        sum_w[:] = 0.0
        days[:] = 0.0
        dark[:] = -1
        dark_blue[:] = np.inf
        for t in range(dates):
            _date_weights(
                refl[t, :, y, :], cloud[t, cloud_y], cloud_cols, grids[t, grid_y], grid_cols,
                aot, with_aot, t, y, scalars[t], nodata, valid, weight,
            )  # fmt: skip
            # branch-free passes (the compiler vectorises them): invalid values count as 0
            for b in range(bands):
                for x in range(cols):
                    value = refl[t, b, y, x]
                    total[b, x] += weight[x] * (value if valid[x] else 0)
            for x in range(cols):
                sum_w[x] += weight[x]
                days[x] += weight[x] * offsets[t]
                candidate = refl[t, blue, y, x]
                darker = valid[x] and candidate < dark_blue[x]  # all-cloudy fallback
                dark[x] = t if darker else dark[x]
                dark_blue[x] = candidate if darker else dark_blue[x]
        _finish_row(y, refl, total, sum_w, days, dark, to_frc, frc, wgt, dts, flg)
    return frc, wgt, dts, flg
