"""Cost of the usage statistics: what the middleware adds to a request, and how fast batches go
into the daily rollup.

1. The middleware alone, in process (no HTTP): a tiny ASGI app answering 1 KiB, called bare
   and behind ``UsageMiddleware`` (a counted search path), µs per request.
2. The whole application: ``GET /stac/search`` (the 100 real Sentinel-2 items of demo/) through
   ``TestClient``, with the middleware and with it taken out of the same app, interleaved in
   rounds; the median of each, and their ratio.
3. ``UsageRecorder.flush``: events per second merged into ``tp_usage_daily`` (SQLite).

    python benchmarks/usage.py
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from terrapole import db
from terrapole.access.usage import Event, UsageRecorder
from terrapole.app import create_app
from terrapole.catalog.documents import prepare_item
from terrapole.config import Settings
from terrapole.web.usage import UsageMiddleware

ROOT = Path(__file__).resolve().parents[1]
S2 = ROOT / "demo" / "catalog" / "sentinel-2-l2a"
BODY = b"x" * 1024


async def _tiny(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": BODY})


def middleware_alone(n: int = 50_000) -> tuple[float, float]:
    """µs per call of the bare app and of the app behind the middleware."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = db.open_engine(f"sqlite:///{tmp}/usage.db")
        recorder = UsageRecorder(engine, interval_s=3600)  # no flush during the timing
        wrapped = UsageMiddleware(_tiny, services=None, recorder=recorder)  # type: ignore[arg-type]
        scope: Scope = {"type": "http", "method": "GET", "path": "/stac/search",
                        "query_string": b"collections=s2", "headers": [],
                        "state": {}}  # fmt: skip

        async def receive() -> Message:
            return {"type": "http.request", "body": b""}

        async def send(message: Message) -> None:
            return None

        async def loop(app: Any) -> float:
            start = time.perf_counter()
            for _ in range(n):
                await app(dict(scope), receive, send)
            return (time.perf_counter() - start) / n * 1e6

        bare = asyncio.run(loop(_tiny))
        counted = asyncio.run(loop(wrapped))
        recorder.close()
        engine.dispose()
    return bare, counted


def whole_app(rounds: int = 5, n: int = 200) -> tuple[float, float]:
    """Median ms of GET /stac/search with and without the middleware."""
    with tempfile.TemporaryDirectory() as tmp:
        with_usage = create_app(Settings(data_dir=Path(tmp) / "a"))
        without = create_app(Settings(data_dir=Path(tmp) / "b"))
        without.user_middleware = [
            m for m in without.user_middleware if m.cls is not UsageMiddleware
        ]
        collection = json.loads((S2 / "collection.json").read_text())
        items = [json.loads(line) for line in (S2 / "items-13tde.ndjson").read_text().splitlines()]
        for app in (with_usage, without):
            store = app.state.services.store
            store.create_collection(collection)
            store.load_items([prepare_item(doc) for doc in items])
        url = f"/stac/search?collections={collection['id']}&limit=10"
        times: dict[str, list[float]] = {"with": [], "without": []}
        with TestClient(with_usage) as a, TestClient(without) as b:
            for client in (a, b):  # warm up
                for _ in range(20):
                    client.get(url)
            for _ in range(rounds):
                for name, client in (("with", a), ("without", b)):
                    for _ in range(n):
                        start = time.perf_counter()
                        assert client.get(url).status_code == 200
                        times[name].append((time.perf_counter() - start) * 1e3)
    return statistics.median(times["with"]), statistics.median(times["without"])


def flush_rate(events: int = 200_000) -> float:
    """Events per second from ``record`` to rows merged, 40 principals x 10 collections."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = db.open_engine(f"sqlite:///{tmp}/usage.db")
        recorder = UsageRecorder(engine, interval_s=3600)
        now = datetime.now(UTC)
        start = time.perf_counter()
        for n in range(events):
            recorder.record(Event("search", "stac", f"token-{n % 40}", f"c{n % 10}", at=now))
            if n % 20_000 == 19_999:
                recorder.flush()
        recorder.close()
        rate = events / (time.perf_counter() - start)
        engine.dispose()
    return rate


def main() -> None:
    """Print the figures."""
    bare, counted = middleware_alone()
    print(f"middleware alone: bare app {bare:.1f} µs, behind UsageMiddleware {counted:.1f} µs "
          f"(+{counted - bare:.1f} µs per request)")  # fmt: skip
    with_ms, without_ms = whole_app()
    print(f"GET /stac/search (100 S2 items, limit 10): median {with_ms:.2f} ms with, "
          f"{without_ms:.2f} ms without; ratio {with_ms / without_ms:.3f}")  # fmt: skip
    print(f"record + batched flush (SQLite): {flush_rate():,.0f} events/s")


if __name__ == "__main__":
    sys.exit(main())
