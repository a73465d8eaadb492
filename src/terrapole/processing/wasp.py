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


def _cells(cloud: Array, factor: int) -> NDArray[np.bool_]:
    """The 240 m cloudy-cell grid (a cell is cloudy when more than half its pixels are)."""
    if isinstance(cloud, da.Array):  # chunked input: the cell grid is small, compute it
        padded = pad_to_blocks(cloud.astype("float32"), factor)
        aligned = padded.rechunk(tuple(max(factor, c // factor * factor) for c in padded.chunksize))
        return np.asarray(da.coarsen(np.mean, aligned, {0: factor, 1: factor}).compute()) > 0.5
    cells: NDArray[np.bool_] = block_mean(cloud.astype("float32"), factor) > 0.5
    return cells


def cloud_weight(cloud: Array, pixel_size: float) -> Array:
    """(1 − S)(1 − L) from the 240 m cloud grid blurred at σ = 2 and σ = 10 cells; 0 on clouds.

    ``cloud`` may be a numpy or a dask array; with dask the result stays lazy and chunked like
    the mask (only the 240 m grid, ~460 x 460 cells for a tile, is computed at once).
    """
    factor = max(1, round(CLOUD_CELL_M / pixel_size))
    rows, cols = cloud.shape
    grid = _cells(cloud, factor).astype("float64")
    small = gaussian_filter(grid, sigma=2, mode="nearest")
    large = gaussian_filter(grid, sigma=10, mode="nearest")
    weight = (1.0 - small) * (1.0 - large)
    if isinstance(cloud, da.Array):

        def block(mask: Array, block_info: dict[Any, Any] | None = None) -> Array:
            (r0, r1), (c0, c1) = block_info[0]["array-location"]
            cells = weight[np.ix_(np.arange(r0, r1) // factor, np.arange(c0, c1) // factor)]
            return np.where(mask, np.float32(0.0), cells.astype("float32"))

        lazy: Array = cloud.map_blocks(block, dtype="float32")
        return lazy
    else:
        full = expand(weight, factor, (rows, cols))
    return np.where(cloud, 0.0, full)


def composite(
    observations: list[Observation], centre: date, pixel_size: float, blue: int = 0
) -> Composite:
    """The WASP synthesis of ``observations`` around ``centre``; ``blue`` is the blue band index.

    Works on numpy arrays (eager) or dask arrays (lazy: one fused task per chunk; compute or
    store the fields of the result to run it).
    """
    if not observations:
        raise ValueError("a composite needs at least one observation")
    shape = observations[0].reflectance.shape
    for obs in observations:
        if obs.reflectance.shape != shape:
            raise ValueError(f"{obs.day}: shape {obs.reflectance.shape} differs from {shape}")
    # per observation: the weight without its validity (cloud weight is 0 on clouds already)
    weights = [
        cloud_weight(obs.cloud, pixel_size)
        * aot_weight(obs.aot)
        * date_weight(obs.day, centre)
        * SENSOR_WEIGHT.get(obs.sensor, 1.0)
        for obs in observations
    ]
    offsets = [float((obs.day - centre).days) for obs in observations]
    if not isinstance(observations[0].reflectance, da.Array):
        return _combine([o.reflectance for o in observations], weights, offsets, blue)
    bands = shape[0]

    def block(*arrays: Array) -> Array:
        refl, ws = arrays[: len(observations)], arrays[len(observations) :]
        out = _combine(list(refl), list(ws), offsets, blue)
        return np.concatenate([out.frc, out.wgt[None], out.dts[None], out.flg[None]]).astype(
            "float32"
        )

    refls = [o.reflectance.rechunk({0: -1}) for o in observations]  # all bands in each block
    yx_chunks = refls[0].chunks[1:]
    packed = da.map_blocks(
        block,
        *refls,
        *[w.rechunk(yx_chunks)[None] for w in weights],
        dtype="float32",
        chunks=((bands + 3,), *yx_chunks),
    )
    return Composite(
        frc=packed[:bands].astype(np.int16),
        wgt=packed[bands].astype(np.int16),
        dts=packed[bands + 1],
        flg=packed[bands + 2].astype(np.uint8),
    )


def _combine(
    reflectances: list[Array], weights: list[Array], offsets: list[float], blue: int
) -> Composite:
    """The weighted mean of numpy arrays (``weights`` may carry a leading axis of 1)."""
    first = reflectances[0]
    total = np.zeros(first.shape, dtype="float32")
    sum_w = np.zeros(first.shape[1:], dtype="float32")
    days = np.zeros(first.shape[1:], dtype="float32")
    darkest = np.full(first.shape, np.nan, dtype="float32")
    darkest_blue = np.full(first.shape[1:], np.inf, dtype="float32")
    seen = np.zeros(first.shape[1:], dtype=bool)
    for refl, weight, offset in zip(reflectances, weights, offsets, strict=True):
        valid = np.all(np.isfinite(refl), axis=0)
        seen |= valid
        w = np.where(valid, np.reshape(weight, valid.shape), 0.0).astype("float32")
        total += w * np.nan_to_num(refl)
        sum_w += w
        days += w * offset
        # the all-cloudy fallback: darkest valid observation in blue
        blue_now = np.where(valid, refl[blue], np.inf)
        darker = blue_now < darkest_blue
        darkest = np.where(darker, refl, darkest)
        darkest_blue = np.where(darker, blue_now, darkest_blue)
    clear = sum_w > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(clear, total / np.where(clear, sum_w, 1.0), darkest)
        dts = np.where(clear, days / np.where(clear, sum_w, 1.0), np.nan)
    frc = np.where(seen, np.round(mean * 10000), NODATA).astype(np.int16)
    flg = np.where(clear, FLAG_LAND, np.where(seen, FLAG_CLOUD, FLAG_NODATA)).astype(np.uint8)
    wgt = np.round(np.clip(sum_w * 1000, 0, np.iinfo(np.int16).max)).astype(np.int16)
    return Composite(frc=frc, wgt=wgt, dts=dts.astype(np.float32), flg=flg)
