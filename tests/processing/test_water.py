"""Surface water on hand-computed scenes: Otsu threshold and its bounds, masking of clouds and
snow, the snow sources, and the yearly occurrence normalised month by month (Pekel 2016)."""

from __future__ import annotations

import numpy as np
import pytest

from terrapole.processing.water import (
    NO_OBSERVATION,
    NOT_WATER,
    PERMANENT,
    SEASONAL,
    THRESHOLD_RANGE,
    UNOBSERVED,
    otsu,
    snow_from_mg2,
    snow_from_product,
    snow_pass1,
    water_mask,
    yearly,
)

W, D, N = 1, 0, NO_OBSERVATION


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
    assert THRESHOLD_RANGE == (0.0, 0.3)
    assert 0.0 <= result.threshold <= 0.3
    assert result.mask.tolist() == [[0, 0, 1, 1], [1, 0, NO_OBSERVATION, NO_OBSERVATION]]


def test_a_winter_forest_with_no_water_has_no_water() -> None:
    """Land only (a unimodal histogram): Otsu cuts inside the land, at -0.15 here; the old lower
    bound -0.2 kept that cut and called the wetter half of the forest water (as on the real
    2015-12-30 T31UFQ date, 35 %). The bound 0.0 (Xu 2006) lies above winter land."""
    land = np.array([-0.30, -0.25, -0.20, -0.18, -0.12, -0.10, -0.05, -0.03, 0.0])
    assert -0.2 < otsu(land) < 0.0
    dry = water_mask(land, np.zeros(land.size, dtype=bool))
    assert dry.threshold == 0.0 and dry.mask.tolist() == [0] * land.size


def test_snow_is_no_observation_not_water() -> None:
    # MNDWI of snow ~ its NDSI (0.7): without the snow mask it is water
    index = np.array([-0.4, -0.3, 0.7, 0.72, 0.5])
    snow = np.array([False, False, True, True, False])
    assert water_mask(index, np.zeros(5, dtype=bool)).mask.tolist() == [0, 0, 1, 1, 1]
    assert water_mask(index, snow).mask.tolist() == [0, 0, N, N, 1]


def test_snow_sources_by_hand() -> None:
    codes = np.array([0.0, 100.0, 205.0, 254.0, np.nan])
    snow, unknown = snow_from_product(codes)
    assert snow.tolist() == [False, True, False, False, False]
    assert unknown.tolist() == [False, False, True, True, True]
    # MG2 bits: 4 snow; 2 cloud, 8 cloud shadow, 16 topographic shadow, 32 hidden, 64 / 128 sun;
    # 1 (water) neither
    snow, unknown = snow_from_mg2(np.array([0, 1, 4, 5, 2, 8, 16, 32, 64, 128]))
    assert snow.tolist() == [False, False, True, True, False, False, False, False, False, False]
    assert unknown.tolist() == [False, False, False, False, True, True, True, True, True, True]
    # LIS pass 1: NDSI > 0.40 and red > 0.200 (NDSI 0.5 / 0.4 exactly / 0.714)
    green = np.array([0.60, 0.60, 0.35, 0.06])
    red = np.array([0.55, 0.15, 0.30, 0.04])
    swir = np.array([0.20, 0.10, 0.15, 0.01])
    assert snow_pass1(green, red, swir).tolist() == [True, False, False, False]


def test_yearly_occurrence_is_normalised_month_by_month() -> None:
    """Pixel 0: January 4 dates all water, July 1 date dry -> (1 + 0) / 2 = 50 %, where the
    pooled ratio would say 4/5 = 80 %. Pixel 1: January 4 dates dry, July water -> 50 %.
    Pixel 2: January 1 water of 4 clear (the rest not observed: 1 of 1), July dry -> 50 %.
    Pixel 3: never observed."""
    jan = [
        np.array([W, D, W, N], dtype=np.uint8),
        np.array([W, D, N, N], dtype=np.uint8),
        np.array([W, D, N, N], dtype=np.uint8),
        np.array([W, D, N, N], dtype=np.uint8),
    ]
    jul = [np.array([D, W, D, N], dtype=np.uint8)]
    year = yearly(jan + jul, [1, 1, 1, 1, 7])
    assert year.occurrence[:3] == pytest.approx([50.0, 50.0, 50.0])
    assert np.isnan(year.occurrence[3])
    assert year.months.tolist() == [2, 2, 2, 0]
    assert year.classes.tolist() == [SEASONAL, SEASONAL, SEASONAL, UNOBSERVED]


def test_yearly_classes() -> None:
    dates = [np.array([W, W, D], dtype=np.uint8)] * 9 + [np.array([W, D, D], dtype=np.uint8)]
    months = list(range(1, 11))  # one date a month: the monthly mean is the pooled ratio
    year = yearly(dates, months)
    assert year.occurrence.tolist() == pytest.approx([100.0, 90.0, 0.0])
    assert year.classes.tolist() == [PERMANENT, PERMANENT, NOT_WATER]
    seasonal = yearly([np.array([W], dtype=np.uint8)] + [np.array([D], dtype=np.uint8)] * 3,
                      [3, 4, 5, 6])  # fmt: skip
    assert seasonal.occurrence[0] == 25.0 and seasonal.classes[0] == SEASONAL
    with pytest.raises(ValueError, match="one month"):
        yearly(dates, [1])
