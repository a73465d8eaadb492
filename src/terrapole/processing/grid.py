"""Coarse block grids: mean over size x size blocks and back to the pixel grid."""

from __future__ import annotations

from typing import Any

import numpy as np
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
