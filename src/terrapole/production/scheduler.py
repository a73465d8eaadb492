"""Production by itself: find what new or changed inputs affect, and produce it.

A tick, per chain (in registry order, so per-product outputs exist before the yearly chains
that read them): the input items updated since the chain's watermark are listed; each one
affects its own window (per-product chains) or the monthly/yearly windows holding its date,
over its tile (``theia:tile``, else its bbox). Windows already over are run (unchanged ones are
skipped by their fingerprint); an open window waits, and its items keep the watermark from
moving past them, so a later tick produces it once it has closed. The watermarks live in
``<data_dir>/production-state.json`` (written atomically).

The server runs ticks in a background thread every ``production_interval_s`` and right after an
API ingest; ``terrapole ingest --produce`` and ``terrapole produce --due`` run one tick.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from distributed import Client

from terrapole.catalog.model import SearchQuery
from terrapole.catalog.search import search_all
from terrapole.catalog.store import Store, open_store
from terrapole.config import Settings
from terrapole.cube.cluster import dask_client
from terrapole.jsontypes import Json, utc_iso
from terrapole.production.chain import Area, Chain, Window, item_day
from terrapole.production.registry import chain as find_chain
from terrapole.production.runner import ProductionReport, product_window, run_windows
from terrapole.storage import open_storage

logger = logging.getLogger(__name__)
EPOCH = "1970-01-01T00:00:00Z"


@dataclass
class Due:
    """The work a tick found for one chain: windows by area, and the next watermark."""

    work: dict[Area, list[Window]] = field(default_factory=dict)
    watermark: str = EPOCH
    waiting: int = 0  # windows still open


def _area(item: Json) -> Area:
    tile = item["properties"].get("theia:tile")
    return Area(tile=tile) if tile else Area(bbox=tuple(item["bbox"][:2] + item["bbox"][-2:]))


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def due(chain: Chain, store: Store, since: str, now: datetime) -> Due:
    """The windows that inputs updated after ``since`` affect, closed by ``now``."""
    # watermarks are fixed-width UTC text (microseconds): their text order is their time order
    after = utc_iso(_moment(since), timespec="microseconds")
    newer = {"op": ">", "args": [{"property": "updated"}, {"timestamp": after}]}
    query = SearchQuery(collections=(chain.input_collection,), filter=newer)
    changed = [(_moment(i["properties"]["updated"]), i) for i in search_all(store, query)]
    result = Due(watermark=utc_iso(now, timespec="microseconds"))
    seen: set[tuple[Area, str]] = set()
    for updated, item in sorted(changed, key=lambda c: c[0]):
        area = _area(item)
        day = item_day(item)
        if chain.cadence == "per-product":
            found = [product_window(item)]
        else:
            span = chain.windows(day - timedelta(days=400), day + timedelta(days=31))
            found = [w for w in span if w.start.date() <= day < w.end.date()]
        for window in found:
            if not window.closed(now) and chain.cadence != "per-product":
                result.waiting += 1  # look at this item again next tick
                before = utc_iso(updated - timedelta(microseconds=1), timespec="microseconds")
                result.watermark = min(result.watermark, before)
                continue
            if (area, window.key) not in seen:
                seen.add((area, window.key))
                result.work.setdefault(area, []).append(window)
    return result


class Scheduler:
    """Runs ticks for the configured chains; keeps the watermarks."""

    def __init__(self, settings: Settings, chains: list[str]) -> None:
        self.settings = settings
        self.chains = [find_chain(name, settings) for name in chains]
        self.state_path = Path(settings.data_dir) / "production-state.json"
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def _state(self) -> dict[str, str]:
        if not self.state_path.is_file():
            return {}
        state: dict[str, str] = json.loads(self.state_path.read_text())
        return state

    def _save(self, state: dict[str, str]) -> None:
        temporary = self.state_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=1))
        os.replace(temporary, self.state_path)

    def tick(self, client: Client, store: Store) -> dict[str, ProductionReport]:
        """One pass over every chain; returns what each did."""
        storage = open_storage(self.settings)
        reports: dict[str, ProductionReport] = {}
        now = datetime.now(UTC)
        for chain in self.chains:
            state = self._state()
            found = due(chain, store, state.get(chain.name, EPOCH), now)
            report = ProductionReport()
            for area, planned in found.work.items():
                report.add(run_windows(chain, store, storage, client, area, planned))
            state[chain.name] = found.watermark
            self._save(state)
            reports[chain.name] = report
            if report.produced or report.failed:
                logger.info(
                    "%s: produced %d, unchanged %d, empty %d, failed %d, waiting %d",
                    chain.name, len(report.produced), len(report.unchanged), len(report.empty),
                    len(report.failed), found.waiting,
                )  # fmt: skip
            for name, reason in report.failed:
                logger.warning("%s: %s failed: %s", chain.name, name, reason)
        return reports

    def start(self) -> None:
        """Tick in a background thread now, then every interval or when woken."""

        def loop() -> None:
            store = open_store(self.settings)
            try:
                with dask_client(self.settings, processes=self.settings.dask_processes) as client:
                    while not self.stopping.is_set():
                        try:
                            self.tick(client, store)
                        except Exception:  # a failed tick is logged; the next one retries
                            logger.exception("production tick failed")
                        self.wake.wait(self.settings.production_interval_s)
                        self.wake.clear()
            finally:
                store.close()

        self.thread = threading.Thread(target=loop, name="production", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Ask the loop to end and wait for the current tick."""
        self.stopping.set()
        self.wake.set()
        if self.thread is not None:
            self.thread.join(timeout=60)
