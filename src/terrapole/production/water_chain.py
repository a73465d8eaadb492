"""Surface water chains: a water mask per L2A product and the yearly occurrence synthesis.

Per product at 20 m (docs/algorithms.md, "Surface water"): MNDWI from green (10 m, averaged to
20 m) and SWIR 1.6 µm, the scene's Otsu threshold kept in [0.0, 0.3]. Not observed: nodata,
every pixel the MAJA cloud mask flags (CLM != 0: clouds, thin cirrus, cloud shadows, shadows of
clouds outside the image) and snow with its clouds. Snow comes, in this order, from the snow
chain's product of the same date (``theia-snow`` SNOW: 100 snow; 205 cloud and 254 no data not
observed), from the L2A MG2 mask when the product has one (its snow bit; its cloud, shadow,
relief and low-sun bits not observed), else from the Let-It-Snow pass-1 test computed here
(NDSI > 0.40 and red > 0.200 on the clear pixels); the item says which
(``terrapole:snow_source``). A scene with no clear pixel gives an all "no observation" mask.

Yearly (calendar year): occurrence normalised month by month (Pekel et al. 2016) and
permanent/seasonal classes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, ClassVar

import dask.array as da
import numpy as np
from dask.delayed import delayed
from numpy.typing import NDArray
from typing_extensions import override

from terrapole.processing import water
from terrapole.processing.indices import mndwi
from terrapole.production.chain import (
    Auxiliary,
    Cadence,
    Chain,
    Context,
    Layer,
    Output,
    Window,
    item_day,
    require_assets,
    yearly_windows,
)
from terrapole.production.layers import band_key, classes, on_grid, surface_reflectance

RESOLUTION = 20.0
SNOW_COLLECTION, SNOW_ASSET = "theia-snow", "SNOW"
PERMANENT, SEASONAL = 90.0, 10.0
MASK_CLASSES = classes((0, "not water", "d2c8a0"), (1, "water", "1e64dc"),
                       (water.NO_OBSERVATION, "no observation", "000000"))  # fmt: skip
YEAR_CLASSES = classes((water.NOT_WATER, "not water", "d2c8a0"),
                       (water.SEASONAL, "seasonal water", "8cc8ff"),
                       (water.PERMANENT, "permanent water", "0032a0"),
                       (water.UNOBSERVED, "never observed", "000000"))  # fmt: skip


def _mask(index: NDArray[Any], masked: NDArray[np.bool_]) -> tuple[NDArray[np.uint8], float | None]:
    """The water mask, or all "no observation" (threshold None) when nothing is clear."""
    try:
        result = water.water_mask(index, masked)
    except ValueError:
        return np.full(index.shape, water.NO_OBSERVATION, dtype=np.uint8), None
    return result.mask, result.threshold


class WaterProduct(Chain):
    """Water / not water / no observation for every new L2A product."""

    name: ClassVar[str] = "water"
    title: ClassVar[str] = "Surface water mask"
    cadence: ClassVar[Cadence] = "per-product"
    input_collection: ClassVar[str] = "theia-sentinel-2-l2a"
    output_collection: ClassVar[str] = "theia-water"
    prefix: ClassVar[str] = "WATER"
    level: ClassVar[str] = "L2B"
    collection_title: ClassVar[str] = "Surface water masks (MNDWI, per-scene Otsu threshold)"
    collection_description: ClassVar[str] = (
        "Water / not water / no observation at 20 m per Sentinel-2 L2A product: MNDWI above "
        "the scene's Otsu threshold (bounded to [0.0, 0.3]); clouds, shadows and snow (from "
        "the snow product of the same date) are not observations."
    )
    algorithm_modules: ClassVar[tuple[str, ...]] = (
        "terrapole.processing.water", "terrapole.processing.indices",
        "terrapole.processing.snow",
    )  # fmt: skip
    auxiliaries: ClassVar[tuple[Auxiliary, ...]] = (
        Auxiliary(SNOW_COLLECTION, SNOW_ASSET, same_day=True),
    )
    deviations: ClassVar[tuple[str, ...]] = (
        "The per-scene threshold is Otsu's cut of the MNDWI histogram bounded to [0.0, 0.3], "
        "a single-index rule; THEIA Surfwater classifies with several indices and bands "
        "(WaterDetect clustering).",
        "When no snow product of the same date exists and the L2A product has no MG2 mask, "
        "snow is the Let-It-Snow pass-1 test (NDSI > 0.40, red > 0.200) computed in the "
        "chain, without pass 2: thin or shaded snow may remain and be called water "
        "(the item's terrapole:snow_source says which source was used).",
        "Without an MG2 mask, topographic shadows are not masked (only what CLM flags): dark "
        "shaded slopes at low sun may be called water.",
    )

    @override
    def parameters(self) -> dict[str, Any]:
        return {
            "index": "MNDWI (B3 averaged to 20 m, B11)",
            "resolution": RESOLUTION,
            "threshold": "Otsu, 256 bins, over the observed pixels",
            "threshold_range": list(water.THRESHOLD_RANGE),
            "clouds": "CLM_R2 != 0 (every bit)",
            "snow_sources": [
                f"{SNOW_COLLECTION}/{SNOW_ASSET} same day (100 snow; 205, 254 not observed)",
                "MG2_R2 bit 2 (bits 1, 3-7 not observed)",
                "LIS pass 1 computed here",
            ],
            "pass1": {"ndsi": water.PASS1_NDSI, "red": water.PASS1_RED},
        }

    @override
    def produce(self, context: Context) -> Output:
        item = context.inputs[0]
        green, swir = band_key(item, "B3"), band_key(item, "B11")
        require_assets(context.inputs, (green, swir, "CLM_R2"))
        keys = (green, swir, "CLM_R2")
        has_mg2 = "MG2_R2" in item["assets"]
        stack = context.load((*keys, "MG2_R2") if has_mg2 else keys, RESOLUTION,
                             {green: "average"})  # fmt: skip
        g = surface_reflectance(stack, green, 0)
        s = surface_reflectance(stack, swir, 0)
        masked = stack["CLM_R2"].isel(time=0).data != 0
        codes = context.auxiliary(SNOW_COLLECTION, SNOW_ASSET, stack)
        if codes is not None:
            source = f"{SNOW_COLLECTION} (same day)"
            snow, unknown = _split(codes.data, water.snow_from_product)
        elif has_mg2:
            source = "MG2 snow bit"
            snow, unknown = _split(stack["MG2_R2"].isel(time=0).data, water.snow_from_mg2)
        else:
            source = "LIS pass-1 test (computed here)"
            red_key = band_key(item, "B4")
            require_assets(context.inputs, (red_key,))
            red = context.load((red_key,), RESOLUTION, {red_key: "average"})
            r = surface_reflectance(red, red_key, 0)
            snow = da.map_blocks(water.snow_pass1, g, r, s, dtype=bool) & ~masked
            unknown = da.zeros_like(masked)
        index = mndwi(g, s)
        mask, threshold = delayed(_mask, nout=2)(index, masked | snow | unknown).compute()
        layer = Layer("WATER", on_grid(mask, stack[green]), "water mask", ("data", "water"),
                      nodata=water.NO_OBSERVATION, classes=MASK_CLASSES)  # fmt: skip
        properties = {"terrapole:water_threshold": threshold, "terrapole:snow_source": source}
        return Output([layer], properties, valid_from="WATER")


def _split(values: Any, rule: Any) -> tuple[Any, Any]:
    """The (snow, not observed) pair of a snow source, as two lazy boolean arrays."""
    snow = da.map_blocks(lambda v: rule(v)[0], values, dtype=bool)
    unknown = da.map_blocks(lambda v: rule(v)[1], values, dtype=bool)
    return snow, unknown


class WaterYearly(Chain):
    """Water occurrence and permanent/seasonal water per calendar year."""

    name: ClassVar[str] = "water-yearly"
    title: ClassVar[str] = "Yearly surface water"
    cadence: ClassVar[Cadence] = "yearly"
    input_collection: ClassVar[str] = "theia-water"
    output_collection: ClassVar[str] = "theia-water-annual"
    prefix: ClassVar[str] = "WATERYEAR"
    level: ClassVar[str] = "L3B"
    collection_title: ClassVar[str] = "Yearly surface water occurrence and classes"
    collection_description: ClassVar[str] = (
        "Per calendar year: water occurrence (mean over the observed months of each month's "
        "water / clear observations, %) and classes permanent (>= 90 %), seasonal (>= 10 %), "
        "not water, never observed."
    )
    algorithm_modules: ClassVar[tuple[str, ...]] = ("terrapole.processing.water",)
    deviations: ClassVar[tuple[str, ...]] = (
        "Permanent (occurrence >= 90 %) and seasonal (>= 10 %) classes use fixed occurrence "
        "bounds of this implementation; Pekel et al. 2016 class a year's water by the months "
        "it is present, and Surfwater defines occurrence only.",
    )

    @override
    def parameters(self) -> dict[str, Any]:
        return {
            "permanent": PERMANENT,
            "seasonal": SEASONAL,
            "occurrence": "mean over the observed months of water / observations",
        }

    @override
    def windows(self, start: date, end: date) -> Iterator[Window]:
        return yearly_windows(start, end)

    @override
    def produce(self, context: Context) -> Output:
        require_assets(context.inputs, ("WATER",))
        stack = context.load(("WATER",), RESOLUTION)
        masks = [stack["WATER"].isel(time=t).data for t in range(len(context.inputs))]
        months = [item_day(item).month for item in context.inputs]
        year = delayed(water.yearly)(masks, months, PERMANENT, SEASONAL).compute()
        occurrence = np.where(np.isfinite(year.occurrence), np.round(year.occurrence), 255)
        like = stack["WATER"]
        layers = [
            Layer("OCCURRENCE", on_grid(occurrence.astype(np.uint8), like),
                  "water occurrence (% of clear observations, normalised month by month)",
                  ("data", "water-occurrence"), nodata=255, unit="%"),
            Layer("CLASSES", on_grid(year.classes, like), "permanent / seasonal water",
                  ("data", "water"), nodata=water.UNOBSERVED, classes=YEAR_CLASSES),
        ]  # fmt: skip
        properties = {"terrapole:observations": len(masks),
                      "terrapole:months": sorted(set(months))}  # fmt: skip
        return Output(layers, properties, valid_from="CLASSES")
