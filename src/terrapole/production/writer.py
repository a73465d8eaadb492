"""Compute a chain's output layers on Dask; the workers write them straight into raw rasters.

Each layer gets a raw file here (row-major, little-endian, allocated sparse) and a VRT beside it
that gives GDAL its grid, CRS and nodata. Every layer of a window is computed in one graph, so
the inputs they share are read once, and the task that finishes a chunk of a layer writes it
into its file at its place (disjoint byte ranges, so workers write side by side): no pixel
travels back to this process. The ingest pipeline then makes the COGs from the VRTs.

The folder must be one the workers see: on an external cluster, a disk they share (as they
share the assets they read).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import dask.array as da
import numpy as np
from distributed import Client, futures_of
from odc.geo.geobox import GeoBox

from terrapole.production.chain import Layer

GDAL_TYPES = {
    "uint8": "Byte", "int8": "Int8", "uint16": "UInt16", "int16": "Int16", "uint32": "UInt32",
    "int32": "Int32", "float32": "Float32", "float64": "Float64",
}  # fmt: skip


@dataclass(frozen=True)
class RawTarget:
    """A raw raster file that dask's ``store`` writes chunks into (``target[region] = block``)."""

    path: str
    dtype: str  # little-endian numpy dtype, e.g. "<i2"
    width: int

    def __setitem__(self, region: tuple[slice, slice], block: Any) -> None:
        rows, cols = region
        shape = (rows.stop - rows.start, cols.stop - cols.start)
        data = np.ascontiguousarray(np.broadcast_to(block, shape), dtype=self.dtype)
        size = data.dtype.itemsize
        fd = os.open(self.path, os.O_WRONLY)
        try:
            if data.shape[1] == self.width:  # whole rows: one contiguous range
                os.pwrite(fd, data.data, rows.start * self.width * size)
                return
            for n, row in enumerate(data):
                offset = ((rows.start + n) * self.width + cols.start) * size
                os.pwrite(fd, row.data, offset)
        finally:
            os.close(fd)


def _dask(layer: Layer) -> da.Array:
    data = layer.data.data if hasattr(layer.data, "data") else layer.data
    if isinstance(data, da.Array):
        return data
    lazy: da.Array = da.from_array(np.asarray(data), chunks=2048)
    return lazy


def _stored_dtype(array: da.Array) -> np.dtype[Any]:
    dtype = np.dtype("uint8") if array.dtype == np.bool_ else array.dtype
    if dtype.name not in GDAL_TYPES:
        raise ValueError(f"cannot write a layer of type {dtype} (not a GDAL data type)")
    return dtype.newbyteorder("<")


def raw_vrt(raw: Path, geobox: GeoBox, dtype: np.dtype[Any], nodata: float | None) -> str:
    """The VRT document that reads ``raw`` (a sibling file) as one band on ``geobox``."""
    rows, cols = geobox.shape.y, geobox.shape.x
    transform = ", ".join(repr(float(v)) for v in geobox.transform.to_gdal())
    wkt = geobox.crs.to_wkt() if geobox.crs is not None else ""
    no = "" if nodata is None else f"<NoDataValue>{nodata!r}</NoDataValue>"
    return (
        f'<VRTDataset rasterXSize="{cols}" rasterYSize="{rows}">'
        f"<SRS>{escape(wkt)}</SRS><GeoTransform>{transform}</GeoTransform>"
        f'<VRTRasterBand dataType="{GDAL_TYPES[dtype.name]}" band="1" '
        f'subClass="VRTRawRasterBand">{no}'
        f'<SourceFilename relativeToVRT="1">{escape(raw.name)}</SourceFilename>'
        f"<ImageOffset>0</ImageOffset><PixelOffset>{dtype.itemsize}</PixelOffset>"
        f"<LineOffset>{dtype.itemsize * cols}</LineOffset><ByteOrder>LSB</ByteOrder>"
        "</VRTRasterBand></VRTDataset>\n"
    )


def write_layers(
    layers: list[Layer], folder: Path, client: Client, values: dict[str, Any] | None = None
) -> tuple[dict[str, Path], dict[str, Any]]:
    """Write every layer (on its own grid) to ``folder/<key>.vrt``; returns the VRTs by key,
    and the lazy ``values`` (e.g. item properties made from the same inputs) computed in the
    same graph as the layers, so what they share is computed once.

    A lazy value is a dask array of one element (its value), not a Delayed: a Delayed made
    from an array holds a graph of its own, whose tasks would run again beside the layers'."""
    arrays = [_dask(layer) for layer in layers]
    dtypes = [_stored_dtype(array) for array in arrays]  # refused before any file is made
    lazy = dict(values or {})
    for key, value in lazy.items():
        if not isinstance(value, da.Array) or value.size != 1:
            raise TypeError(f"lazy value {key!r} must be a dask array of one element")
    targets: list[Any] = []  # dask's store writes to any object with __setitem__
    paths: dict[str, Path] = {}
    for layer, dtype in zip(layers, dtypes, strict=True):
        geobox: GeoBox = layer.data.odc.geobox
        rows, cols = geobox.shape.y, geobox.shape.x
        raw = folder / f"{layer.key}.raw"
        with raw.open("wb") as handle:  # sparse: only the blocks written take disk space
            handle.truncate(rows * cols * dtype.itemsize)
        paths[layer.key] = folder / f"{layer.key}.vrt"
        paths[layer.key].write_text(raw_vrt(raw, geobox, dtype, layer.nodata))
        targets.append(RawTarget(str(raw), dtype.str, cols))
    stored = da.store(arrays, targets, lock=False, compute=False)
    stores = list(stored) if isinstance(stored, tuple) else [stored]
    persisted = client.persist([*stores, *lazy.values()])
    client.gather(futures_of(persisted[: len(stores)]))  # None per chunk; raises a task's error
    found = client.gather([futures_of(v)[0] for v in persisted[len(stores) :]])
    return paths, {key: block.item() for key, block in zip(lazy, found, strict=True)}
