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
    assert s.roi == pytest.approx(0.3 / 25) and s.rod == pytest.approx(-0.3 / 25)
    assert s.mos == pytest.approx(np.mean([0.56, 0.68, 0.8, 0.68, 0.56]))
    assert s.lios == pytest.approx(2 * (0.5 + 0.8) / 2 * 25)  # 32.5
    assert s.sios == pytest.approx(32.5 - 0.2 * 50)
    assert s.liot == pytest.approx(0.2 * 100 + 0.6 * 100 / 2)  # 50
    assert s.siot == pytest.approx(50 - 0.2 * 100)


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
