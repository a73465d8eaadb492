"""Sub-pixel image correlation (ground deformation between two co-registered images).

Follows the principle of COSI-Corr (Leprince et al. 2007) in its simplest, frequency-domain form:
for each window, the normalised cross-power spectrum of the two (Hann-tapered, mean-removed)
patches is transformed back; its peak gives the integer offset. The sub-pixel part comes from
the same spectrum evaluated on a fine grid (``UPSAMPLE`` steps per pixel) within 1.5 pixels of
that peak by a matrix-multiply DFT (the upsampled cross-correlation of Guizar-Sicairos et al.
2008), then a parabola through the fine peak and its neighbours. The score is the peak of the
surface (1 for identical patches up to a shift, near 0 for unrelated ones).

Convention: ``dx, dy`` (pixels) are how far the content of ``after`` moved relative to
``before``: after(y, x) = before(y − dy, x − dx). In a north-up grid a move east is dx > 0 and a
move north is dy < 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import fourier_shift

Array = NDArray[Any]
UPSAMPLE = 20
ITERATIONS = 3


@dataclass(frozen=True)
class Offsets:
    """Offsets (pixels) and scores on the grid of window centres."""

    dx: NDArray[np.float32]
    dy: NDArray[np.float32]
    score: NDArray[np.float32]
    rows: NDArray[np.int64]  # centre row of each window row
    cols: NDArray[np.int64]


def _parabola(minus: float, centre: float, plus: float) -> float:
    """The vertex of the parabola through (−1, minus), (0, centre), (1, plus)."""
    curvature = minus - 2 * centre + plus
    return 0.0 if curvature == 0 else 0.5 * (minus - plus) / curvature


def phase_offset(
    before: Array, after: Array, iterations: int = ITERATIONS
) -> tuple[float, float, float]:
    """(dy, dx, score) of one pair of equal-size patches (NaN: no valid offset).

    The taper, fixed on the patch, biases a single estimate towards 0 (by ~40 % of the
    sub-pixel part); so ``after`` is shifted back by the estimate (a Fourier shift) and the rest
    measured again, ``iterations`` times.
    """
    if before.shape != after.shape or min(before.shape) < 4:
        raise ValueError(f"patches must share a shape of at least 4 x 4, not {before.shape}, "
                         f"{after.shape}")  # fmt: skip
    if not (np.all(np.isfinite(before)) and np.all(np.isfinite(after))):
        return float("nan"), float("nan"), 0.0
    dy, dx, score = _estimate(before, after)
    spectrum = np.fft.fft2(after)
    for _ in range(iterations - 1):
        if not np.isfinite(dy):
            break
        back = np.real(np.fft.ifft2(fourier_shift(spectrum, (-dy, -dx))))
        rest_y, rest_x, score = _estimate(before, back)
        dy, dx = dy + rest_y, dx + rest_x
    return dy, dx, score


def _estimate(before: Array, after: Array) -> tuple[float, float, float]:
    """One estimate of the offset of two patches."""
    rows, cols = before.shape
    taper = np.outer(np.hanning(rows), np.hanning(cols))
    a = np.fft.fft2((before - before.mean()) * taper)
    b = np.fft.fft2((after - after.mean()) * taper)
    cross = b * np.conj(a)
    magnitude = np.abs(cross)
    if not np.any(magnitude > 0):
        return float("nan"), float("nan"), 0.0
    surface = np.real(
        np.fft.ifft2(np.where(magnitude > 0, cross / np.maximum(magnitude, 1e-30), 0))
    )
    peak_row, peak_col = np.unravel_index(int(np.argmax(surface)), surface.shape)
    sub_row = _parabola(surface[(peak_row - 1) % rows, peak_col], surface[peak_row, peak_col],
                        surface[(peak_row + 1) % rows, peak_col])  # fmt: skip
    sub_col = _parabola(surface[peak_row, (peak_col - 1) % cols], surface[peak_row, peak_col],
                        surface[peak_row, (peak_col + 1) % cols])  # fmt: skip
    dy = (peak_row + rows // 2) % rows - rows // 2 + sub_row
    dx = (peak_col + cols // 2) % cols - cols // 2 + sub_col
    return float(dy), float(dx), float(surface[peak_row, peak_col])


def offsets(before: Array, after: Array, window: int = 32, step: int = 16) -> Offsets:
    """Offsets of every ``window`` x ``window`` patch, every ``step`` pixels."""
    if before.shape != after.shape:
        raise ValueError(f"the images differ in shape: {before.shape} and {after.shape}")
    if window < 8 or step < 1:
        raise ValueError("the window needs at least 8 pixels and the step at least 1")
    rows = np.arange(0, before.shape[0] - window + 1, step)
    cols = np.arange(0, before.shape[1] - window + 1, step)
    if len(rows) == 0 or len(cols) == 0:
        raise ValueError(f"the images ({before.shape}) are smaller than one {window} px window")
    dx = np.full((len(rows), len(cols)), np.nan, np.float32)
    dy, score = dx.copy(), np.zeros_like(dx)
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            patch = (slice(r, r + window), slice(c, c + window))
            dy[i, j], dx[i, j], score[i, j] = phase_offset(before[patch], after[patch])
    return Offsets(dx, dy, score, rows + window // 2, cols + window // 2)
