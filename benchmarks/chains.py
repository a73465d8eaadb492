"""Production chains end to end (catalogue, odc-stac, Dask, COG + item) vs the decode bound.

Makes ``--dates`` THEIA-named L2A products of ``--size`` px at 10 m (B2, B3, B4 at 10 m, B8A,
B11, B12 and the cloud mask at 20 m; texture from a real demo crop enlarged, random cloud blobs,
dates 5 days apart around 15 July), ingests them (not timed), then for the snow and WASP chains:
- decode bound: every input band the chain reads, read once with rasterio (2 threads), from the
  same files as the chain (the catalogued COGs, not the products they were ingested from);
- one Dask LocalCluster per worker count (1 and 2 worker processes), all started first;
- the chain run by the runner on each new cluster (the workers' imports, numba's cache loads
  and first file opens included): outputs written, made COGs and catalogued; snow makes one
  product per date, WASP the one monthly window holding all the dates. The peak RSS of the
  workers is read then, before anything holds results in memory;
- the algorithm alone, ``--repeat`` times: every window's layers built and computed at once
  (inputs read, composite or snow computed, results held on the workers, nothing written), each
  run next to a decode bound measured just before it and with the clusters taking turns, so
  that the ratios and the 1 -> 2 worker speed-up compare runs under the same load of the machine;
- the chain again on the running clusters, twice, the faster kept (a server's case).
``--gdal-cache MB`` sets the workers' GDAL block cache (the default is 5 % of the RAM each).
Every run closes the files its workers keep open first, so no decoded tile is reused, and
flushes what the runs before wrote. It prints megapixel·dates per second, the ratios to the
bound, the speed-ups and the peak RSS. "compute" is loading, computing and writing the layers
(by the workers, into raw files; summed over windows, which overlap for snow); "publish" is the
COGs, statistics and previews (tasks on the workers) and the item and catalogue (this process).

    python benchmarks/chains.py --size 2744 --dates 6
    python benchmarks/chains.py --size 10980 --dates 6 --chains wasp-monthly   # a full tile
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
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
from terrapole.cube import loading  # noqa: E402
from terrapole.cube.cluster import dask_client  # noqa: E402
from terrapole.ingest.service import Ingestor  # noqa: E402
from terrapole.production import runner  # noqa: E402
from terrapole.production.chain import Area  # noqa: E402
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
    held = []  # every window's layers at once (snow: one window per product)
    for window in runner.windows(store, the_chain, area, first, last):
        with client.as_current():
            output = runner.lazy_output(the_chain, store, storage, area, window)
        held += client.persist([layer.data.data for layer in output.layers])
    wait(held)
    del held
    return time.perf_counter() - start


@dataclass
class ChainRun:
    seconds: float
    compute_s: float
    publish_s: float


def run_chain(the_chain: Any, store: Any, storage: Any, client: Any, name: str) -> ChainRun:
    """The chain run by the runner over its period, after deleting its outputs (timed)."""
    for item in runner.search_all(store, SearchQuery(collections=(the_chain.output_collection,))):
        store.delete_item(the_chain.output_collection, item["id"])
    client.run(loading.close_files)  # no decoded tile kept from a run before
    os.sync()
    first, last = PERIODS[name]
    start = time.perf_counter()
    result = runner.run(the_chain, store, storage, client, area=Area(tile="T31UFQ"),
                        start=first, end=last)  # fmt: skip
    seconds = time.perf_counter() - start
    assert not result.failed and result.produced, result.failed
    return ChainRun(seconds, result.compute_s, result.publish_s)


def peak_rss_mib(client: Any) -> tuple[float, float]:
    """The largest peak resident memory of the cluster's worker processes, and their sum."""
    found = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return max(found.values()) / 1024, sum(found.values()) / 1024


def _chain_line(label: str, result: ChainRun, bound: float, mpx_dates: float) -> str:
    return (
        f"  {label}: {result.seconds:.2f} s, {mpx_dates / result.seconds:.1f} Mpx·dates/s, "
        f"{100 * bound / result.seconds:.0f} % of the bound (compute {result.compute_s:.2f} s = "
        f"{100 * bound / result.compute_s:.0f} % of the bound, publish {result.publish_s:.2f} s)"
    )


def bench_chain(name: str, store: Any, storage: Any, settings: Settings, files: list[Path],
                workers: list[int], repeat: int, mpx_dates: float,
                gdal_cache: int | None) -> None:  # fmt: skip
    """Cold chain runs, then the bound and the algorithm side by side, then warm chain runs."""
    the_chain = chain(name)
    with ExitStack() as stack:
        clients = {w: stack.enter_context(dask_client(Settings(
            data_dir=settings.data_dir, dask_workers=w, dask_gdal_cache_mb=gdal_cache)))
            for w in workers}  # fmt: skip
        bound = min(decode_bound(files) for _ in range(2))
        print(f"\n{name}: decode bound {bound:.2f} s ({mpx_dates / bound:.1f} Mpx·dates/s)")
        for w, client in clients.items():  # new workers: imports, numba cache loads, GDAL
            result = run_chain(the_chain, store, storage, client, name)
            print(_chain_line(f"{w} worker(s), chain on new workers", result, bound, mpx_dates)
                  + ", peak RSS per worker {:.0f} MiB, of all workers {:.0f} MiB".format(
                      *peak_rss_mib(client)))  # fmt: skip
        bounds: list[float] = []
        runs: dict[int, list[float]] = {w: [] for w in workers}
        for _ in range(repeat):  # each run next to a bound measured just before it
            bounds.append(decode_bound(files))
            for w, client in clients.items():
                runs[w].append(algorithm_seconds(the_chain, store, storage, client, name))
        for w in workers:
            ratios = [b / r for b, r in zip(bounds, runs[w], strict=True)]
            print(
                f"  {w} worker(s), algorithm alone: best {min(runs[w]):.2f} s "
                f"({mpx_dates / min(runs[w]):.1f} Mpx·dates/s); of the bound measured next to "
                f"each run: {', '.join(f'{100 * q:.0f}' for q in ratios)} % "
                f"(median {100 * statistics.median(ratios):.0f} %); runs "
                f"{', '.join(f'{r:.2f}' for r in runs[w])} s, bounds "
                f"{', '.join(f'{b:.2f}' for b in bounds)} s"
            )
        if 1 in runs and 2 in runs:
            ups = [a / b for a, b in zip(runs[1], runs[2], strict=True)]
            print(
                f"  algorithm speed-up 1 -> 2 workers, run by run: "
                f"{', '.join(f'x{u:.2f}' for u in ups)} (median x{statistics.median(ups):.2f}, "
                f"best times x{min(runs[1]) / min(runs[2]):.2f})"
            )
        warm: dict[int, ChainRun] = {}
        for w, client in clients.items():  # the server's case: workers already running
            results = [run_chain(the_chain, store, storage, client, name) for _ in range(2)]
            warm[w] = min(results, key=lambda r: r.seconds)
            print(_chain_line(f"{w} worker(s), chain (best of 2 on running workers)", warm[w],
                              bound, mpx_dates))  # fmt: skip
        if 1 in warm and 2 in warm:
            print(f"  chain speed-up 1 -> 2 workers: x{warm[1].seconds / warm[2].seconds:.2f}")
    main_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS of this process {main_rss:.0f} MiB (it also made the products)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2744)
    parser.add_argument("--dates", type=int, default=6)
    parser.add_argument("--chains", nargs="+", default=list(READS), choices=list(READS))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3, help="runs of the algorithm alone")
    parser.add_argument(
        "--gdal-cache", type=int, default=None, metavar="MB",
        help="GDAL block cache per worker (default: GDAL's, 5 %% of the RAM)",
    )  # fmt: skip
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
            bench_chain(name, store, storage, settings, files, args.workers, args.repeat,
                        mpx_dates, args.gdal_cache)  # fmt: skip
        store.close()


if __name__ == "__main__":
    main()
