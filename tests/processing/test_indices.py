"""Indices on hand-computed pixels (reflectance values chosen so the results are exact)."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from terrapole.processing import indices


def test_reflectance_applies_scale_offset_and_nodata() -> None:
    stored = np.array([[1000, -10000], [2500, 0]], dtype=np.int16)
    out = indices.reflectance(stored, scale=1e-4, offset=-0.1, nodata=-10000)
    # float32 output: compared to 1e-6
    assert out[0, 0] == pytest.approx(0.0, abs=1e-6) and out[1, 0] == pytest.approx(0.15, abs=1e-6)
    assert np.isnan(out[0, 1]) and out[1, 1] == pytest.approx(-0.1, abs=1e-6)


def test_indices_on_hand_computed_pixels() -> None:
    nir, red, green, blue, swir16, swir22 = (
        np.array([0.5]), np.array([0.1]), np.array([0.2]), np.array([0.05]),
        np.array([0.3]), np.array([0.25]),
    )  # fmt: skip
    assert indices.ndvi(nir, red)[0] == pytest.approx(0.4 / 0.6)
    assert indices.ndwi(green, nir)[0] == pytest.approx(-0.3 / 0.7)
    assert indices.mndwi(green, swir16)[0] == pytest.approx(-0.1 / 0.5)
    assert indices.ndsi(green, swir16)[0] == pytest.approx(-0.2)
    assert indices.nbr(nir, swir22)[0] == pytest.approx(0.25 / 0.75)
    # EVI = 2.5 * 0.4 / (0.5 + 0.6 - 0.375 + 1) = 1.0 / 1.725
    assert indices.evi(nir, red, blue)[0] == pytest.approx(1.0 / 1.725)
    # SAVI = 1.5 * 0.4 / (0.6 + 0.5)
    assert indices.savi(nir, red)[0] == pytest.approx(0.6 / 1.1)


def test_zero_denominator_and_nan_inputs_give_nan_and_xarray_keeps_coords() -> None:
    a = xr.DataArray(np.array([0.0, 0.2, np.nan]), dims="x", coords={"x": [1, 2, 3]})
    b = xr.DataArray(np.array([0.0, 0.2, 0.1]), dims="x", coords={"x": [1, 2, 3]})
    out = indices.ndvi(a, b)
    assert list(out.x.values) == [1, 2, 3]
    assert np.isnan(out[0]) and out[1] == 0 and np.isnan(out[2])


@pytest.mark.parametrize("dtype", ["int16", "uint16", "float32", "float64"])
def test_compiled_reflectance_equals_numpys_expression(dtype: str) -> None:
    """numpy and dask arrays go through a compiled pass: bit for bit numpy's float32
    stored × scale + offset, NaN exactly where the stored value is nodata."""
    rng = np.random.default_rng(5)
    stored = rng.integers(0, 12000, (64, 50)).astype(dtype)
    stored[::7, ::3] = 0  # nodata
    view = stored[:, ::2]  # not contiguous
    expected = view.astype("float32") * np.float32(1e-4) + np.float32(-0.1)
    expected[view == 0] = np.nan
    found = indices.reflectance(view, scale=1e-4, offset=-0.1, nodata=0)
    assert found.dtype == np.float32
    np.testing.assert_array_equal(found, expected)
    lazy = indices.reflectance(da.from_array(view, chunks=(20, 9)), scale=1e-4, offset=-0.1,
                               nodata=0)  # fmt: skip
    np.testing.assert_array_equal(lazy.compute(), expected)
    plain = indices.reflectance(view, scale=1e-4, offset=-0.1, nodata=None)
    np.testing.assert_array_equal(
        plain, view.astype("float32") * np.float32(1e-4) - np.float32(0.1)
    )
