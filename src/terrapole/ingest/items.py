"""Build the STAC item and collection documents of an ingested product."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import rasterio

from terrapole.catalog.documents import enclosing_bbox
from terrapole.ingest.cog import COG_TYPE, WrittenFile
from terrapole.ingest.footprint import Footprint
from terrapole.ingest.model import S2_BANDS, Product, Raster
from terrapole.jsontypes import Json, utc_iso
from terrapole.software import package_version

EXTENSIONS = {
    "eo": "https://stac-extensions.github.io/eo/v1.0.0/schema.json",
    "raster": "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
    "proj": "https://stac-extensions.github.io/projection/v1.0.0/schema.json",
    "file": "https://stac-extensions.github.io/file/v2.1.0/schema.json",
    "view": "https://stac-extensions.github.io/view/v1.0.0/schema.json",
    "sat": "https://stac-extensions.github.io/sat/v1.0.0/schema.json",
    "processing": "https://stac-extensions.github.io/processing/v1.0.0/schema.json",
    "classification": "https://stac-extensions.github.io/classification/v1.1.0/schema.json",
}
ASSET_ROOT = "/assets"  # made absolute against the server's public URL when served


def asset_href(collection: str, item: str, name: str) -> str:
    """The server-relative URL of a stored asset file."""
    return f"{ASSET_ROOT}/{collection}/{item}/{name}"


def _raster_asset(
    product: Product, raster: Raster, written: WrittenFile, stats: dict[str, float] | None
) -> Json:
    with rasterio.open(raster.path) as ds:
        dtype = ds.dtypes[raster.index - 1]
        res = abs(ds.transform.a)
        asset: Json = {
            "href": asset_href(product.collection, product.id, written.name),
            "type": COG_TYPE,
            "title": raster.title,
            "roles": list(raster.roles),
            "proj:shape": [ds.height, ds.width],
            "proj:transform": list(ds.transform)[:6],
            "file:size": written.size,
            "file:checksum": written.checksum,
        }
    band: Json = {"data_type": dtype, "spatial_resolution": res}
    if raster.nodata is not None:
        band["nodata"] = raster.nodata
    if raster.scale != 1.0 or raster.offset != 0.0:
        band["scale"], band["offset"] = raster.scale, raster.offset
    if raster.unit:
        band["unit"] = raster.unit
    if stats:
        band["statistics"] = stats
    asset["raster:bands"] = [band]
    if raster.band is not None:
        common, centre, fwhm, _ = S2_BANDS[raster.band]
        eo: Json = {"name": raster.band, "center_wavelength": centre, "full_width_half_max": fwhm}
        if common:
            eo["common_name"] = common
        asset["eo:bands"] = [eo]
        asset["gsd"] = res
    if raster.description:
        asset["description"] = raster.description
    if raster.classes:
        asset["classification:classes"] = [dict(c) for c in raster.classes]
    return asset


def build_item(
    product: Product,
    footprint: Footprint,
    written: dict[str, WrittenFile],
    previews: dict[str, WrittenFile],
    cloud: float | None,
    stats: dict[str, dict[str, float]] | None = None,
) -> Json:
    """The item document: properties, per-band COG assets, previews, extensions in use."""
    first = product.raster(product.valid_from or product.rasters[0].key)
    with rasterio.open(first.path) as ds:
        epsg = ds.crs.to_epsg()
    props: Json = {**product.properties}
    if product.datetime is not None:
        props["datetime"] = utc_iso(product.datetime, timespec="microseconds")
    now = utc_iso(datetime.now(UTC), timespec="microseconds")
    props["created"] = props["updated"] = now
    props["proj:epsg"] = epsg
    props["proj:geometry"] = footprint.native
    if cloud is not None:
        props["eo:cloud_cover"] = cloud
    software = dict(props.get("processing:software") or {})
    software.setdefault("terrapole", package_version())  # a chain's output names its own
    props["processing:software"] = software
    # a chain's output keeps the lineage the chain wrote; a product from elsewhere gets one
    props.setdefault(
        "processing:lineage", f"{product.format} product ingested by terrapole (per-band COGs)"
    )
    if product.missing:
        props["terrapole:missing"] = list(product.missing)
    assets: Json = {
        r.key: _raster_asset(product, r, written[r.key], (stats or {}).get(r.key))
        for r in product.rasters
        if r.key in written
    }
    for key, role, title in (
        ("thumbnail", "thumbnail", "Thumbnail"),
        ("quicklook", "overview", "Quicklook"),
    ):
        if key in previews:
            assets[key] = {
                "href": asset_href(product.collection, product.id, previews[key].name),
                "type": "image/png",
                "title": title,
                "roles": [role],
                "file:size": previews[key].size,
                "file:checksum": previews[key].checksum,
            }
    used = {"raster", "proj", "file", "processing"}
    if any("eo:bands" in a for a in assets.values()) or cloud is not None:
        used.add("eo")
    if any(k.startswith("view:") for k in props):
        used.add("view")
    if any(k.startswith("sat:") for k in props):
        used.add("sat")
    if any("classification:classes" in a for a in assets.values()):
        used.add("classification")
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": sorted(EXTENSIONS[e] for e in used),
        "id": product.id,
        "collection": product.collection,
        "geometry": footprint.geometry,
        "bbox": list(footprint.bbox),
        "properties": props,
        "assets": assets,
        "links": [],
    }


def merged_collection(
    existing: Json | None, collection_id: str, items: list[Json], *, new: bool = False
) -> Json:
    """The collection with its extents and summaries widened to cover ``items``.

    ``new``: ``existing`` holds only a reader's defaults (title, licence, providers) for a
    collection that does not exist yet.
    """
    doc: Json = (
        existing
        if existing and not new
        else {
            "type": "Collection",
            "stac_version": "1.0.0",
            "id": collection_id,
            "title": collection_id.replace("-", " ").title(),
            "description": f"Products ingested into {collection_id} by terrapole.",
            "license": "other",
            "extent": {"spatial": {"bbox": [[]]}, "temporal": {"interval": [[None, None]]}},
            "links": [],
            **(existing or {}),
        }
    )
    boxes = [i["bbox"] for i in items]
    old_box = (doc.get("extent", {}).get("spatial", {}).get("bbox") or [[]])[0]
    if len(old_box) == 4:
        boxes.append(old_box)
    bbox = list(enclosing_bbox(boxes))
    times = [i["properties"]["datetime"] for i in items if i["properties"].get("datetime")]
    start, end = (doc.get("extent", {}).get("temporal", {}).get("interval") or [[None, None]])[0]
    times += [t for t in (start, end) if t]
    summaries: dict[str, Any] = dict(doc.get("summaries") or {})
    for key in ("platform", "constellation", "instruments"):
        values = set(summaries.get(key) or [])
        for item in items:
            value = item["properties"].get(key)
            values.update(value if isinstance(value, list) else [value] if value else [])
        if values:
            summaries[key] = sorted(values)
    gsds = {a["gsd"] for i in items for a in i["assets"].values() if "gsd" in a}
    if gsds:
        summaries["gsd"] = sorted(gsds | set(summaries.get("gsd") or []))
    return {
        **doc,
        "extent": {
            "spatial": {"bbox": [bbox]},
            "temporal": {
                "interval": [[min(times) if times else None, max(times) if times else None]]
            },
        },
        "summaries": summaries,
    }
