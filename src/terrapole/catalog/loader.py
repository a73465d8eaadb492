"""Bulk loading of STAC JSON/NDJSON files into a Store, with a report of what happened.

Policy for bad input (documented in the README): a document that fails to parse or validate is
rejected with its file and line and the rest are loaded; each batch of valid items is written in
one transaction, so a batch is never half-written.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from terrapole.catalog.documents import PreparedItem, prepare_collection, prepare_item
from terrapole.catalog.model import LoadReport, Rejection
from terrapole.catalog.store import OnConflict, Store
from terrapole.config import MAX_ITEM_BYTES
from terrapole.errors import AlreadyExists, InvalidInput, NotFound
from terrapole.jsontypes import Json
from terrapole.worker_pool import worker_pool

BATCH = 2000


@dataclass(frozen=True)
class Document:
    """One JSON document read from a file, with where it came from."""

    where: str
    doc: Any


def _documents(path: Path) -> Iterator[Document | Rejection]:
    if path.suffix in (".ndjson", ".jsonl"):
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield Document(f"{path.name}:{number}", orjson.loads(line))
                except orjson.JSONDecodeError as exc:
                    yield Rejection(f"{path.name}:{number}", f"malformed JSON ({exc})")
        return
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        yield Rejection(path.name, f"malformed JSON ({exc})")
        return
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        for number, feature in enumerate(data.get("features") or [], start=1):
            yield Document(f"{path.name}#{number}", feature)
    elif isinstance(data, list):
        for number, doc in enumerate(data, start=1):
            yield Document(f"{path.name}#{number}", doc)
    elif isinstance(data, dict) and isinstance(data.get("collections"), list):
        for number, doc in enumerate(data["collections"], start=1):
            yield Document(f"{path.name}#{number}", doc)
    else:
        yield Document(path.name, data)


def expand(paths: list[Path]) -> list[Path]:
    """Files to read: given files, and *.json/*.ndjson/*.geojson under given folders."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(
                sorted(p for p in path.rglob("*") if p.suffix in (".json", ".ndjson", ".geojson"))
            )
        elif path.exists():
            out.append(path)
        else:
            raise InvalidInput("path", f"{path} does not exist")
    return out


def _is_collection(doc: Any) -> bool:
    return isinstance(doc, dict) and (
        doc.get("type") == "Collection" or ("extent" in doc and "license" in doc)
    )


def load_paths(
    store: Store,
    paths: list[Path],
    *,
    on_conflict: OnConflict = "skip",
    collection: str | None = None,
    progress: Callable[[int], None] = lambda n: None,
    workers: int = 1,
    max_item_bytes: int = MAX_ITEM_BYTES,
) -> LoadReport:
    """Load collections and items from ``paths``, streaming; ``progress(n)`` per document.

    Memory stays bounded by a few batches: documents are read, checked and written as they
    come. With ``workers`` > 1, NDJSON lines are parsed and checked in that many processes
    while this one writes (results are used in file order). Items whose collection is not
    there yet wait (only they) until every file has been read, so a collection file listed
    after its items still works. An item over ``max_item_bytes`` of JSON is rejected.
    """
    report = LoadReport()
    batch: list[PreparedItem] = []
    waiting: list[PreparedItem] = []
    with _pool(workers) as pool:
        for file in expand(paths):
            for entry in _prepared(file, Limits(collection, max_item_bytes), pool):
                if isinstance(entry, Rejection):
                    report.rejected.append(entry)
                    progress(1)
                elif isinstance(entry, Document):
                    _load_collection(store, entry, on_conflict, report)
                    progress(1)
                else:
                    batch.append(entry)
                    if len(batch) >= BATCH:
                        _flush(store, batch, on_conflict, report, progress, waiting)
                        batch = []
    _flush(store, batch, on_conflict, report, progress, waiting)
    for start in range(0, len(waiting), BATCH):
        _flush(store, waiting[start : start + BATCH], on_conflict, report, progress, None)
    return report


Prepared = PreparedItem | Rejection | Document  # a collection stays a Document


@contextmanager
def _pool(workers: int) -> Iterator[ProcessPoolExecutor | None]:
    if workers <= 1:
        yield None
        return
    with worker_pool(workers) as pool:  # its workers exit with this process
        yield pool


@dataclass(frozen=True)
class Limits:
    """What every item of a load is checked against: its default collection and largest size."""

    collection: str | None
    max_item_bytes: int


def prepare_lines(name: str, first: int, lines: list[bytes], limits: Limits) -> list[Prepared]:
    """Parse and check NDJSON lines (numbered from ``first``); runs in a worker process."""
    out: list[Prepared] = []
    for number, line in enumerate(lines, start=first):
        where = f"{name}:{number}"
        if not line.strip():
            continue
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            out.append(Rejection(where, f"malformed JSON ({exc})"))
            continue
        out.append(_prepare(Document(where, doc), limits))
    return out


def _prepare(entry: Document, limits: Limits) -> Prepared:
    if _is_collection(entry.doc):
        return entry
    try:
        return prepare_item(
            entry.doc, collection=limits.collection, max_bytes=limits.max_item_bytes
        )
    except InvalidInput as exc:
        return Rejection(entry.where, exc.message)


def _chunks(path: Path) -> Iterator[tuple[int, list[bytes]]]:
    with path.open("rb") as handle:
        first, lines = 1, []
        for line in handle:
            lines.append(line)
            if len(lines) == BATCH:
                yield first, lines
                first, lines = first + BATCH, []
        if lines:
            yield first, lines


def _prepared(path: Path, limits: Limits, pool: ProcessPoolExecutor | None) -> Iterator[Prepared]:
    """Every document of ``path`` checked, in file order (NDJSON chunks in parallel)."""
    if path.suffix not in (".ndjson", ".jsonl"):
        for entry in _documents(path):
            yield entry if isinstance(entry, Rejection) else _prepare(entry, limits)
        return
    if pool is None:
        for first, lines in _chunks(path):
            yield from prepare_lines(path.name, first, lines, limits)
        return
    ahead: deque[Future[list[Prepared]]] = deque()
    limit = 4  # bounded read-ahead: memory stays a few batches
    for first, lines in _chunks(path):
        ahead.append(pool.submit(prepare_lines, path.name, first, lines, limits))
        if len(ahead) >= limit:
            yield from ahead.popleft().result()
    while ahead:
        yield from ahead.popleft().result()


def _load_collection(
    store: Store, entry: Document, on_conflict: OnConflict, report: LoadReport
) -> None:
    try:
        doc = prepare_collection(entry.doc)
        if on_conflict == "upsert":
            store.upsert_collection(doc)
        else:
            store.create_collection(doc)
        report.loaded += 1
    except AlreadyExists as exc:
        if on_conflict == "error":
            report.rejected.append(Rejection(entry.where, exc.message))
        else:
            report.skipped += 1
    except InvalidInput as exc:
        report.rejected.append(Rejection(entry.where, exc.message))


def _flush(
    store: Store,
    batch: list[PreparedItem],
    on_conflict: OnConflict,
    report: LoadReport,
    progress: Callable[[int], None],
    waiting: list[PreparedItem] | None,
) -> None:
    """Write ``batch``; items of a missing collection go to ``waiting`` (or are rejected)."""
    if not batch:
        return
    try:
        report.merge(store.load_items(batch, on_conflict=on_conflict))
    except NotFound:
        # One unknown collection must not sink the batch: load per collection instead.
        by_collection: dict[str, list[PreparedItem]] = {}
        for item in batch:
            by_collection.setdefault(item.collection, []).append(item)
        for name, group in by_collection.items():
            try:
                report.merge(store.load_items(group, on_conflict=on_conflict))
            except NotFound as inner:
                if waiting is not None:
                    waiting.extend(group)
                    continue
                report.rejected.extend(Rejection(f"{name}/{i.id}", inner.message) for i in group)
            except AlreadyExists as inner:
                report.rejected.extend(Rejection(f"{name}/{i.id}", inner.message) for i in group)
            progress(len(group))
        return
    except AlreadyExists as exc:
        report.rejected.extend(Rejection(f"{i.collection}/{i.id}", exc.message) for i in batch)
    progress(len(batch))


def count_documents(paths: list[Path]) -> int:
    """Rough number of documents (lines of NDJSON, one per JSON file) for a progress bar."""
    total = 0
    for file in expand(paths):
        if file.suffix in (".ndjson", ".jsonl"):
            with file.open("rb") as handle:
                total += sum(1 for line in handle if line.strip())
        else:
            total += 1
    return total


def as_json(report: LoadReport) -> Json:
    """The report as a JSON-able dict."""
    return {
        "loaded": report.loaded,
        "skipped": report.skipped,
        "rejected": [{"where": r.where, "reason": r.reason} for r in report.rejected],
    }
