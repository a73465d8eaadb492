"""Ingest throughput against the bound of writing the same bands once with `rio cogeo create`.

Products: MUSCATE-named folders at a realistic size (default 2745 x 2745 px at 10 m, a quarter
of a Sentinel-2 tile side), made by enlarging a real THEIA crop from demo/products (bilinear,
plus sensor-like noise), with FRE_B2/B3/B4 (10 m), FRE_B8A/B11/B12 (20 m) and CLM_R2 — the
band set of the bundled real products. Both runs use 2 processes (the 2-core target machine).

    python benchmarks/ingest.py --products 4 --size 2745
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.transform import from_origin

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SOURCE = ROOT / "demo" / "products" / "theia" / "SENTINEL2A_20180826-104155-257_L2A_T31UFQ_D_V1-8"
BIN = Path(sys.executable).parent


def make_products(out: Path, count: int, size: int) -> list[Path]:
    """``count`` product folders enlarged from the real crop; returns their paths."""
    rng = np.random.default_rng(1)
    products = []
    for n in range(count):
        name = f"SENTINEL2B_2019{n + 1:02d}15-104723-867_L2A_T31UFQ_C_V2-2"
        folder = out / name
        (folder / "MASKS").mkdir(parents=True)
        for src in sorted(SOURCE.rglob("*.tif")):
            is_mask = "MASKS" in src.parts
            res = 20 if is_mask or any(b in src.name for b in ("B8A", "B11", "B12")) else 10
            side = size * 10 // res
            with rasterio.open(src) as ds:
                data = ds.read(
                    1,
                    out_shape=(side, side),
                    resampling=Resampling.nearest if is_mask else Resampling.bilinear,
                )
            if not is_mask:
                noise = rng.normal(0, 40, data.shape).astype(np.int16)
                data = np.clip(data + noise, 0, 10000).astype(np.int16)
            target = folder / ("MASKS" if is_mask else "") / src.name.replace(SOURCE.name, name)
            with rasterio.open(
                target, "w", driver="GTiff", width=side, height=side, count=1,
                dtype=data.dtype, crs="EPSG:32631",
                transform=from_origin(600000, 5500000, res, res), compress="deflate", tiled=True,
            ) as ds:  # fmt: skip
                ds.write(data, 1)
        products.append(folder)
    return products


def bound(products: list[Path], out: Path) -> float:
    """Seconds for `rio cogeo create` (deflate) on every band, 2 at a time."""
    files = [f for p in products for f in sorted(p.rglob("*.tif"))]
    out.mkdir()

    def one(f: Path) -> None:
        subprocess.run(
            [str(BIN / "rio"), "cogeo", "create", str(f), str(out / f.name), "--cog-profile",
             "deflate", "--blocksize", "512", "--quiet"],
            check=True,
        )  # fmt: skip

    start = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(one, files))
    return time.perf_counter() - start


def _translate(src: str, dst: str) -> None:
    from rio_cogeo.cogeo import cog_translate
    from rio_cogeo.profiles import cog_profiles

    profile = cog_profiles.get("deflate")
    profile.update(blockxsize=512, blockysize=512)
    cog_translate(src, dst, profile, in_memory=False, quiet=True)


def bound_api(products: list[Path], out: Path) -> float:
    """Seconds for rio-cogeo's cog_translate on every band in 2 processes (no CLI start-up)."""
    files = [f for p in products for f in sorted(p.rglob("*.tif"))]
    out.mkdir()
    start = time.perf_counter()
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_translate, map(str, files), [str(out / f.name) for f in files]))
    return time.perf_counter() - start


def ingest(products: list[Path], data: Path) -> float:
    """Seconds for `terrapole ingest` of the products with 2 worker processes."""
    start = time.perf_counter()
    subprocess.run(
        [str(BIN / "terrapole"), "ingest", *map(str, products), "--workers", "2"],
        check=True,
        env={"TERRAPOLE_DATA_DIR": str(data), "PATH": str(BIN)},
    )
    return time.perf_counter() - start


def main() -> None:
    """Make products, time both runs, print throughput and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=4)
    parser.add_argument("--size", type=int, default=2745, help="10 m band side in pixels")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tp-ingest-bench-"))
    try:
        products = make_products(work / "in", args.products, args.size)
        megabytes = sum(f.stat().st_size for p in products for f in p.rglob("*.tif")) / 1e6
        t_cli = bound(products, work / "bound")
        t_bound = bound_api(products, work / "bound-api")
        t_ingest = ingest(products, work / "data")
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        n = len(products)
        print(f"{n} products, {megabytes:.0f} MB of input bands ({args.size} px at 10 m)")
        print(f"  rio cogeo create (CLI)    {t_cli:7.1f} s  {megabytes / t_cli:7.1f} MB/s")
        print(f"  cog_translate (bound)     {t_bound:7.1f} s  {megabytes / t_bound:7.1f} MB/s")
        print(f"  terrapole ingest          {t_ingest:7.1f} s  {megabytes / t_ingest:7.1f} MB/s  "
              f"{60 * n / t_ingest:.1f} products/min")  # fmt: skip
        print(f"  ingest / bound throughput {t_bound / t_ingest:.0%}  (target >= 70%)")
        print(f"  peak RSS of a child process {peak:.0f} MiB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
