"""The monthly WASP chain: THEIA L2A items of a window -> one Level-3A composite item per month.

For each month the synthesis date D0 is the 15th and the window D0 ± 23 days. The 10 m bands
(B2, B3, B4) and the 20 m bands (B8A, B11, B12) are composited on their own grids, each with the
20 m cloud mask (taken to 10 m by nearest neighbour for the 10 m group). Outputs per ATBD:
FRC per band (×10000), WGT/DTS/FLG per resolution group (R1 10 m, R2 20 m).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, ClassVar

import dask.array as da
from dask.base import compute
from typing_extensions import override

from terrapole.processing.wasp import (
    HALF_WINDOW_DAYS,
    NODATA,
    Observation,
    cloudy_fraction,
    composite,
)
from terrapole.production.chain import (
    Cadence,
    Chain,
    Context,
    Layer,
    Output,
    Window,
    item_day,
    monthly_windows,
    require_assets,
)
from terrapole.production.layers import (
    THEIA_NODATA,
    THEIA_SCALE,
    band_key,
    band_stack,
    classes,
    on_grid,
    upsample,
)

CLOUD_MASK_M = 20.0
GROUPS = {"R1": (("B2", "B3", "B4"), 10.0), "R2": (("B8A", "B11", "B12"), 20.0)}
FLAGS = classes((0, "no data", "000000"), (1, "cloud (all-cloudy fallback)", "c8c8c8"),
                (4, "land", "3c8c3c"))  # fmt: skip


class WaspMonthly(Chain):
    """Monthly cloud-free syntheses (THEIA Level 3A, WASP)."""

    name: ClassVar[str] = "wasp-monthly"
    title: ClassVar[str] = "WASP monthly synthesis"
    cadence: ClassVar[Cadence] = "monthly"
    input_collection: ClassVar[str] = "theia-sentinel-2-l2a"
    output_collection: ClassVar[str] = "theia-l3a-wasp"
    prefix: ClassVar[str] = "WASP"
    level: ClassVar[str] = "L3A"
    collection_title: ClassVar[str] = "THEIA-style Level-3A monthly syntheses (WASP)"
    collection_description: ClassVar[str] = (
        "Cloud-free monthly surface reflectance composites (WASP weights: clouds at 240 m, "
        "date, sensor) made by terrapole from the Level-2A products of D0 ± 23 days."
    )

    @override
    def parameters(self) -> dict[str, Any]:
        return {"half_window_days": HALF_WINDOW_DAYS, "synthesis_day": 15,
                "groups": {k: list(v[0]) for k, v in GROUPS.items()}}  # fmt: skip

    @override
    def windows(self, start: date, end: date) -> Iterator[Window]:
        return monthly_windows(start, end, HALF_WINDOW_DAYS)

    @override
    def produce(self, context: Context) -> Output:
        layers: list[Layer] = []
        first = context.inputs[0]
        require_assets(context.inputs, ("CLM_R2",))
        masks = context.load(("CLM_R2",), CLOUD_MASK_M)["CLM_R2"]
        # the 240 m cloud grid of each date, from the 20 m mask, shared by both groups
        fractions = [cloudy_fraction(masks.data[t] != 0, CLOUD_MASK_M) for t in range(len(masks))]
        cells = compute(*fractions)
        for res, (bands, size) in GROUPS.items():
            keys = tuple(band_key(first, b) for b in bands)
            require_assets(context.inputs, keys)
            stack = context.load(keys, size)
            # the 20 m mask repeated onto the 10 m grid; warped only when the grids do not nest
            clouds = upsample(masks, stack[keys[0]])
            nested = clouds is not None
            if clouds is None:
                clouds = context.load(("CLM_R2",), size)["CLM_R2"].data
            observations = []
            for t, item in enumerate(context.inputs):
                platform = item["properties"].get("platform", "")
                sensor = "landsat-8" if platform == "landsat-8" else "sentinel-2"
                cloud = clouds[t] != 0
                refl = band_stack(stack, keys, t)
                known = cells[t] if nested else None  # same cells only when the grids nest
                observations.append(Observation(refl, cloud, item_day(item), sensor, cells=known))
            result = composite(observations, context.window.centre, size,
                               scale=THEIA_SCALE, nodata=THEIA_NODATA)  # fmt: skip
            like = stack[keys[0]]
            for n, band in enumerate(bands):
                layers.append(Layer(f"FRC_{band}", on_grid(result.frc[n], like),
                                    f"{band} composite reflectance", ("data", "reflectance"),
                                    NODATA, 1e-4, band=band))  # fmt: skip
            dts = da.where(da.isnan(result.dts), -9999.0, result.dts)
            layers += [
                Layer(f"WGT_{res}", on_grid(result.wgt, like), "total weight x1000"),
                Layer(f"DTS_{res}", on_grid(dts, like), "mean date (days from D0)", nodata=-9999.0,
                      unit="d"),
                Layer(f"FLG_{res}", on_grid(result.flg, like), "flag", ("data", "data-mask"),
                      classes=FLAGS),
            ]  # fmt: skip
        return Output(
            layers,
            properties={"constellation": "sentinel-2"},
            rgb=("FRC_B4", "FRC_B3", "FRC_B2"),
            valid_from="FRC_B2",
        )
