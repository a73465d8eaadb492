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
from typing import Any

import dask.array as da
import numpy as np
from dask.base import compute
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


def cloud_weight(cloud: Array, pixel_size: float, cells: Array | None = None) -> Array:
    """(1 − S)(1 − L) from the 240 m cloud grid blurred at σ = 2 and σ = 10 cells; 0 on clouds.

    A cell is cloudy when more than half its pixels are. ``cloud`` may be a numpy or a dask
    array; with dask the result stays lazy and chunked like the mask. ``cells``: the cloudy
    fraction per cell when already computed (the grid is small: ~460 x 460 for a tile).
    """
    factor = _cell_factor(pixel_size)
    if cells is None:
        cells = np.asarray(compute(cloudy_fraction(cloud, pixel_size))[0])  # type: ignore[no-untyped-call]
    grid = (cells > 0.5).astype("float64")
    small = gaussian_filter(grid, sigma=2, mode="nearest")
    large = gaussian_filter(grid, sigma=10, mode="nearest")
    weight = ((1.0 - small) * (1.0 - large)).astype("float32")
    if isinstance(cloud, da.Array):

        def block(mask: Array, block_info: dict[Any, Any] | None = None) -> Array:
            (r0, _), (c0, _) = block_info[0]["array-location"]
            return np.where(mask, np.float32(0.0), expand(weight, factor, mask.shape, (r0, c0)))

        lazy: Array = cloud.map_blocks(block, dtype="float32")
        return lazy
    return np.where(cloud, np.float32(0.0), expand(weight, factor, cloud.shape))


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
    ``scale`` (> 0), and ``nodata`` marks invalid values besides NaN. Reading stored numbers
    straight avoids a float copy of every band. Works on numpy arrays (eager) or dask arrays
    (lazy: one fused task per chunk; compute or store the fields of the result to run it).
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, not {scale}")
    invalid = float("nan") if nodata is None else float(nodata)
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
    # per observation: the weight without its validity (cloud weight is 0 on clouds already)
    weights = [
        cloud_weight(obs.cloud, pixel_size, grid)
        * aot_weight(obs.aot)
        * date_weight(obs.day, centre)
        * SENSOR_WEIGHT.get(obs.sensor, 1.0)
        for obs, grid in zip(observations, cells, strict=True)
    ]
    offsets = [float((obs.day - centre).days) for obs in observations]
    if not isinstance(observations[0].reflectance, da.Array):
        return _combine([o.reflectance for o in observations], weights, offsets, blue, scale,
                        invalid)  # fmt: skip
    bands = shape[0]

    def block(*arrays: Array) -> Composite:
        refl, ws = arrays[: len(observations)], arrays[len(observations) :]
        return _combine(list(refl), list(ws), offsets, blue, scale, invalid)

    refls = [o.reflectance.rechunk({0: -1}) for o in observations]  # all bands in each block
    yx_chunks = refls[0].chunks[1:]
    # one task per chunk returns the four outputs together; each field picks its part of them
    results = da.map_blocks(
        block,
        *refls,
        *[w.rechunk(yx_chunks)[None] for w in weights],
        drop_axis=0,
        chunks=yx_chunks,
        dtype=object,
        meta=np.empty((0, 0), dtype=object),
    )

    def field(name: str, dtype: Any, leading: bool = False) -> Array:
        def pick(result: Composite) -> Array:
            return getattr(result, name)

        meta = np.empty((0,) * (3 if leading else 2), dtype=dtype)
        if leading:
            return results.map_blocks(pick, dtype=dtype, new_axis=0, meta=meta,
                                      chunks=((bands,), *yx_chunks))  # fmt: skip
        return results.map_blocks(pick, dtype=dtype, meta=meta, chunks=yx_chunks)

    return Composite(
        frc=field("frc", np.int16, leading=True),
        wgt=field("wgt", np.int16),
        dts=field("dts", np.float32),
        flg=field("flg", np.uint8),
    )


@njit(cache=True, nogil=True)
def _add(
    refl: Array, weight: Array, offset: float, blue: int, nodata: float,
    total: Array, sum_w: Array, days: Array, darkest: Array, darkest_blue: Array,
) -> None:  # fmt: skip
    """Add one date (stored numbers) into the running sums, in place (one pass over its pixels)."""
    bands, rows, cols = refl.shape
    for y in range(rows):
        for x in range(cols):
            valid = True
            for b in range(bands):
                value = float(refl[b, y, x])
                if value == nodata or not np.isfinite(value):
                    valid = False
                    break
            if not valid:
                continue
            w = weight[y, x]
            for b in range(bands):
                total[b, y, x] += w * refl[b, y, x]
            sum_w[y, x] += w
            days[y, x] += w * offset
            if refl[blue, y, x] < darkest_blue[y, x]:  # the all-cloudy fallback: darkest in blue
                darkest_blue[y, x] = refl[blue, y, x]
                for b in range(bands):
                    darkest[b, y, x] = refl[b, y, x]


@njit(cache=True, nogil=True)
def _finish(
    total: Array, sum_w: Array, days: Array, darkest: Array, darkest_blue: Array, scale: float
) -> tuple[Array, Array, Array, Array]:
    """FRC, WGT, DTS, FLG from the running sums (of stored numbers x ``scale``)."""
    to_frc = scale * 10000.0
    bands, rows, cols = total.shape
    frc = np.empty((bands, rows, cols), np.int16)
    wgt = np.empty((rows, cols), np.int16)
    dts = np.empty((rows, cols), np.float32)
    flg = np.empty((rows, cols), np.uint8)
    for y in range(rows):
        for x in range(cols):
            w = sum_w[y, x]
            if w > 0:
                for b in range(bands):
                    frc[b, y, x] = np.int16(np.rint(total[b, y, x] / w * to_frc))
                dts[y, x] = days[y, x] / w
                flg[y, x] = FLAG_LAND
            elif np.isfinite(darkest_blue[y, x]):
                for b in range(bands):
                    frc[b, y, x] = np.int16(np.rint(darkest[b, y, x] * to_frc))
                dts[y, x] = np.nan
                flg[y, x] = FLAG_CLOUD
            else:
                for b in range(bands):
                    frc[b, y, x] = NODATA
                dts[y, x] = np.nan
                flg[y, x] = FLAG_NODATA
            wgt[y, x] = np.int16(np.rint(min(max(w * 1000.0, 0.0), 32767.0)))
    return frc, wgt, dts, flg


def _combine(
    reflectances: list[Array],
    weights: list[Array],
    offsets: list[float],
    blue: int,
    scale: float = 1.0,
    nodata: float = float("nan"),
) -> Composite:
    """The weighted mean of numpy arrays (``weights`` may carry a leading axis of 1).

    Compiled (numba): one pass per date over its pixels, then one to finish; a pixel is
    valid on a date when every band is finite and not ``nodata`` there. Sums are of the
    stored numbers, scaled once at the end.
    """
    bands, rows, cols = reflectances[0].shape
    total = np.zeros((bands, rows, cols), dtype="float32")
    sum_w = np.zeros((rows, cols), dtype="float32")
    days = np.zeros((rows, cols), dtype="float32")
    darkest = np.full((bands, rows, cols), np.nan, dtype="float32")
    darkest_blue = np.full((rows, cols), np.inf, dtype="float32")
    for refl, weight, offset in zip(reflectances, weights, offsets, strict=True):
        _add(
            np.ascontiguousarray(refl),
            np.ascontiguousarray(np.reshape(weight, (rows, cols)), dtype="float32"),
            float(offset), blue, nodata, total, sum_w, days, darkest, darkest_blue,
        )  # fmt: skip
    frc, wgt, dts, flg = _finish(total, sum_w, days, darkest, darkest_blue, scale)
    return Composite(frc=frc, wgt=wgt, dts=dts, flg=flg)
