"""Let-It-Snow on hand-made scenes whose every pixel is worked out by hand from the reference
rules (docs/algorithms.md, Let-It-Snow); the real-data comparison is tests/oracles."""

from __future__ import annotations

import math

import numpy as np
import pytest

from terrapole.processing.snow import (
    CLOUD,
    NO_SNOW,
    NODATA,
    SNOW,
    Scene,
    detect,
    fsc_og,
    fsc_toc,
    scene_of,
    scene_share,
    snow_codes,
    snow_year,
)

Grid = np.ndarray  # type: ignore[type-arg]


def scene(rows: int = 100, cols: int = 24) -> dict[str, Grid]:
    """Bare, clear ground on a slope: row r at 503 + 10 r metres (503-1493 m)."""
    return {
        "green": np.full((rows, cols), 0.10, dtype=np.float32),
        "red": np.full((rows, cols), 0.10, dtype=np.float32),
        "swir16": np.full((rows, cols), 0.10, dtype=np.float32),
        "clm": np.zeros((rows, cols), dtype=np.uint8),
        "dem": np.repeat(503 + np.arange(rows, dtype=np.float32) * 10, cols).reshape(rows, cols),
    }


def paint(s: dict[str, Grid], where: tuple[slice, slice], green: float, red: float,
          swir: float) -> None:  # fmt: skip
    s["green"][where], s["red"][where], s["swir16"][where] = green, red, swir


def test_pass_one_thresholds() -> None:
    s = scene()
    paint(s, (slice(0, 1), slice(0, 1)), 0.5, 0.30, 0.1)  # NDSI .667, red .30: snow
    paint(s, (slice(0, 1), slice(1, 2)), 0.5, 0.15, 0.1)  # red too low
    paint(s, (slice(0, 1), slice(2, 3)), 0.3, 0.30, 0.2)  # NDSI 0.2 too low
    paint(s, (slice(0, 1), slice(3, 4)), 0.7, 0.20, 0.3)  # NDSI 0.4, red 0.2: not above
    codes = detect(**s).codes
    assert codes[0, :5].tolist() == [SNOW, NO_SNOW, NO_SNOW, NO_SNOW, NO_SNOW]


def test_snowline_bins_start_at_the_dem_minimum() -> None:
    """503-1493 m: 9 bins of 110 m from 503 m. Pass-1 snow from 1003 m (row 50): the first bin
    with > 10 % snowy clear pixels is [943, 1053) (5 of its 11 rows), so z_s is the centre of
    [723, 833) minus 50 m: 728 m. Pass 2 (NDSI 0.2, red 0.05) then holds above 728 m, i.e. from
    row 23 (733 m); 100 m bins from 0 m would have given 800 m."""
    s = scene()
    paint(s, (slice(50, 100), slice(None)), 0.6, 0.5, 0.1)
    paint(s, (slice(20, 50), slice(None)), 0.3, 0.05, 0.2)
    result = detect(**s)
    assert result.snowline == 728
    assert (result.codes[23:] == SNOW).all()
    assert (result.codes[:23] == NO_SNOW).all()


def test_pass_two_trigger_counts_every_pixel() -> None:
    """2 snowy pixels at 1000 m on ground at 500 m (5 bins from 500 m: the top one all snowy,
    z_s = 750 - 50 = 700 m). 2 of 2400 pixels is 0.083 % <= 0.1 %: no pass 2, even with 900
    no-data pixels (2 of the 1500 with data would be 0.13 %); 3 pixels (0.125 %) trigger it."""
    s = scene()
    s["dem"][:] = 500
    s["dem"][99, :3] = 1000
    paint(s, (slice(0, 38), slice(None)), np.nan, np.nan, np.nan)  # 912 no-data pixels
    paint(s, (slice(99, 100), slice(0, 2)), 0.6, 0.5, 0.1)
    result = detect(**s)
    assert result.snowline is None
    assert (result.codes[:38] == NODATA).all()
    paint(s, (slice(99, 100), slice(2, 3)), 0.6, 0.5, 0.1)
    assert detect(**s).snowline == 700


def test_cloud_masks_and_back_to_cloud_by_hand() -> None:
    """One pixel per case on a scene whose coarse cell (0, 0) is given as bright and (0, 1)
    as dark: the cloud bits, the coarse red and the full-resolution red decide."""
    s = scene(rows=24, cols=24)
    clm, red = s["clm"], s["red"]
    cases = {  # (row, col): (CLM byte, red, expected)
        (0, 0): (2, 0.05, CLOUD),  # cloud in a bright cell stays cloud
        (0, 12): (2, 0.05, NO_SNOW),  # dark cloud, dark pixel: released
        (1, 12): (2, 0.15, CLOUD),  # dark cloud, red > 0.1: back to cloud
        (2, 12): (32, 0.05, CLOUD),  # shadow bit 32: never released
        (3, 12): (64 + 2, 0.05, CLOUD),  # shadow from outside, bit 64
        (4, 12): (128, 0.05, CLOUD),  # high cloud, bit 128
        (5, 12): (16, 0.05, NO_SNOW),  # another cloud bit: released when dark
    }
    for (r, c), (byte, value, _) in cases.items():
        clm[r, c], red[r, c] = byte, value
    paint(s, (slice(6, 7), slice(12, 13)), 0.6, 0.5, 0.1)  # snow by the tests, but cloud:
    clm[6, 12] = 2  # pass 1 skips cloud pixels; red 0.5 > 0.1 sends it back to cloud
    bright = np.array([[True, False], [False, False]])
    codes, _ = snow_codes(**s, scene=Scene(None, False, bright, 1.0))
    for (r, c), (_, _, expected) in cases.items():
        assert codes[r, c] == expected, (r, c)
    assert codes[6, 12] == CLOUD
    assert codes[10, 20] == NO_SNOW  # clear ground


def test_coarse_red_is_a_bilinear_warp_not_a_block_mean() -> None:
    """24 x 24 pixels -> 2 x 2 cells of 12. Along a row the triangle centred on cell 0 (pixel
    6) weighs pixels 0-11 by 9 in all and pixels 12-17 by 1.5: with red 0.31 on the left half
    and 0.20 on the right, cell 0 is (9 x 0.31 + 1.5 x 0.20) / 10.5 = 0.2943, dark (its block
    mean 0.31 is not); with 0.32 it is 0.3029 -> 3029 DN > 3000, bright."""
    s = scene(rows=24, cols=24)
    s["red"][:, :12], s["red"][:, 12:] = 0.31, 0.20
    bright = scene_of([scene_share(**s)], (24, 24)).bright
    assert not bright.any()
    s["red"][:, :12] = 0.32
    bright = scene_of([scene_share(**s)], (24, 24)).bright
    assert bright.tolist() == [[True, False], [True, False]]


def test_a_scene_done_in_parts_gives_the_whole_scenes_codes() -> None:
    """Part by part (as chunk by chunk on Dask): the shares add up to the scene's, so the snow
    line, the pass-2 trigger and the coarse red are the scene's even where the parts split the
    coarse cells (8 x 4 cells of 12.5 x 12 px here)."""
    s = scene(rows=100, cols=48)
    paint(s, (slice(50, 100), slice(None)), 0.6, 0.5, 0.1)
    paint(s, (slice(20, 50), slice(None)), 0.3, 0.05, 0.2)
    s["clm"][0:24, 24:48] = 2  # dark cloud
    s["clm"][72:96, 0:12], s["red"][72:96, 0:12] = 2, 0.6  # bright cloud
    s["clm"][60:70, 30:40] = 32  # shadow
    s["green"][5, 5] = np.nan
    s["swir16"][6, 6] = np.nan
    whole = detect(**s)
    parts = [(r, c) for r in (slice(0, 37), slice(37, 100)) for c in (slice(0, 17), slice(17, 48))]
    shares = [scene_share(*(s[k][r, c] for k in s), origin=(r.start, c.start), shape=(100, 48))
              for r, c in parts]  # fmt: skip
    found = scene_of(shares, (100, 48))
    assert found.snowline == whole.snowline == 728 and found.pass2 and found.covered == 1.0
    assert found.bright.shape == (8, 4)
    codes = np.empty_like(whole.codes)
    for r, c in parts:
        codes[r, c] = snow_codes(*(s[k][r, c] for k in s), found, origin=(r.start, c.start),
                                 shape=(100, 48))[0]  # fmt: skip
    np.testing.assert_array_equal(codes, whole.codes)
    assert codes[6, 6] == NODATA and codes[5, 5] == NO_SNOW  # no data is where SWIR has none
    assert {NO_SNOW, SNOW, CLOUD, NODATA} == set(np.unique(codes).tolist())


def test_fractional_snow_cover() -> None:
    ndsi = np.array([0.8, 0.8, 0.3])
    codes = np.array([SNOW, NO_SNOW, NODATA], dtype=np.uint8)
    toc = fsc_toc(ndsi, codes)
    expected = 0.5 * math.tanh(2.65 * 0.8 - 1.42) + 0.5  # 0.80218...
    assert toc[0] == pytest.approx(expected) and toc[1] == 0 and np.isnan(toc[2])
    og = fsc_og(np.full(5, expected), np.array([0.1, 0.5, 1.0, np.nan, 2.55]))
    # unknown (NaN) or invalid (255 % -> 2.55) tree cover: FSC_OG is FSC_TOC, not 100 %
    assert og == pytest.approx([expected / 0.9, 1.0, 1.0, expected, expected])


def test_annual_synthesis_by_hand() -> None:
    """Days since 1 Sept, a 15-day margin product at day -10 included. Pixel 0: snow -10, no
    snow 20, snow 60 and 100, no snow 181, cloud 200, no snow 300. Filling linearly and taking
    >= 1/2: snow on days 0-5 (midpoint 5 of -10 and 20 is snow) and 40-140 (midpoints 40 and
    140.5): SCD 6 + 101 = 107, the longest run 40-140 -> SOD 40, SMOD 140; 6 clear days.
    Pixel 1: snow only on day 100 between no snow on 95 and 105: days 98-102, SCD 5 <= 10 so no
    SOD/SMOD. Pixel 2: never clear. Pixel 3: two products on day 60 (cloud then snow, the clear
    one counts; NOBS counts the day once) and two runs of equal length: the earliest is kept."""
    looks = {  # day: codes of pixels 0-3
        -10: (SNOW, CLOUD, CLOUD, CLOUD), 20: (NO_SNOW, CLOUD, CLOUD, NO_SNOW),
        40: (CLOUD, CLOUD, CLOUD, NO_SNOW), 60: (SNOW, CLOUD, CLOUD, CLOUD),
        80: (CLOUD, CLOUD, CLOUD, NO_SNOW), 95: (CLOUD, NO_SNOW, CLOUD, CLOUD),
        100: (SNOW, SNOW, CLOUD, SNOW), 105: (CLOUD, NO_SNOW, NODATA, CLOUD),
        120: (CLOUD, CLOUD, CLOUD, NO_SNOW), 181: (NO_SNOW, CLOUD, CLOUD, CLOUD),
        200: (CLOUD, CLOUD, CLOUD, CLOUD), 300: (NO_SNOW, CLOUD, CLOUD, CLOUD),
    }  # fmt: skip
    days = [*looks, 60]
    codes = [np.array([v], dtype=np.uint8) for v in looks.values()]
    codes.append(np.array([[CLOUD, CLOUD, CLOUD, SNOW]], dtype=np.uint8))
    year = snow_year(days, codes, 365)
    # pixel 3: snow on 60 and 100 between no snow on 40, 80 and 120: runs 50-70 and 90-110
    got = np.stack([year.scd[0], year.sod[0], year.smod[0], year.nobs[0]]).T.tolist()
    assert got == [[107, 40, 140, 6], [5, -1, -1, 3], [0, -1, -1, 0], [42, 50, 70, 6]]
