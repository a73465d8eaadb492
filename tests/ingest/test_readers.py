"""Readers on real products (THEIA folder and zip, DEM GeoTIFF) and a SAFE built to ESA's layout."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from terrapole.errors import InvalidProduct
from terrapole.ingest.readers import read_product

from ..conftest import ROOT
from .conftest import CLEAR, DEM

SAFE_MTD = ROOT / "tests" / "data" / "ingest" / "safe" / "MTD_MSIL2A_20190501.xml"


def zip_folder(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
    return target


def test_muscate_folder_is_read_from_its_real_file_names() -> None:
    product = read_product(CLEAR)
    assert product.format == "theia-muscate-l2a"
    assert product.id == "SENTINEL2A_20180826-104155-257_L2A_T31UFQ_D_V1-8"
    assert product.datetime is not None and product.datetime.isoformat() == (
        "2018-08-26T10:41:55.257000+00:00"
    )
    assert [r.key for r in product.rasters] == [
        "CLM_R2", "FRE_B11", "FRE_B12", "FRE_B2", "FRE_B3", "FRE_B4", "FRE_B8A",
    ]  # fmt: skip
    assert product.rgb == ("FRE_B4", "FRE_B3", "FRE_B2") and product.cloud_mask == "CLM_R2"
    assert product.properties["platform"] == "sentinel-2a"
    assert product.raster("FRE_B2").nodata == -10000 and product.raster("FRE_B2").scale == 1e-4


def test_muscate_zip_reads_like_the_folder(tmp_path: Path) -> None:
    archive = zip_folder(CLEAR, tmp_path / f"{CLEAR.name}.zip")
    product = read_product(archive)
    assert product.id == read_product(CLEAR).id
    assert all(r.path.startswith("/vsizip/") for r in product.rasters)
    with rasterio.open(product.raster("FRE_B4").path) as ds:
        assert ds.shape == (80, 80)


def test_muscate_metadata_xml_fills_angles_and_orbit(tmp_path: Path) -> None:
    # Element names and nesting as in THEIA's MUSCATE product specification (no real
    # *_MTD_ALL.xml is public); values are illustrative.
    product_dir = shutil.copytree(CLEAR, tmp_path / CLEAR.name)
    (product_dir / f"{CLEAR.name}_MTD_ALL.xml").write_text(
        """<?xml version="1.0" encoding="UTF-8"?>
<Muscate_Metadata_Document>
  <Product_Characteristics>
    <ACQUISITION_DATE>2018-08-26T10:41:55.257Z</ACQUISITION_DATE>
    <PRODUCT_VERSION>1.8</PRODUCT_VERSION>
    <ORBIT_NUMBER>51</ORBIT_NUMBER>
  </Product_Characteristics>
  <Geometric_Informations><Mean_Value_List>
    <Sun_Angles><ZENITH_ANGLE unit="deg">38.5</ZENITH_ANGLE>
      <AZIMUTH_ANGLE unit="deg">155.25</AZIMUTH_ANGLE></Sun_Angles>
    <Mean_Viewing_Incidence_Angle_List>
      <Mean_Viewing_Incidence_Angle band_id="B2"><ZENITH_ANGLE unit="deg">5.1</ZENITH_ANGLE>
      </Mean_Viewing_Incidence_Angle>
    </Mean_Viewing_Incidence_Angle_List>
  </Mean_Value_List></Geometric_Informations>
</Muscate_Metadata_Document>
"""
    )
    product = read_product(product_dir)
    assert product.properties["view:sun_elevation"] == 51.5
    assert product.properties["view:sun_azimuth"] == 155.25
    assert product.properties["view:incidence_angle"] == 5.1
    assert product.properties["sat:relative_orbit"] == 51
    assert product.missing == []


def build_safe(root: Path, mtd: Path = SAFE_MTD, skip: str | None = None) -> Path:
    """A SAFE folder: the real MTD XML and a small JPEG 2000 file at every path it lists."""
    text = mtd.read_text()
    uri = re.search(r"<PRODUCT_URI>([^<]+)</PRODUCT_URI>", text)
    assert uri
    safe = root / uri.group(1)
    safe.mkdir(parents=True)
    (safe / "MTD_MSIL2A.xml").write_text(text)
    rng = np.random.default_rng(0)
    for image in re.findall(r"<IMAGE_FILE>([^<]+)</IMAGE_FILE>", text):
        if skip and image.endswith(skip):
            continue
        res = int(image[-3:-1])
        size = 120 // res
        path = safe / f"{image}.jp2"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = rng.integers(1, 4000, (size, size), dtype=np.uint16)
        if "_SCL_" in image:
            data = np.full((size, size), 4, dtype=np.uint8)  # vegetation
            data[: size // 2] = 9  # cloud high probability: top half
        with rasterio.open(
            path, "w", driver="JP2OpenJPEG", width=size, height=size, count=1,
            dtype=data.dtype, crs="EPSG:32631", transform=from_origin(300000, 4800000, res, res),
            QUALITY=100, REVERSIBLE="YES",  # lossless, as ESA writes them
        ) as ds:  # fmt: skip
            ds.write(data, 1)
    return safe


def test_sen2cor_safe_is_read_from_its_metadata(tmp_path: Path) -> None:
    product = read_product(build_safe(tmp_path))
    assert product.format == "sen2cor-safe-l2a"
    assert product.id == "S2B_MSIL2A_20190501T105039_N0211_R051_T31TCJ_20190501T140320"
    assert product.properties["platform"] == "sentinel-2b"
    assert product.properties["s2:processing_baseline"] == "02.11"
    assert product.properties["sat:relative_orbit"] == 51
    assert product.properties["s2:mgrs_tile"] == "31TCJ"
    keys = {r.key for r in product.rasters}
    assert keys == {"B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B11", "B12",
                    "SCL", "AOT", "WVP"}  # fmt: skip
    assert "_B02_10m" in product.raster("B2").path and "_B05_20m" in product.raster("B5").path
    assert product.raster("B2").scale == 1e-4 and product.raster("B2").offset == 0
    assert product.cloud_mask == "SCL"


def test_safe_listing_a_missing_band_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidProduct, match="B03_10m but the file is missing"):
        read_product(build_safe(tmp_path, skip="B03_10m"))


def test_generic_geotiff_needs_a_collection_and_keeps_its_nodata() -> None:
    dem = DEM / "Copernicus_DSM_10_N45_00_E005_00_DEM.tif"
    with pytest.raises(InvalidProduct, match="needs a collection"):
        read_product(dem)
    product = read_product(dem, "dem")
    assert [r.key for r in product.rasters] == ["data"]
    assert product.raster("data").nodata == -32767
    assert product.id == "Copernicus_DSM_10_N45_00_E005_00_DEM"
