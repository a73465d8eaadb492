"""A catalogue collection as openEO clients read it: ``cube:dimensions`` (x, y, t, bands) and
``summaries["eo:bands"]`` naming each band with its common name (``red``, ``nir``), so that a
client finds bands by common name, as the server's ``ndvi`` does."""

from __future__ import annotations

from terrapole.catalog.model import SearchQuery
from terrapole.catalog.store import ReadStore
from terrapole.jsontypes import Json
from terrapole.openeo.cube import band_info, band_keys

DATACUBE = "https://stac-extensions.github.io/datacube/v2.2.0/schema.json"


def _band(key: str, asset: Json) -> Json:
    info = band_info(asset)
    band: Json = {"name": key}
    common = info.get("common_name") or info.get("eo:common_name")
    if common:
        band["common_name"] = common
    wavelength = info.get("center_wavelength") or info.get("eo:center_wavelength")
    if wavelength:
        band["center_wavelength"] = wavelength
    return band


def collection_metadata(store: ReadStore, doc: Json) -> Json:
    """A STAC collection with the cube:dimensions openEO clients need (bands: a sample item's)."""
    page = store.search(SearchQuery(collections=(doc["id"],), limit=1))
    bands: list[Json] = []
    crs = None
    if page.items:
        sample = page.items[0]
        bands = [_band(k, sample["assets"][k]) for k in band_keys(sample, None)]
        crs = sample["properties"].get("proj:epsg")
    spatial = doc["extent"]["spatial"]["bbox"][0]
    temporal = doc["extent"]["temporal"]["interval"][0]
    dimensions: Json = {
        "x": {"type": "spatial", "axis": "x", "extent": [spatial[0], spatial[2]],
              "reference_system": crs or 4326},
        "y": {"type": "spatial", "axis": "y", "extent": [spatial[1], spatial[3]],
              "reference_system": crs or 4326},
        "t": {"type": "temporal", "extent": temporal},
        "bands": {"type": "bands", "values": [b["name"] for b in bands]},
    }  # fmt: skip
    summaries = {**doc.get("summaries", {}), "eo:bands": bands}
    return {**doc, "stac_extensions": [*doc.get("stac_extensions", []), DATACUBE],
            "cube:dimensions": dimensions, "summaries": summaries}  # fmt: skip
