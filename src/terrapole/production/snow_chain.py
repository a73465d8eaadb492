"""Snow chains: Let-It-Snow per L2A product (snow codes, FSC) and the yearly snow synthesis.

Per product, at 20 m (LIS resolution): green, red (10 m, averaged to 20 m) and SWIR 1.6 µm, the
cloud mask, the DEM of the ``dem`` collection mosaicked on the same grid (bilinear) and, when a
``tree-cover`` collection covers the scene, the tree cover density (0-100 %) for FSC_OG.

Flagged outputs rather than refusals: where no DEM covers a pixel, pass 2 cannot lower the
snow line there (only pass-1 snow); the item says how much of the scene the DEM covered
(``terrapole:dem_coverage``) and the snow line used (``terrapole:snowline_m``, null when pass 2
did not run). Without tree cover the product has no FSC_OG asset (said in
``terrapole:missing``).

Yearly: the snow year runs from 1 September to 31 August; SCD, SOD, SMOD, NOBS from every
snow product of the year (``processing.snow.snow_year``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
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
class _Scene:
    """What pass 2 needs of the whole scene: the snow line, the DEM's coverage, dark blocks."""

    line: float | None
    covered: float
    dark: NDArray[np.bool_]


@dataclass(frozen=True)
class _Chunk:
    """A chunk after pass 1: its inputs (green, red, SWIR, cloud, DEM[, tree cover]), its first
    pixel in the scene and its share of the scene (pass-1 summary, red block sums)."""

    inputs: tuple[NDArray[Any], ...]
    origin: tuple[int, int]
    share: tuple[NDArray[Any], snow.BlockSums]


def _one(value: Any) -> NDArray[np.object_]:
    found = np.empty((1, 1), dtype=object)
    found[0, 0] = value
    return found


def _first_pass(*inputs: NDArray[Any], block_info: dict[Any, Any] | None = None) -> NDArray[Any]:
    """A chunk summarised: its :class:`_Chunk` as a (1, 1) object block. The conversions to
    reflectance fuse into this task, and pass 2 takes its inputs from it: nothing upstream of
    pass 1 runs twice."""
    assert block_info is not None
    (r0, _), (c0, _) = block_info[0]["array-location"]
    green, red, swir, cloud, dem = inputs[:5]
    share = (snow.scene_summary(green, red, swir, cloud, dem), snow.red_block_sums(red, (r0, c0)))
    return _one(_Chunk(inputs, (r0, c0), share))


def _share(block: NDArray[Any]) -> NDArray[Any]:
    chunk: _Chunk = block[0, 0]
    return _one(chunk.share)


def _scene(shares: NDArray[Any], shape: tuple[int, int]) -> NDArray[Any]:
    """The scene from every chunk's share (one block holding them all), as a (1, 1) block."""
    found = shares.ravel().tolist()
    line, covered = snow.decide(sum(summary for summary, _ in found))
    return _one(_Scene(line, covered, snow.dark_blocks([sums for _, sums in found], shape)))


def _coverage(scene: NDArray[Any]) -> NDArray[Any]:
    return np.array([[round(scene[0, 0].covered, 4)]])


def _snowline(scene: NDArray[Any]) -> NDArray[Any]:
    return _one(scene[0, 0].line)


def _second_pass(block: NDArray[Any], scene_block: NDArray[Any]) -> NDArray[np.uint8]:
    """A chunk's outputs once the scene is known: (codes, FSC_TOC %[, FSC_OG %])."""
    chunk: _Chunk = block[0, 0]
    scene: _Scene = scene_block[0, 0]
    (green, red, swir, cloud, dem), tcd = chunk.inputs[:5], chunk.inputs[5:]
    codes, ndsi = snow.snow_codes(green, red, swir, cloud, dem, scene.line, scene.dark,
                                  chunk.origin)  # fmt: skip
    toc = snow.fsc_toc(ndsi, codes)
    layers = [codes, fsc_percent(toc, codes)]
    if tcd:
        layers.append(fsc_percent(snow.fsc_og(toc, tcd[0] / 100.0), codes))
    return np.stack(layers)


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

    @override
    def parameters(self) -> dict[str, Any]:
        return {"resolution": RESOLUTION,
                "pass1": {"ndsi": snow.PASS1_NDSI, "red": snow.PASS1_RED},
                "pass2": {"ndsi": snow.PASS2_NDSI, "red": snow.PASS2_RED},
                "dark_cloud_red": snow.DARK_RED,
                "dem_collection": "dem", "tree_cover_collection": "tree-cover"}  # fmt: skip

    @override
    def produce(self, context: Context) -> Output:
        item = context.inputs[0]
        keys = tuple(band_key(item, b) for b in ("B3", "B4", "B11"))
        require_assets(context.inputs, (*keys, "CLM_R2"))
        averaged = {k: "average" for k in keys[:2]}  # 10 m green and red to 20 m
        stack = context.load((*keys, "CLM_R2"), RESOLUTION, averaged)
        green, red, swir = (surface_reflectance(stack, k, 0) for k in keys)
        cloud = stack["CLM_R2"].isel(time=0).data != 0
        like = stack[keys[0]]
        dem_layer = context.auxiliary("dem", "data", stack)  # float32, NaN where unknown
        dem = (da.full(green.shape, np.nan, dtype="float32", chunks=green.chunks)
               if dem_layer is None else dem_layer.data.rechunk(green.chunks))  # fmt: skip
        tcd_layer = context.auxiliary("tree-cover", "data", stack)
        tcd = [] if tcd_layer is None else [tcd_layer.data.rechunk(green.chunks)]
        # pass 1 chunk by chunk; the scene's snow line and dark blocks from the chunks' shares
        # (one small task); then pass 2 and the FSC chunk by chunk on the inputs pass 1 kept:
        # nothing comes back here, nothing is read or converted twice
        blocks = tuple((1,) * n for n in green.numblocks)
        chunks = da.map_blocks(_first_pass, green, red, swir, cloud, dem, *tcd, dtype=object,
                               chunks=blocks)  # fmt: skip
        shares = chunks.map_blocks(_share, dtype=object)
        scene = shares.rechunk(-1).map_blocks(_scene, green.shape, dtype=object,
                                              chunks=((1,), (1,)))  # fmt: skip
        products = da.map_blocks(_second_pass, chunks, scene, new_axis=0, dtype="uint8",
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
            title = "fractional snow cover on ground (%)"
            layers.append(Layer("FSC_OG", on_grid(og, like), title, ("data", "snow-fraction"),
                                nodata=FSC_NODATA, unit="%"))  # fmt: skip
        else:
            properties["terrapole:missing"] = ["FSC_OG (no tree-cover item covers the scene)"]
        return Output(layers, properties, valid_from="SNOW")


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

    @override
    def parameters(self) -> dict[str, Any]:
        return {"first_month": 9, "gap_filling": "nearest clear observation, earlier on ties"}

    @override
    def windows(self, start: date, end: date) -> Iterator[Window]:
        return yearly_windows(start, end, first_month=9)

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
            Layer("SMOD", on_grid(year.smod, like), "snow melt-out (days since 1 September)",
                  nodata=-1, unit="d"),
            Layer("NOBS", on_grid(year.nobs, like), "clear observations"),
        ]  # fmt: skip
        return Output(layers, {"terrapole:observations": len(days)}, valid_from="NOBS")
