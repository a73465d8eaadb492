"""Image correlation on a real Pléiades crop shifted by known amounts (integer and sub-pixel)."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from scipy.ndimage import fourier_shift

from terrapole.processing.correlation import offsets, phase_offset

from ..conftest import ROOT

PLEIADES = ROOT / "tests" / "data" / "pleiades" / "left_image.tif"


def _image() -> np.ndarray:
    with rasterio.open(PLEIADES) as ds:
        return ds.read(1).astype("float64")[:256, :256]


def _shifted(image: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """The image content moved by (dy, dx) pixels (a band-limited, periodic shift)."""
    return np.real(np.fft.ifftn(fourier_shift(np.fft.fftn(image), (dy, dx))))


def test_an_integer_shift_is_found_exactly() -> None:
    image = _image()
    after = np.roll(image, (3, -2), axis=(0, 1))
    dy, dx, score = phase_offset(image[64:128, 64:128], after[64:128, 64:128])
    assert (dy, dx) == pytest.approx((3.0, -2.0), abs=0.05)
    assert score > 0.5


@pytest.mark.parametrize(("dy", "dx"), [(0.3, -0.6), (-1.25, 0.5), (0.0, 0.0)])
def test_sub_pixel_shifts_within_five_hundredths_of_a_pixel(dy: float, dx: float) -> None:
    image = _image()
    result = offsets(image, _shifted(image, dy, dx), window=64, step=32)
    inner = (slice(1, -1), slice(1, -1))  # away from the periodic wrap of the synthetic shift
    assert np.nanmax(np.abs(result.dy[inner] - dy)) < 0.05  # stated tolerance: 0.05 px
    assert np.nanmax(np.abs(result.dx[inner] - dx)) < 0.05
    assert result.dx.shape == (7, 7) and list(result.rows[:2]) == [32, 64]


def test_unrelated_patches_score_low_and_nodata_gives_nan() -> None:
    image = _image()
    rng = np.random.default_rng(0)
    _, _, noise_score = phase_offset(image[:64, :64], rng.random((64, 64)))
    _, _, same_score = phase_offset(image[:64, :64], image[:64, :64])
    assert noise_score < 0.2 < 0.9 < same_score
    gap = image[:64, :64].copy()
    gap[5, 5] = np.nan
    assert np.isnan(phase_offset(gap, image[:64, :64])[0])
    with pytest.raises(ValueError, match="smaller than one"):
        offsets(image[:20, :20], image[:20, :20], window=32)
