"""Catalogue benchmark: bulk load and search, terrapole side by side with stac-fastapi-pgstac.

What it does, all by itself:
1. generates N Sentinel-2-like items (benchmarks/generate.py, cached under --workdir);
2. starts a throw-away PostgreSQL + PostGIS (the tests' pgserver: initdb/pg_ctl, fsync off);
3. bulk-loads the items three ways and times them: ``pypgstac load items`` (reference),
   ``terrapole load`` into the embedded SQLite store, ``terrapole load`` into the pgstac store;
4. installs stac-fastapi-pgstac into its own virtualenv (benchmarks/.venv-sfp, first run only)
   and serves the pypgstac-loaded database with it; serves terrapole (SQLite) and terrapole
   (pgstac) — each one uvicorn worker, access log off;
5. runs the same seeded query mix (benchmarks/queries.py) against each at concurrency 1 and 8
   and prints p50/p95 latency, req/s and the ratios the targets are stated in.

    python benchmarks/search.py --items 100000 --scenarios 300
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from tests.pgserver import postgres_server  # noqa: E402

from generate import COLLECTION, write  # noqa: E402
from queries import Scenario, scenarios  # noqa: E402

SFP_VERSION = "7.2.0"
BIN = Path(sys.executable).parent


@dataclass
class Run:
    """Latencies (ms) of every request of one server at one concurrency, and the wall time."""

    latencies: list[float]
    wall: float
    returned: list[int]
    kinds: list[str]

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.wall

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _database(dsn: str, name: str) -> str:
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    return dsn.rsplit("/", 1)[0] + f"/{name}"


def reference_python(folder: str, requirement: str) -> Path:
    """The Python of a reference server's own virtualenv under benchmarks/ (made on first use)."""
    venv = HERE / folder
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"installing {requirement} into {venv.relative_to(ROOT)} ...")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", requirement, "uvicorn"], check=True
        )
    return python


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _server(cmd: list[str], env: dict[str, str], url: str, log: Path) -> Iterator[str]:
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(url + "/", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start, see {log}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _play(client: httpx.Client, base: str, sc: Scenario) -> tuple[list[float], int]:
    """Run one scenario; return per-request latencies (ms) and items returned in total."""
    lat: list[float] = []
    returned = 0
    method, url, params, body = sc.method, base + sc.path, dict(sc.params), sc.body
    for _ in range(sc.pages):
        t0 = time.perf_counter()
        resp = client.request(method, url, params=params, json=body if method == "POST" else None)
        lat.append((time.perf_counter() - t0) * 1000)
        resp.raise_for_status()
        doc = resp.json()
        returned += len(doc["features"]) if "features" in doc else 1
        nxt = next((ln for ln in doc.get("links", []) if ln.get("rel") == "next"), None)
        if nxt is None:
            break
        method, url, params = nxt.get("method", "GET"), nxt["href"], {}
        if method == "POST":
            body = {**(body or {}), **nxt["body"]} if nxt.get("merge") else nxt["body"]
    return lat, returned


def measure(base: str, mix: list[Scenario], concurrency: int) -> Run:
    """Play ``mix`` with ``concurrency`` client threads (one HTTP/1.1 keep-alive client each)."""
    clients = [httpx.Client(timeout=120) for _ in range(concurrency)]
    for sc in mix[:10]:  # warm-up: caches, connection pools
        _play(clients[0], base, sc)
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(
            pool.map(lambda ix: _play(clients[ix[0] % concurrency], base, ix[1]), enumerate(mix))
        )
    wall = time.perf_counter() - start
    for c in clients:
        c.close()
    return Run(
        [x for lat, _ in results for x in lat],
        wall,
        [r for _, r in results],
        [sc.kind for sc, (lat, _) in zip(mix, results, strict=True) for _ in lat],
    )


def by_kind(run: Run) -> dict[str, float]:
    """Median latency (ms) of each scenario kind."""
    out: dict[str, list[float]] = {}
    for kind, ms in zip(run.kinds, run.latencies, strict=True):
        out.setdefault(kind, []).append(ms)
    return {k: statistics.median(v) for k, v in sorted(out.items())}


def main() -> None:
    """Parse options, run loads and searches, print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--scenarios", type=int, default=300)
    parser.add_argument("--workdir", type=Path, default=HERE / "out")
    args = parser.parse_args()
    # Stop cleanly on `kill`: the ExitStack below then stops the servers and PostgreSQL.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work: Path = args.workdir / f"n{args.items}"
    items = work / "items.ndjson"
    if not items.exists():
        t = time.perf_counter()
        write(args.items, work)
        print(f"generated {args.items} items in {time.perf_counter() - t:.1f}s -> {items}")
    collection = work / "collection.json"
    mix = scenarios(args.scenarios, args.items)
    common = [s for s in mix if s.kind != "aggregation"]

    with ExitStack() as stack:
        dsn = stack.enter_context(postgres_server())
        ref_dsn = _database(dsn, "reference")
        sqlite_dir = work / "sqlite"
        subprocess.run(["rm", "-rf", str(sqlite_dir)], check=True)
        tp_sqlite = {"TERRAPOLE_DATA_DIR": str(sqlite_dir), "TERRAPOLE_LOG_LEVEL": "WARNING"}
        tp_pg = {**tp_sqlite, "TERRAPOLE_DATABASE_URL": dsn}

        print("bulk load ...")
        pypgstac = str(BIN / "pypgstac")
        _timed([pypgstac, "migrate", "--dsn", ref_dsn])
        _timed([pypgstac, "load", "collections", str(collection), "--dsn", ref_dsn])
        t_ref = _timed(
            [pypgstac, "load", "items", str(items), "--dsn", ref_dsn, "--method", "insert"]
        )
        terrapole = str(BIN / "terrapole")
        _timed([terrapole, "load", str(collection)], tp_sqlite)
        t_sqlite = _timed([terrapole, "load", str(items)], tp_sqlite)
        _timed([terrapole, "load", str(collection)], tp_pg)
        t_pg = _timed([terrapole, "load", str(items)], tp_pg)
        n = args.items
        print(f"\nBULK LOAD of {n} items (items/s)")
        print(f"  pypgstac load (reference)  {n / t_ref:10.0f}   {t_ref:7.1f} s")
        print(f"  terrapole -> SQLite        {n / t_sqlite:10.0f}   {t_sqlite:7.1f} s   "
              f"x{t_ref / t_sqlite:.2f} of reference")  # fmt: skip
        print(f"  terrapole -> pgstac        {n / t_pg:10.0f}   {t_pg:7.1f} s   "
              f"x{t_ref / t_pg:.2f} of reference")  # fmt: skip

        ref = urlsplit(ref_dsn)
        sfp_env = {
            "PGUSER": ref.username or "postgres", "PGPASSWORD": "", "PGHOST": ref.hostname or "",
            "PGPORT": str(ref.port), "PGDATABASE": ref.path.lstrip("/"),
            "DB_MIN_CONN_SIZE": "1", "DB_MAX_CONN_SIZE": "10",
        }  # fmt: skip
        uvicorn_opts = ["--no-access-log", "--log-level", "warning", "--workers", "1"]
        servers: dict[str, str] = {}
        sfp_python = reference_python(".venv-sfp", f"stac-fastapi-pgstac=={SFP_VERSION}")
        p1, p2, p3 = _free_port(), _free_port(), _free_port()
        servers["stac-fastapi-pgstac"] = stack.enter_context(
            _server(
                [str(sfp_python), "-m", "uvicorn", "stac_fastapi.pgstac.app:create_app",
                 "--factory",
                 "--port", str(p1), *uvicorn_opts],
                sfp_env, f"http://127.0.0.1:{p1}", work / "sfp.log",
            )
        )  # fmt: skip
        for name, env, port in (
            ("terrapole-sqlite", tp_sqlite, p2),
            ("terrapole-pgstac", tp_pg, p3),
        ):
            servers[name] = stack.enter_context(
                _server(
                    [sys.executable, "-m", "uvicorn", "terrapole.app:create_app", "--factory",
                     "--port", str(port), *uvicorn_opts],
                    env, f"http://127.0.0.1:{port}/stac", work / f"{name}.log",
                )
            )  # fmt: skip

        print(f"\nSEARCH: {len(mix)} scenarios ({len(common)} common to all servers)")
        results: dict[tuple[str, int], Run] = {}
        for name, base in servers.items():
            for conc in (1, 8):
                results[(name, conc)] = measure(base, common, conc)
                r = results[(name, conc)]
                print(f"  {name:20s} c={conc}  p50 {r.pct(0.5):7.1f} ms  p95 {r.pct(0.95):7.1f} ms"
                      f"  {r.rps:7.1f} req/s  ({len(r.latencies)} requests)")  # fmt: skip
        agg = [s for s in mix if s.kind == "aggregation"]
        if agg:
            for name in ("terrapole-sqlite", "terrapole-pgstac"):
                r = measure(servers[name], agg, 1)
                print(f"  {name:20s} aggregation only: p50 {r.pct(0.5):.1f} ms "
                      f"p95 {r.pct(0.95):.1f} ms ({len(r.latencies)} requests)")  # fmt: skip

        print("\nMEDIAN LATENCY BY KIND at concurrency 1 (ms)")
        names = list(servers)
        print("  " + "kind".ljust(24) + "".join(n.rjust(22) for n in names))
        tables = {n: by_kind(results[(n, 1)]) for n in names}
        for kind in tables[names[0]]:
            print("  " + kind.ljust(24) + "".join(f"{tables[n][kind]:22.1f}" for n in names))

        ref8 = results[("stac-fastapi-pgstac", 8)]
        print("\nRATIOS at concurrency 8 (req/s vs stac-fastapi-pgstac)")
        for name in ("terrapole-sqlite", "terrapole-pgstac"):
            print(f"  {name:20s} x{results[(name, 8)].rps / ref8.rps:.2f}")
        same = sum(
            a == b
            for a, b in zip(
                results[("terrapole-sqlite", 1)].returned,
                results[("stac-fastapi-pgstac", 1)].returned,
                strict=True,
            )
        )
        print(f"\nscenarios returning as many items on terrapole-sqlite as on the reference: "
              f"{same}/{len(common)}  (collection {COLLECTION})")  # fmt: skip


if __name__ == "__main__":
    main()
