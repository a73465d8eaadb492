"""Surface water: a per-date water mask from MNDWI (or NDWI), and the yearly occurrence synthesis.

Per date (ALGORITHMS.md, after THEIA Surfwater, Xu 2006, McFeeters 1996): the index threshold is
chosen per scene by Otsu's method on the histogram of clear pixels, then kept inside
[−0.2, 0.3] so that a scene with hardly any water (a unimodal histogram) does not call its
driest land water; cloud, shadow and snow pixels are masked (no observation).
Yearly: occurrence = water observations / clear observations (%); classes 2 permanent
(occurrence >= 90 %), 1 seasonal (>= 10 %), 0 not water, 255 never observed clear.
These class bounds are this implementation's choice (the Surfwater documents define occurrence,
not fixed bounds) and are parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]
THRESHOLD_RANGE = (-0.2, 0.3)
NOT_WATER, SEASONAL, PERMANENT, UNOBSERVED = 0, 1, 2, 255
NO_OBSERVATION = 255


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


@dataclass(frozen=True)
class WaterMask:
    """One date: 1 water, 0 not water, 255 no observation; and the threshold used."""

    mask: NDArray[np.uint8]
    threshold: float


def water_mask(
    index: Array, masked: NDArray[np.bool_], bounds: tuple[float, float] = THRESHOLD_RANGE
) -> WaterMask:
    """Water where the index exceeds the scene's (bounded) Otsu threshold."""
    clear = ~masked & np.isfinite(index)
    threshold = float(np.clip(otsu(np.where(clear, index, np.nan)), *bounds))
    mask = np.where(clear, (index > threshold).astype(np.uint8), NO_OBSERVATION).astype(np.uint8)
    return WaterMask(mask, threshold)


@dataclass(frozen=True)
class WaterYear:
    """Yearly synthesis: occurrence (%, NaN where never clear) and the classes."""

    occurrence: NDArray[np.float32]
    classes: NDArray[np.uint8]


def yearly(
    masks: list[NDArray[np.uint8]], permanent: float = 90.0, seasonal: float = 10.0
) -> WaterYear:
    """Occurrence and permanent/seasonal classes from per-date water masks."""
    stack = np.stack(masks)
    clear = (stack != NO_OBSERVATION).sum(axis=0)
    water = (stack == 1).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        occurrence = np.where(clear > 0, 100.0 * water / clear, np.nan).astype(np.float32)
    classes = np.full(occurrence.shape, NOT_WATER, dtype=np.uint8)
    classes[occurrence >= seasonal] = SEASONAL
    classes[occurrence >= permanent] = PERMANENT
    classes[clear == 0] = UNOBSERVED
    return WaterYear(occurrence, classes)
