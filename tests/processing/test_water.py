"""Surface water on hand-computed scenes: Otsu threshold, masking, yearly occurrence and classes."""

from __future__ import annotations

import numpy as np
import pytest

from terrapole.processing.water import (
    NO_OBSERVATION,
    NOT_WATER,
    PERMANENT,
    SEASONAL,
    UNOBSERVED,
    otsu,
    water_mask,
    yearly,
)


def test_otsu_splits_a_bimodal_histogram_between_its_modes() -> None:
    rng = np.random.default_rng(0)
    land = rng.normal(-0.4, 0.03, 3000)
    water = rng.normal(0.5, 0.03, 1000)
    threshold = otsu(np.concatenate([land, water]))
    assert land.max() < threshold < water.min()


def test_water_mask_masks_clouds_and_bounds_the_threshold() -> None:
    index = np.array([[-0.5, -0.45, 0.6, 0.55], [0.58, -0.48, 0.9, np.nan]])
    clouds = np.array([[False, False, False, False], [False, False, True, False]])
    result = water_mask(index, clouds)
    assert -0.2 <= result.threshold <= 0.3
    assert result.mask.tolist() == [[0, 0, 1, 1], [1, 0, NO_OBSERVATION, NO_OBSERVATION]]
    # all land (unimodal): the bounded threshold keeps the wettest land pixels out of water
    dry = water_mask(np.array([-0.6, -0.5, -0.45, -0.3]), np.zeros(4, dtype=bool))
    assert dry.threshold == -0.2 and dry.mask.tolist() == [0, 0, 0, 0]


def test_yearly_occurrence_and_classes() -> None:
    w, d, n = 1, 0, NO_OBSERVATION
    dates = [  # four pixels over ten dates
        np.array([w, w, d, n], dtype=np.uint8),
    ] * 9 + [np.array([w, d, d, n], dtype=np.uint8)]
    year = yearly(dates)
    # pixel 0: 10/10 water; pixel 1: 9/10; pixel 2: 0/10; pixel 3: never observed
    assert year.occurrence[:3] == pytest.approx([100.0, 90.0, 0.0]) and np.isnan(year.occurrence[3])
    assert year.classes.tolist() == [PERMANENT, PERMANENT, NOT_WATER, UNOBSERVED]
    seasonal = yearly([np.array([w], dtype=np.uint8)] + [np.array([d], dtype=np.uint8)] * 3)
    assert seasonal.occurrence[0] == 25.0 and seasonal.classes[0] == SEASONAL
