"""Land cover: a forest/other classification of the real THEIA time series, checked on held-out
polygons against the real IGN BD Foret mask; and the bad-training cases."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from terrapole.processing.indices import ndvi
from terrapole.processing.landcover import UNLABELLED, classify

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
