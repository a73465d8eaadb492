"""Phenology metrics on a triangle season computed by hand, and gap filling / smoothing checks."""

from __future__ import annotations

import numpy as np
import pytest

from terrapole.processing.phenology import METRICS, metrics, prepare, season

DAYS = np.arange(0, 101, 10, dtype=float)
# base 0.2, linear green-up to 0.8 at day 50, linear senescence back to 0.2 at day 100
TRIANGLE = np.array([0.2, 0.32, 0.44, 0.56, 0.68, 0.8, 0.68, 0.56, 0.44, 0.32, 0.2])


def test_triangle_season_metrics_by_hand() -> None:
    s = season(DAYS, TRIANGLE)
    assert (s.pos, s.vos, s.bse) == pytest.approx((0.8, 0.2, 0.2))
    assert s.aos == pytest.approx(0.6)
    assert (s.sos, s.eos, s.los) == pytest.approx((25.0, 75.0, 50.0))  # crossings of 0.5
    # rates per day, both positive (TIMESAT / Phenolopy report the decrease as its absolute rate)
    assert s.roi == pytest.approx(0.3 / 25) and s.rod == pytest.approx(0.3 / 25)
    # Phenolopy's mos: per slope the samples >= 80 % of its maximum (0.64): (0.68, 0.8) on each
    # side -> 0.74 and 0.74 -> 0.74 (not the mean of the in-season samples, 0.656)
    assert s.mos == pytest.approx(0.74)
    assert s.lios == pytest.approx(2 * (0.5 + 0.8) / 2 * 25)  # 32.5
    assert s.sios == pytest.approx(32.5 - 0.2 * 50)
    assert s.liot == pytest.approx(0.2 * 100 + 0.6 * 100 / 2)  # 50
    assert s.siot == pytest.approx(50 - 0.2 * 100)


def test_asymmetric_mid_season_by_hand() -> None:
    days = np.arange(0, 61, 10, dtype=float)
    series = np.array([0.1, 0.5, 0.9, 1.0, 0.85, 0.3, 0.1])
    # left slope (0.1, 0.5, 0.9, 1.0): >= 0.8 -> (0.9, 1.0), mean 0.95;
    # right slope (1.0, 0.85, 0.3, 0.1): >= 0.8 -> (1.0, 0.85), mean 0.925
    assert season(days, series).mos == pytest.approx((0.95 + 0.925) / 2)


def test_no_crossing_gives_no_end_of_season_not_the_last_day() -> None:
    """A series still rising at its end: bse = (0.2 + 0.8) / 2 = 0.5, level 0.65, sos between
    day 40 (0.6) and day 50 (0.7) = 45; no crossing after the peak: eos, los, rod, lios and sios
    are NaN (they were day 60, 15 days, ...)."""
    days = np.arange(0, 61, 10, dtype=float)
    rising = np.array([0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    s = season(days, rising)
    assert s.bse == pytest.approx(0.5) and s.sos == pytest.approx(45.0)
    assert s.roi == pytest.approx((0.8 - 0.65) / 15)
    for name in ("eos", "los", "rod", "lios", "sios"):
        assert np.isnan(getattr(s, name)), name
    assert s.mos == pytest.approx((0.75 + 0.8) / 2)  # left (0.7, 0.8), right (0.8)
    falling = season(days, rising[::-1].copy())  # mirror: no sos
    assert np.isnan(falling.sos) and np.isnan(falling.roi) and falling.eos == pytest.approx(15.0)
    out = metrics(days, rising.reshape(7, 1, 1), window=None)
    assert np.isnan(out["eos"][0, 0]) and out["sos"][0, 0] == pytest.approx(45.0)


def test_gaps_are_filled_linearly_and_smoothing_keeps_a_quadratic() -> None:
    gappy = TRIANGLE.copy()
    gappy[[2, 7]] = np.nan  # two cloudy dates
    assert prepare(DAYS, gappy, window=None) == pytest.approx(TRIANGLE)
    quadratic = 0.8 - 0.0002 * (DAYS - 50) ** 2
    assert prepare(DAYS, quadratic, window=7, order=2) == pytest.approx(quadratic)


def test_stack_metrics_and_too_sparse_pixels() -> None:
    stack = np.stack([TRIANGLE, np.full(11, np.nan)], axis=1).reshape(11, 1, 2)
    stack[3, 0, 1] = 0.5  # one clear observation only
    out = metrics(DAYS, stack, window=None)
    assert set(out) == set(METRICS)
    assert out["sos"][0, 0] == pytest.approx(25.0) and np.isnan(out["sos"][0, 1])
