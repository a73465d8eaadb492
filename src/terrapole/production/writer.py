"""Compute a chain's output layers chunk by chunk on Dask and write them as GeoTIFFs.

Every layer of a window shares the output grid and its chunks. For each chunk the blocks of all
layers are computed together (their common inputs are read once), sent back to this process
and written into tiled GeoTIFFs at their window. At most ``ahead`` chunks are in flight, so
memory stays bounded whatever the size of the grid. The ingest pipeline then makes the COGs.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import rasterio
from dask.delayed import delayed
from distributed import Client, as_completed
from odc.geo.geobox import GeoBox
from rasterio.windows import Window as PixelWindow

from terrapole.production.chain import Layer


def _dask(layer: Layer) -> da.Array:
    data = layer.data.data if hasattr(layer.data, "data") else layer.data
    if isinstance(data, da.Array):
        return data
    lazy: da.Array = da.from_array(np.asarray(data), chunks=2048)
    return lazy


def write_layers(
    layers: list[Layer],
    geobox: GeoBox,
    folder: Path,
    client: Client,
    ahead: int = 4,
) -> dict[str, Path]:
    """Write every layer to ``folder/<key>.tif``; returns the paths by key."""
    arrays = [_dask(layer) for layer in layers]
    chunks = arrays[0].chunks
    arrays = [a.rechunk(chunks) for a in arrays]
    rows, cols = geobox.shape.y, geobox.shape.x
    if arrays[0].shape != (rows, cols):
        raise ValueError(f"layers are {arrays[0].shape}, the grid is {(rows, cols)}")
    paths = {layer.key: folder / f"{layer.key}.tif" for layer in layers}
    row_edges = np.cumsum((0, *chunks[0]))
    col_edges = np.cumsum((0, *chunks[1]))
    blocks = list(itertools.product(range(len(chunks[0])), range(len(chunks[1]))))
    datasets: list[Any] = []
    try:
        for layer, array in zip(layers, arrays, strict=True):
            datasets.append(
                rasterio.open(
                    paths[layer.key],
                    "w",
                    driver="GTiff",
                    width=cols,
                    height=rows,
                    count=1,
                    dtype=str(array.dtype),
                    crs=str(geobox.crs),
                    transform=geobox.transform,
                    nodata=layer.nodata,
                    tiled=True,
                    blockxsize=512,
                    blockysize=512,
                    bigtiff="if_safer",
                )  # fmt: skip
            )
        pending = as_completed()
        where: dict[str, tuple[int, int]] = {}
        queue = iter(blocks)

        def submit() -> None:
            block = next(queue, None)
            if block is None:
                return
            i, j = block
            # one future per chunk holding every layer's block: their shared inputs are read once
            future = client.compute(delayed(list)([a.blocks[i, j] for a in arrays]))
            where[future.key] = (i, j)
            pending.add(future)

        for _ in range(ahead):
            submit()
        for future in pending:
            i, j = where.pop(future.key)
            for dataset, block_data in zip(datasets, future.result(), strict=True):
                window = PixelWindow(
                    int(col_edges[j]), int(row_edges[i]), block_data.shape[1], block_data.shape[0]
                )
                dataset.write(block_data, 1, window=window)
            del future  # let the cluster free this chunk while we wait for the next
            submit()
    finally:
        for ds in datasets:
            ds.close()
    return paths
