"""Land cover: a forest/other classification of the real THEIA time series, checked on held-out
polygons against the real IGN BD Foret mask; and the bad-training cases."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from terrapole.processing.indices import ndvi
from terrapole.processing.landcover import (
    NODATA_CLASS,
    UNLABELLED,
    classify,
    gapfill,
    predict,
    train,
)

from ..conftest import ROOT

THEIA = ROOT / "demo" / "products" / "theia"
CLEAR_DATES = ("20180707", "20180826", "20190915")
FOREST = ROOT / "demo" / "products" / "landcover" / "BDForet_ZoneTest.tif"


def _band(folder_date: str, name: str) -> np.ndarray:  # type: ignore[type-arg]
    folder = next(THEIA.glob(f"SENTINEL2*_{folder_date}-*"))
    with rasterio.open(next(folder.glob(f"*_{name}.tif"))) as ds:
        data = ds.read(1).astype("float64")
    data = np.where(data == -10000, np.nan, data / 10000)
    return np.repeat(np.repeat(data, 2, axis=0), 2, axis=1) if data.shape[0] == 40 else data


def features() -> np.ndarray:  # type: ignore[type-arg]
    layers = []
    for day in CLEAR_DATES:
        bands = {
            n: _band(day, n)
            for n in ("FRE_B2", "FRE_B3", "FRE_B4", "FRE_B8A", "FRE_B11", "FRE_B12")
        }
        layers += list(bands.values()) + [ndvi(bands["FRE_B8A"], bands["FRE_B4"])]
    return np.stack(layers)


def test_forest_is_told_from_other_land_on_held_out_polygons() -> None:
    with rasterio.open(FOREST) as ds:
        forest = ds.read(1).astype(int)
    # training "polygons": 10 x 10 px squares labelled with the mask's majority class
    polygons = (np.arange(80)[:, None] // 10) * 8 + np.arange(80)[None, :] // 10
    labels = forest.copy()
    result = classify(features(), labels, polygons, test_fraction=0.3, seed=1)
    acc = result.accuracy
    assert acc.classes == [0, 1] and acc.pixels > 1000
    assert acc.overall > 0.85 and acc.kappa > 0.6  # stated tolerance for this 2-class case
    assert sum(map(sum, acc.confusion)) == acc.pixels
    agreement = np.mean(result.classes == forest)
    assert agreement > 0.85


def test_bad_training_sets_are_refused_with_a_reason() -> None:
    stack = features()
    polygons = np.zeros((80, 80), dtype=int)
    polygons[:, 40:] = 1
    one_class = np.full((80, 80), 1)
    with pytest.raises(ValueError, match="at least two classes"):
        classify(stack, one_class, polygons)
    nothing = np.full((80, 80), UNLABELLED)
    with pytest.raises(ValueError, match="outside the data"):
        classify(stack, nothing, polygons)
    two = np.where(np.arange(80)[None, :] < 40, 0, 1) * np.ones((80, 1), dtype=int)
    with pytest.raises(ValueError, match="at least two polygons"):
        classify(stack, two, np.zeros((80, 80), dtype=int))


def test_gapfill_interpolates_between_clear_observations_by_hand() -> None:
    days = np.array([0.0, 10.0, 30.0])
    nan = np.nan
    # three pixels: all clear; middle date cloudy; only the last date clear; never clear
    values = np.array([[1.0, 1.0, nan, nan], [2.0, nan, nan, nan], [4.0, 5.0, 7.0, nan]])
    filled = gapfill(values, days, np.array([-5.0, 5.0, 20.0, 40.0]))
    # pixel 0: before the first -> 1; day 5 -> 1.5; day 20 -> 3; after the last -> 4
    np.testing.assert_allclose(filled[:, 0], [1.0, 1.5, 3.0, 4.0])
    # pixel 1: 1 on day 0, 5 on day 30 -> day 5: 1 + 4 * 5/30, day 20: 1 + 4 * 20/30
    np.testing.assert_allclose(filled[:, 1], [1.0, 1 + 4 * 5 / 30, 1 + 4 * 20 / 30, 5.0], rtol=1e-6)
    np.testing.assert_allclose(filled[:, 2], [7.0, 7.0, 7.0, 7.0])
    assert np.isnan(filled[:, 3]).all()
    assert filled.dtype == np.float32


def test_predict_gives_class_and_confidence_and_nodata_for_gaps() -> None:
    stack = features()
    with rasterio.open(FOREST) as ds:
        forest = ds.read(1).astype(int)
    polygons = (np.arange(80)[:, None] // 10) * 8 + np.arange(80)[None, :] // 10
    table = stack.reshape(stack.shape[0], -1).T
    model = train(table, forest.ravel(), polygons.ravel(), trees=20)
    stack[:, 0, 0] = np.nan  # a pixel without complete features
    out = predict(model.forest, stack)
    assert out.shape == (2, 80, 80) and out.dtype == np.uint8
    assert out[0, 0, 0] == NODATA_CLASS and out[1, 0, 0] == NODATA_CLASS
    assert set(np.unique(out[0])) <= {0, 1, NODATA_CLASS}
    confidence = out[1][out[0] != NODATA_CLASS]
    assert confidence.min() >= 50 and confidence.max() <= 100  # two classes: the winner has >= 50 %
