"""Coarse block grids: block means and their expansion back to pixels, whole or by chunk."""

from __future__ import annotations

import numpy as np

from terrapole.processing.grid import block_mean, expand, valid_block_mean


def test_block_mean_by_hand() -> None:
    values = np.arange(16, dtype="float32").reshape(4, 4)
    # blocks of 2: [[0,1,4,5], [2,3,6,7]], [[8,9,12,13], [10,11,14,15]]
    np.testing.assert_array_equal(block_mean(values, 2), [[2.5, 4.5], [10.5, 12.5]])
    # a partial edge block repeats the edge: 3 x 3 in blocks of 2 -> rows/cols 0,1 | 2,2
    small = np.arange(9, dtype="float32").reshape(3, 3)
    np.testing.assert_array_equal(block_mean(small, 2), [[2.0, 3.5], [6.5, 8.0]])


def test_valid_block_mean_leaves_fill_pixels_out_by_hand() -> None:
    values = np.array(
        [[1, 3, -9, -9, 5, 6], [5, -9, -9, -9, 7, 8]],  # -9: nodata
        dtype="int16",
    )
    means = valid_block_mean(values, 2, -9)
    assert means.dtype == np.float32
    # (1 + 3 + 5) / 3; no valid pixel -> the fill; (5 + 6 + 7 + 8) / 4
    np.testing.assert_array_equal(means, [[3.0, -9.0, 6.5]])
    floats = np.array([[0.1, np.nan], [0.3, 0.2]], dtype="float32")
    np.testing.assert_allclose(valid_block_mean(floats, 2, np.nan), [[0.2]], rtol=1e-6)
    assert np.isnan(valid_block_mean(np.full((3, 3), np.nan, "float32"), 3, np.nan)[0, 0])
    # blocks of 3 over 3 x 6 pixels, every pixel valid: the plain mean
    ramp = np.arange(18, dtype="float32").reshape(3, 6)
    np.testing.assert_array_equal(valid_block_mean(ramp, 3, -1), [[7.0, 10.0]])


def test_expand_by_hand() -> None:
    blocks = np.array([[1, 2], [3, 4]])
    np.testing.assert_array_equal(
        expand(blocks, 2, (3, 4)), [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4]]
    )


def test_a_chunk_expanded_alone_equals_its_part_of_the_whole() -> None:
    rng = np.random.default_rng(3)
    blocks = rng.random((9, 11))
    whole = expand(blocks, 24, (200, 250))
    for r0, c0, rows, cols in [
        (0, 0, 200, 250),
        (5, 7, 30, 41),
        (23, 24, 1, 1),
        (190, 230, 10, 20),
    ]:
        part = expand(blocks, 24, (rows, cols), (r0, c0))
        np.testing.assert_array_equal(part, whole[r0 : r0 + rows, c0 : c0 + cols])
