"""THEIA MUSCATE Level-2A products (MAJA): Sentinel-2, Landsat 8/9, Venµs; folder or zip.

A product is named ``<PLATFORM>_<YYYYMMDD-HHMMSS-mmm>_L2A_<TILE>_<C|D>_V<x-y>`` and holds
``*_FRE_<band>.tif`` (flat-terrain reflectance), ``*_SRE_<band>.tif`` (surface reflectance),
``MASKS/*_{CLM,MG2,SAT,EDG}_R{1,2}.tif``, ``*_ATB_R{1,2}.tif`` (atmosphere: band 1 water
vapour content, band 2 aerosol optical thickness, uint8; each becomes an asset of its own,
``WVC_R*`` and ``AOT_R*``) and ``*_MTD_ALL.xml``. Reflectances are int16 × 10000 with nodata
-10000 (not declared in the files). Trimmed products without the XML are
read from the name alone, and what could not be filled is listed in ``Product.missing``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from terrapole.errors import InvalidProduct
from terrapole.ingest.model import S2_BANDS, Product, Raster
from terrapole.ingest.readers.source import Source

FORMAT = "theia-muscate-l2a"
# The version of this reader's metadata mapping: raise it when the item it describes changes,
# so that products ingested before are published again (history: 1).
READER_VERSION = 1
NAME = re.compile(
    r"(?P<platform>SENTINEL2[ABCD]|LANDSAT[89]|VENUS(?:-XS)?)_"
    r"(?P<date>\d{8}-\d{6}-\d{3})_L2A_(?P<tile>T?\w+?)_(?P<kind>[A-Z])_V(?P<major>\d+)-(?P<minor>\d+)"
)
BAND_FILE = re.compile(r"_(?P<kind>FRE|SRE)_(?P<band>B\d+A?)\.tif$", re.IGNORECASE)
MASK_FILE = re.compile(r"MASKS/.*_(?P<mask>CLM|MG2|SAT|EDG)_(?P<res>R\d)\.tif$", re.IGNORECASE)
ATB_FILE = re.compile(r"_ATB_(?P<res>R\d)\.tif$", re.IGNORECASE)
# the ATB bands: (asset prefix, band of the file, title, quantification: value = DN × scale)
ATB_BANDS = (
    ("WVC", 1, "water vapour content (g/cm²)", 0.05),
    ("AOT", 2, "aerosol optical thickness", 0.005),
)
MASKS = {
    "CLM": ("cloud", "MAJA cloud mask: 0 clear, bit flags for cloud/shadow/cirrus types"),
    "MG2": (
        "geophysical",
        "MAJA geophysical mask: water, cloud, snow, shadow, topography bits",
    ),
    "SAT": ("saturation", "saturated pixels, one bit per band"),
    "EDG": ("edge", "1 outside the swath or at its edge, 0 inside"),
}
PLATFORMS = {
    "SENTINEL2A": ("sentinel-2a", "sentinel-2", ["msi"]),
    "SENTINEL2B": ("sentinel-2b", "sentinel-2", ["msi"]),
    "SENTINEL2C": ("sentinel-2c", "sentinel-2", ["msi"]),
    "LANDSAT8": ("landsat-8", "landsat", ["oli"]),
    "LANDSAT9": ("landsat-9", "landsat", ["oli"]),
    "VENUS": ("venus", "venus", ["vssc"]),
    "VENUS-XS": ("venus", "venus", ["vssc"]),
}
NODATA = -10000.0


def product_name(source: Source) -> re.Match[str] | None:
    """The MUSCATE name match of the product (from its band files), or None."""
    for name in source.names:
        if BAND_FILE.search(name):
            match = NAME.search(name.rsplit("/", 1)[-1])
            if match:
                return match
    return None


def matches(source: Source) -> bool:
    """Whether ``source`` looks like a MUSCATE L2A product."""
    return product_name(source) is not None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_values(data: bytes, where: str) -> dict[str, str]:
    """Flatten the metadata XML to ``{path-of-local-tag-names: text}`` (first occurrence wins)."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise InvalidProduct(where, f"metadata XML does not parse ({exc})") from exc
    out: dict[str, str] = {}

    def walk(node: ET.Element, path: str) -> None:
        here = f"{path}/{_local(node.tag)}" if path else _local(node.tag)
        if node.text and node.text.strip():
            out.setdefault(here, node.text.strip())
            name = node.get("name") or node.get("band_id")
            if name:
                out.setdefault(f"{here}[{name}]", node.text.strip())
        for child in node:
            walk(child, here)

    walk(root, "")
    return out


def _find(values: dict[str, str], suffix: str) -> str | None:
    return next((v for k, v in values.items() if k.endswith(suffix)), None)


def _from_xml(product: Product, values: dict[str, str]) -> None:
    props = product.properties
    zenith = _find(values, "Sun_Angles/ZENITH_ANGLE")
    azimuth = _find(values, "Sun_Angles/AZIMUTH_ANGLE")
    if zenith is not None:
        props["view:sun_elevation"] = round(90.0 - float(zenith), 4)
    if azimuth is not None:
        props["view:sun_azimuth"] = round(float(azimuth) % 360, 4)
    incidence = _find(values, "Mean_Viewing_Incidence_Angle/ZENITH_ANGLE")
    if incidence is not None:
        props["view:incidence_angle"] = round(float(incidence), 4)
    version = _find(values, "Product_Characteristics/PRODUCT_VERSION")
    if version:
        props["processing:version"] = version
    orbit = _find(values, "Product_Characteristics/ORBIT_NUMBER")
    if orbit and orbit.isdigit():
        props["sat:relative_orbit"] = int(orbit)
    cloud = _find(values, "QUALITY_INDEX[CloudPercent]")
    if cloud is not None:
        props["theia:cloud_percent_maja"] = float(cloud)


def read(source: Source, collection: str | None = None) -> Product:
    """Describe the MUSCATE product in ``source``; raise InvalidProduct naming what is wrong."""
    match = product_name(source)
    if match is None:
        raise InvalidProduct(str(source.path), "not a THEIA MUSCATE L2A product")
    platform, constellation, instruments = PLATFORMS[match["platform"]]
    when = datetime.strptime(match["date"], "%Y%m%d-%H%M%S-%f").replace(tzinfo=UTC)
    product_id = match.group(0)
    rasters: list[Raster] = []
    for name in source.names:
        band = BAND_FILE.search(name)
        if band and NAME.search(name.rsplit("/", 1)[-1]):
            kind, number = band["kind"].upper(), band["band"].upper()
            source.check_not_lfs_pointer(name)
            what = "flat-terrain (slope-corrected)" if kind == "FRE" else "surface"
            rasters.append(
                Raster(
                    key=f"{kind}_{number}",
                    path=source.gdal_path(name),
                    title=f"{number} {what} reflectance",
                    roles=("data", "reflectance"),
                    # spectral metadata is known for Sentinel-2 MSI; Landsat/Venµs bands
                    # keep their names without borrowed wavelengths
                    band=number if number in S2_BANDS and constellation == "sentinel-2" else None,
                    nodata=NODATA,
                    scale=1e-4,
                )
            )
        atb = ATB_FILE.search(name)
        if atb and NAME.search(name.rsplit("/", 1)[-1]):
            source.check_not_lfs_pointer(name)
            res = atb["res"].upper()
            for prefix, index, title, scale in ATB_BANDS:
                rasters.append(
                    Raster(
                        key=f"{prefix}_{res}",
                        path=source.gdal_path(name),
                        title=f"{title} ({'10' if res == 'R1' else '20'} m)",
                        roles=("data",),
                        nodata=0,
                        scale=scale,
                        index=index,
                    )
                )
        mask = MASK_FILE.search(name)
        if mask:
            source.check_not_lfs_pointer(name)
            kind, res = mask["mask"].upper(), mask["res"].upper()
            title, description = MASKS[kind]
            rasters.append(
                Raster(
                    key=f"{kind}_{res}",
                    path=source.gdal_path(name),
                    title=f"{title} mask ({'10' if res == 'R1' else '20'} m)",
                    roles=("data", "cloud" if kind == "CLM" else "data-mask"),
                    description=description,
                )
            )
    rasters.sort(key=lambda r: r.key)
    keys = {r.key for r in rasters}
    kind = "FRE" if any(k.startswith("FRE_") for k in keys) else "SRE"
    rgb = tuple(f"{kind}_{b}" for b in ("B4", "B3", "B2"))
    product = Product(
        source=source.path,
        format=FORMAT,
        id=product_id,
        collection=collection or f"theia-{constellation}-l2a",
        datetime=when,
        rasters=rasters,
        rgb=rgb if set(rgb) <= keys else None,  # type: ignore[arg-type]
        valid_from=next((k for k in (f"{kind}_B2", f"{kind}_B4") if k in keys), sorted(keys)[0]),
        cloud_mask=next((k for k in ("CLM_R2", "CLM_R1") if k in keys), None),
        properties={
            "title": f"{platform.title()} L2A {match['tile']} {when:%Y-%m-%d} (THEIA)",
            "platform": platform,
            "constellation": constellation,
            "instruments": instruments,
            "processing:level": "L2A",
            "processing:software": {"MAJA": f"{match['major']}.{match['minor']}"},
            "processing:facility": "THEIA / CNES MUSCATE",
            "theia:tile": match["tile"],
            "theia:product_version": f"{match['major']}.{match['minor']}",
        },
    )
    product.collection_defaults = {
        "title": f"THEIA {constellation.title()} Level-2A (MAJA, MUSCATE format)",
        "description": (
            "Surface reflectance (FRE slope-corrected and SRE) with MAJA cloud, shadow, water and "
            "snow masks, produced by CNES for the THEIA land data centre."
        ),
        "license": "etalab-2.0",
        "providers": [
            {"name": "CNES / THEIA", "roles": ["producer", "processor", "licensor"]},
        ],
    }
    xml = next((n for n in source.names if n.upper().endswith("_MTD_ALL.XML")), None)
    if xml is None:
        product.missing += ["metadata XML (*_MTD_ALL.xml): sun/view angles, orbit"]
    else:
        _from_xml(product, _xml_values(source.read_bytes(xml), f"{source.path.name}/{xml}"))
    if not any(r.roles[-1] == "reflectance" for r in rasters):
        raise InvalidProduct(str(source.path), "MUSCATE product without reflectance bands")
    if product.cloud_mask is None:
        product.missing.append("cloud mask (MASKS/*_CLM_R*.tif): no eo:cloud_cover")
    return product
