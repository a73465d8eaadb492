"""GNSS trajectory fits on a hand-built series (exact), and the two real file formats."""

from __future__ import annotations

import numpy as np
import pytest

from terrapole.jobs.services.gnss_files import read_series
from terrapole.processing.gnss import decimal_year, fit

from ..conftest import ROOT

DATA = ROOT / "tests" / "data" / "gnss"


def test_fit_recovers_velocity_offset_and_seasonal_terms_exactly() -> None:
    t = np.arange(2008.0, 2014.0, 1 / 365.25)
    truth = 0.012 * (t - 2011.0) + 0.005 * (t >= 2010.5) + 0.003 * np.sin(2 * np.pi * t)
    result = fit(t, truth + 0.1, np.full_like(t, 0.002), [2010.5], seasonal=True)
    assert result.velocity == pytest.approx(0.012, abs=1e-10)
    assert result.offsets == pytest.approx([0.005], abs=1e-10)
    assert result.seasonal[:2] == pytest.approx([0.003, 0.0], abs=1e-10)
    assert result.rms < 1e-10
    # detrended keeps only the seasonal signal (constant, trend and offset removed)
    np.testing.assert_allclose(result.detrended, 0.003 * np.sin(2 * np.pi * t), atol=1e-10)


def test_fit_refuses_offsets_outside_the_series_and_too_short_series() -> None:
    t = np.linspace(2010, 2011, 50)
    with pytest.raises(ValueError, match="outside the series"):
        fit(t, t * 0.01, None, [2012.0])
    with pytest.raises(ValueError, match="too few"):
        fit(t[:5], t[:5], None, [], seasonal=True)


def test_mjd_to_decimal_year() -> None:
    assert decimal_year(np.array([51544.5]))[0] == pytest.approx(2000.0)
    assert decimal_year(np.array([51544.5 + 365.25]))[0] == pytest.approx(2001.0)


def test_real_tenv3_and_pos_files_are_read_with_station_and_position() -> None:
    lhas = read_series((DATA / "LHAS.tenv3").read_text())
    assert lhas.station == "LHAS" and len(lhas.mjd) == 3631 and lhas.mjd[0] == 49856
    assert lhas.location == pytest.approx((91.104, 29.657), abs=1e-3)
    assert np.all(lhas.enu[:, 0] == 0) and np.all(lhas.sigma > 0)
    p156 = read_series((DATA / "P156.pbo.final_igs08.pos").read_text())
    assert p156.station == "P156" and p156.location == pytest.approx((-123.906, 40.024), abs=1e-3)
    assert p156.mjd[0] == 53894.5 and len(p156.mjd) > 3000


def test_real_velocity_agrees_with_the_first_and_last_years_means() -> None:
    """An independent rough estimate: the mean position of the last year minus the first's."""
    lhas = read_series((DATA / "LHAS.tenv3").read_text())
    t = decimal_year(lhas.mjd)
    first, last = t < t[0] + 1, t > t[-1] - 1
    for k in range(3):
        rough = (lhas.enu[k][last].mean() - lhas.enu[k][first].mean()) / (
            t[last].mean() - t[first].mean())  # fmt: skip
        result = fit(t, lhas.enu[k], lhas.sigma[k], [], seasonal=True)
        assert result.velocity == pytest.approx(rough, abs=0.002)  # 2 mm/yr
    assert 0.03 < fit(t, lhas.enu[0], lhas.sigma[0], []).velocity < 0.06  # Tibet moves east
