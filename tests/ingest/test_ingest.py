"""Real THEIA and DEM products ingested end to end: items, COGs, checksums, previews, idempotence."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import rasterio
from PIL import Image
from rasterio.enums import Resampling
from rio_cogeo.cogeo import cog_validate
from shapely.geometry import box, shape

from terrapole.catalog.model import SearchQuery
from terrapole.stac_api.links import collection_links, item_links

from ..schemas import stac_errors
from .conftest import CLEAR, COLLECTION, THEIA, Catalogue

RIO = Path(sys.executable).parent / "rio"


def _items(cat: Catalogue, collection: str) -> list[dict]:  # type: ignore[type-arg]
    return cat.store.search(SearchQuery(collections=(collection,), limit=100)).items


def _file(cat: Catalogue, href: str) -> Path:
    return cat.storage.local_path(href.removeprefix("/assets/"))


def test_every_product_is_ingested(ingested: Catalogue) -> None:
    assert ingested.report.rejected == []
    assert len(ingested.report.ingested) == 8
    assert len(_items(ingested, COLLECTION)) == 6 and len(_items(ingested, "dem")) == 2


def test_items_and_collections_validate_against_stac_and_extension_schemas(
    ingested: Catalogue,
) -> None:
    for collection in (COLLECTION, "dem"):
        for item in _items(ingested, collection):  # as the API serves them, with links
            assert stac_errors(item_links(item, "http://testserver/stac/")) == [], item["id"]
        doc = collection_links(ingested.store.get_collection(collection), "http://testserver/stac/")
        assert stac_errors(doc) == []


def test_muscate_item_describes_bands_projection_and_provenance(ingested: Catalogue) -> None:
    item = ingested.store.get_item(COLLECTION, CLEAR.name)
    props = item["properties"]
    assert props["datetime"] == "2018-08-26T10:41:55.257000Z"
    assert props["platform"] == "sentinel-2a" and props["instruments"] == ["msi"]
    assert props["proj:epsg"] == 32631
    assert props["processing:software"]["MAJA"] == "1.8"
    assert "metadata XML" in props["terrapole:missing"][0]
    red = item["assets"]["FRE_B4"]
    assert red["eo:bands"][0]["common_name"] == "red"
    assert red["eo:bands"][0]["center_wavelength"] == 0.665
    band = dict(red["raster:bands"][0])
    stats = band.pop("statistics")
    assert band == {
        "data_type": "int16",
        "spatial_resolution": 10.0,
        "nodata": -10000.0,
        "scale": 0.0001,
        "offset": 0.0,
    }
    source = next(CLEAR.glob("*_FRE_B4.tif"))
    with rasterio.open(source) as ds:  # 80 x 80: the statistics read every pixel
        pixels = ds.read(1)
    assert stats["minimum"] == pixels.min() and stats["maximum"] == pixels.max()
    assert abs(stats["mean"] - pixels.mean()) < 1e-3 and stats["valid_percent"] == 100.0
    assert red["proj:shape"] == [80, 80] and item["assets"]["FRE_B11"]["proj:shape"] == [40, 40]
    assert {"thumbnail", "quicklook", "CLM_R2"} <= set(item["assets"])


def test_cogs_are_valid_and_checksums_match(ingested: Catalogue) -> None:
    item = ingested.store.get_item(COLLECTION, CLEAR.name)
    for key, asset in item["assets"].items():
        path = _file(ingested, asset["href"])
        data = path.read_bytes()
        assert asset["file:size"] == len(data), key
        assert asset["file:checksum"] == "1220" + hashlib.sha256(data).hexdigest(), key
        if path.suffix == ".tif":
            valid, errors, _ = cog_validate(str(path), quiet=True)
            assert valid, (key, errors)
    # and with the command-line validator users run
    cli = subprocess.run(
        [str(RIO), "cogeo", "validate", str(_file(ingested, item["assets"]["FRE_B2"]["href"]))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode == 0 and "is a valid cloud optimized GeoTIFF" in cli.stdout


def test_cog_pixels_equal_the_source_pixels(ingested: Catalogue) -> None:
    item = ingested.store.get_item(COLLECTION, CLEAR.name)
    source = next(CLEAR.glob("*_FRE_B8A.tif"))
    with (
        rasterio.open(source) as src,
        rasterio.open(_file(ingested, item["assets"]["FRE_B8A"]["href"])) as cog,
    ):
        assert np.array_equal(src.read(1), cog.read(1))
        assert cog.transform == src.transform and cog.crs == src.crs
        assert cog.nodata == -10000


def test_cloud_cover_is_the_share_of_valid_pixels_the_cloud_mask_flags(
    ingested: Catalogue,
) -> None:
    for item in _items(ingested, COLLECTION):
        folder = THEIA / item["id"]
        with rasterio.open(next(folder.glob("MASKS/*_CLM_R2.tif"))) as ds:
            clm = ds.read(1)
        with rasterio.open(next(folder.glob("*_FRE_B11.tif"))) as ds:  # native 20 m band
            valid = ds.read(1, out_shape=clm.shape, resampling=Resampling.nearest) != -10000
        expected = 100 * np.count_nonzero((clm != 0) & valid) / np.count_nonzero(valid)
        assert abs(item["properties"]["eo:cloud_cover"] - expected) < 0.01, item["id"]


def test_footprints_are_real_data_footprints_in_wgs84(ingested: Catalogue) -> None:
    # THEIA crops: the data covers the whole 800 m crop around lon 5.345-5.356, lat 49.275-49.282
    for item in _items(ingested, COLLECTION):
        geom = shape(item["geometry"])
        assert geom.is_valid and geom.within(box(5.34, 49.27, 5.36, 49.29))
        assert geom.area > 0.8 * box(5.3447, 49.2750, 5.3560, 49.2824).area
    dem = ingested.store.get_item("dem", "Copernicus_DSM_10_N45_00_E005_00_DEM")
    assert shape(dem["geometry"]).within(box(4.99, 44.99, 6.01, 46.01))


def test_quicklook_is_a_stretched_true_colour_png(ingested: Catalogue) -> None:
    item = ingested.store.get_item(COLLECTION, CLEAR.name)
    image = Image.open(
        io.BytesIO(_file(ingested, item["assets"]["quicklook"]["href"]).read_bytes())
    )
    assert image.mode == "RGBA" and image.size == (80, 80)
    rgb = np.asarray(image)[..., :3]
    assert np.asarray(image)[..., 3].min() == 255  # no nodata in this product
    assert rgb.std() > 20  # stretched, not a flat grey
    thumb = Image.open(_file(ingested, item["assets"]["thumbnail"]["href"]))
    assert max(thumb.size) <= 256


def test_collection_extent_and_summaries_cover_the_items(ingested: Catalogue) -> None:
    doc = ingested.store.get_collection(COLLECTION)
    start, end = doc["extent"]["temporal"]["interval"][0]
    assert start.startswith("2015-12-30") and end.startswith("2019-09-15")
    assert doc["summaries"]["platform"] == ["sentinel-2a", "sentinel-2b"]
    assert doc["license"] == "etalab-2.0" and doc["providers"][0]["name"] == "CNES / THEIA"
    minx, miny, maxx, maxy = doc["extent"]["spatial"]["bbox"][0]
    for item in _items(ingested, COLLECTION):
        assert box(minx, miny, maxx, maxy).covers(box(*item["bbox"]))


def test_reingesting_changes_nothing(ingested: Catalogue) -> None:
    before = {
        k: ingested.storage.local_path(k).stat().st_mtime_ns
        for k in ingested.storage.list(COLLECTION)
    }
    report = ingested.ingestor().run([str(THEIA)], workers=1)
    assert report.ingested == [] and report.rejected == [] and len(report.unchanged) == 6
    after = {
        k: ingested.storage.local_path(k).stat().st_mtime_ns
        for k in ingested.storage.list(COLLECTION)
    }
    assert after == before
