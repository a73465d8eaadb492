"""Every chain on the 31 real demo products: pixels by hand, provenance, schemas, presets."""

from __future__ import annotations

import copy
from datetime import date

import numpy as np
import pytest
import rasterio

from terrapole.catalog.model import SearchQuery
from terrapole.catalog.search import search_all
from terrapole.maps.presets import available
from terrapole.processing.water import THRESHOLD_RANGE, otsu
from terrapole.stac_api.links import item_links

from ..schemas import stac_errors
from .conftest import PRODUCTS, Produced, read

CLEAR = "SENTINEL2A_20180816-104419-575_L2A_T31UFQ_D_V1-8"  # no cloud bit set anywhere
NODATA = -10000


def source(name: str, key: str) -> np.ndarray:
    """A band or mask of a demo product as stored (int16 ×10000 or uint8)."""
    folder = next(PRODUCTS.glob(f"*/{name}"))
    path = next(folder.glob(f"**/*_{key}.tif"))
    with rasterio.open(path) as ds:
        return ds.read(1)


def refl(name: str, band: str) -> np.ndarray:
    """Reflectance at 20 m: 20 m bands as they are, 10 m bands averaged over 2 x 2 pixels."""
    stored = source(name, f"FRE_{band}").astype("float64")
    stored[stored == NODATA] = np.nan
    if stored.shape[0] == 80:
        stored = stored.reshape(40, 2, 40, 2).mean(axis=(1, 3))
    return stored / 10000


def output(produced: Produced, collection: str, item: str, key: str) -> np.ndarray:
    with rasterio.open(read(produced.storage, collection, item, key)) as ds:
        return ds.read(1)


def test_every_chain_produced_and_nothing_failed(produced: Produced) -> None:
    reports = produced.reports
    assert {name: r.failed for name, r in reports.items()} == {n: [] for n in reports}
    # 31 products; the fully cloudy ones have no clear pixel for indices and water (empty)
    assert len(reports["snow"].produced) == 31
    assert len(reports["indices"].produced) == len(reports["water"].produced) == 23
    assert len(reports["indices"].empty) == 8
    assert len(reports["wasp-monthly"].produced) >= 12  # every month of 2018 has inputs
    assert "WATERYEAR_T31UFQ_2018" in reports["water-yearly"].produced
    assert "SNOWYEAR_T31UFQ_2017-2018" in reports["snow-yearly"].produced


def test_indices_by_hand(produced: Produced) -> None:
    nir, red, blue = refl(CLEAR, "B8A"), refl(CLEAR, "B4"), refl(CLEAR, "B2")
    green, swir = refl(CLEAR, "B3"), refl(CLEAR, "B11")
    expected = {
        "NDVI": (nir - red) / (nir + red),
        "MNDWI": (green - swir) / (green + swir),
        "EVI": 2.5 * (nir - red) / (nir + 6 * red - 7.5 * blue + 1),
        "SAVI": 1.5 * (nir - red) / (nir + red + 0.5),
    }
    assert not source(CLEAR, "CLM_R2").any()
    for key, values in expected.items():
        got = output(produced, "theia-indices", f"INDICES_{CLEAR}", key) * 1e-4
        assert np.allclose(got, values, atol=1.5e-4), key  # int16 x 10000 rounding


def test_indices_mask_clouds(produced: Produced) -> None:
    name = "SENTINEL2B_20180702-104021-464_L2A_T31UFQ_C_V2-2"  # 24 % cloudy
    cloud = source(name, "CLM_R2") != 0
    assert 0 < cloud.mean() < 1
    ndvi = output(produced, "theia-indices", f"INDICES_{name}", "NDVI")
    assert (ndvi[cloud] == -32768).all() and (ndvi[~cloud] != -32768).all()


def test_water_mask_follows_the_scene_threshold(produced: Produced) -> None:
    item = produced.store.get_item("theia-water", f"WATER_{CLEAR}")
    threshold = item["properties"]["terrapole:water_threshold"]
    green, swir = refl(CLEAR, "B3"), refl(CLEAR, "B11")
    mndwi = (green - swir) / (green + swir)
    assert threshold == pytest.approx(
        np.clip(otsu(mndwi.astype("float32")), *THRESHOLD_RANGE), abs=1e-3
    )
    mask = output(produced, "theia-water", f"WATER_{CLEAR}", "WATER")
    decided = np.abs(mndwi - threshold) > 1e-4
    assert np.array_equal(mask[decided], (mndwi > threshold)[decided].astype(np.uint8))


def test_yearly_water_occurrence_by_hand(produced: Produced) -> None:
    query = SearchQuery(collections=("theia-water",), datetime=None)
    year = [
        i for i in search_all(produced.store, query)
        if i["properties"]["datetime"].startswith("2018")
    ]  # fmt: skip
    masks = np.stack([output(produced, "theia-water", i["id"], "WATER") for i in year])
    clear = (masks != 255).sum(axis=0)
    water = (masks == 1).sum(axis=0)
    expected = np.where(clear > 0, np.round(100 * water / np.maximum(clear, 1)), 255)
    got = output(produced, "theia-water-annual", "WATERYEAR_T31UFQ_2018", "OCCURRENCE")
    assert np.array_equal(got, expected)
    annual = produced.store.get_item("theia-water-annual", "WATERYEAR_T31UFQ_2018")
    assert annual["properties"]["terrapole:observations"] == len(year)
    assert len([x for x in annual["links"] if x["rel"] == "derived_from"]) == len(year)


def test_snow_without_dem_is_flagged_and_pass_one_only(produced: Produced) -> None:
    item = produced.store.get_item("theia-snow", f"SNOW_{CLEAR}")
    assert item["properties"]["terrapole:dem_coverage"] == 0.0  # the demo DEMs lie elsewhere
    assert item["properties"]["terrapole:snowline_m"] is None
    assert "FSC_OG" not in item["assets"]
    codes = output(produced, "theia-snow", f"SNOW_{CLEAR}", "SNOW")
    green, red, swir = refl(CLEAR, "B3"), refl(CLEAR, "B4"), refl(CLEAR, "B11")
    pass_one = ((green - swir) / (green + swir) > 0.4) & (red > 0.2)
    assert np.array_equal(codes == 100, pass_one)  # August in Lorraine: no snow at all
    assert not pass_one.any()
    fsc = output(produced, "theia-snow", f"SNOW_{CLEAR}", "FSC_TOC")
    assert (fsc[codes == 0] == 0).all()


def test_snow_year_counts_clear_observations(produced: Produced) -> None:
    # the snow year 1 Sept - 31 Aug with LIS's 15-day margins on both sides
    query = SearchQuery(collections=("theia-snow",))
    year = [
        i for i in search_all(produced.store, query)
        if date(2017, 8, 17) <= date.fromisoformat(i["properties"]["datetime"][:10]) < date(2018, 9, 16)
    ]  # fmt: skip
    assert any(i["properties"]["datetime"].startswith("2018-09-05") for i in year)
    codes = np.stack([output(produced, "theia-snow", i["id"], "SNOW") for i in year])
    nobs = output(produced, "theia-snow-annual", "SNOWYEAR_T31UFQ_2017-2018", "NOBS")
    assert np.array_equal(nobs, ((codes == 0) | (codes == 100)).sum(axis=0))
    scd = output(produced, "theia-snow-annual", "SNOWYEAR_T31UFQ_2017-2018", "SCD")
    assert (scd[~(codes == 100).any(axis=0)] == 0).all()


def test_wasp_month_of_clear_dates_by_hand(produced: Produced) -> None:
    """Aug 2018 (Jul 23 - Sep 7): each input is fully clear or fully cloudy, so W = W_date."""
    item = produced.store.get_item("theia-l3a-wasp", "WASP_T31UFQ_20180815")
    names = [x["title"] for x in item["links"] if x["rel"] == "derived_from"]
    total = np.zeros((80, 80))
    weights = np.zeros((80, 80))
    for name in names:
        cloud = source(name, "CLM_R2") != 0
        assert cloud.all() or not cloud.any(), name
        if cloud.all():
            continue
        day = date(int(name[11:15]), int(name[15:17]), int(name[17:19]))
        w = 1 - 0.5 * abs((day - date(2018, 8, 15)).days) / 23
        values = source(name, "FRE_B4").astype("float64")
        valid = values != NODATA
        total += np.where(valid, w * values, 0)
        weights += np.where(valid, w, 0)
    frc = output(produced, "theia-l3a-wasp", "WASP_T31UFQ_20180815", "FRC_B4")
    assert np.abs(frc - total / weights).max() <= 1.0  # ×10000 rounding (float32 sums)
    assert (output(produced, "theia-l3a-wasp", "WASP_T31UFQ_20180815", "FLG_R1") == 4).all()


def test_outputs_are_valid_stac_with_provenance_and_map_presets(produced: Produced) -> None:
    expected_presets = {
        "theia-indices": "ndvi-index", "theia-snow": "classes", "theia-water": "classes",
        "theia-l3a-wasp": "truecolor", "theia-water-annual": "occurrence",
    }  # fmt: skip
    for collection, preset in expected_presets.items():
        items = search_all(produced.store, SearchQuery(collections=(collection,)))
        item = items[0]
        assert stac_errors(item_links(copy.deepcopy(item), "http://testserver/stac/")) == []
        props = item["properties"]
        assert props["terrapole:chain"] and props["processing:software"]["terrapole"]
        assert props["terrapole:source_fingerprint"]
        inputs = [x for x in item["links"] if x["rel"] == "derived_from"]
        assert inputs and all(x["href"].startswith("/stac/collections/") for x in inputs)
        assert preset in [p.name for p in available(item)], collection
    snow = produced.store.get_item("theia-snow", f"SNOW_{CLEAR}")
    assert "fsc" in [p.name for p in available(snow)]
    assert stac_errors(produced.store.get_collection("theia-snow")) == []
