"""Snow chains: Let-It-Snow per L2A product (snow codes, FSC) and the yearly snow synthesis.

Per product, at 20 m (LIS resolution): green, red (10 m, averaged to 20 m) and SWIR 1.6 µm, the
raw MAJA cloud mask byte (CLM_R2: all clouds, shadows, high clouds), the DEM of the ``dem``
collection mosaicked on the same grid (bilinear) and, when a ``tree-cover`` collection covers
the scene, the tree cover density (0-100 %) for FSC_OG. See docs/algorithms.md (Let-It-Snow).

Chunk by chunk on Dask: pass 1 and each chunk's share of the scene (DEM histogram per metre,
pass-1 snow count, weighted red sums of the coarse grid); one small task makes the scene's
decisions (snow line, pass-2 trigger, bright coarse cells) exactly as over the whole scene; then
pass 2, the coding and the FSC chunk by chunk.

Flagged outputs rather than refusals: where no DEM covers a pixel it is left out of the snow line
and of pass 2; the item says how much of the scene the DEM covered (``terrapole:dem_coverage``)
and the snow line used (``terrapole:snowline_m``, null when pass 2 did not run). FSC_OG equals
FSC_TOC where the tree cover is unknown; without any tree-cover item the product has no FSC_OG
asset (said in ``terrapole:missing``).

Yearly: the snow year runs from 1 September to 31 August, its inputs from 15 days before to 15
days after (LIS's date margin); SCD, SOD, SMOD, NOBS as ``processing.snow.snow_year``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, ClassVar

import dask.array as da
import numpy as np
from dask.delayed import delayed
from numpy.typing import NDArray
from typing_extensions import override

from terrapole.processing import snow
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
FSC_CLOUD, FSC_NODATA = 205, 255
SNOW_CLASSES = classes(
    (snow.NO_SNOW, "no snow", "2d8c3c"),
    (snow.SNOW, "snow", "00c8ff"),
    (snow.CLOUD, "cloud", "c8c8c8"),
    (snow.NODATA, "no data", "000000"),
)


def fsc_percent(fraction: NDArray[Any], codes: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """FSC 0-100 % on snow and no-snow pixels, 205 cloud, 255 no data (THEIA FSC coding)."""
    out = np.where(np.isfinite(fraction), np.round(np.nan_to_num(fraction) * 100), FSC_NODATA)
    out = np.where(codes == snow.CLOUD, FSC_CLOUD, out)
    return np.where(codes == snow.NODATA, FSC_NODATA, out).astype(np.uint8)


@dataclass(frozen=True)
class _Chunk:
    """A chunk after pass 1: its inputs (green, red, SWIR, CLM, DEM[, tree cover]), its first
    pixel in the scene and its share of the scene."""

    inputs: tuple[NDArray[Any], ...]
    origin: tuple[int, int]
    share: snow.SceneShare


def _one(value: Any) -> NDArray[np.object_]:
    found = np.empty((1, 1), dtype=object)
    found[0, 0] = value
    return found


def _first_pass(
    *inputs: NDArray[Any], shape: tuple[int, int], block_info: dict[Any, Any] | None = None
) -> NDArray[Any]:
    """A chunk summarised: its :class:`_Chunk` as a (1, 1) object block. The conversions to
    reflectance fuse into this task, and pass 2 takes its inputs from it: nothing upstream of
    pass 1 runs twice."""
    assert block_info is not None
    (r0, _), (c0, _) = block_info[0]["array-location"]
    green, red, swir, clm, dem = inputs[:5]
    share = snow.scene_share(green, red, swir, clm, dem, origin=(r0, c0), shape=shape,
                             params=PARAMETERS)  # fmt: skip
    return _one(_Chunk(inputs, (r0, c0), share))


def _share(block: NDArray[Any]) -> NDArray[Any]:
    chunk: _Chunk = block[0, 0]
    return _one(chunk.share)


def _scene(shares: NDArray[Any], shape: tuple[int, int]) -> NDArray[Any]:
    """The scene from every chunk's share (one block holding them all), as a (1, 1) block."""
    return _one(snow.scene_of(shares.ravel().tolist(), shape, PARAMETERS))


def _coverage(scene: NDArray[Any]) -> NDArray[Any]:
    return np.array([[round(scene[0, 0].covered, 4)]])


def _snowline(scene: NDArray[Any]) -> NDArray[Any]:
    found: snow.Scene = scene[0, 0]
    return _one(found.snowline if found.pass2 else None)


def _second_pass(
    block: NDArray[Any], scene_block: NDArray[Any], shape: tuple[int, int]
) -> NDArray[np.uint8]:
    """A chunk's outputs once the scene is known: (codes, FSC_TOC %[, FSC_OG %])."""
    chunk: _Chunk = block[0, 0]
    scene: snow.Scene = scene_block[0, 0]
    (green, red, swir, clm, dem), tcd = chunk.inputs[:5], chunk.inputs[5:]
    codes, ndsi = snow.snow_codes(green, red, swir, clm, dem, scene, origin=chunk.origin,
                                  shape=shape, params=PARAMETERS)  # fmt: skip
    toc = snow.fsc_toc(ndsi, codes, PARAMETERS)
    layers = [codes, fsc_percent(toc, codes)]
    if tcd:
        layers.append(fsc_percent(snow.fsc_og(toc, tcd[0] / 100.0), codes))
    return np.stack(layers)


PARAMETERS = snow.DEFAULT


class SnowProduct(Chain):
    """Let-It-Snow snow cover and fractional snow cover of every new L2A product."""

    name: ClassVar[str] = "snow"
    title: ClassVar[str] = "Snow cover (Let-It-Snow)"
    cadence: ClassVar[Cadence] = "per-product"
    input_collection: ClassVar[str] = "theia-sentinel-2-l2a"
    output_collection: ClassVar[str] = "theia-snow"
    prefix: ClassVar[str] = "SNOW"
    level: ClassVar[str] = "L2B"
    collection_title: ClassVar[str] = "Snow cover (Let-It-Snow) and fractional snow cover"
    collection_description: ClassVar[str] = (
        "Snow / no snow / cloud at 20 m per Sentinel-2 L2A product (LIS two-pass NDSI test with "
        "the DEM snow line) and fractional snow cover FSC_TOC (and FSC_OG with tree cover)."
    )
    algorithm_modules: ClassVar[tuple[str, ...]] = ("terrapole.processing.snow",)
    auxiliaries: ClassVar[tuple[Auxiliary, ...]] = (
        Auxiliary("dem", "data"), Auxiliary("tree-cover", "data"),
    )  # fmt: skip
    deviations: ClassVar[tuple[str, ...]] = (
        "Green and red (10 m) are averaged 2 x 2 onto the 20 m grid over their pixels with data "
        "and kept as floats; the reference warps them to 20 m with GDAL's cubic resampling "
        "into 16-bit integers.",
        "The DEM is the dem collection resampled bilinearly onto the 20 m grid (fractional "
        "metres, truncated to whole metres for the snow-line histogram as the reference's "
        "16-bit read); the reference takes the L2A product's DEM or warps one by cubic spline.",
        "Pixels without a DEM are left out of the snow-line histogram and of pass 2; the "
        "reference assumes a DEM everywhere (the item gives terrapole:dem_coverage).",
        "FSC_TOC is computed from the unrounded NDSI; the reference first writes the NDSI in "
        "whole percent.",
        "Where the scene has fewer than 12 pixels on a side, the coarse red has one cell on "
        "that side (GDAL would size a zero-sized side itself).",
        "No data is coded 254 (LIS 1.5, the THEIA snow products of that version); later LIS "
        "code writes 255.",
        "FSC_TOC = 0.5 tanh(2.65 NDSI - 1.42) + 0.5 (Gascoin et al. 2020, LIS 1.7 and the "
        "Copernicus FSC); the snow-detection reference read (LIS 1.5 code) has the older linear "
        "1.45 NDSI - 0.01.",
    )

    @override
    def parameters(self) -> dict[str, Any]:
        return {
            "resolution": RESOLUTION,
            "lis": PARAMETERS.as_dict(),
            "cloud_mask": "MAJA CLM_R2: all clouds CLM != 0, shadows and high clouds by bits",
            "green_red_to_20m": "average of the 2 x 2 10 m pixels with data",
            "dem_collection": "dem", "dem_resampling": "bilinear",
            "tree_cover_collection": "tree-cover",
            "fsc_og": "min(FSC_TOC / (1 - TCD), 1); FSC_TOC where TCD unknown or outside 0-100 %",
            "codes": {"no_snow": snow.NO_SNOW, "snow": snow.SNOW, "cloud": snow.CLOUD,
                      "no_data": snow.NODATA},
        }  # fmt: skip

    @override
    def produce(self, context: Context) -> Output:
        item = context.inputs[0]
        keys = tuple(band_key(item, b) for b in ("B3", "B4", "B11"))
        require_assets(context.inputs, (*keys, "CLM_R2"))
        averaged = {k: "average" for k in keys[:2]}  # 10 m green and red to 20 m
        stack = context.load((*keys, "CLM_R2"), RESOLUTION, averaged)
        green, red, swir = (surface_reflectance(stack, k, 0) for k in keys)
        clm = stack["CLM_R2"].isel(time=0).data.astype(np.uint8)
        like = stack[keys[0]]
        dem_layer = context.auxiliary("dem", "data", stack)  # float32, NaN where unknown
        dem = (da.full(green.shape, np.nan, dtype="float32", chunks=green.chunks)
               if dem_layer is None else dem_layer.data.rechunk(green.chunks))  # fmt: skip
        tcd_layer = context.auxiliary("tree-cover", "data", stack)
        tcd = [] if tcd_layer is None else [tcd_layer.data.rechunk(green.chunks)]
        # pass 1 chunk by chunk; the scene's decisions from the chunks' shares (one small
        # task); then pass 2 and the FSC chunk by chunk on the inputs pass 1 kept: nothing
        # comes back here, nothing is read or converted twice
        shape = (int(green.shape[0]), int(green.shape[1]))
        blocks = tuple((1,) * n for n in green.numblocks)
        chunks = da.map_blocks(_first_pass, green, red, swir, clm, dem, *tcd, shape=shape,
                               dtype=object, chunks=blocks)  # fmt: skip
        shares = chunks.map_blocks(_share, dtype=object)
        scene = shares.rechunk(-1).map_blocks(_scene, shape, dtype=object,
                                              chunks=((1,), (1,)))  # fmt: skip
        products = da.map_blocks(_second_pass, chunks, scene, shape, new_axis=0, dtype="uint8",
                                 chunks=((2 + len(tcd),), *green.chunks))  # fmt: skip
        codes, toc = products[0], products[1]
        og = products[2] if tcd else None
        layers = [
            Layer("SNOW", on_grid(codes, like), "snow codes", ("data", "snow"),
                  nodata=snow.NODATA, classes=SNOW_CLASSES),
            Layer("FSC_TOC", on_grid(toc, like), "fractional snow cover, top of canopy (%)",
                  ("data", "snow-fraction"), nodata=FSC_NODATA, unit="%"),
        ]  # fmt: skip
        properties: dict[str, Any] = {  # computed with the layers
            "terrapole:dem_coverage": scene.map_blocks(_coverage, dtype=float),
            "terrapole:snowline_m": scene.map_blocks(_snowline, dtype=object),
        }
        if og is not None:
            title = "fractional snow cover on ground (%; FSC_TOC where tree cover is unknown)"
            layers.append(Layer("FSC_OG", on_grid(og, like), title, ("data", "snow-fraction"),
                                nodata=FSC_NODATA, unit="%"))  # fmt: skip
        else:
            properties["terrapole:missing"] = [
                "FSC_OG (no tree-cover item covers the scene; it would equal FSC_TOC)"
            ]
        return Output(layers, properties, valid_from="SNOW")


DATE_MARGIN = 15  # days of products taken before and after the snow year (LIS date_margin)


class SnowYearly(Chain):
    """Snow cover duration and melt-out dates per snow year (1 September - 31 August)."""

    name: ClassVar[str] = "snow-yearly"
    title: ClassVar[str] = "Snow year synthesis"
    cadence: ClassVar[Cadence] = "yearly"
    input_collection: ClassVar[str] = "theia-snow"
    output_collection: ClassVar[str] = "theia-snow-annual"
    prefix: ClassVar[str] = "SNOWYEAR"
    level: ClassVar[str] = "L3B"
    collection_title: ClassVar[str] = "Annual snow cover duration (SCD, SOD, SMOD, NOBS)"
    collection_description: ClassVar[str] = (
        "Per snow year (1 Sept - 31 Aug): snow cover duration, snow onset and melt-out dates "
        "of the longest snow period, and the number of clear observations."
    )
    algorithm_modules: ClassVar[tuple[str, ...]] = ("terrapole.processing.snow",)
    deviations: ClassVar[tuple[str, ...]] = (
        "SOD and SMOD are no data (-1) where they are not computed; the reference writes 0, "
        "which also means 1 September.",
        "A day exactly midway between a snow and a no-snow observation is snow (the filled "
        "value is exactly one half); the reference's double-precision interpolation may round "
        "such a day either way.",
        "The item's start and end datetimes span the inputs, the 15-day margins included.",
    )

    @override
    def parameters(self) -> dict[str, Any]:
        return {
            "first_month": 9,
            "date_margin_days": DATE_MARGIN,
            "same_day": "one code per day: the first clear look, else the last look",
            "interpolation": "linear between clear days, constant before the first and after "
                             "the last (OTB ImageTimeSeriesGapFilling); snow where >= 1/2",
            "sod_smod": "first and last day of the longest snow run (the earliest of equal "
                        f"ones) where SCD > {snow.MIN_SCD_FOR_DATES} days",
            "nobs": "clear days among the inputs, margins included",
        }  # fmt: skip

    @override
    def windows(self, start: date, end: date) -> Iterator[Window]:
        margin = timedelta(days=DATE_MARGIN)
        for window in yearly_windows(start, end, first_month=9):
            yield replace(window, start=window.start - margin, end=window.end + margin)

    @override
    def produce(self, context: Context) -> Output:
        require_assets(context.inputs, ("SNOW",))
        stack = context.load(("SNOW",), RESOLUTION)
        first = context.window.centre
        days = [(item_day(i) - first).days for i in context.inputs]
        length = (date(first.year + 1, first.month, 1) - first).days
        codes = [stack["SNOW"].isel(time=t).data for t in range(len(days))]
        year = delayed(snow.snow_year)(days, codes, length).compute()
        like = stack["SNOW"]
        layers = [
            Layer("SCD", on_grid(year.scd, like), "snow cover duration (days)", unit="d"),
            Layer("SOD", on_grid(year.sod, like), "snow onset (days since 1 September)",
                  nodata=-1, unit="d"),
            Layer("SMOD", on_grid(year.smod, like),
                  "snow melt-out, last snow day (days since 1 September)", nodata=-1, unit="d"),
            Layer("NOBS", on_grid(year.nobs, like), "clear observation days"),
        ]  # fmt: skip
        return Output(layers, {"terrapole:observations": len(days)}, valid_from="NOBS")
