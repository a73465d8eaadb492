"""Schemathesis over every operation of the server's OpenAPI: no input may cause a 5xx.

The test suite fuzzes each API with 25-30 examples per operation; this script runs the long
campaign (200 examples or more per operation) over STAC, maps, WMS, OGC API Processes and openEO
together, on a catalogue of real data (the demo Sentinel-2 metadata, a THEIA product, the DEMs
and the land-cover raster), with one collection restricted, as a logged-in user. It prints one
line per operation and every 5xx with the request that caused it (but 502, a file out of reach,
which is the right answer for the demo's remote assets offline); exit code 1 if any.

    python scripts/fuzz_api.py --examples 200
    python scripts/fuzz_api.py --examples 200 --database-url postgresql://user@host:port/db
    python scripts/fuzz_api.py --examples 50 --paths '^/maps'

A PostgreSQL database given with --database-url gets the pgstac schema and is filled with the
same data (use a throw-away database: collections of the same ids are replaced).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from terrapole.app import create_app
from terrapole.catalog.loader import load_paths
from terrapole.catalog.model import CollectionQuery, SearchQuery
from terrapole.config import Settings
from terrapole.ingest.service import Ingestor
from terrapole.openeo import graph

ROOT = Path(__file__).resolve().parents[1]
# 502: an asset's file is out of reach (the demo's remote Sentinel-2 metadata, offline): the
# request was right; counted in the per-operation line, not as a server error.
UPSTREAM = frozenset({502})
PRODUCTS = ROOT / "demo" / "products"


def build_app(data_dir: Path, database_url: str | None) -> tuple[Any, str]:
    """The app over real data, with a restricted collection and a user token."""
    extra: dict[str, Any] = {"database_url": database_url} if database_url else {}
    app = create_app(Settings(data_dir=data_dir, dask_workers=1, dask_processes=False, **extra))
    services = app.state.services
    load_paths(services.store, [ROOT / "demo" / "catalog" / "sentinel-2-l2a"], on_conflict="upsert")
    ingestor = Ingestor(services.store, services.storage)
    theia = sorted((PRODUCTS / "theia").glob("SENTINEL2*"))[:2]
    for paths, collection in (([str(p) for p in theia], None), ([str(PRODUCTS / "dem")], "dem"),
                              ([str(PRODUCTS / "landcover")], "landcover")):  # fmt: skip
        rejected = ingestor.run(paths, collection=collection).rejected
        if rejected:
            raise SystemExit(f"the fuzzing catalogue could not be built: {rejected}")
    services.access.restrict("landcover", ["partners"])
    name = f"fuzzer-{int(time.time())}"
    token = services.access.create_token(name, groups=["public"])
    graph.library()  # imported before hypothesis runs (it raises the recursion limit)
    return app, token


def real_items(app: Any) -> list[tuple[str, str]]:
    """(collection, item) of one item of each collection: paths get real ids 3 times in 4
    (random ids alone would only ever meet a 404)."""
    store = app.state.services.store
    docs, _ = store.list_collections(CollectionQuery(limit=100))
    found = []
    for doc in docs:
        page = store.search(SearchQuery(collections=(doc["id"],), limit=1))
        found += [(doc["id"], item["id"]) for item in page.items]
    return found


def _with_real_ids(case: Any, items: list[tuple[str, str]], turn: int) -> None:
    names = case.path_parameters or {}
    if turn % 4 == 3 or not items:
        return
    collection, item = items[turn % len(items)]
    for key, value in (("collection_id", collection), ("collection", collection),
                       ("item_id", item), ("item", item)):  # fmt: skip
        if key in names:
            names[key] = value


def fuzz_operation(
    operation: Any, headers: dict[str, str], items: list[tuple[str, str]], examples: int
) -> tuple[Counter[int], list[str]]:
    """Up to ``examples`` calls of one operation: the statuses seen and the 5xx answers."""
    statuses: Counter[int] = Counter()
    failures: list[str] = []

    @given(case=operation.as_strategy())
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def run(case: Any) -> None:
        _with_real_ids(case, items, sum(statuses.values()))
        response = case.call(headers=headers)
        statuses[response.status_code] += 1
        if response.status_code >= 500 and response.status_code not in UPSTREAM:
            failures.append(f"{response.status_code} {case.as_curl_command(headers)}\n"
                            f"    {response.text[:300]}")  # fmt: skip

    try:
        run()
    except Unsatisfiable:
        pass
    except Exception as exc:  # a call that timed out or broke the transport: a failure too
        failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:300]}")
    return statuses, failures


def fuzz(app: Any, token: str, examples: int, paths: str) -> int:
    """Run every operation matching ``paths``; print and count the 5xx answers."""
    schema = schemathesis.openapi.from_asgi("/stac/api", app).include(path_regex=paths)
    items = real_items(app)
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation: Any = result.ok()  # type: ignore[union-attr]
        operations += 1
        started = time.perf_counter()
        statuses, failed = fuzz_operation(operation, headers, items, examples)
        failures += failed
        spent = time.perf_counter() - started
        summary = " ".join(f"{code}x{n}" for code, n in sorted(statuses.items()))
        print(f"{operation.label:70s} {sum(statuses.values()):5d} calls {spent:6.1f} s  {summary}")
        sys.stdout.flush()
    print(f"\n{operations} operations, {examples} examples each at most: "
          f"{len(failures)} server error(s)")  # fmt: skip
    for failure in failures:
        print(failure)
    return 1 if failures else 0


def main() -> int:
    """Parse the arguments, build the catalogue, fuzz."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--paths", default=".*", help="regular expression on the paths")
    parser.add_argument("--database-url", help="a PostgreSQL URL (default: SQLite)")
    args = parser.parse_args()
    re.compile(args.paths)
    with tempfile.TemporaryDirectory(prefix="terrapole-fuzz-") as folder:
        app, token = build_app(Path(folder), args.database_url)
        return fuzz(app, token, args.examples, args.paths)


if __name__ == "__main__":
    sys.exit(main())
