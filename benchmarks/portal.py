"""Server time of the portal's search page over N generated items (embedded SQLite store).

Loads N items from benchmarks/generate.py into a fresh data directory, then renders /search
in-process (no network) for a few typical searches, the first render of each cold (new
process caches empty) and then 20 more, and prints the median and p95 in ms.

    python benchmarks/portal.py --items 100000
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import COLLECTION, write  # noqa: E402

BIN = Path(sys.executable).parent
SEARCHES = {
    "landing (no filter)": "/search",
    "collection + facets": f"/search?collection={COLLECTION}",
    "text": "/search?q=31UFQ",
    "bbox + dates + cloud": "/search?bbox=2,45,6,48&start=2017-03-01&end=2017-06-30&cloud=20",
    "platform facet": f"/search?collection={COLLECTION}&platform=Sentinel-2B",
}


def main() -> None:
    """Load, render, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tp-portal-bench-"))
    items = write(args.items, work / "in")
    env = {"TERRAPOLE_DATA_DIR": str(work / "data"), "PATH": str(BIN)}
    subprocess.run([str(BIN / "terrapole"), "load", str(work / "in" / "collection.json")],
                   check=True, env=env, capture_output=True)  # fmt: skip
    subprocess.run([str(BIN / "terrapole"), "load", str(items)], check=True, env=env,
                   capture_output=True)  # fmt: skip

    from fastapi.testclient import TestClient

    from terrapole.app import create_app
    from terrapole.config import Settings

    client = TestClient(create_app(Settings(data_dir=work / "data")))
    print(f"/search server time over {args.items} items (ms)")
    for label, url in SEARCHES.items():
        t0 = time.perf_counter()
        first = client.get(url)
        cold = (time.perf_counter() - t0) * 1000
        assert first.status_code == 200, first.text
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        print(f"  {label:24s} first {cold:7.1f}  median {statistics.median(times):7.1f}  "
              f"p95 {times[18]:7.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
