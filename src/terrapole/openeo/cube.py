"""``load_collection``: catalogue items -> an openEO raster data cube (t, bands, y, x).

Bands are named by asset key (``FRE_B4``) or by their ``eo:bands`` name or common name (``B4``,
``red``); the cube's ``common_name`` coordinate lets ``ndvi`` find red and NIR by themselves.
Values are physical: stored numbers × scale + offset, nodata as NaN. The grid is the first
input's CRS at the first band's resolution over the asked extent (the production loader: windowed
reads when the files lie on it, odc-stac otherwise). Oversized requests are refused before any
read with the number of values asked and the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import xarray as xr
from odc.geo.geobox import GeoBox
from pyproj import Transformer

from terrapole.catalog.model import SearchQuery, TimeRange
from terrapole.catalog.search import search_all
from terrapole.catalog.store import ReadStore
from terrapole.cube import loading
from terrapole.errors import InvalidInput
from terrapole.jsontypes import Json, utc_iso
from terrapole.storage import Storage

BBox = tuple[float, float, float, float]
GEOGRAPHIC = {"latitude": "y", "longitude": "x"}


@dataclass(frozen=True)
class LoadRequest:
    """What a load_collection node asks for (WGS84 extent, ISO dates, band names)."""

    collection: str
    bbox: BBox
    start: str | None
    end: str | None
    bands: tuple[str, ...] | None


def _bound(value: Any) -> str | None:
    """A temporal_extent bound as RFC 3339 UTC text (a bare date: its midnight)."""
    if value is None or isinstance(value, datetime):
        return utc_iso(value, timespec="seconds")
    text = str(value)
    return text if "T" in text else f"{text}T00:00:00Z"


def request_from(arguments: Json) -> LoadRequest:
    """A LoadRequest from a load_collection node's JSON arguments (InvalidInput if malformed)."""
    extent = arguments.get("spatial_extent")
    if not isinstance(extent, dict) or not all(k in extent for k in ("west", "south", "east",
                                                                       "north")):  # fmt: skip
        raise InvalidInput("load_collection spatial_extent",
                           "give a bounding box {west, south, east, north[, crs]}")  # fmt: skip
    try:
        box = tuple(float(extent[k]) for k in ("west", "south", "east", "north"))
    except (TypeError, ValueError):
        raise InvalidInput("load_collection spatial_extent", "bounds must be numbers") from None
    crs = extent.get("crs", 4326)
    west, south, east, north = _to_wgs84(box, crs)  # type: ignore[arg-type]
    if not (west < east and south < north):
        raise InvalidInput("load_collection spatial_extent", f"empty box {box}")
    temporal = arguments.get("temporal_extent")
    start = end = None
    if temporal is not None:
        if not isinstance(temporal, list) or len(temporal) != 2:
            raise InvalidInput("load_collection temporal_extent", "give [start, end]")
        start, end = (_bound(t) for t in temporal)
    bands = arguments.get("bands")
    if bands is not None and (not isinstance(bands, list) or not all(isinstance(b, str)
                                                                   for b in bands)):  # fmt: skip
        raise InvalidInput("load_collection bands", "give a list of band names")
    collection = arguments.get("id")
    if not isinstance(collection, str):
        raise InvalidInput("load_collection id", "give a collection id")
    return LoadRequest(collection, (west, south, east, north), start, end,
                       tuple(bands) if bands else None)  # fmt: skip


def _to_wgs84(box: BBox, crs: Any) -> BBox:
    if crs in (4326, "4326", "EPSG:4326", None):
        return box
    try:
        transformer = Transformer.from_crs(crs, 4326, always_xy=True)
    except Exception as exc:  # pyproj raises CRSError and friends
        raise InvalidInput("load_collection spatial_extent crs", str(exc)) from None
    xs, ys = transformer.transform(
        [box[0], box[2], box[0], box[2]], [box[1], box[1], box[3], box[3]]
    )
    return (min(xs), min(ys), max(xs), max(ys))


def _band_names(asset: Json) -> set[str]:
    names: set[str] = set()
    for band in asset.get("eo:bands") or asset.get("bands") or []:
        names.update(str(band[k]) for k in ("name", "common_name") if band.get(k))
    return names


def band_info(asset: Json) -> Json:
    """An asset's (first) band description: ``eo:bands`` (STAC 1.0) or ``bands`` (STAC 1.1)."""
    bands = asset.get("eo:bands") or asset.get("bands") or [{}]
    return dict(bands[0])


def _common_name(asset: Json) -> str:
    info = band_info(asset)
    return str(info.get("common_name") or info.get("eo:common_name") or "")


def band_keys(item: Json, bands: tuple[str, ...] | None) -> tuple[str, ...]:
    """The asset keys of ``bands`` in an item (every raster data asset when None)."""
    rasters = {
        k: a
        for k, a in item["assets"].items()
        if "image/tiff" in a.get("type", "") and "data" in a.get("roles", ["data"])
    }
    if bands is None:
        return tuple(rasters)
    keys = []
    for band in bands:
        if band in rasters:
            keys.append(band)
            continue
        matches = sorted(k for k, a in rasters.items() if band in _band_names(a))
        if not matches:
            raise InvalidInput("load_collection bands", f"{item['id']} has no band {band!r}; "
                               f"bands: {', '.join(sorted(rasters))}")  # fmt: skip
        keys.append(matches[0])  # FRE_ sorts before SRE_: flat-terrain reflectance first
    return tuple(keys)


def find_items(store: ReadStore, request: LoadRequest) -> list[Json]:
    """The request's items, oldest first (InvalidInput when there is none).

    ``store`` is the caller's :class:`~terrapole.access.view.VisibleCatalogue`: a collection
    hidden from the caller has no item here, as an unknown one.
    """
    query = SearchQuery(collections=(request.collection,), bbox=request.bbox,
                        datetime=TimeRange(request.start, request.end)
                        if (request.start or request.end) else None)  # fmt: skip
    items = search_all(store, query)
    if not items:
        raise InvalidInput("load_collection", f"no item of {request.collection} in {request.bbox} "
                           f"from {request.start} to {request.end}")  # fmt: skip
    return sorted(items, key=lambda i: (i["properties"].get("datetime") or "", i["id"]))


def _resolution(item: Json, key: str) -> float:
    asset = item["assets"][key]
    transform = asset.get("proj:transform") or item["properties"].get("proj:transform")
    if transform:
        return abs(float(transform[0]))
    bands = asset.get("raster:bands") or [{}]
    return float(bands[0].get("spatial_resolution") or asset.get("gsd") or 10.0)


@dataclass(frozen=True)
class Plan:
    """What a request reads: its items, their asset keys and the grid, before any pixel."""

    items: list[Json]
    keys: tuple[str, ...]
    grid: GeoBox

    @property
    def values(self) -> int:
        """Dates × bands × pixels."""
        rows, cols = self.grid.shape
        return len(self.items) * len(self.keys) * int(rows) * int(cols)


def plan(store: ReadStore, request: LoadRequest) -> Plan:
    """The items, bands and grid of a request (InvalidInput when there is no item)."""
    items = find_items(store, request)
    keys = band_keys(items[0], request.bands)
    grid = loading.grid(items, keys, _resolution(items[0], keys[0]), request.bbox)
    return Plan(items, keys, grid)


def values_asked(store: ReadStore, request: LoadRequest) -> tuple[int, list[Json]]:
    """How many values (dates × bands × pixels) the request loads, and its items."""
    planned = plan(store, request)
    return planned.values, planned.items


def load(store: ReadStore, storage: Storage, request: LoadRequest, max_values: int) -> xr.DataArray:
    """The cube (float32, physical values, NaN for nodata); InvalidInput when over the limit."""
    planned = plan(store, request)
    if planned.values > max_values:
        raise InvalidInput("load_collection", f"{planned.values:,} values asked (dates x bands x "
                           f"pixels); the limit here is {max_values:,}: use a smaller extent or "
                           "period, or a batch job")  # fmt: skip
    items = [storage.localise(i) for i in planned.items]
    keys, grid = planned.keys, planned.grid
    names = list(request.bands or keys)
    stack = loading.load(items, keys, grid).data
    layers = []
    for key in keys:
        info = (items[0]["assets"][key].get("raster:bands") or [{}])[0]
        values = stack[key].astype("float32")
        if info.get("nodata") is not None:
            values = values.where(stack[key] != info["nodata"])
        layers.append(
            values * np.float32(info.get("scale", 1.0)) + np.float32(info.get("offset", 0.0))
        )
    cube = xr.concat(layers, dim="bands")
    # a geographic grid's dimensions are latitude/longitude: openEO's raster cube has y/x
    cube = cube.rename({k: v for k, v in GEOGRAPHIC.items() if k in cube.dims})
    cube = cube.transpose("time", "bands", "y", "x").rename(time="t")
    common = [_common_name(items[0]["assets"][k]) for k in keys]
    cube = cube.assign_coords(bands=names, common_name=("bands", common))
    cube.attrs = {"crs": str(grid.crs), "items": [(i["collection"], i["id"]) for i in items]}
    return cube
