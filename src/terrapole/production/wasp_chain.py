"""The monthly WASP chain: THEIA L2A items of a window -> one Level-3A composite item per month.

For each month the synthesis date D0 is the 15th and the window D0 ± 23 days. The 10 m bands
(B2, B3, B4) and the 20 m bands (B8A, B11, B12) are composited on their own grids, each with the
20 m cloud mask (read as stored and indexed at half resolution by the 10 m group; warped only if
the grids do not nest). Inputs on the grid are read chunk by chunk straight into the compiled
synthesis (``processing.wasp.synthesis``): one task per chunk. Outputs per ATBD:
FRC per band (×10000), WGT/DTS/FLG per resolution group (R1 10 m, R2 20 m).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, ClassVar

import dask.array as da
import xarray as xr
from dask.base import persist
from typing_extensions import override

from terrapole.processing.wasp import (
    HALF_WINDOW_DAYS,
    NODATA,
    Stack,
    cloudy_fractions,
    synthesis,
    whole_cells,
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
    classes,
    nesting,
    on_grid,
)
from terrapole.production.loading import CHUNK

CLOUD_MASK_M = 20.0
SENSORS = {"landsat-8": "landsat-8"}  # platform -> WASP sensor weight (others: Sentinel-2)
GROUPS = {"R1": (("B2", "B3", "B4"), 10.0), "R2": (("B8A", "B11", "B12"), 20.0)}
FLAGS = classes((0, "no data", "000000"), (1, "cloud (all-cloudy fallback)", "c8c8c8"),
                (4, "land", "3c8c3c"))  # fmt: skip


def _cells(mask: xr.DataArray, size: float) -> Any:
    """The cloudy fraction of each 240 m cell, per date, of a (time, 1, y, x) mask (persisted)."""
    return persist(cloudy_fractions(mask.data[:, 0], size))[0]


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
    algorithm_modules: ClassVar[tuple[str, ...]] = (
        "terrapole.processing.wasp", "terrapole.processing.grid",
    )  # fmt: skip

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
        require_assets(context.inputs, ("CLM_R2",))
        days = [item_day(item) for item in context.inputs]
        sensors = [SENSORS.get(item["properties"].get("platform", ""), "sentinel-2")
                   for item in context.inputs]  # fmt: skip
        # the 240 m cloud grid of each date, from the 20 m mask read in chunks of whole cells:
        # one task per chunk, started on the cluster now (persisted, not awaited), for both groups
        masks = context.load_bands(("CLM_R2",), CLOUD_MASK_M, whole_cells(CHUNK, CLOUD_MASK_M))
        cells = _cells(masks, CLOUD_MASK_M)
        for res, (bands, size) in GROUPS.items():
            keys = tuple(band_key(context.inputs[0], b) for b in bands)
            require_assets(context.inputs, keys)
            refl = context.load_bands(keys, size)
            factor = nesting(masks.odc.geobox, refl.odc.geobox)
            if factor is not None:  # the mask read as stored; pixel (y, x) in (y // f, x // f)
                cloud = context.load_bands(("CLM_R2",), CLOUD_MASK_M, CHUNK // factor)
                group_cells = cells
            else:  # grids that do not nest: the mask warped onto the bands' grid
                cloud = context.load_bands(("CLM_R2",), size, like=refl.odc.geobox)
                group_cells = _cells(cloud, size)
            stack = Stack(refl.data, cloud.data[:, 0], days, group_cells, sensors, factor or 1)
            result = synthesis(stack, context.window.centre, size, scale=THEIA_SCALE,
                               nodata=THEIA_NODATA)  # fmt: skip
            like = refl.isel(time=0, band=0, drop=True)
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
