"""The monthly WASP chain: THEIA L2A items of a window -> one Level-3A composite item per month.

For each month the synthesis date D0 is the 15th and the window D0 ± 23 days. The 10 m bands
(B2, B3, B4) and the 20 m bands (B8A, B11, B12) are composited on their own grids, each with the
20 m cloud mask (read as stored and indexed at half resolution by the 10 m group; warped only if
the grids do not nest). Inputs on the grid are read chunk by chunk straight into the compiled
synthesis (``processing.wasp.synthesis``): one task per chunk. Outputs per ATBD:
FRC per band (×10000), WGT/DTS/FLG per resolution group (R1 10 m, R2 20 m).

Clouds are MAJA CLM bit 0 (the reference's binary mask), never the raw codes; snow and water come
from MG2 bits 2 and 0 when every input has the MG2 mask; the AOT from the ATB band when every input
has one (``AOT_R1``/``AOT_R2`` assets), else W_AOT = 1, and every item says which (``wasp:aot``).
What else differs from CNES/WASP is listed in ``WaspMonthly.deviations`` and written into each
item (docs/algorithms.md, WASP).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, ClassVar

import dask.array as da
import numpy as np
import xarray as xr
from dask.base import persist
from typing_extensions import override

from terrapole.cube.loading import CHUNK
from terrapole.processing.wasp import (
    AOT_MAX,
    AOT_WEIGHT_MAX,
    AOT_WEIGHT_MIN,
    BCO_ALPHA,
    BCO_RADIUS,
    CLOUD_BITS,
    CLOUD_CELL_M,
    CLOUDY_CELL,
    DATE_WEIGHT_MIN,
    FLAG_CLOUD,
    FLAG_LAND,
    FLAG_NODATA,
    FLAG_SNOW,
    FLAG_WATER,
    FULL_BLUR,
    GAUSSIAN_MAX_ERROR,
    HALF_WINDOW_DAYS,
    NODATA,
    SENSOR_WEIGHT,
    SIGMA_LARGE,
    SIGMA_SMALL,
    SNOW_BITS,
    WATER_BITS,
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

CLOUD_MASK_M = 20.0
SENSORS = {"landsat-8": "landsat-8"}  # platform -> WASP sensor weight (others: Sentinel-2)
GROUPS = {"R1": (("B2", "B3", "B4"), 10.0), "R2": (("B8A", "B11", "B12"), 20.0)}
SURFACE_MASK = "MG2_R2"  # MAJA geophysical mask: water (bit 0) and snow (bit 2)
AOT_SCALE = 0.005  # MUSCATE ATB band 2: AOT = DN × 0.005 (quantification value 200)
AOT_USED = "ATB band 2 (AOT = DN × 0.005) of every input, on each group's grid"
AOT_ABSENT = "absent: W_AOT = 1 (not every input has an ATB band)"
FLAGS = classes((FLAG_NODATA, "no data", "000000"),
                (FLAG_CLOUD, "cloud (darkest cloudy observation)", "c8c8c8"),
                (FLAG_SNOW, "snow (latest snow observation)", "ffffff"),
                (FLAG_WATER, "water (latest water observation)", "1e64c8"),
                (FLAG_LAND, "land (weighted mean)", "3c8c3c"))  # fmt: skip


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
    deviations: ClassVar[tuple[str, ...]] = (
        "No directional (BRDF) correction of the reflectances: the reference normalises them to "
        "a fixed geometry with its scattering coefficients, which needs the angle grids of the "
        "MUSCATE metadata; terrapole composites the FRE reflectances as delivered.",
        "W_date follows the ATBD's continuous 1 - 0.5 |D - D0| / 23; the reference code divides "
        "two integers there, so its W_date is 1 for every date within 22 days and 0.5 at 23.",
        "The AOT is each group's own ATB band (10 m for B2-B4, 20 m for B8A-B12) with the "
        "MUSCATE quantification 0.005 fixed; the reference resamples the 10 m ATB for both "
        "groups and reads the quantification from the product's metadata. When not every input "
        "has an ATB band, W_AOT = 1 (said in wasp:aot).",
        "The 240 m cloudy fraction is the plain fraction of each cell's 20 m CLM pixels (a "
        "partial edge cell from its own pixels); the reference undersamples the binary mask of "
        "the 10 m CLM with a bicubic (BCO) kernel of radius 2 cells, a smoothly weighted fraction.",
        "A date counts at a pixel only when every band of the resolution group holds data; the "
        "reference decides band by band and also treats negative reflectances as no data.",
        "Sums are kept in floating point and rounded once (FRC to the nearest DN, DTS as a "
        "fractional day); the reference writes int16 FRC/WGT/DTS after every date (truncated).",
        "Clear observations of zero weight (inside a fully cloudy 240 m neighbourhood) join the "
        "cloudy ones in the darkest fallback; the reference keeps the first flagged land and "
        "divides 0 by 0 at a second one.",
        "Flags 5 (cloud shadow) and 6 (saturation) are never set: shadows are part of CLM bit 0 "
        "and flagged cloud, as in the reference's update rules.",
    )

    @override
    def parameters(self) -> dict[str, Any]:
        return {
            "synthesis_day": 15,
            "half_window_days": HALF_WINDOW_DAYS,
            "date_weight": f"1 - {1 - DATE_WEIGHT_MIN} |D - D0| / {HALF_WINDOW_DAYS}",
            "sensor_weight": dict(SENSOR_WEIGHT),
            "cloud_mask": f"CLM_R2 bit 0 (codes & {CLOUD_BITS})",
            "cloud_cell_m": CLOUD_CELL_M,
            "cloudy_cell_fraction_above": CLOUDY_CELL,
            "cloud_sigmas_cells": [SIGMA_SMALL, SIGMA_LARGE],
            "gaussian": f"ITK discrete (Bessel) kernel, max error {GAUSSIAN_MAX_ERROR}",
            "cloud_weight": "(1 - |S|)(1 - |L|), 0 where |S| or |L| >= 1 or on cloudy pixels",
            "interpolation": f"OTB BCO radius {BCO_RADIUS} alpha {BCO_ALPHA}, edge cells repeated",
            "full_blur_at": FULL_BLUR,
            "aot_weight": {"aot_max": AOT_MAX, "weight_min": AOT_WEIGHT_MIN,
                           "weight_max": AOT_WEIGHT_MAX, "aot_scale": AOT_SCALE,
                           "source": "ATB band 2 when every input has it, else W_AOT = 1"},
            "surface_mask": f"{SURFACE_MASK} water bit 0 ({WATER_BITS}), snow bit 2 ({SNOW_BITS}) "
                            "when every input has it",
            "fallback": "latest snow/water, else darkest blue (B2) cloudy observation",
            "groups": {k: list(v[0]) for k, v in GROUPS.items()},
        }  # fmt: skip

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
        with_surface = all(SURFACE_MASK in item["assets"] for item in context.inputs)
        with_aot = all(f"AOT_{res}" in item["assets"] for item in context.inputs for res in GROUPS)
        for res, (bands, size) in GROUPS.items():
            keys = tuple(band_key(context.inputs[0], b) for b in bands)
            require_assets(context.inputs, keys)
            refl = context.load_bands(keys, size)
            factor = nesting(masks.odc.geobox, refl.odc.geobox)
            if factor is not None:  # the mask read as stored; pixel (y, x) in (y // f, x // f)
                cloud = context.load_bands(("CLM_R2",), CLOUD_MASK_M, CHUNK // factor)
                surface = (context.load_bands((SURFACE_MASK,), CLOUD_MASK_M, CHUNK // factor)
                           if with_surface else None)  # fmt: skip
                group_cells = cells
            else:  # grids that do not nest: the mask warped onto the bands' grid
                cloud = context.load_bands(("CLM_R2",), size, like=refl.odc.geobox)
                surface = (context.load_bands((SURFACE_MASK,), size, like=refl.odc.geobox)
                           if with_surface else None)  # fmt: skip
                group_cells = _cells(cloud, size)
            aot = None
            if with_aot:  # stored DN 0 (no value) is AOT 0, as the reference reads it
                atb = context.load_bands((f"AOT_{res}",), size, like=refl.odc.geobox)
                aot = atb.data[:, 0].astype("float32") * np.float32(AOT_SCALE)
            stack = Stack(refl.data, cloud.data[:, 0], days, group_cells, sensors, factor or 1,
                          aot=aot, cloud_bits=CLOUD_BITS,
                          surface=None if surface is None else surface.data[:, 0])  # fmt: skip
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
        snow_water = f"{SURFACE_MASK} bits 2 (snow) and 0 (water)"
        if not with_surface:
            snow_water = f"absent: not every input has {SURFACE_MASK}, no snow or water flag"
        return Output(
            layers,
            properties={
                "constellation": "sentinel-2",
                "wasp:aot": AOT_USED if with_aot else AOT_ABSENT,
                "wasp:snow_water": snow_water,
            },
            rgb=("FRC_B4", "FRC_B3", "FRC_B2"),
            valid_from="FRC_B2",
        )
