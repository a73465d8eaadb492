"""Surface water chains: a water mask per L2A product and the yearly occurrence synthesis.

Per product at 20 m: MNDWI from green (10 m, averaged to 20 m) and SWIR 1.6 µm, the scene's
Otsu threshold kept in [-0.2, 0.3], clouds and shadows (any non-zero cloud mask bit) and nodata
as "no observation" (``processing.water``). A scene with no clear pixel gives no product
(reported empty). Yearly (calendar year): occurrence (%) and permanent/seasonal classes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, ClassVar

import numpy as np
from dask.delayed import delayed
from numpy.typing import NDArray
from typing_extensions import override

from terrapole.processing import water
from terrapole.processing.indices import mndwi
from terrapole.production.chain import (
    Cadence,
    Chain,
    Context,
    Layer,
    Output,
    Window,
    require_assets,
    yearly_windows,
)
from terrapole.production.layers import band_key, classes, on_grid, surface_reflectance

RESOLUTION = 20.0
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
        "the scene's Otsu threshold (bounded to [-0.2, 0.3]), clouds and shadows masked."
    )
    algorithm_modules: ClassVar[tuple[str, ...]] = (
        "terrapole.processing.water", "terrapole.processing.indices",
    )  # fmt: skip

    @override
    def parameters(self) -> dict[str, Any]:
        return {"index": "MNDWI", "resolution": RESOLUTION,
                "threshold_range": list(water.THRESHOLD_RANGE)}  # fmt: skip

    @override
    def produce(self, context: Context) -> Output:
        item = context.inputs[0]
        keys = (band_key(item, "B3"), band_key(item, "B11"))
        require_assets(context.inputs, (*keys, "CLM_R2"))
        stack = context.load((*keys, "CLM_R2"), RESOLUTION, {keys[0]: "average"})
        index = mndwi(
            surface_reflectance(stack, keys[0], 0), surface_reflectance(stack, keys[1], 0)
        )
        masked = stack["CLM_R2"].isel(time=0).data != 0
        mask, threshold = delayed(_mask, nout=2)(index, masked).compute()
        layer = Layer("WATER", on_grid(mask, stack[keys[0]]), "water mask", ("data", "water"),
                      nodata=water.NO_OBSERVATION, classes=MASK_CLASSES)  # fmt: skip
        return Output([layer], {"terrapole:water_threshold": threshold}, valid_from="WATER")


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
        "Per calendar year: water occurrence (% of clear observations) and classes permanent "
        "(>= 90 %), seasonal (>= 10 %), not water, never observed."
    )
    algorithm_modules: ClassVar[tuple[str, ...]] = ("terrapole.processing.water",)

    @override
    def parameters(self) -> dict[str, Any]:
        return {"permanent": 90.0, "seasonal": 10.0}

    @override
    def windows(self, start: date, end: date) -> Iterator[Window]:
        return yearly_windows(start, end)

    @override
    def produce(self, context: Context) -> Output:
        require_assets(context.inputs, ("WATER",))
        stack = context.load(("WATER",), RESOLUTION)
        masks = [stack["WATER"].isel(time=t).data for t in range(len(context.inputs))]
        year = delayed(water.yearly)(masks, **self.parameters()).compute()
        occurrence = np.where(np.isfinite(year.occurrence), np.round(year.occurrence), 255)
        like = stack["WATER"]
        layers = [
            Layer("OCCURRENCE", on_grid(occurrence.astype(np.uint8), like),
                  "water occurrence (% of clear observations)", ("data", "water-occurrence"),
                  nodata=255, unit="%"),
            Layer("CLASSES", on_grid(year.classes, like), "permanent / seasonal water",
                  ("data", "water"), nodata=water.UNOBSERVED, classes=YEAR_CLASSES),
        ]  # fmt: skip
        return Output(layers, {"terrapole:observations": len(masks)}, valid_from="CLASSES")
