"""DEMs and land-cover maps are dated by what they describe, never by the day they were copied."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from terrapole.catalog.documents import prepare_item
from terrapole.ingest.readers import read_product

from ..conftest import ROOT

PRODUCTS = ROOT / "demo" / "products"


@pytest.mark.parametrize(
    ("path", "start", "end", "source"),
    [
        (
            PRODUCTS / "dem" / "Copernicus_DSM_10_N45_00_E005_00_DEM.tif",
            "2010-12-01T00:00:00Z",
            "2015-01-31T23:59:59Z",
            "TanDEM-X",
        ),
        (
            PRODUCTS / "dem" / "srtm_eastern_turkey.tif",
            "2000-02-11T00:00:00Z",
            "2000-02-22T23:59:59Z",
            "Shuttle Radar Topography Mission",
        ),
        (
            PRODUCTS / "landcover" / "BDForet_ZoneTest.tif",
            "2007-01-01T00:00:00Z",
            "2018-12-31T23:59:59Z",
            "BD Forêt",
        ),
    ],
)
def test_demo_rasters_get_their_documented_period(
    path: Path, start: str, end: str, source: str
) -> None:
    product = read_product(path, "dem")
    props = product.properties
    assert (props["start_datetime"], props["end_datetime"]) == (start, end)
    assert source in props["terrapole:period_source"] and not product.missing
    assert product.datetime is not None and product.datetime.isoformat()[:10] == start[:10]


def _tiff(path: Path, tags: dict[str, str]) -> Path:
    with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1, dtype="uint8",
                       crs="EPSG:4326", transform=from_origin(5, 45, 0.1, 0.1)) as ds:  # fmt: skip
        ds.write(np.ones((1, 4, 4), dtype="uint8"))
        ds.update_tags(**tags)
    return path


def test_tiff_datetime_tag_wins_over_a_known_period(tmp_path: Path) -> None:
    path = _tiff(tmp_path / "srtm_tagged.tif", {"TIFFTAG_DATETIME": "2021:03:04 05:06:07"})
    product = read_product(path, "dem")
    assert product.datetime is not None
    assert product.datetime.isoformat() == "2021-03-04T05:06:07+00:00"
    assert "start_datetime" not in product.properties


def test_copernicus_dem_is_recognised_by_its_dted_tags(tmp_path: Path) -> None:
    path = _tiff(tmp_path / "tile.tif", {"DTED_DigitizingSystem": "TANDEMX   "})
    assert read_product(path, "dem").properties["start_datetime"] == "2010-12-01T00:00:00Z"


def test_an_unknown_undated_raster_says_its_time_is_missing(tmp_path: Path) -> None:
    product = read_product(_tiff(tmp_path / "mystery.tif", {}), "misc")
    assert "start_datetime" not in product.properties
    assert any("TIFFTAG_DATETIME" in m for m in product.missing)


def test_ingested_dem_item_carries_the_range(tmp_path: Path) -> None:
    from terrapole.catalog.sqlite import SqliteStore
    from terrapole.config import Settings
    from terrapole.ingest.service import Ingestor
    from terrapole.storage import open_storage

    settings = Settings(data_dir=tmp_path)
    store = SqliteStore(tmp_path / "catalog.db")
    ingestor = Ingestor(store, open_storage(settings))
    report = ingestor.run([str(PRODUCTS / "dem" / "srtm_eastern_turkey.tif")], collection="dem")
    assert not report.rejected
    item = store.get_item("dem", "srtm_eastern_turkey")
    props = item["properties"]
    assert (props["start_datetime"], props["end_datetime"]) == (
        "2000-02-11T00:00:00Z",
        "2000-02-22T23:59:59Z",
    )
    assert props["datetime"].startswith("2000-02-11")
    prepare_item(item)  # still a valid item


def test_start_and_end_tags_date_any_raster(tmp_path: Path) -> None:
    tags = {"start_datetime": "2019-01-01T00:00:00Z", "end_datetime": "2019-12-31T23:59:59Z"}
    product = read_product(_tiff(tmp_path / "srtm_retagged.tif", tags), "dem")
    props = product.properties
    assert (props["start_datetime"], props["end_datetime"]) == tuple(tags.values())
    assert "tags" in props["terrapole:period_source"] and not product.missing


@pytest.mark.parametrize(
    ("tags", "says"),
    [
        ({"start_datetime": "2019-01-01T00:00:00Z"}, "together"),
        ({"start_datetime": "2019-13-01", "end_datetime": "2020-01-01"}, "ISO 8601"),
        ({"start_datetime": "2020-01-01", "end_datetime": "2019-01-01"}, "before"),
    ],
)
def test_bad_period_tags_are_refused(tmp_path: Path, tags: dict[str, str], says: str) -> None:
    from terrapole.errors import InvalidProduct

    with pytest.raises(InvalidProduct, match=says):
        read_product(_tiff(tmp_path / "x.tif", tags), "misc")
