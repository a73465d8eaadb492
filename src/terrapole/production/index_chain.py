"""The spectral index chain: NDVI, EVI, NDWI, MNDWI, NDSI, NBR and SAVI per L2A product.

All at 20 m. The NIR band read is B8A (narrow NIR, 865 nm, native 20 m), not B8 (broad NIR,
842 nm, 10 m): full THEIA L2A products carry both, but B8A lies on the 20 m grid of the SWIR
bands (B11, B12) the chain also uses (NBR pairs it with B12) and needs no resampling, and
trimmed THEIA products such as the tests' T31UFQ crops carry no B8 at all. The 10 m bands
(B2, B3, B4) are averaged to 20 m. Stored as int16 index × 10000 (scale 1e-4), nodata -32768
where the product has no data, where the cloud mask flags anything (CLM_R2 != 0: clouds, thin
cirrus, cloud shadows), or where a denominator is zero. Lazy: element-wise on dask chunks, so
a full tile never sits in memory.
"""

from __future__ import annotations

from typing import Any, ClassVar

import dask.array as da
import numpy as np
from typing_extensions import override

from terrapole.processing import indices
from terrapole.production.chain import Cadence, Chain, Context, Layer, Output, require_assets
from terrapole.production.layers import band_key, on_grid, surface_reflectance

RESOLUTION = 20.0
NODATA = -32768
BANDS = {"blue": "B2", "green": "B3", "red": "B4", "nir": "B8A", "swir16": "B11", "swir22": "B12"}
INDICES = ("NDVI", "EVI", "NDWI", "MNDWI", "NDSI", "NBR", "SAVI")


def compute(name: str, b: dict[str, Any]) -> Any:
    """One index from reflectances by common name."""
    if name == "NDVI":
        return indices.ndvi(b["nir"], b["red"])
    if name == "EVI":
        return indices.evi(b["nir"], b["red"], b["blue"])
    if name == "NDWI":
        return indices.ndwi(b["green"], b["nir"])
    if name == "MNDWI":
        return indices.mndwi(b["green"], b["swir16"])
    if name == "NDSI":
        return indices.ndsi(b["green"], b["swir16"])
    if name == "NBR":
        return indices.nbr(b["nir"], b["swir22"])
    return indices.savi(b["nir"], b["red"])


def stored(index: Any, masked: Any) -> Any:
    """Index -> int16 × 10000 with NODATA for masked or undefined pixels (clipped to ±3.2767)."""
    scaled = da.round(da.clip(index, -3.2767, 3.2767) * 10000)
    return da.where(masked | ~da.isfinite(index), NODATA, scaled).astype(np.int16)


class IndexProduct(Chain):
    """Vegetation, water, snow and burn indices of every new L2A product."""

    name: ClassVar[str] = "indices"
    title: ClassVar[str] = "Spectral indices"
    cadence: ClassVar[Cadence] = "per-product"
    input_collection: ClassVar[str] = "theia-sentinel-2-l2a"
    output_collection: ClassVar[str] = "theia-indices"
    prefix: ClassVar[str] = "INDICES"
    level: ClassVar[str] = "L2B"
    collection_title: ClassVar[str] = "Spectral indices (NDVI, EVI, NDWI, MNDWI, NDSI, NBR, SAVI)"
    collection_description: ClassVar[str] = (
        "Per Sentinel-2 L2A product at 20 m: seven normalised spectral indices, cloud-masked, "
        "stored as int16 × 10000."
    )
    algorithm_modules: ClassVar[tuple[str, ...]] = ("terrapole.processing.indices",)

    @override
    def parameters(self) -> dict[str, Any]:
        return {"indices": list(INDICES), "resolution": RESOLUTION, "bands": BANDS}

    @override
    def produce(self, context: Context) -> Output:
        item = context.inputs[0]
        keys = {name: band_key(item, band) for name, band in BANDS.items()}
        require_assets(context.inputs, (*keys.values(), "CLM_R2"))
        ten_metre = {keys[n]: "average" for n in ("blue", "green", "red")}
        stack = context.load((*keys.values(), "CLM_R2"), RESOLUTION, ten_metre)
        refl = {name: surface_reflectance(stack, key, 0) for name, key in keys.items()}
        masked = stack["CLM_R2"].isel(time=0).data != 0
        like = stack[keys["red"]]
        layers = [
            Layer(
                name,
                on_grid(stored(compute(name, refl), masked), like),
                name,
                ("data", "index"),
                nodata=NODATA,
                scale=1e-4,
            )  # fmt: skip
            for name in INDICES
        ]
        return Output(layers, valid_from="NDVI")
