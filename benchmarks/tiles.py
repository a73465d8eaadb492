"""Tile throughput: terrapole's item tiles side by side with titiler on the same COG.

Makes one realistic-size product (benchmarks/ingest.py's enlarged real THEIA crop, 2745 px at
10 m), ingests it, then serves the same band COG with terrapole (``/maps/.../tiles``,
``assets=FRE_B4``) and with titiler (``titiler.application``, ``/cog/tiles?url=…``, installed
into benchmarks/.venv-titiler by this script on first run). Each runs one uvicorn worker.
Cold: every tile of zoom 14-15 over the product, asked once. Warm: the same tiles again
(terrapole answers from its tile cache; titiler renders again). Concurrency 1 and 8.

    python benchmarks/tiles.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import morecantile

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from ingest import make_products  # noqa: E402
from search import _free_port, _server, reference_python  # noqa: E402

TITILER = "titiler.application==0.24.2"
BIN = Path(sys.executable).parent


def run(urls: list[str], concurrency: int) -> tuple[float, float, float]:
    """(p50 ms, p95 ms, tiles/s) for GETting ``urls``."""
    clients = [httpx.Client(timeout=60) for _ in range(concurrency)]
    latencies: list[float] = []

    def one(ix: tuple[int, str]) -> None:
        t0 = time.perf_counter()
        response = clients[ix[0] % concurrency].get(ix[1])
        latencies.append((time.perf_counter() - t0) * 1000)
        if response.status_code not in (200, 404):
            raise RuntimeError(f"{ix[1]} -> {response.status_code}")

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, enumerate(urls)))
    wall = time.perf_counter() - start
    ordered = sorted(latencies)
    return ordered[len(ordered) // 2], ordered[int(0.95 * (len(ordered) - 1))], len(urls) / wall


def main() -> None:
    """Build the product, start both servers, print the table and the ratios."""
    work = Path(tempfile.mkdtemp(prefix="tp-tiles-bench-"))
    try:
        product = make_products(work / "in", 1, 2745)[0]
        data = work / "data"
        subprocess.run(
            [str(BIN / "terrapole"), "ingest", str(product)],
            check=True,
            env={"TERRAPOLE_DATA_DIR": str(data), "PATH": str(BIN)},
            stdout=subprocess.DEVNULL,
        )
        cog = next(data.glob("assets/*/*/FRE_B4.tif"))
        collection, item = cog.parts[-3], cog.parts[-2]
        import rasterio
        from rasterio.warp import transform_bounds

        with rasterio.open(cog) as ds:
            west, south, east, north = transform_bounds(ds.crs, "EPSG:4326", *ds.bounds)
        tms = morecantile.tms.get("WebMercatorQuad")
        tiles = [t for z in (14, 15) for t in tms.tiles(west, south, east, north, [z])]
        opts = ["--no-access-log", "--log-level", "warning", "--workers", "1"]
        p1, p2 = _free_port(), _free_port()
        env = {"TERRAPOLE_DATA_DIR": str(data), "TERRAPOLE_LOG_LEVEL": "WARNING"}
        rescale = "rescale=0,2500"
        titiler = reference_python(".venv-titiler", TITILER)
        with _server(
            [sys.executable, "-m", "uvicorn", "terrapole.app:create_app", "--factory",
             "--port", str(p1), *opts],
            env, f"http://127.0.0.1:{p1}/stac", work / "terrapole.log",
        ) as tp, _server(
            [str(titiler), "-m", "uvicorn", "titiler.application.main:app",
             "--port", str(p2), *opts],
            {}, f"http://127.0.0.1:{p2}", work / "titiler.log",
        ) as tt:  # fmt: skip
            tp_base = tp.removesuffix("/stac")
            ours = [
                f"{tp_base}/maps/collections/{collection}/items/{item}/tiles/WebMercatorQuad/"
                f"{t.z}/{t.x}/{t.y}.png?assets=FRE_B4&{rescale}&tilesize=256"
                for t in tiles
            ]
            theirs = [
                f"{tt}/cog/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}.png?url={cog}&{rescale}"
                f"&tilesize=256"
                for t in tiles
            ]
            print(f"{len(tiles)} tiles (z14-15) over a {cog.stat().st_size / 1e6:.1f} MB COG")
            results = {}
            for conc in (1, 8):
                for name, urls in (("titiler", theirs), ("terrapole", ours)):
                    cold = run([f"{u}&c={conc}" for u in urls], conc)  # new URLs: cold cache
                    warm = run([f"{u}&c={conc}" for u in urls], conc)  # same URLs again
                    results[(name, conc)] = (cold, warm)
                    for label, (p50, p95, rate) in (("cold", cold), ("warm", warm)):
                        print(f"  {name:9s} c={conc} {label}: p50 {p50:6.1f} ms  p95 {p95:6.1f} ms"
                              f"  {rate:7.1f} tiles/s")  # fmt: skip
            for conc in (1, 8):
                (tc, tw), (oc, ow) = results[("titiler", conc)], results[("terrapole", conc)]
                print(f"  ratio c={conc}: cold x{oc[2] / tc[2]:.2f}, warm x{ow[2] / tw[2]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
