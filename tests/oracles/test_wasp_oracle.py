"""WASP against its independent oracle on the 97 real T31UFQ dates: every month with data."""

from __future__ import annotations

from datetime import date

import numpy as np

from terrapole.processing.wasp import FLAG_CLOUD, FLAG_LAND, Stack, cloudy_fractions, synthesis

from ..conftest import ROOT
from . import wasp as oracle

SERIES = ROOT / "tests" / "data" / "t31ufq"
GROUPS = {"R1": (10.0, 2), "R2": (20.0, 1)}  # pixel size, 20 m mask pixels per band pixel


def test_every_monthly_synthesis_of_the_real_series_matches_the_oracle() -> None:
    folders = sorted(p for p in SERIES.iterdir() if p.is_dir())
    series = {group: oracle.read_dates(folders, group) for group in GROUPS}
    months = sorted({(d.day.year, d.day.month) for d in series["R2"]})
    partly_cloudy, pixels, flags = set(), 0, set()
    for year, month in months:
        d0 = date(year, month, 15)
        for group, (pixel, factor) in GROUPS.items():
            window = [d for d in series[group] if abs((d.day - d0).days) <= 23]
            clm = np.stack([d.clm for d in window])
            stack = Stack(np.stack([d.bands for d in window]), clm, [d.day for d in window],
                          cloudy_fractions(clm, 20.0), ["sentinel-2"] * len(window), factor)  # fmt: skip
            ours = synthesis(stack, d0, pixel, scale=1e-4, nodata=-10000)
            ref = oracle.synthesis(window, d0, pixel)
            assert np.abs(ours.frc.astype(int) - ref.frc).max() <= 1, (d0, group)
            assert np.abs(ours.wgt / 1000 - ref.weight).max() <= 0.001, (d0, group)
            assert np.array_equal(ours.flg, ref.flg), (d0, group)
            known = ~np.isnan(ref.dts)
            assert np.array_equal(known, ~np.isnan(ours.dts)), (d0, group)
            assert np.abs(ours.dts[known] - ref.dts[known]).max(initial=0) <= 1e-3, (d0, group)
            pixels += ref.flg.size * len(window)
            flags |= set(np.unique(ref.flg).tolist())
            cloud = [(d.clm & 1).mean() for d in window]
            partly_cloudy |= {d.day for d, c in zip(window, cloud, strict=True) if 0 < c < 1}
    assert len(months) == 46 and pixels > 500_000
    # not vacuous: many dates are partly cloudy (W_cloud between 0 and 1 at their clear
    # pixels), and both the weighted mean and the cloudy fallback occur
    assert len(partly_cloudy) == 11 and (2017, 6) in months
    assert {FLAG_LAND, FLAG_CLOUD} <= flags
