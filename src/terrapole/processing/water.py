"""Surface water: a per-date water mask from MNDWI, and the yearly occurrence synthesis.

Per date (docs/algorithms.md, "Surface water"; THEIA Surfwater, Xu 2006): the MNDWI threshold
is chosen per scene by Otsu's method on the histogram of the observed pixels, then kept inside
[0.0, 0.3]. The lower bound is Xu's own MNDWI threshold (0): below it lies the clear land of a
winter forest (real T31UFQ series: 99th percentile −0.03 on 2015-12-30, where the old bound
−0.2 called 35 % of it water), so a scene with hardly any water (a unimodal histogram, whose
Otsu cut falls inside the land) does not call its wettest land water. Cloud, shadow and snow
pixels are not observations: snow has an MNDWI close to its NDSI (> 0.4) and would be water.
Snow comes from the snow chain's product of the same date, else from the L2A MG2 snow bit,
else from the Let-It-Snow pass-1 test computed here.

Yearly (Pekel et al. 2016): per month, water observations / observations; occurrence = the mean
of those monthly ratios over the months with an observation (%), so that a month with many
clear dates does not outweigh the others. Classes 2 permanent (occurrence >= 90 %),
1 seasonal (>= 10 %), 0 not water, 255 never observed; these bounds are this implementation's
choice (Surfwater defines the occurrence, not fixed class bounds) and are parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from terrapole.processing import snow

Array = NDArray[Any]
THRESHOLD_RANGE = (0.0, 0.3)
NOT_WATER, SEASONAL, PERMANENT, UNOBSERVED = 0, 1, 2, 255
NO_OBSERVATION = 255

# MUSCATE MG2 (geophysical mask) bits: 1 clouds, 2 snow, 3 cloud shadows, 4 topographic
# shadows, 5 hidden by relief, 6 sun too low, 7 sun tangent (bit 0, water, is not used)
MG2_SNOW = 1 << 2
MG2_UNOBSERVED = (1 << 1) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7)
# Let-It-Snow pass 1 (default MUSCATE S2 parameters): NDSI > 0.40 and red > 0.200
PASS1_NDSI, PASS1_RED = snow.DEFAULT.ndsi_pass1, snow.DEFAULT.red_pass1


def otsu(values: Array, bins: int = 256) -> float:
    """Otsu's threshold of finite ``values``: the cut maximising the between-class variance."""
    data = values[np.isfinite(values)]
    if data.size == 0:
        raise ValueError("no clear pixel to choose a water threshold from")
    counts, edges = np.histogram(data, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    weight_low = np.cumsum(counts)
    weight_high = data.size - weight_low
    sum_low = np.cumsum(counts * centres)
    mean_low = np.divide(sum_low, weight_low, out=np.zeros(bins), where=weight_low > 0)
    mean_high = np.divide(
        sum_low[-1] - sum_low, weight_high, out=np.zeros(bins), where=weight_high > 0
    )
    between = weight_low * weight_high * (mean_low - mean_high) ** 2
    return float(edges[int(np.argmax(between)) + 1])


def snow_from_product(codes: Array) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """(snow, not observed) from the snow chain's codes: NaN (no product there), cloud and no
    data are not observed."""
    snowy = codes == snow.SNOW
    unknown = ~np.isfinite(codes) | (codes == snow.CLOUD) | (codes == snow.NODATA)
    return snowy, unknown


def snow_from_mg2(mg2: Array) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """(snow, not observed) from the MUSCATE MG2 mask: its snow bit; its cloud, shadow,
    relief and sun bits."""
    bits = np.asarray(mg2).astype(np.int64)
    return (bits & MG2_SNOW) != 0, (bits & MG2_UNOBSERVED) != 0


def snow_pass1(green: Array, red: Array, swir: Array) -> NDArray[np.bool_]:
    """The Let-It-Snow pass-1 snow test (reflectances 0-1): NDSI > 0.40 and red > 0.200."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ndsi = (green - swir) / (green + swir)
        return np.asarray((ndsi > PASS1_NDSI) & (red > PASS1_RED))


@dataclass(frozen=True)
class WaterMask:
    """One date: 1 water, 0 not water, 255 no observation; and the threshold used."""

    mask: NDArray[np.uint8]
    threshold: float


def water_mask(
    index: Array, masked: NDArray[np.bool_], bounds: tuple[float, float] = THRESHOLD_RANGE
) -> WaterMask:
    """Water where the index exceeds the scene's (bounded) Otsu threshold; ``masked`` pixels
    (clouds, shadows, snow) are no observation."""
    clear = ~masked & np.isfinite(index)
    threshold = float(np.clip(otsu(np.where(clear, index, np.nan)), *bounds))
    mask = np.where(clear, (index > threshold).astype(np.uint8), NO_OBSERVATION).astype(np.uint8)
    return WaterMask(mask, threshold)


@dataclass(frozen=True)
class WaterYear:
    """Yearly synthesis: occurrence (%, NaN where never clear), the classes and the number of
    months with an observation per pixel."""

    occurrence: NDArray[np.float32]
    classes: NDArray[np.uint8]
    months: NDArray[np.uint8]


def yearly(
    masks: Sequence[NDArray[np.uint8]],
    months: Sequence[int],
    permanent: float = 90.0,
    seasonal: float = 10.0,
) -> WaterYear:
    """Occurrence normalised month by month (Pekel et al. 2016) and permanent/seasonal classes
    from per-date water masks and each mask's month (1-12)."""
    if len(masks) != len(months):
        raise ValueError("one month is needed per water mask")
    stack = np.stack(masks)
    ratio_sum = np.zeros(stack.shape[1:], dtype=np.float64)
    observed_months = np.zeros(stack.shape[1:], dtype=np.uint8)
    for month in sorted(set(months)):
        of_month = stack[[i for i, m in enumerate(months) if m == month]]
        clear = (of_month != NO_OBSERVATION).sum(axis=0)
        water = (of_month == 1).sum(axis=0)
        seen = clear > 0
        ratio_sum[seen] += water[seen] / clear[seen]
        observed_months += seen
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(observed_months > 0, 100.0 * ratio_sum / observed_months, np.nan)
    occurrence = share.astype(np.float32)
    classes = np.full(occurrence.shape, NOT_WATER, dtype=np.uint8)
    classes[occurrence >= seasonal] = SEASONAL
    classes[occurrence >= permanent] = PERMANENT
    classes[observed_months == 0] = UNOBSERVED
    return WaterYear(occurrence, classes, observed_months)
