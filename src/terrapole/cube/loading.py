"""Load catalogue items lazily onto one grid (dask-backed xarray): direct windowed reads where
the files already lie on that grid, odc-stac (reprojection, resampling) otherwise.

Grid policy: every input is reprojected and resampled onto the grid of the *first* input's CRS
at the chain's resolution, over the asked area cut to the inputs' extent (odc-stac aligns the
grid on multiples of the resolution, so the same area gives the same grid every time). Inputs
in another CRS are therefore reprojected, not refused; their ids are returned so the output
item can say so. Stored numbers are kept (int16 reflectance, uint8 masks): chains convert.

Fast path: when every asset asked is in the grid's CRS at its resolution, on pixel edges of
the grid (the usual case: the products of one tile), each chunk is one rasterio windowed read
of the file, padded with the asset's nodata outside it: no warp, and a graph of one task per
chunk. It gives the same numbers as odc-stac with nearest resampling (tested). Bands to be
averaged onto a grid a whole number of times coarser than theirs, edges shared (THEIA's 10 m
bands onto 20 m), are read the same way and averaged block by block (tested against odc-stac).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import dask.array as da
import numpy as np
import odc.stac
import pystac
import rasterio
import xarray as xr
from affine import Affine
from dask.base import tokenize
from numpy.typing import NDArray
from odc.geo.geobox import GeoBox
from odc.geo.geom import BoundingBox
from odc.geo.xr import xr_coords
from rasterio.windows import Window

from terrapole.errors import InvalidInput
from terrapole.jsontypes import Json
from terrapole.processing.grid import valid_block_mean

CHUNK = 1024
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


OPEN_FILES = 64  # datasets kept open per reading thread
_FILES: dict[int, OrderedDict[str, tuple[int, Any]]] = {}  # thread id -> path -> dataset
_FILES_LOCK = threading.Lock()


def _dataset(path: str) -> Any:
    """``path`` opened for reading and kept open for this thread (reopened if rewritten since).

    Opening a COG (headers, IFDs) costs about as much as decoding a 512 px tile: a worker reading
    every date's chunks would otherwise open each file once per chunk. A thread only ever uses,
    and closes, the datasets it opened.
    """
    with _FILES_LOCK:
        mine = _FILES.setdefault(threading.get_ident(), OrderedDict())
    stamp = os.stat(path).st_mtime_ns
    found = mine.get(path)
    if found is not None and found[0] == stamp:
        mine.move_to_end(path)
        return found[1]
    if found is not None:
        found[1].close()
    dataset = rasterio.open(path)
    mine[path] = (stamp, dataset)
    while len(mine) > OPEN_FILES:
        mine.popitem(last=False)[1][1].close()
    return dataset


def close_files() -> None:
    """Close every dataset kept open, and with them their decoded tiles (between runs only:
    a thread reading at that moment would lose its dataset)."""
    with _FILES_LOCK:
        kept = [dataset for files in _FILES.values() for _, dataset in files.values()]
        _FILES.clear()
    for dataset in kept:
        dataset.close()


@dataclass(frozen=True)
class WindowedFile:
    """One band of a raster file seen through a grid on its pixel edges (dask's from_array).

    ``offset``: the grid's first row and column in the file's pixels (may be negative, or run
    past the file: those pixels are ``fill``).
    """

    path: str
    shape: tuple[int, int]
    dtype: np.dtype[Any]
    offset: tuple[int, int]
    file_shape: tuple[int, int]
    fill: float

    @property
    def ndim(self) -> int:
        """Two dimensions (y, x)."""
        return 2

    def __getitem__(self, key: tuple[slice, slice]) -> NDArray[Any]:
        rows, cols = (k.indices(n)[:2] for k, n in zip(key, self.shape, strict=True))
        out = np.empty((rows[1] - rows[0], cols[1] - cols[0]), dtype=self.dtype)
        self.read_into(out, rows[0], cols[0])
        return out

    def read_into(self, out: NDArray[Any], row: int, col: int) -> None:
        """Fill ``out`` with the grid's pixels from (``row``, ``col``): one windowed read."""
        r0, c0 = row + self.offset[0], col + self.offset[1]
        top, left = max(r0, 0), max(c0, 0)
        bottom = min(r0 + out.shape[0], self.file_shape[0])
        right = min(c0 + out.shape[1], self.file_shape[1])
        inside = (top, left, bottom, right) == (r0, c0, r0 + out.shape[0], c0 + out.shape[1])
        if not inside:
            out[...] = self.fill
        if bottom > top and right > left:
            window = Window(left, top, right - left, bottom - top)
            ds = _dataset(self.path)
            if inside:
                ds.read(1, window=window, out=out)
            else:
                out[top - r0 : bottom - r0, left - c0 : right - c0] = ds.read(1, window=window)


@dataclass(frozen=True)
class WindowedStack:
    """(time, band, y, x) of windowed files: a chunk is read straight into one array."""

    files: tuple[tuple[WindowedFile, ...], ...]  # [time][band]

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """Dates, bands, rows, columns."""
        return (len(self.files), len(self.files[0]), *self.files[0][0].shape)

    @property
    def dtype(self) -> np.dtype[Any]:
        """The first band's type (the bands of one stack share it)."""
        return self.files[0][0].dtype

    @property
    def ndim(self) -> int:
        """Four dimensions."""
        return 4

    def __getitem__(self, key: tuple[slice | int, ...]) -> NDArray[Any]:
        # dask passes slices, or integers where a getitem on the array was folded into the read
        spans = [range(*k.indices(n)) if isinstance(k, slice) else range(k, k + 1)
                 for k, n in zip(key, self.shape, strict=True)]  # fmt: skip
        ts, bs, ys, xs = spans
        out = np.empty(tuple(len(s) for s in spans), dtype=self.dtype)
        for i, t in enumerate(ts):
            for j, b in enumerate(bs):
                self.files[t][b].read_into(out[i, j], ys.start, xs.start)
        dropped = tuple(n for n, k in enumerate(key) if not isinstance(k, slice))
        return out.squeeze(axis=dropped) if dropped else out


def windowed(item: Json, key: str, like: GeoBox) -> WindowedFile | None:
    """The asset as a :class:`WindowedFile` on ``like`` if it lies on its pixel edges, else None."""
    asset = item["assets"][key]
    transform, shape = asset.get("proj:transform"), asset.get("proj:shape")
    bands = asset.get("raster:bands") or [{}]
    href = str(asset.get("href", ""))
    if transform is None or shape is None or "data_type" not in bands[0] or "://" in href:
        return None
    if like.crs is None or epsg(item, key) != like.crs.epsg:
        return None
    a, b, c, d, e, f = (float(v) for v in transform[:6])
    grid = like.transform
    if (a, b, d, e) != (grid.a, grid.b, grid.d, grid.e):
        return None
    cols, rows = (grid.c - c) / a, (grid.f - f) / e
    if abs(cols - round(cols)) > 1e-6 or abs(rows - round(rows)) > 1e-6:
        return None
    nodata = bands[0].get("nodata")
    return WindowedFile(
        path=href,
        shape=(like.shape.y, like.shape.x),
        dtype=np.dtype(bands[0]["data_type"]),
        offset=(round(rows), round(cols)),
        file_shape=(int(shape[0]), int(shape[1])),
        fill=0 if nodata is None else float(nodata),
    )


def _moment(item: Json) -> np.datetime64:
    text = item["properties"].get("datetime") or item["properties"]["start_datetime"]
    moment = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    return np.datetime64(moment.replace(tzinfo=None), "ns")


def _direct(
    inputs: list[Json],
    keys: tuple[str, ...],
    like: GeoBox,
    chunk: int,
    methods: dict[str, str] | None = None,  # by key; nearest where not given
) -> xr.Dataset | None:
    """The stack by windowed reads, or None when some asset is not on ``like``'s pixel edges
    (or, to be averaged, on the edges of a grid a whole number of times finer). Averaging
    makes every band float32, as odc-stac does."""
    methods = methods or {}
    averaging = any(m != "nearest" for m in methods.values())

    def source(item: Json, key: str) -> WindowedFile | AveragedFile | None:
        method = methods.get(key, "nearest")
        if method == "average":
            return averaged(item, key, like)
        found = windowed(item, key, like) if method == "nearest" else None
        return as_float(found, item, key) if found and averaging else found

    files = {key: [source(item, key) for item in inputs] for key in keys}
    if any(f is None for found in files.values() for f in found):
        return None
    coords = xr_coords(like)
    times = np.array([_moment(i) for i in inputs], dtype="datetime64[ns]")
    variables = {}
    for key, found in files.items():
        layers = [
            da.from_array(f, chunks=(chunk, chunk), lock=False, name=f"read-{tokenize(f, chunk)}")
            for f in found
            if f is not None
        ]
        fill = found[0].fill if found[0] is not None else 0
        attrs = {"nodata": fill} if _declares_nodata(inputs[0], key) else {}
        variables[key] = xr.DataArray(da.stack(layers), dims=("time", "y", "x"), attrs=attrs,
                                      coords={"time": times, **coords})  # fmt: skip
    return xr.Dataset(variables)


@dataclass(frozen=True)
class AveragedFile:
    """A band seen on a grid ``factor`` times coarser than its own, the pixel edges shared: each
    pixel is the mean of the file's pixels under it, its nodata pixels left out, as float32
    (GDAL's average resampling on such grids). ``fine``: the file on the grid it lies on."""

    fine: WindowedFile
    factor: int

    @property
    def shape(self) -> tuple[int, int]:
        """Rows and columns of the coarse grid."""
        return (self.fine.shape[0] // self.factor, self.fine.shape[1] // self.factor)

    @property
    def dtype(self) -> np.dtype[Any]:
        """Averages are float32."""
        return np.dtype("float32")

    @property
    def fill(self) -> float:
        """The value of pixels with no data under them (the file's)."""
        return self.fine.fill

    @property
    def ndim(self) -> int:
        """Two dimensions (y, x)."""
        return 2

    def __getitem__(self, key: tuple[slice, slice]) -> NDArray[Any]:
        f = self.factor
        rows, cols = (k.indices(n)[:2] for k, n in zip(key, self.shape, strict=True))
        shape = (rows[1] - rows[0], cols[1] - cols[0])
        values = np.empty((shape[0] * f, shape[1] * f), dtype=self.fine.dtype)
        self.fine.read_into(values, rows[0] * f, cols[0] * f)
        return valid_block_mean(values, f, self.fill)


def averaged(item: Json, key: str, like: GeoBox) -> AveragedFile | None:
    """The asset as an :class:`AveragedFile` on ``like`` if ``like`` is a whole number of its
    pixels coarser and shares their edges, else None."""
    asset = item["assets"][key]
    transform, shape = asset.get("proj:transform"), asset.get("proj:shape")
    if transform is None or shape is None or like.crs is None:
        return None
    ratio = like.transform.a / float(transform[0])
    factor = round(ratio)
    if factor < 2 or abs(ratio - factor) > 1e-9:
        return None
    fine = GeoBox(
        (like.shape.y * factor, like.shape.x * factor),
        like.transform * Affine.scale(1 / factor),
        like.crs,
    )
    found = windowed(item, key, fine)
    return None if found is None else AveragedFile(as_float(found, item, key), factor)


def as_float(file: WindowedFile, item: Json, key: str) -> WindowedFile:
    """``file`` read as float32; outside the file NaN, unless the asset has a nodata value."""
    fill = file.fill if _declares_nodata(item, key) else float("nan")
    return replace(file, dtype=np.dtype("float32"), fill=fill)


def _declares_nodata(item: Json, key: str) -> bool:
    """Whether the asset's first band declares a nodata value (``raster:bands``)."""
    return "nodata" in (item["assets"][key].get("raster:bands") or [{}])[0]


def load_bands(
    inputs: list[Json], keys: tuple[str, ...], like: GeoBox, chunk: int = CHUNK
) -> tuple[xr.DataArray, tuple[str, ...]]:
    """The ``keys`` of every input as one (time, band, y, x) array on ``like`` (nearest; lazy),
    and the ids of the inputs reprojected to get there.

    Files on ``like``'s pixel edges are read straight into each chunk (one task per chunk,
    every date and band); otherwise odc-stac loads and the bands are stacked.
    """
    files = [[windowed(item, key, like) for key in keys] for item in inputs]
    coords = {"time": [_moment(i) for i in inputs], "band": list(keys), **xr_coords(like)}
    dims = ("time", "band", "y", "x")
    if all(f is not None for row in files for f in row):
        source = WindowedStack(tuple(tuple(f for f in row if f is not None) for row in files))
        paths = [f.path for row in source.files for f in row]
        name = f"read-{tokenize(paths, tuple(like.transform), tuple(like.shape), chunk)}"
        data = da.from_array(source, chunks=(-1, -1, chunk, chunk), lock=False, name=name)
        return xr.DataArray(data, dims=dims, coords=coords), ()
    stack = load(inputs, keys, like, chunk=chunk)
    data = da.stack([stack.data[key].data for key in keys], axis=1)
    return xr.DataArray(data, dims=dims, coords=coords), stack.reprojected


def load(
    inputs: list[Json],
    keys: tuple[str, ...],
    like: GeoBox,
    resampling: str | dict[str, str] = "nearest",
    chunk: int = CHUNK,
    direct: bool = True,
) -> Stack:
    """The ``keys`` assets of every input on ``like``'s grid (lazy; one time step per input).

    With a resampling other than nearest the values are loaded as float32, so an average of
    stored integers is not rounded back to an integer. ``direct=False``: always odc-stac.
    """
    methods = resampling if isinstance(resampling, dict) else dict.fromkeys(keys, resampling)
    averaging = any(m != "nearest" for m in methods.values())
    fast = _direct(inputs, keys, like, chunk, methods) if direct else None
    if fast is not None:
        return Stack(fast, ())
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


def load_mosaic(
    items: list[Json], key: str, like: GeoBox, resampling: str = "bilinear", chunk: int = CHUNK
) -> Any:
    """One asset of auxiliary items (DEM tiles, a tree cover map) mosaicked on ``like``, lazy.

    As float32, NaN where no item covers a pixel or where the asset holds its nodata.
    """
    stac = [pystac.Item.from_dict(dict(i), preserve_dict=False) for i in items]
    data = odc.stac.load(
        stac,
        bands=[key],
        geobox=like,
        chunks={"y": chunk, "x": chunk},
        resampling=resampling,
        groupby=lambda item, parsed, index: "mosaic",
        fail_on_error=True,
    )
    layer = data[key].isel(time=0)
    nodata = layer.attrs.get("nodata")
    values = layer.astype("float32")
    return values if nodata is None else values.where(layer != nodata)
