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


def expand(blocks: Array, size: int, shape: tuple[int, ...]) -> Array:
    """Each block value repeated over its size x size pixels, cut to ``shape``."""
    full: Array = np.repeat(np.repeat(blocks, size, axis=0), size, axis=1)
    return full[: shape[0], : shape[1]]
