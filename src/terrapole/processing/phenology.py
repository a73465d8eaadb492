"""Phenology metrics of one season from a per-pixel vegetation-index time series.

Terminology of TIMESAT / Phenolopy (docs/algorithms.md, "Vegetation indices and phenology").
The series (day numbers, values with NaN for cloudy dates) is gap-filled by linear
interpolation in time, optionally smoothed with a Savitzky-Golay filter, then: pos/vos peak and
valley values; bse base = mean of the minima before and after the peak; aos = pos − bse;
sos/eos the times the series crosses bse + fraction·aos (default 50 %) before and after the
peak (linear between samples); los length; mos, as Phenolopy's ``get_mos``: on each side of the
peak the mean of the samples at or above 80 % of that side's maximum, then the mean of the two;
roi/rod the rates of increase and decrease between the crossings and the peak, both positive
(value per day, as TIMESAT and Phenolopy report them: rod is the absolute rate); lios/sios
integrals (trapezoids, exact for the piecewise-linear series) over the season of the values
and of the values above the base; liot/siot the same over the whole period.

A season whose series never crosses the level before (or after) the peak has no sos (or eos):
it is NaN, and so are the metrics that need it (los, roi or rod, lios, sios), never the series'
first or last day.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.signal import savgol_filter

Array = NDArray[Any]
MOS_LEVEL = 0.8  # Phenolopy's mid-season samples: at or above 80 % of each slope's maximum
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


def _mid_season(series: Array, peak: int) -> float:
    """Phenolopy's mos: per slope (up to and from the peak), the mean of the samples at or
    above 80 % of the slope's maximum; the mean of the two slopes' means."""
    means = []
    for slope in (series[: peak + 1], series[peak:]):
        means.append(float(np.mean(slope[slope >= MOS_LEVEL * np.max(slope)])))
    return (means[0] + means[1]) / 2


def _start(days: Array, series: Array, peak: int, level: float) -> float:
    """The last upward crossing of ``level`` before the peak (NaN without one)."""
    for i in range(peak, 0, -1):
        if series[i - 1] < level <= series[i]:
            return _crossing(days[i - 1], series[i - 1], days[i], series[i], level)
    return float("nan")


def _end(days: Array, series: Array, peak: int, level: float) -> float:
    """The first downward crossing of ``level`` after the peak (NaN without one)."""
    for i in range(peak, len(series) - 1):
        if series[i] >= level > series[i + 1]:
            return _crossing(days[i], series[i], days[i + 1], series[i + 1], level)
    return float("nan")


def season(days: Array, series: Array, fraction: float = 0.5) -> Season:
    """Metrics of the single season around the series' peak (NaN where undefined)."""
    peak = int(np.argmax(series))
    t_peak = float(days[peak])
    pos, vos = float(series[peak]), float(np.min(series))
    bse = (float(np.min(series[: peak + 1])) + float(np.min(series[peak:]))) / 2
    aos = pos - bse
    level = bse + fraction * aos
    sos, eos = _start(days, series, peak, level), _end(days, series, peak, level)
    found = np.isfinite(sos) and np.isfinite(eos)
    lios = _integral(days, series, sos, eos) if found else float("nan")
    liot = _integral(days, series, float(days[0]), float(days[-1]))
    return Season(
        sos=sos,
        eos=eos,
        los=eos - sos,
        pos=pos,
        vos=vos,
        aos=aos,
        bse=bse,
        mos=_mid_season(series, peak),
        roi=(pos - level) / (t_peak - sos) if t_peak > sos else float("nan"),
        rod=(pos - level) / (eos - t_peak) if eos > t_peak else float("nan"),
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
