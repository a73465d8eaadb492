"""Production chains end to end (catalogue, odc-stac, Dask, COG + item) vs the decode bound.

Makes ``--dates`` THEIA-named L2A products of ``--size`` px at 10 m (B2, B3, B4 at 10 m, B8A,
B11, B12 and the cloud mask at 20 m; texture from a real demo crop enlarged, random cloud blobs,
dates 5 days apart around 15 July), ingests them (not timed), then for the snow and WASP chains:
- decode bound: every input band the chain reads, read once with rasterio (2 threads), from the
  same files as the chain (the catalogued COGs, not the products they were ingested from);
- the chain run by the runner on a Dask LocalCluster of 1, then 2 worker processes (outputs
  written, turned into COGs and catalogued; the second run is on fresh output collections);
  snow makes one product per date, WASP the one monthly window holding all the dates;
- the algorithm alone on the same cluster: the chain's layers built and computed (inputs read,
  composite or snow computed, results held on the workers, nothing written): a first run
  (the workers' first imports and numba's cache loads), then ``--repeat`` steady runs, of which
  the fastest is reported, as the bound is the faster of two reads;
and prints megapixel·dates per second, the ratio to the bound, the speed-up and peak RSS of the
workers and of this process. "compute" is loading, computing and writing the layers; "publish"
is the COG conversion, thumbnails and cataloguing of the outputs.

    python benchmarks/chains.py --size 2744 --dates 6
    python benchmarks/chains.py --size 10980 --dates 6 --chains wasp-monthly   # a full tile
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from distributed import wait
from rasterio.transform import from_origin

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

from terrapole.catalog.model import SearchQuery  # noqa: E402
from terrapole.catalog.store import open_store  # noqa: E402
from terrapole.config import Settings  # noqa: E402
from terrapole.ingest.service import Ingestor  # noqa: E402
from terrapole.production import loading, runner  # noqa: E402
from terrapole.production.chain import Area  # noqa: E402
from terrapole.production.cluster import dask_client  # noqa: E402
from terrapole.production.registry import chain  # noqa: E402
from terrapole.storage import LocalStorage  # noqa: E402

CROP = ROOT / "demo" / "products" / "theia" / "SENTINEL2A_20180826-104155-257_L2A_T31UFQ_D_V1-8"
READS = {
    "snow": ("B3", "B4", "B11", "CLM_R2"),
    "wasp-monthly": ("B2", "B3", "B4", "B8A", "B11", "B12", "CLM_R2"),
}
# snow: every product of the period; WASP: the July window alone (D0 ± 23 days holds every date)
PERIODS = {
    "snow": (date(2018, 6, 1), date(2018, 8, 31)),
    "wasp-monthly": (date(2018, 7, 1), date(2018, 7, 31)),
}


def make_products(out: Path, size: int, dates: int) -> list[Path]:
    """Synthetic products named like THEIA's, textured from a real crop."""
    rng = np.random.default_rng(7)
    products = []
    for n in range(dates):
        day = date(2018, 7, 15) + timedelta(days=5 * (n - dates // 2))
        name = f"SENTINEL2A_{day:%Y%m%d}-104000-000_L2A_T31UFQ_C_V2-2"
        folder = out / name
        (folder / "MASKS").mkdir(parents=True)
        for band in ("B2", "B3", "B4", "B8A", "B11", "B12"):
            side = size if band in ("B2", "B3", "B4") else size // 2
            with rasterio.open(next(CROP.glob(f"*_FRE_{band}.tif"))) as src:
                crop = src.read(1)
            reps = -(-side // crop.shape[0])
            data = np.kron(crop, np.ones((reps, reps), dtype="int16"))[:side, :side]
            data = data + rng.integers(-50, 50, data.shape, dtype="int16")
            _write(folder / f"{name}_FRE_{band}.tif", data, 10.0 * size / side)
        cells = rng.random((size // 2 // 64 + 1, size // 2 // 64 + 1)) < 0.15
        cloud = np.kron(cells, np.ones((64, 64), dtype="uint8"))[: size // 2, : size // 2]
        _write(folder / "MASKS" / f"{name}_CLM_R2.tif", (cloud * 2).astype("uint8"), 20.0)
        products.append(folder)
    return products


def _write(path: Path, data: np.ndarray, pixel: float) -> None:
    with rasterio.open(
        path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
        dtype=data.dtype, crs="EPSG:32631", transform=from_origin(600000, 5500000, pixel, pixel),
        tiled=True, compress="deflate",
    ) as ds:  # fmt: skip
        ds.write(data, 1)


def decode_bound(files: list[Path]) -> float:
    """Seconds to read every file once (2 threads, whole-band reads)."""

    def read(path: Path) -> int:
        with rasterio.open(path) as ds:
            return int(ds.read(1).size)

    os.sync()
    start = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(read, files))
    return time.perf_counter() - start


def algorithm_seconds(the_chain: Any, store: Any, storage: Any, client: Any, name: str) -> float:
    """Seconds to build and compute every window's layers on the cluster (nothing written).

    Files the workers keep open are closed first, so no decoded tile is reused from a run before.
    """
    client.run(loading.close_files)
    os.sync()  # the outputs a run before wrote are flushed now, not during this run
    first, last = PERIODS[name]
    area = Area(tile="T31UFQ")
    start = time.perf_counter()
    for window in runner.windows(store, the_chain, area, first, last):
        output = runner.lazy_output(the_chain, store, storage, area, window)
        held = client.persist([layer.data.data for layer in output.layers])
        wait(held)
        del held
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2744)
    parser.add_argument("--dates", type=int, default=6)
    parser.add_argument("--chains", nargs="+", default=list(READS), choices=list(READS))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3, help="steady runs of the algorithm")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        products = make_products(work / "products", args.size, args.dates)
        settings = Settings(data_dir=work / "data")
        store = open_store(settings)
        storage = LocalStorage(settings.assets_dir)
        report = Ingestor(store, storage).run([str(p) for p in products], workers=2)
        assert not report.rejected, report.rejected
        mpx_dates = args.size * args.size * args.dates / 1e6
        print(f"{args.dates} products of {args.size} px at 10 m ({mpx_dates:.0f} Mpx·dates)")
        for name in args.chains:
            reads = READS[name]
            # the files the chain reads: the catalogued COGs of the input items
            inputs = runner.search_all(store, SearchQuery(collections=("theia-sentinel-2-l2a",)))
            files = [
                Path(storage.localise(item)["assets"][key]["href"])
                for item in inputs for key in item["assets"]
                if key.removeprefix("FRE_") in reads
            ]  # fmt: skip
            assert len(files) == len(reads) * len(products), files
            bound = min(decode_bound(files) for _ in range(2))
            print(f"\n{name}: decode bound {bound:.2f} s ({mpx_dates / bound:.1f} Mpx·dates/s)")
            timings, algorithm = {}, {}
            for workers in args.workers:
                run_settings = Settings(data_dir=settings.data_dir, dask_workers=workers)
                the_chain = chain(name)
                with dask_client(run_settings) as client:  # its own cluster: RSS apart
                    cold = algorithm_seconds(the_chain, store, storage, client, name)
                    runs = [algorithm_seconds(the_chain, store, storage, client, name)
                            for _ in range(args.repeat)]  # fmt: skip
                    steady = min(runs)  # the bound is a minimum too
                    print(
                        f"  {workers} worker(s), algorithm alone: {steady:.2f} s steady "
                        f"({100 * bound / steady:.0f} % of the bound, "
                        f"{mpx_dates / steady:.1f} Mpx·dates/s; runs "
                        f"{', '.join(f'{r:.2f}' for r in runs)} s), {cold:.2f} s cold"
                    )
                    algorithm[workers] = steady
                with dask_client(run_settings) as client:
                    for item in runner.search_all(store, SearchQuery(
                        collections=(the_chain.output_collection,))):  # fmt: skip
                        store.delete_item(the_chain.output_collection, item["id"])
                    os.sync()
                    start = time.perf_counter()
                    first, last = PERIODS[name]
                    result = runner.run(the_chain, store, storage, client, area=Area(tile="T31UFQ"),
                                        start=first, end=last)  # fmt: skip
                    seconds = time.perf_counter() - start
                    worker_rss = client.run(
                        lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                    )
                assert not result.failed, result.failed
                timings[workers] = seconds
                rate = mpx_dates / seconds
                print(
                    f"  {workers} worker(s): {seconds:.2f} s, {rate:.1f} Mpx·dates/s, "
                    f"{100 * bound / seconds:.0f} % of the bound, outputs {len(result.produced)} "
                    f"(compute {result.compute_s:.2f} s = {100 * bound / result.compute_s:.0f} % "
                    f"of the bound, publish {result.publish_s:.2f} s), "
                    f"peak RSS workers {max(worker_rss.values()) / 1024:.0f} MiB, "
                    f"main {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
                )
            if 1 in timings and 2 in timings:
                print(
                    f"  speed-up 1 -> 2 workers: chain x{timings[1] / timings[2]:.2f}, "
                    f"algorithm x{algorithm[1] / algorithm[2]:.2f}"
                )
        store.close()


if __name__ == "__main__":
    main()
