"""Phenology metrics of one season from a per-pixel vegetation-index time series.

Terminology of TIMESAT / Phenolopy (ALGORITHMS.md). The series (day numbers, values with NaN
for cloudy dates) is gap-filled by linear interpolation in time, optionally smoothed with a
Savitzky-Golay filter, then: pos/vos peak and valley values; bse base = mean of the minima
before and after the peak; aos = pos − bse; sos/eos the times the series crosses
bse + fraction·aos (default 50 %) before and after the peak (linear between samples); los
length; mos mean of the samples inside the season; roi/rod rates of increase/decrease between
the crossings and the peak; lios/sios integrals (trapezoids, exact for the piecewise-linear
series) over the season of the values and of the values above the base; liot/siot the same
over the whole period.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.signal import savgol_filter

Array = NDArray[Any]
METRICS = ("sos", "eos", "los", "pos", "vos", "aos", "bse", "mos", "roi", "rod",
           "lios", "sios", "liot", "siot")  # fmt: skip


@dataclass(frozen=True)
class Season:
    """The metrics of one season (times in the series' day numbers)."""

    sos: float
    eos: float
    los: float
    pos: float
    vos: float
    aos: float
    bse: float
    mos: float
    roi: float
    rod: float
    lios: float
    sios: float
    liot: float
    siot: float


def prepare(days: Array, values: Array, window: int | None = 7, order: int = 2) -> Array:
    """Gap-filled (linear in time) and optionally Savitzky-Golay-smoothed series."""
    good = np.isfinite(values)
    if good.sum() < 2:
        raise ValueError("a phenology series needs at least two clear observations")
    filled = np.interp(days, days[good], values[good])
    if window is None or len(filled) < window:
        return filled
    smoothed: Array = savgol_filter(filled, window, order)
    return smoothed


def _crossing(t0: float, v0: float, t1: float, v1: float, level: float) -> float:
    return t0 if v1 == v0 else t0 + (level - v0) * (t1 - t0) / (v1 - v0)


def _integral(days: Array, values: Array, start: float, end: float) -> float:
    inside = (days > start) & (days < end)
    t = np.concatenate([[start], days[inside], [end]])
    v = np.interp(t, days, values)
    return float(np.trapezoid(v, t))


def season(days: Array, series: Array, fraction: float = 0.5) -> Season:
    """Metrics of the single season around the series' peak."""
    peak = int(np.argmax(series))
    pos, vos = float(series[peak]), float(np.min(series))
    left = float(np.min(series[: peak + 1]))
    right = float(np.min(series[peak:]))
    bse = (left + right) / 2
    aos = pos - bse
    level = bse + fraction * aos
    sos = float(days[0])
    for i in range(peak, 0, -1):
        if series[i - 1] < level <= series[i]:
            sos = _crossing(days[i - 1], series[i - 1], days[i], series[i], level)
            break
    eos = float(days[-1])
    for i in range(peak, len(series) - 1):
        if series[i] >= level > series[i + 1]:
            eos = _crossing(days[i], series[i], days[i + 1], series[i + 1], level)
            break
    inside = (days >= sos) & (days <= eos)
    lios = _integral(days, series, sos, eos)
    liot = _integral(days, series, float(days[0]), float(days[-1]))
    return Season(
        sos=sos,
        eos=eos,
        los=eos - sos,
        pos=pos,
        vos=vos,
        aos=aos,
        bse=bse,
        mos=float(np.mean(series[inside])) if inside.any() else pos,
        roi=(pos - level) / (float(days[peak]) - sos) if days[peak] > sos else 0.0,
        rod=(level - pos) / (eos - float(days[peak])) if eos > days[peak] else 0.0,
        lios=lios,
        sios=lios - bse * (eos - sos),
        liot=liot,
        siot=liot - bse * float(days[-1] - days[0]),
    )


def metrics(
    days: Array, stack: Array, window: int | None = 7, fraction: float = 0.5
) -> dict[str, Array]:
    """Every metric for each pixel of a (time, y, x) stack; NaN where a series is too sparse."""
    _, rows, cols = stack.shape
    out = {name: np.full((rows, cols), np.nan, dtype="float32") for name in METRICS}
    for r in range(rows):
        for c in range(cols):
            try:
                result = asdict(season(days, prepare(days, stack[:, r, c], window), fraction))
            except ValueError:
                continue
            for name, value in result.items():
                out[name][r, c] = value
    return out
