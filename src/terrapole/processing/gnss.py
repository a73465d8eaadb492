"""GNSS station position series: the trajectory model fitted by weighted least squares.

Per component (east, north, up), positions x(t) in metres at decimal years t:
x(t) = a + v (t − t0) + Σ_k o_k H(t − t_k) [+ s1 sin 2πt + c1 cos 2πt + s2 sin 4πt + c2 cos 4πt]
with H the step at each known equipment change t_k (antenna, receiver) and, optionally, annual
and semi-annual terms. Weights are 1/σ² from the series' formal sigmas. The velocity's sigma is
the formal one (white noise only): real series have coloured noise, so it is optimistic (by a
factor of ~2-10 for daily solutions, Williams 2003). ``detrended`` is the series minus the
constant, the trend and the offsets (seasonal signal and noise remain), ready to plot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
COMPONENTS = ("east", "north", "up")


@dataclass(frozen=True)
class Fit:
    """One component's fit: velocity (m/yr) and its sigma, offsets (m), residual RMS (m)."""

    velocity: float
    velocity_sigma: float
    offsets: list[float]
    seasonal: list[float]  # s1, c1, s2, c2 (m), empty when not fitted
    rms: float
    detrended: Array


def design(t: Array, t0: float, steps: list[float], seasonal: bool) -> Array:
    """The design matrix: constant, trend, one step per change, seasonal terms."""
    columns = [np.ones_like(t), t - t0]
    columns += [(t >= step).astype("float64") for step in steps]
    if seasonal:
        for k in (1, 2):
            columns += [np.sin(2 * np.pi * k * t), np.cos(2 * np.pi * k * t)]
    return np.column_stack(columns)


def fit(t: Array, x: Array, sigma: Array | None, steps: list[float], seasonal: bool = True) -> Fit:
    """The trajectory model of one component (NaN positions are left out)."""
    good = np.isfinite(x) & np.isfinite(t)
    if good.sum() < 3 + len(steps) + (4 if seasonal else 0):
        raise ValueError(f"{int(good.sum())} positions are too few for the model's parameters")
    inside = [s for s in steps if t[good].min() < s <= t[good].max()]
    if len(inside) != len(steps):
        outside = sorted(set(steps) - set(inside))
        raise ValueError(f"offset date(s) {outside} outside the series ({t[good].min():.3f}-"
                         f"{t[good].max():.3f})")  # fmt: skip
    t0 = float(np.round(np.median(t[good]), 1))
    a = design(t[good], t0, steps, seasonal)
    w = 1.0 / np.where(np.isfinite(sigma[good]) & (sigma[good] > 0), sigma[good], 1.0) ** 2 \
        if sigma is not None else np.ones(int(good.sum()))  # fmt: skip
    aw = a * w[:, None]
    normal = a.T @ aw
    params = np.linalg.solve(normal, aw.T @ x[good])
    residual = x[good] - a @ params
    dof = max(1, len(residual) - len(params))
    variance = float(np.sum(w * residual**2) / dof)
    covariance = np.linalg.inv(normal) * variance
    trend_part = design(t, t0, steps, False) @ params[: 2 + len(steps)]
    detrended = np.where(good, x - trend_part, np.nan)
    n = 2 + len(steps)
    return Fit(
        velocity=float(params[1]),
        velocity_sigma=float(np.sqrt(covariance[1, 1])),
        offsets=[float(v) for v in params[2:n]],
        seasonal=[float(v) for v in params[n:]] if seasonal else [],
        rms=float(np.sqrt(np.mean(residual**2))),
        detrended=detrended,
    )


def decimal_year(mjd: NDArray[Any]) -> Array:
    """Decimal years from modified Julian days (Julian years of 365.25 days from J2000)."""
    return 2000.0 + (np.asarray(mjd, dtype="float64") - 51544.5) / 365.25
