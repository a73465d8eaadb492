"""Named renderings ("presets") of an item, resolved from its assets' band common names.

A preset names what a user wants to see (true colour, NDVI, snow…); ``resolve`` turns it into
the tiler's parameters for one item: which assets, which expression, what rescaling, which
colormap or algorithm. Reflectance ranges are given in reflectance and converted to the stored
numbers with each asset's ``raster:bands`` scale and offset.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from terrapole.errors import InvalidInput
from terrapole.jsontypes import Json


@dataclass(frozen=True)
class Preset:
    """A rendering: bands by common name, an optional expression over b1..bn, display range."""

    name: str
    title: str
    title_fr: str
    bands: tuple[tuple[str, ...], ...]  # per input: acceptable common names, best first
    expression: str | None = None
    reflectance_range: tuple[float, float] | None = None  # for bands shown as they are
    value_range: tuple[float, float] | None = None  # for an expression's result
    colormap: str | None = None
    algorithm: str | None = None


NIR = ("nir", "nir08")
EDGE = 1  # pixels read around an image for a neighbourhood algorithm (the hillshade's gradient)
PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("truecolor", "True colour", "Couleurs naturelles",
               (("red",), ("green",), ("blue",)), reflectance_range=(0.0, 0.25)),
        Preset("falsecolor", "False colour infrared", "Fausses couleurs infrarouge",
               (NIR, ("red",), ("green",)), reflectance_range=(0.0, 0.4)),
        Preset("ndvi", "NDVI (vegetation)", "NDVI (végétation)", (NIR, ("red",)),
               expression="(b1-b2)/(b1+b2)", value_range=(-0.2, 0.9), colormap="rdylgn"),
        Preset("ndsi", "NDSI (snow)", "NDSI (neige)", (("green",), ("swir16",)),
               expression="(b1-b2)/(b1+b2)", value_range=(-0.5, 1.0), colormap="blues_r"),
        Preset("water", "MNDWI (water)", "MNDWI (eau)", (("green",), ("swir16",)),
               expression="(b1-b2)/(b1+b2)", value_range=(-0.6, 0.6), colormap="rdbu"),
        Preset("elevation", "Elevation", "Altitude", (("elevation",),), colormap="terrain"),
        Preset("hillshade", "Hillshade", "Ombrage", (("elevation",),), algorithm="hillshade"),
        Preset("classes", "Classes (product palette)", "Classes (palette du produit)",
               (("classes",),)),
        Preset("ndvi-index", "NDVI (index product)", "NDVI (produit indice)", (("index:NDVI",),),
               reflectance_range=(-0.2, 0.9), colormap="rdylgn"),
        Preset("mndwi-index", "MNDWI (index product)", "MNDWI (produit indice)",
               (("index:MNDWI",),), reflectance_range=(-0.6, 0.6), colormap="rdbu"),
        Preset("fsc", "Fractional snow cover (%)", "Fraction de neige (%)",
               (("role:snow-fraction",),), value_range=(0, 100), colormap="blues_r"),
        Preset("occurrence", "Water occurrence (%)", "Occurrence de l'eau (%)",
               (("role:water-occurrence",),), value_range=(0, 100), colormap="ylgnbu"),
    )
}  # fmt: skip


def _common_names(asset: Json, key: str = "") -> list[str]:
    """What an asset can show: band common names, or kinds of product layers.

    Product layers: ``classes`` (a classification), ``index:<KEY>`` (an index product's
    layer), ``role:<role>`` (other roles than data, e.g. snow-fraction).
    """
    if asset.get("classification:classes"):
        return ["classes"]
    roles = [r for r in asset.get("roles", []) if r != "data"]
    if "index" in roles:
        return [f"index:{key}"]
    if roles and not asset.get("eo:bands") and roles[0] not in ("thumbnail", "overview"):
        return [f"role:{r}" for r in roles]
    names = [b.get("common_name") for b in asset.get("eo:bands", []) if b.get("common_name")]
    if not names and asset.get("roles") == ["data"] and len(asset.get("raster:bands", [])) == 1:
        names = ["elevation"]  # a single-band data raster (DEM); see available()
    return names


def _find(item: Json, wanted: tuple[str, ...]) -> str | None:
    for name in wanted:
        for key, asset in sorted(item.get("assets", {}).items()):
            if name in _common_names(asset, key):
                return str(key)
    return None


def available(item: Json) -> list[Preset]:
    """Presets whose bands the item has (elevation presets only for single-raster items)."""
    rasters = [a for a in item.get("assets", {}).values() if "raster:bands" in a]
    out = []
    for preset in PRESETS.values():
        if preset.bands[0] == ("elevation",) and len(rasters) != 1:
            continue
        if all(_find(item, wanted) for wanted in preset.bands):
            out.append(preset)
    return out


def _stored(asset: Json, value: float) -> float:
    band = (asset.get("raster:bands") or [{}])[0]
    return (value - float(band.get("offset", 0.0))) / float(band.get("scale", 1.0))


def named(name: str) -> Preset:
    """The preset called ``name`` (InvalidInput naming those there are)."""
    preset = PRESETS.get(name)
    if preset is None:
        raise InvalidInput("preset", f"{name!r} is not one of {', '.join(PRESETS)}")
    return preset


def resolve(name: str, item: Json) -> dict[str, Any]:
    """Tiler query parameters rendering preset ``name`` for ``item`` (InvalidInput if not)."""
    preset = named(name)
    if preset not in available(item):
        raise InvalidInput("preset", f"{name!r} needs bands this item does not have")
    keys = [_find(item, wanted) for wanted in preset.bands]
    assets = [item["assets"][k] for k in keys if k]
    params: dict[str, Any] = {"assets": keys}
    if preset.expression:
        params["expression"] = preset.expression
        params["asset_as_band"] = "true"
    if preset.reflectance_range:
        low, high = preset.reflectance_range
        params["rescale"] = [f"{_stored(a, low):g},{_stored(a, high):g}" for a in assets]
    elif preset.value_range:
        params["rescale"] = [f"{preset.value_range[0]:g},{preset.value_range[1]:g}"]
    elif preset.name == "elevation":
        stats = (assets[0].get("raster:bands") or [{}])[0].get("statistics", {})
        if "minimum" in stats and "maximum" in stats:
            params["rescale"] = [f"{stats['minimum']:g},{stats['maximum']:g}"]
    if preset.colormap:
        params["colormap_name"] = preset.colormap
    if preset.name == "classes":
        classes = assets[0]["classification:classes"]
        params["colormap"] = json.dumps({str(c["value"]): f"#{c['color_hint']}" for c in classes})
    if preset.algorithm:
        params["algorithm"] = preset.algorithm
        # read one pixel more on each side and have the algorithm crop that same pixel, so the
        # image has the size asked for (titiler's hillshade crops 3 unless told otherwise)
        params["buffer"] = str(EDGE)
        params["algorithm_params"] = json.dumps({"buffer": EDGE})
    return params
