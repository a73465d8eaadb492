"""Load catalogue items lazily onto one grid with odc-stac (dask-backed xarray).

Grid policy: every input is reprojected and resampled onto the grid of the *first* input's CRS
at the chain's resolution, over the asked area cut to the inputs' extent (odc-stac aligns the
grid on multiples of the resolution, so the same area gives the same grid every time). Inputs
in another CRS are therefore reprojected, not refused; their ids are returned so the output
item can say so. Stored numbers are kept (int16 reflectance, uint8 masks): chains convert.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import odc.stac
import pystac
import xarray as xr
from odc.geo.geobox import GeoBox
from odc.geo.geom import BoundingBox

from terrapole.catalog.model import Json
from terrapole.errors import InvalidInput

CHUNK = 2048
BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class Stack:
    """Inputs on one grid: one (time, y, x) variable per asset, time in input order."""

    data: xr.Dataset
    reprojected: tuple[str, ...]  # inputs whose CRS differed from the grid's


def epsg(item: Json, key: str | None = None) -> int | None:
    """The EPSG code of an item (or of one of its assets)."""
    if key and "proj:epsg" in item["assets"].get(key, {}):
        return int(item["assets"][key]["proj:epsg"])
    value = item["properties"].get("proj:epsg")
    return int(value) if value is not None else None


def _intersection(a: BBox, b: BBox) -> BBox | None:
    box = (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    return box if box[0] < box[2] and box[1] < box[3] else None


def _bounds(item: Json, key: str, crs: str) -> BBox:
    """The item's extent in ``crs``: exact from its asset's grid when in that CRS."""
    asset = item["assets"][key]
    if f"EPSG:{epsg(item, key)}" == crs and "proj:transform" in asset and "proj:shape" in asset:
        a, _, c, _, e, f = asset["proj:transform"][:6]
        rows, cols = asset["proj:shape"]
        return (c, f + e * rows, c + a * cols, f)
    west, south, east, north = (float(v) for v in (*item["bbox"][:2], *item["bbox"][-2:]))
    box = BoundingBox(west, south, east, north, crs="EPSG:4326").to_crs(crs)
    return (box.left, box.bottom, box.right, box.top)


def grid(inputs: list[Json], keys: tuple[str, ...], resolution: float, bbox: BBox | None) -> GeoBox:
    """The output grid: first input's CRS, ``resolution``, area ∩ inputs' extent."""
    code = epsg(inputs[0], keys[0])
    if code is None:
        raise InvalidInput("inputs", f"{inputs[0]['id']} has no proj:epsg: its grid is unknown")
    crs = f"EPSG:{code}"
    boxes = [_bounds(i, keys[0], crs) for i in inputs]
    extent = (
        min(b[0] for b in boxes), min(b[1] for b in boxes),
        max(b[2] for b in boxes), max(b[3] for b in boxes),
    )  # fmt: skip
    area: BBox | None = extent
    if bbox is not None:
        asked = BoundingBox(*bbox, crs="EPSG:4326").to_crs(crs)
        area = _intersection(extent, (asked.left, asked.bottom, asked.right, asked.top))
    if area is None:
        raise InvalidInput("area", f"the inputs do not reach the asked bbox {bbox}")
    return GeoBox.from_bbox(BoundingBox(*area, crs=crs), resolution=resolution)


def load(
    inputs: list[Json],
    keys: tuple[str, ...],
    like: GeoBox,
    resampling: str | dict[str, str] = "nearest",
    chunk: int = CHUNK,
) -> Stack:
    """The ``keys`` assets of every input on ``like``'s grid (lazy; one time step per input).

    With a resampling other than nearest the values are loaded as float32, so an average of
    stored integers is not rounded back to an integer.
    """
    methods = resampling.values() if isinstance(resampling, dict) else [resampling]
    averaging = any(m != "nearest" for m in methods)
    options: dict[str, Any] = {"dtype": "float32"} if averaging else {}
    items = [pystac.Item.from_dict(dict(i), preserve_dict=False) for i in inputs]
    target = like.crs.epsg if like.crs is not None else None
    reprojected = tuple(i["id"] for i in inputs if epsg(i, keys[0]) != target)
    parts: list[xr.Dataset] = []
    for item in items:
        part = odc.stac.load(
            [item],
            bands=list(keys),
            geobox=like,
            chunks={"y": chunk, "x": chunk},
            resampling=resampling,
            groupby="id",
            fail_on_error=True,
            **options,
        )
        parts.append(part)
    data = xr.concat(parts, dim="time") if len(parts) > 1 else parts[0]
    return Stack(data, reprojected)


def load_mosaic(items: list[Json], key: str, like: GeoBox, resampling: str = "bilinear") -> Any:
    """One asset of auxiliary items (DEM tiles, a tree cover map) mosaicked on ``like``, lazy.

    As float32, NaN where no item covers a pixel or where the asset holds its nodata.
    """
    stac = [pystac.Item.from_dict(dict(i), preserve_dict=False) for i in items]
    data = odc.stac.load(
        stac,
        bands=[key],
        geobox=like,
        chunks={"y": CHUNK, "x": CHUNK},
        resampling=resampling,
        groupby=lambda item, parsed, index: "mosaic",
        fail_on_error=True,
    )
    layer = data[key].isel(time=0)
    nodata = layer.attrs.get("nodata")
    values = layer.astype("float32")
    return values if nodata is None else values.where(layer != nodata)
