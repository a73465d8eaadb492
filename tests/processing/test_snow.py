"""Let-It-Snow on hand-made scenes whose every pixel is computed by hand from the published rules."""

from __future__ import annotations

import math

import numpy as np
import pytest

from terrapole.processing.snow import (
    CLOUD,
    NO_SNOW,
    NODATA,
    SNOW,
    dark_blocks,
    decide,
    detect,
    fsc_og,
    fsc_toc,
    red_block_sums,
    scene_summary,
    snow_codes,
)


def scene(rows: int = 100, cols: int = 24) -> dict[str, np.ndarray]:  # type: ignore[type-arg]
    """Bare, clear ground on a slope: row r at elevation 10 r metres (0-990 m)."""
    return {
        "green": np.full((rows, cols), 0.10),
        "red": np.full((rows, cols), 0.10),
        "swir16": np.full((rows, cols), 0.10),
        "cloud": np.zeros((rows, cols), dtype=bool),
        "dem": np.repeat(np.arange(rows, dtype=float) * 10, cols).reshape(rows, cols),
    }


def test_pass_one_thresholds() -> None:
    s = scene()
    s["green"][0, 0], s["swir16"][0, 0], s["red"][0, 0] = 0.5, 0.1, 0.30  # NDSI .667, red .30
    s["green"][0, 1], s["swir16"][0, 1], s["red"][0, 1] = 0.5, 0.1, 0.15  # red too low
    s["green"][0, 2], s["swir16"][0, 2], s["red"][0, 2] = 0.3, 0.2, 0.30  # NDSI 0.2 too low
    codes = detect(**s).codes
    assert codes[0, 0] == SNOW and codes[0, 1] == NO_SNOW and codes[0, 2] == NO_SNOW


def test_snowline_and_pass_two() -> None:
    s = scene()
    # pass-1 snow on rows 50-59 (500-590 m): the lowest 100 m band > 10 % snowy is 500 m,
    # so z_s = 300 m; pass 2 (NDSI > 0.15, red > 0.04) then applies from row 30 up.
    s["green"][50:60], s["swir16"][50:60], s["red"][50:60] = 0.6, 0.1, 0.5
    s["green"][20:50], s["swir16"][20:50], s["red"][20:50] = 0.3, 0.2, 0.05  # NDSI 0.2
    result = detect(**s)
    assert result.snowline == 300.0
    assert (result.codes[30:60] == SNOW).all()  # 300-590 m: pass 2 and pass 1
    assert (result.codes[20:30] == NO_SNOW).all()  # 200-290 m: below the snowline
    assert (result.codes[60:] == NO_SNOW).all()


def test_pass_two_needs_enough_pass_one_snow() -> None:
    s = scene()
    s["green"][0, 0], s["swir16"][0, 0], s["red"][0, 0] = 0.6, 0.1, 0.5  # 1 pixel of 2400: 0.04 %
    s["green"][20:50], s["swir16"][20:50], s["red"][20:50] = 0.3, 0.2, 0.05
    result = detect(**s)
    assert result.snowline is None and (result.codes[20:50] == NO_SNOW).all()


def test_cloud_refinement_and_no_data() -> None:
    s = scene(rows=24, cols=36)
    s["cloud"][:, :] = True
    s["red"][:, 12:24] = 0.6  # a bright block (12 x 12 mean 0.6): stays cloud
    s["green"][:, 24:], s["swir16"][:, 24:], s["red"][:, 24:] = 0.6, 0.1, 0.35  # snow by the tests
    s["green"][0, 0] = np.nan
    codes = detect(**s).codes
    assert codes[5, 5] == NO_SNOW  # dark cloud, not snow: released
    assert codes[5, 15] == CLOUD
    assert codes[5, 30] == SNOW  # cloud in L2A, snow by the tests
    assert codes[0, 0] == NODATA


def test_fractional_snow_cover() -> None:
    ndsi = np.array([0.8, 0.8, 0.3])
    codes = np.array([SNOW, NO_SNOW, NODATA], dtype=np.uint8)
    toc = fsc_toc(ndsi, codes)
    expected = 0.5 * math.tanh(2.65 * 0.8 - 1.42) + 0.5  # 0.80218...
    assert toc[0] == pytest.approx(expected) and toc[1] == 0 and np.isnan(toc[2])
    og = fsc_og(np.array([expected, expected, expected]), np.array([0.1, 0.5, 1.0]))
    assert og == pytest.approx([expected / 0.9, 1.0, 1.0])


def test_annual_synthesis_by_hand() -> None:
    from terrapole.processing.snow import snow_year

    # days since 1 Sept: no snow on day 0, snow on days 91 and 181, no snow on day 273
    # nearest-observation filling: snow from day 46 (closer to 91 than to 0: 46-0 > 91-46) to
    # day 226 (226-181 = 45 < 273-226 = 47; day 227: 46 vs 46, tie -> earlier obs = snow),
    # so snow on days 46..227 -> SCD 182, SOD 46, SMOD 228; a cloudy pixel is never observed.
    px = [np.array([[v, CLOUD]], dtype=np.uint8) for v in (NO_SNOW, SNOW, SNOW, NO_SNOW)]
    year = snow_year([0, 91, 181, 273], px)
    assert (year.scd[0, 0], year.sod[0, 0], year.smod[0, 0], year.nobs[0, 0]) == (182, 46, 228, 4)
    assert (year.scd[0, 1], year.sod[0, 1], year.nobs[0, 1]) == (0, -1, 0)


def test_a_scene_done_in_parts_gives_the_whole_scenes_codes() -> None:
    """Part by part (as chunk by chunk on Dask): the parts' summaries and red block sums add up
    to the scene's, so the snow line and the dark blocks are the scene's, even where the parts
    split the 12 px blocks of the dark-cloud test."""
    s = scene(rows=96, cols=48)
    s["green"][50:60], s["swir16"][50:60], s["red"][50:60] = 0.6, 0.1, 0.5  # pass-1 snow
    s["green"][20:50], s["swir16"][20:50], s["red"][20:50] = 0.3, 0.2, 0.05  # pass-2 snow
    s["cloud"][0:24, 24:48] = True  # a dark cloud, released
    s["cloud"][72:96, 0:12], s["red"][72:96, 0:12] = True, 0.6  # a bright one, kept
    s["cloud"][60:72, 12:24], s["red"][60:66, 12:24] = True, 0.58  # mean 0.34 over the block
    s["green"][5, 5] = np.nan
    whole = detect(**s)
    parts = [(rows, cols) for rows in (slice(0, 63), slice(63, 96))
             for cols in (slice(0, 17), slice(17, 48))]  # fmt: skip
    summary = sum(scene_summary(*(s[k][r, c] for k in s)) for r, c in parts)
    np.testing.assert_array_equal(summary, scene_summary(**s))
    line, covered = decide(summary)
    assert line == whole.snowline == 300.0 and covered == 1.0
    sums = [red_block_sums(s["red"][r, c], (r.start, c.start)) for r, c in parts]
    dark = dark_blocks(sums, (96, 48))
    np.testing.assert_array_equal(dark, dark_blocks([red_block_sums(s["red"])], (96, 48)))
    assert not dark[5, 1] and not dark[6, 0]  # the bright blocks, one split at row 63
    codes = np.empty_like(whole.codes)
    for r, c in parts:
        codes[r, c] = snow_codes(*(s[k][r, c] for k in s), line, dark, (r.start, c.start))[0]
    np.testing.assert_array_equal(codes, whole.codes)
    assert (codes[60:72, 12:24] == CLOUD).all() and (codes[0:24, 24:48] == NO_SNOW).all()
    assert {NO_SNOW, SNOW, CLOUD, NODATA} == set(np.unique(codes).tolist())


def _rules_in_numpy(
    s: dict[str, np.ndarray],
    line: float | None,
    dark: np.ndarray,  # type: ignore[type-arg]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:  # type: ignore[type-arg]
    """The published rules as whole-array numpy expressions (the compiled kernels' reference):
    NDSI, codes, the pass-1 counts per 100 m band (with a DEM, clear, clear snowy) and the
    pass-1 snow pixels."""
    g, r, sw, cloud, dem = s["green"], s["red"], s["swir16"], s["cloud"], s["dem"]
    nodata = ~(np.isfinite(g) & np.isfinite(r) & np.isfinite(sw))
    with np.errstate(invalid="ignore", divide="ignore"):
        ndsi = np.where(g + sw != 0, (g - sw) / (g + sw), np.nan)
    test1 = (ndsi > 0.40) & (r > 0.200)
    clear = ~cloud & ~nodata
    snowy = clear & test1
    finite = np.isfinite(dem)
    band = np.clip(np.floor(dem[finite] / 100).astype(int) + 5, 0, 94)
    counts = np.stack([np.bincount(band, w, minlength=95)
                       for w in (None, clear[finite], snowy[finite])])  # fmt: skip
    snow1 = int(snowy.sum())
    if line is not None:
        snowy = snowy | (clear & (dem >= line) & (ndsi > 0.15) & (r > 0.040))
    dark_px = np.repeat(np.repeat(dark, 12, axis=0), 12, axis=1)[: g.shape[0], : g.shape[1]]
    codes = np.full(g.shape, NO_SNOW, dtype=np.uint8)
    codes[snowy | (cloud & ~nodata & test1)] = SNOW
    codes[cloud & ~nodata & ~test1 & ~dark_px] = CLOUD
    codes[nodata] = NODATA
    return ndsi, codes, counts, snow1


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_compiled_passes_equal_the_rules_in_numpy_on_noisy_scenes(dtype: str) -> None:
    """Random scenes around every threshold (float32 as the chain reads them, with NaN, zero
    sums, clouds, a DEM with holes and values off the bands): same NDSI, codes and counts."""
    rng = np.random.default_rng(11)
    shape = (150, 130)
    values = {k: rng.choice([0.0, 0.04, 0.15, 0.2, 0.3, 0.4, 0.7], shape) + rng.normal(0, 0.02, shape)
              for k in ("green", "red", "swir16")}  # fmt: skip
    s = {k: v.astype(dtype) for k, v in values.items()}
    s["green"][rng.random(shape) < 0.02] = np.nan
    s["swir16"][:3, :3], s["green"][:3, :3] = 0.25, -0.25  # NDSI's denominator 0
    s["cloud"] = rng.random(shape) < 0.3
    # red exactly at the pass-1 threshold, clear, NDSI 0.8: no snow (0.2 > 0.2 is false in the
    # values' type; float32(0.2) > 0.2 would be true in float64)
    s["green"][20, :5], s["swir16"][20, :5], s["red"][20, :5], s["cloud"][20, :5] = 0.9, 0.1, 0.2, 0
    dem = rng.uniform(-700, 9500, shape)
    dem[rng.random(shape) < 0.05] = np.nan
    dem[10, :10] = [1600, 1599.99, 1500, 1400, 200, 0, -1, -500, 8999, 9000]  # band edges
    s["dem"] = dem.astype(dtype)
    dark = rng.random((13, 11)) < 0.5
    ndsi, codes, counts, snow1 = _rules_in_numpy(s, 1500.0, dark)
    assert 0 < counts[2].sum() < snow1 < (codes == SNOW).sum()  # DEM holes; pass 2 adds snow
    summary = scene_summary(**s)
    np.testing.assert_array_equal(summary[: 3 * 95].reshape(3, 95), counts)
    np.testing.assert_array_equal(summary[-3:], [snow1, (codes != NODATA).sum(), codes.size])
    found, found_ndsi = snow_codes(**s, line=1500.0, dark=dark)
    assert found_ndsi.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(found_ndsi, ndsi)
    np.testing.assert_array_equal(found, codes)
    assert {NO_SNOW, SNOW, CLOUD, NODATA} == set(np.unique(found).tolist())
    no_line, _ = snow_codes(**s, line=None, dark=dark)
    np.testing.assert_array_equal(no_line, _rules_in_numpy(s, None, dark)[1])
