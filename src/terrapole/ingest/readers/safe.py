"""Sen2Cor Sentinel-2 Level-2A SAFE products (folder or zip), per ESA's PSD user-product XML.

``MTD_MSIL2A.xml`` lists every image file (without extension, relative to the SAFE root):
bands at 10/20/60 m, the SCL scene classification, AOT, WVP and TCI. Each band is taken at its
native resolution (B02-B04, B08 at 10 m; B05-B07, B8A, B11, B12, SCL at 20 m; B01, B09 at
60 m). Reflectance = (DN + BOA_ADD_OFFSET) / BOA_QUANTIFICATION_VALUE; baselines before 04.00
have no offset. DN 0 is nodata.
"""

from __future__ import annotations

import re
from datetime import datetime

from terrapole.errors import InvalidProduct
from terrapole.ingest.model import S2_BANDS, Product, Raster
from terrapole.ingest.readers.muscate import _find, _xml_values
from terrapole.ingest.readers.source import Source

FORMAT = "sen2cor-safe-l2a"
# The version of this reader's metadata mapping: raise it when the item it describes changes,
# so that products ingested before are published again (history: 1).
READER_VERSION = 1
NATIVE = {"B02": 10, "B03": 10, "B04": 10, "B08": 10, "B05": 20, "B06": 20, "B07": 20,
          "B8A": 20, "B11": 20, "B12": 20, "SCL": 20, "AOT": 10, "WVP": 10,
          "B01": 60, "B09": 60}  # fmt: skip
IMAGE = re.compile(r"_(?P<name>B\d\d|B8A|SCL|AOT|WVP|TCI)_(?P<res>\d\d)m$")
SCL_CLOUDY = (3, 8, 9, 10)  # cloud shadow, cloud medium/high probability, thin cirrus


def _metadata_name(source: Source) -> str | None:
    return next((n for n in source.names if n.rsplit("/", 1)[-1] == "MTD_MSIL2A.xml"), None)


def matches(source: Source) -> bool:
    """Whether ``source`` holds a Sen2Cor L2A product metadata file."""
    return _metadata_name(source) is not None


def _band_key(name: str) -> str:
    return "B8A" if name == "B8A" else f"B{int(name[1:])}" if name.startswith("B") else name


def read(source: Source, collection: str | None = None) -> Product:
    """Describe the SAFE product; every listed image must exist next to the XML."""
    xml_name = _metadata_name(source)
    assert xml_name is not None
    root = xml_name.rsplit("/", 1)[0] + "/" if "/" in xml_name else ""
    where = f"{source.path.name}/{xml_name}"
    values = _xml_values(source.read_bytes(xml_name), where)
    uri = _find(values, "Product_Info/PRODUCT_URI")
    start = _find(values, "Product_Info/PRODUCT_START_TIME")
    spacecraft = _find(values, "SPACECRAFT_NAME")
    if not (uri and start and spacecraft):
        raise InvalidProduct(where, "metadata lacks PRODUCT_URI, PRODUCT_START_TIME or SPACECRAFT")
    baseline = _find(values, "PROCESSING_BASELINE") or "00.00"
    quantification = float(_find(values, "BOA_QUANTIFICATION_VALUE") or 10000)
    text = source.read_bytes(xml_name).decode("utf-8", "replace")
    images = re.findall(r"<IMAGE_FILE>([^<]+)</IMAGE_FILE>", text)
    offsets = {
        m.group(1): float(m.group(2))
        for m in re.finditer(r'<BOA_ADD_OFFSET band_id="(\d+)">(-?\d+)</BOA_ADD_OFFSET>', text)
    }
    band_ids = list(S2_BANDS)  # band_id 0..12 follow the order B1..B12 with B8A after B8
    rasters: list[Raster] = []
    for image in images:
        match = IMAGE.search(image)
        if not match or match["name"] == "TCI" or int(match["res"]) != NATIVE.get(match["name"]):
            continue
        member = next((n for n in source.names if n.startswith(root + image + ".")), None)
        if member is None:
            raise InvalidProduct(where, f"lists {image} but the file is missing")
        source.check_not_lfs_pointer(member)
        name = match["name"]
        key = _band_key(name)
        if name == "SCL":
            rasters.append(Raster("SCL", source.gdal_path(member), "scene classification (20 m)",
                                  ("data", "classification"), nodata=0))  # fmt: skip
        elif name in ("AOT", "WVP"):
            title = "aerosol optical thickness" if name == "AOT" else "water vapour"
            rasters.append(Raster(name, source.gdal_path(member), title, ("data",), nodata=0))
        else:
            offset = offsets.get(str(band_ids.index(key)), 0.0)
            rasters.append(
                Raster(
                    key=key,
                    path=source.gdal_path(member),
                    title=f"{key} surface reflectance",
                    roles=("data", "reflectance"),
                    band=key,
                    nodata=0,
                    scale=1 / quantification,
                    offset=offset / quantification,
                )
            )
    if not rasters:
        raise InvalidProduct(where, "no band image found for the files the metadata lists")
    keys = {r.key for r in rasters}
    tile = re.search(r"_T(\d\d[A-Z]{3})_", uri)
    orbit = _find(values, "SENSING_ORBIT_NUMBER")
    when = datetime.fromisoformat(start.replace("Z", "+00:00"))
    props: dict[str, object] = {
        "title": f"{spacecraft} L2A {tile.group(1) if tile else ''} {start[:10]} (Sen2Cor)",
        "platform": spacecraft.lower(),
        "constellation": "sentinel-2",
        "instruments": ["msi"],
        "processing:level": "L2A",
        "processing:software": {"Sen2Cor": baseline},
        "s2:processing_baseline": baseline,
        "s2:product_uri": uri,
    }
    if orbit and orbit.isdigit():
        props["sat:relative_orbit"] = int(orbit)
    if tile:
        props["s2:mgrs_tile"] = tile.group(1)
    cloud = _find(values, "Cloud_Coverage_Assessment")
    if cloud is not None:
        props["s2:cloud_coverage_assessment"] = float(cloud)
    defaults = {
        "title": "Sentinel-2 Level-2A (Sen2Cor)",
        "description": "Bottom-of-atmosphere reflectance and scene classification from ESA.",
        "license": "other",
        "providers": [{"name": "ESA / Copernicus", "roles": ["producer", "licensor"]}],
    }
    return Product(
        collection_defaults=defaults,
        source=source.path,
        format=FORMAT,
        id=uri.removesuffix(".SAFE"),
        collection=collection or "sentinel-2-l2a-sen2cor",
        datetime=when,
        rasters=sorted(rasters, key=lambda r: r.key),
        properties=props,
        rgb=("B4", "B3", "B2") if {"B4", "B3", "B2"} <= keys else None,
        valid_from="B2" if "B2" in keys else sorted(keys)[0],
        cloud_mask="SCL" if "SCL" in keys else None,
        cloudy_values=SCL_CLOUDY,
    )
