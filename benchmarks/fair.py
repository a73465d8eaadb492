"""FAIR harvesting figures: OAI-PMH ListRecords over HTTP following resumption tokens
(records/s, oai_dc and oai_datacite), a landing page's median time (when /records/{id}
exists), and the DCAT-AP catalogue of every record (Turtle, streamed), on N published
records written straight into the records table in batches.

    python benchmarks/fair.py                      # SQLite, 100 000 records
    python benchmarks/fair.py --records 10000
    python benchmarks/fair.py --database postgresql://user@host/db
    python benchmarks/fair.py --records 10000 --dcat-only   # the DCAT export alone

Targets (issue 23): ListRecords ≥ 2 000 records/s, landing page p50 ≤ 50 ms, DCAT export
≤ 30 s for 100 000 records. Figures are printed, never judged; the DCAT lines also give the
process's CPU seconds, which a busy machine stretches less than the wall-clock time.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import uvicorn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from terrapole.app import create_app  # noqa: E402
from terrapole.config import Settings  # noqa: E402
from terrapole.fair.dcat import CatalogueInfo, serialize  # noqa: E402
from terrapole.fair.model import (  # noqa: E402
    Creator,
    Date,
    Description,
    Extras,
    GeoBox,
    GeoLocation,
    Publisher,
    Record,
    Rights,
    Subject,
    TemporalExtent,
    Title,
    Types,
)
from terrapole.fair.tables import records  # noqa: E402
from terrapole.web.oai import harvest_of  # noqa: E402

TOKEN = re.compile(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>")
BASE = "http://bench.example"


def template() -> dict[str, Any]:
    """A typical record's stored JSON (the shape of Record.to_json())."""
    return Record(
        titles=(Title("Snow cover", lang="en"),),
        creators=(Creator("Gascoin, Simon", name_type="Personal"),),
        publisher=Publisher("Theia", "https://ror.org/04wxnsj81", "ROR", "https://ror.org/"),
        publication_year="2024",
        types=Types("Dataset", "Snow cover maps"),
        subjects=(Subject("snow cover", "GEMET", "http://www.eionet.europa.eu/gemet/",
                          "http://www.eionet.europa.eu/gemet/concept/7863"),),
        dates=(Date("2024-01-10", "Issued"),),
        language="en",
        rights_list=(Rights("CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/",
                            "CC-BY-4.0", "SPDX", "https://spdx.org/licenses/"),),
        descriptions=(Description("Daily snow cover maps from Sentinel-2."),),
        geo_locations=(GeoLocation("Pyrenees", geo_location_box=GeoBox(-2.0, 3.5, 42.0, 43.5)),),
        extras=Extras(inspire_themes=("http://inspire.ec.europa.eu/theme/lc",),
                      temporal_extent=TemporalExtent("2018-01-01", "2023-12-31"),
                      spatial_extent=(-2.0, 42.0, 3.5, 43.5)),
    ).to_json()  # fmt: skip


def insert(engine: sa.Engine, count: int, batch: int = 5000) -> list[str]:
    """``count`` published records, one second apart, inserted ``batch`` at a time."""
    base = template()
    start = datetime(2020, 1, 1, tzinfo=UTC)
    ids: list[str] = []
    for first in range(0, count, batch):
        rows = []
        for i in range(first, min(count, first + batch)):
            rid = uuid.uuid4().hex
            when = start + timedelta(seconds=i)
            metadata = {**base, "titles": [{"title": f"Snow cover, tile {i}", "lang": "en"}]}
            rows.append({
                "id": rid, "concept_id": rid, "version_no": 1, "state": "published",
                "owner": f"user:producer{i % 20}", "title": f"Snow cover, tile {i}",
                "metadata": metadata, "identifier": f"terrapole:bench/{rid}",
                "source_kind": "collection", "source_id": f"collection-{i % 50}",
                "previous_id": None, "created": when, "updated": when, "published": when,
                "withdrawn_reason": None,
            })  # fmt: skip
            ids.append(rid)
        with engine.begin() as con:
            con.execute(sa.insert(records), rows)
    return ids


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """The app under uvicorn in a thread, on a free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def harvest(url: str, prefix: str) -> tuple[int, float, int]:
    """Records, seconds and pages of a whole ListRecords harvest following tokens."""
    count = pages = 0
    params: dict[str, str] = {"verb": "ListRecords", "metadataPrefix": prefix}
    began = time.perf_counter()
    with httpx.Client(timeout=120) as client:
        while True:
            body = client.get(f"{url}/oai", params=params).content
            pages += 1
            count += body.count(b"<record>")
            found = TOKEN.search(body)
            if found is None:
                return count, time.perf_counter() - began, pages
            params = {"verb": "ListRecords", "resumptionToken": found.group(1).decode()}


def landing_p50(url: str, ids: list[str]) -> str:
    """The median time of /records/{id} over 200 records, if landing pages exist."""
    if importlib.util.find_spec("terrapole.web.records") is None:
        return "skipped: this build has no /records/{id} landing pages (web/records.py)"
    times = []
    with httpx.Client(timeout=60) as client:
        for rid in ids[:: max(1, len(ids) // 200)][:200]:
            began = time.perf_counter()
            response = client.get(f"{url}/records/{rid}", headers={"Accept": "text/html"})
            times.append(time.perf_counter() - began)
            if response.status_code != 200:
                return f"failed: /records/{rid} answered {response.status_code}"
    return f"{statistics.median(times) * 1000:.1f} ms (p50 of {len(times)}; target ≤ 50 ms)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--database", help="a database URL (default: SQLite in a temp folder)")
    parser.add_argument("--dcat-only", action="store_true", help="time the DCAT export alone")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=args.database or "")
        app = create_app(settings)
        services = app.state.services
        began = time.perf_counter()
        ids = insert(services.access.engine, args.records)
        print(f"records: {len(ids)} inserted in {time.perf_counter() - began:.1f} s "
              f"({services.access.engine.dialect.name})")  # fmt: skip
        if not args.dcat_only:
            oai_and_landing(app, ids)
        info = CatalogueInfo(f"{BASE}/dcat", f"{BASE}/", f"{BASE}/records/")
        for fmt in ("turtle", "json-ld"):
            began, cpu = time.perf_counter(), time.process_time()
            size = sum(len(chunk) for chunk in serialize(harvest_of(services), info, fmt))
            print(f"DCAT {fmt}: {size / 1e6:.1f} MB in {time.perf_counter() - began:.1f} s, "
                  f"{time.process_time() - cpu:.1f} s CPU (target ≤ 30 s)")  # fmt: skip


def oai_and_landing(app: Any, ids: list[str]) -> None:
    """ListRecords in both formats and the landing page, over HTTP."""
    with serve(app) as url:
        for prefix in ("oai_dc", "oai_datacite"):
            count, seconds, pages = harvest(url, prefix)
            print(f"ListRecords {prefix}: {count} records in {seconds:.1f} s over {pages} "
                  f"pages = {count / seconds:.0f} records/s (target ≥ 2 000)")  # fmt: skip
        print(f"landing page: {landing_p50(url, ids)}")


if __name__ == "__main__":
    main()
