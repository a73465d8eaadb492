"""Coarse block grids: mean over size x size blocks and back to the pixel grid."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

Array = NDArray[Any]


def pad_to_blocks(values: Array, size: int) -> Array:
    """``values`` padded (edge values) so both sides are multiples of ``size``."""
    rows, cols = values.shape
    padded: Array = np.pad(values, ((0, (-rows) % size), (0, (-cols) % size)), mode="edge")
    return padded


def block_mean(values: Array, size: int) -> Array:
    """Mean of each size x size block (a partial edge block repeats its edge values)."""
    padded = pad_to_blocks(values, size)
    means: Array = padded.reshape(padded.shape[0] // size, size, -1, size).mean(axis=(1, 3))
    return means


def valid_block_mean(values: Array, size: int, fill: float) -> NDArray[np.float32]:
    """Mean of each size x size block over its pixels that are not ``fill`` (NaN: not NaN), as
    float32; ``fill`` where a block has none. ``values``' sides are multiples of ``size``."""
    rows, cols = values.shape[0] // size, values.shape[1] // size
    out = np.empty((rows, cols), dtype=np.float32)
    _valid_block_mean(values, size, float(fill), np.isnan(fill), out)
    return out


@njit(cache=True, nogil=True)
def _valid_block_mean(values: Array, size: int, fill: float, nan_fill: bool, out: Array) -> None:
    """One pass over ``values`` row by row (the compiled kernel of :func:`valid_block_mean`)."""
    cols = out.shape[1]
    total = np.empty(cols, dtype=np.float64)
    count = np.empty(cols, dtype=np.int64)
    for r in range(out.shape[0]):
        total[:] = 0.0
        count[:] = 0
        for dy in range(size):
            line = values[r * size + dy]
            for c in range(cols):
                for dx in range(size):
                    v = line[c * size + dx]
                    if (v == v) if nan_fill else (v != fill):  # v == v: not NaN
                        total[c] += v
                        count[c] += 1
        for c in range(cols):
            out[r, c] = total[c] / count[c] if count[c] else fill


def expand(
    blocks: Array, size: int, shape: tuple[int, ...], origin: tuple[int, int] = (0, 0)
) -> Array:
    """Each block value repeated over its size x size pixels: the ``shape`` pixels from ``origin``.

    ``origin`` (row, col) is in pixels of the full grid, so a chunk can be expanded on its own.
    """
    (r0, c0), (rows, cols) = origin, shape[:2]
    last_row, last_col = (r0 + rows - 1) // size, (c0 + cols - 1) // size
    part = blocks[r0 // size : last_row + 1, c0 // size : last_col + 1]
    full: Array = np.repeat(np.repeat(part, size, axis=0), size, axis=1)
    dr, dc = r0 % size, c0 % size
    return full[dr : dr + rows, dc : dc + cols]
