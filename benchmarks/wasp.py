"""WASP composite throughput against the decode bound, peak memory, and 1 -> 2 dask workers.

Writes a synthetic stack (``--dates`` dates of B2/B3/B4 int16 at 10 m and a cloud mask, as
tiled DEFLATE COGs; texture from a real THEIA crop enlarged, clouds as random blobs), then:
- decode bound: every band read once with rasterio (2 threads);
- WASP on dask (threaded scheduler, 1 then 2 workers): read lazily in 1024 px chunks, composite,
  results written back as GeoTIFFs chunk by chunk;
and prints megapixel·dates per second, the ratio to the bound, the speed-up and peak RSS.

    python benchmarks/wasp.py --size 5490 --dates 6      # a quarter of a Sentinel-2 tile
    python benchmarks/wasp.py --size 10980 --dates 6     # a full tile (needs ~5 GB of disk)
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dask
import dask.array as da
import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.transform import from_origin
from rasterio.windows import Window

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

from terrapole.processing.wasp import Observation, composite  # noqa: E402

SOURCE = ROOT / "demo" / "products" / "theia" / "SENTINEL2A_20180826-104155-257_L2A_T31UFQ_D_V1-8"
CHUNK = 1024
PROFILE = {"driver": "GTiff", "tiled": True, "blockxsize": 512, "blockysize": 512,
           "compress": "deflate", "crs": "EPSG:32631"}  # fmt: skip


class Lazy:
    """A band of a GeoTIFF as an array dask can slice (windowed reads, file opened per read)."""

    def __init__(self, path: Path, dtype: str, shape: tuple[int, int]) -> None:
        self.path, self.dtype, self.shape, self.ndim = path, np.dtype(dtype), shape, 2

    def __getitem__(self, key: tuple[slice, slice]) -> Any:
        rows, cols = key
        window = Window(cols.start or 0, rows.start or 0,
                        (cols.stop or self.shape[1]) - (cols.start or 0),
                        (rows.stop or self.shape[0]) - (rows.start or 0))  # fmt: skip
        with rasterio.open(self.path) as ds:
            return ds.read(1, window=window)


def make_stack(out: Path, size: int, dates: int) -> list[tuple[date, dict[str, Path]]]:
    rng = np.random.default_rng(3)
    transform = from_origin(600000, 5500000, 10, 10)
    stack = []
    for n in range(dates):
        day = date(2019, 6, 1) + timedelta(days=5 * n)
        files = {}
        for band in ("B2", "B3", "B4"):
            with rasterio.open(next(SOURCE.glob(f"*_FRE_{band}.tif"))) as ds:
                base = ds.read(1, out_shape=(size, size), resampling=Resampling.bilinear)
            data = np.clip(base + rng.normal(0, 30, base.shape), 0, 10000).astype(np.int16)
            files[band] = out / f"d{n}_{band}.tif"
            with rasterio.open(files[band], "w", width=size, height=size, count=1, dtype="int16",
                               nodata=-10000, transform=transform, **PROFILE) as ds:  # fmt: skip
                ds.write(data, 1)
        coarse = rng.random((size // 240 + 1, size // 240 + 1)) < 0.25  # ~25 % cloudy 2.4 km cells
        cloud = np.repeat(np.repeat(coarse, 240, axis=0), 240, axis=1)[:size, :size].astype(
            np.uint8
        )
        files["CLM"] = out / f"d{n}_CLM.tif"
        with rasterio.open(files["CLM"], "w", width=size, height=size, count=1, dtype="uint8",
                           transform=transform, **PROFILE) as ds:  # fmt: skip
            ds.write(cloud, 1)
        stack.append((day, files))
    return stack


def decode_bound(stack: list[tuple[date, dict[str, Path]]]) -> float:
    files = [p for _, f in stack for p in f.values()]

    def read(path: Path) -> None:
        with rasterio.open(path) as ds:
            ds.read(1)

    start = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(read, files))
    return time.perf_counter() - start


class Writer:
    """A dask store target writing windows of one output GeoTIFF (serialised by a lock)."""

    def __init__(self, path: Path, size: int, dtype: str) -> None:
        self.lock = threading.Lock()
        transform = from_origin(600000, 5500000, 10, 10)
        self.ds = rasterio.open(
            path, "w", width=size, height=size, count=1, dtype=dtype, transform=transform, **PROFILE
        )

    def __setitem__(self, key: tuple[slice, slice], value: Any) -> None:
        rows, cols = key
        window = Window(cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start)
        with self.lock:
            self.ds.write(value, 1, window=window)


def run_wasp(
    stack: list[tuple[date, dict[str, Path]]], size: int, out: Path, workers: int
) -> float:
    observations = []
    for day, files in stack:
        bands = [da.from_array(Lazy(files[b], "int16", (size, size)), chunks=CHUNK, lock=False)
                 for b in ("B2", "B3", "B4")]  # fmt: skip
        refl = da.stack(
            [da.where(b == -10000, np.float32(np.nan), b / np.float32(10000)) for b in bands]
        )
        cloud = (
            da.from_array(Lazy(files["CLM"], "uint8", (size, size)), chunks=CHUNK, lock=False) != 0
        )
        observations.append(Observation(refl, cloud, day))
    start = time.perf_counter()
    result = composite(observations, stack[len(stack) // 2][0], 10.0)
    out.mkdir(exist_ok=True)
    targets = [Writer(out / f"FRC_{b}.tif", size, "int16") for b in ("B2", "B3", "B4")]
    sources = [result.frc[i] for i in range(3)]
    for name, arr, dtype in (("WGT", result.wgt, "int16"), ("DTS", result.dts, "float32"),
                             ("FLG", result.flg, "uint8")):  # fmt: skip
        targets.append(Writer(out / f"{name}.tif", size, dtype))
        sources.append(arr)
    with dask.config.set(scheduler="threads", num_workers=workers):
        da.store(sources, targets, lock=False)
    for t in targets:
        t.ds.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5490)
    parser.add_argument("--dates", type=int, default=6)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tp-wasp-bench-"))
    try:
        t = time.perf_counter()
        stack = make_stack(work, args.size, args.dates)
        print(f"stack: {args.dates} dates x 3 bands + cloud mask, {args.size} px "
              f"(written in {time.perf_counter() - t:.0f} s)")  # fmt: skip
        mpx = args.size * args.size / 1e6 * args.dates
        bound = decode_bound(stack)
        print(
            f"  decode bound (rasterio, 2 threads): {bound:6.1f} s  {mpx / bound:6.1f} Mpx.dates/s"
        )
        times = {}
        for workers in (1, 2):
            times[workers] = run_wasp(stack, args.size, work / f"out{workers}", workers)
            took = times[workers]
            print(f"  WASP on dask, {workers} worker(s):       {took:6.1f} s  "
                  f"{mpx / took:6.1f} Mpx.dates/s  ({bound / took:.0%} of bound)")  # fmt: skip
        print(f"  speed-up 1 -> 2 workers: x{times[1] / times[2]:.2f}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  peak RSS of the process: {peak:.0f} MiB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
