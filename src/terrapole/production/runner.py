"""Run a chain over an area and a period: find inputs, skip unchanged work, produce, publish.

Per window: the inputs are searched in the catalogue, and the items of the chain's auxiliary
collections (DEM, tree cover, another chain's product) over them; no input -> ``empty``; the
fingerprint (chain, version — a digest of its code and parameters, see ``provenance`` —,
parameters, area, window, every input's and auxiliary item's id and ``updated``) equals the
stored output's -> ``unchanged``; otherwise the chain's layers are computed on the Dask cluster and
written by its workers (``writer``), turned into COGs (tasks on the workers too) and an item by
the ingest pipeline (provenance as in ``provenance.describe``, software and lineage as every
produced item's) and published by the one publish path, ``ingest.publish`` (``derived_from``
links to every input and auxiliary item; files swapped in, item upserted in one step; a failure
leaves the previous output, or none, in place). Item properties a chain gives as one-element
Dask arrays (the snow line) are computed with the layers.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import perf_counter
from typing import Any

import odc.geo.xr  # noqa: F401  (the .odc accessor on xarray objects)
import xarray as xr
from dask.base import is_dask_collection
from distributed import Client
from odc.geo.geobox import GeoBox

from terrapole.catalog.documents import enclosing_bbox
from terrapole.catalog.model import SearchQuery, TimeRange
from terrapole.catalog.search import search_all
from terrapole.catalog.store import ReadStore, Store
from terrapole.cube import loading
from terrapole.errors import EmptyProduct, NotFound, TerrapoleError
from terrapole.ingest.model import Product, Raster
from terrapole.ingest.publish import Staged, provenance, publish
from terrapole.ingest.service import FINGERPRINT, stage
from terrapole.jsontypes import Json, utc_iso
from terrapole.production.chain import (
    Area,
    Auxiliary,
    Chain,
    Context,
    Output,
    Window,
    item_day,
)
from terrapole.production.provenance import chain_version, describe
from terrapole.production.writer import write_layers
from terrapole.storage import Storage

PRODUCTS_IN_FLIGHT = 2  # per-product windows run side by side (a window's memory is one scene)
_PUBLISHING = threading.Lock()  # the collection's extent is read, merged and written back
Outcome = Callable[[str, str], None]


@dataclass
class ProductionReport:
    """Per window: produced, unchanged (same inputs), empty (no input) or failed (why)."""

    produced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    compute_s: float = 0.0  # computing and writing the layers (wall time, summed over windows)
    publish_s: float = 0.0  # COGs, thumbnails, STAC item, catalogue (the same)

    def add(self, other: ProductionReport) -> None:
        """Append ``other``'s windows and times to this report."""
        self.produced += other.produced
        self.unchanged += other.unchanged
        self.empty += other.empty
        self.failed += other.failed
        self.compute_s += other.compute_s
        self.publish_s += other.publish_s


def inputs_of(
    store: Store, chain: Chain, area: Area, start: datetime, end: datetime,
    ids: tuple[str, ...] | None = None,
) -> list[Json]:  # fmt: skip
    """The chain's input items in the area and period (oldest first)."""
    last = end - timedelta(seconds=1)
    period = TimeRange(utc_iso(start, timespec="seconds"), utc_iso(last, timespec="seconds"))
    query = SearchQuery(
        collections=(chain.input_collection,),
        bbox=area.bbox,
        filter=area.filter(),
        datetime=None if ids else period,
        ids=ids,
    )
    items = search_all(store, query)
    return sorted(items, key=lambda i: (i["properties"].get("datetime") or "", i["id"]))


def windows(store: Store, chain: Chain, area: Area, start: date, end: date) -> Iterator[Window]:
    """The chain's windows over the period (per-product: one per input product in it)."""
    if chain.cadence != "per-product":
        yield from chain.windows(start, end)
        return
    first = datetime.combine(start, time(), UTC)
    last = datetime.combine(end + timedelta(days=1), time(), UTC)
    for item in inputs_of(store, chain, area, first, last):
        yield product_window(item)


def product_window(item: Json) -> Window:
    """The window of a per-product chain for one input item."""
    moment = datetime.fromisoformat(item["properties"]["datetime"].replace("Z", "+00:00"))
    return Window(item["id"], moment, moment + timedelta(seconds=1), item_day(item), item["id"])


Auxiliaries = dict[Auxiliary, list[Json]]


def fingerprint(
    chain: Chain, window: Window, area: Area, inputs: list[Json], auxiliary: Auxiliaries
) -> str:
    """Identity of a window's work: chain, version, parameters, area, window, inputs and the
    auxiliary items (a DEM updated since makes the window's work new)."""
    head = [chain.name, chain_version(chain), chain.parameters(), area.name, window.key]
    digest = hashlib.sha256(json.dumps(head, sort_keys=True, default=str).encode())
    for item in sorted(inputs, key=lambda i: i["id"]):
        digest.update(f"{item['id']}|{item['properties'].get('updated')}\n".encode())
    for need in chain.auxiliaries:
        for item in sorted(auxiliary[need], key=lambda i: i["id"]):
            digest.update(f"{need.collection}|{item['id']}|{item['properties'].get('updated')}\n"
                          .encode())  # fmt: skip
    return digest.hexdigest()


def auxiliaries_of(
    store: ReadStore, storage: Storage, chain: Chain, window: Window, inputs: list[Json]
) -> Auxiliaries:
    """Each declared auxiliary's items over the inputs' extent that hold its asset (the
    ``same_day`` ones acquired on the window's day only), localised."""
    found: Auxiliaries = {}
    for need in chain.auxiliaries:
        day = None
        if need.same_day:
            first = datetime.combine(window.centre, time(), UTC)
            day = TimeRange(
                utc_iso(first, timespec="seconds"),
                utc_iso(first + timedelta(days=1, seconds=-1), timespec="seconds"),
            )
        extent = enclosing_bbox(i["bbox"] for i in inputs)
        query = SearchQuery(collections=(need.collection,), bbox=extent, datetime=day)
        items = [i for i in search_all(store, query) if need.asset in i.get("assets", {})]
        found[need] = [storage.localise(i) for i in sorted(items, key=lambda i: i["id"])]
    return found


def run(
    chain: Chain,
    store: Store,
    storage: Storage,
    client: Client,
    *,
    area: Area,
    start: date,
    end: date,
    on_window: Outcome = lambda name, outcome: None,
    planned: list[Window] | None = None,
) -> ProductionReport:
    """Produce (or skip, when unchanged) every window of the period over the area.

    ``planned``: the windows, when the caller listed them already (for a progress bar).
    """
    todo = planned if planned is not None else list(windows(store, chain, area, start, end))
    return run_windows(chain, store, storage, client, area, todo, on_window)


def run_windows(
    chain: Chain,
    store: Store,
    storage: Storage,
    client: Client,
    area: Area,
    todo: list[Window],
    on_window: Outcome = lambda name, outcome: None,
) -> ProductionReport:
    """:func:`run_window` for each window; the report keeps their order.

    Windows of a per-product chain run ``PRODUCTS_IN_FLIGHT`` at a time, so the cluster
    computes one while another waits on a scene-wide step (the snow line) or is published.
    Monthly and yearly windows, each a stack of many dates, run one after the other.
    """

    def one(window: Window) -> ProductionReport:
        part = ProductionReport()
        run_window(chain, store, storage, client, area, window, part, on_window)
        return part

    side_by_side = PRODUCTS_IN_FLIGHT if chain.cadence == "per-product" else 1
    report = ProductionReport()
    with ThreadPoolExecutor(side_by_side) as pool:
        for part in pool.map(one, todo):
            report.add(part)
    return report


def run_window(
    chain: Chain,
    store: Store,
    storage: Storage,
    client: Client,
    area: Area,
    window: Window,
    report: ProductionReport,
    on_window: Outcome = lambda name, outcome: None,
) -> None:
    """One window: skip, produce or report why not (the report says which)."""
    name = chain.output_id(window, area)
    ids = (window.item,) if window.item else None
    found = inputs_of(store, chain, area, window.start, window.end, ids)
    if not found:
        report.empty.append(name)
        on_window(name, "empty")
        return
    inputs = [storage.localise(i) for i in found]
    auxiliary = auxiliaries_of(store, storage, chain, window, inputs)
    print_ = fingerprint(chain, window, area, inputs, auxiliary)
    try:
        existing = store.get_item(chain.output_collection, name)
        if existing["properties"].get(FINGERPRINT) == print_:
            report.unchanged.append(name)
            on_window(name, "unchanged")
            return
    except NotFound:
        pass
    work = storage.new_staging(f"{chain.name}-work-")
    folder = storage.new_staging(f"{chain.name}-")
    try:
        started = perf_counter()
        product = _product(chain, storage, client, area, window, inputs, auxiliary, work, name)
        report.compute_s += perf_counter() - started
        started = perf_counter()
        item = stage(product, folder, executor=client.get_executor(pure=False))
        item["properties"][FINGERPRINT] = print_
        used = [i for items in auxiliary.values() for i in items]
        sources = [(i["collection"], i["id"]) for i in (*inputs, *used)]
        staged = Staged(
            chain.output_collection, name, str(folder), item, product.collection_defaults
        )
        with _PUBLISHING:  # windows side by side: one at a time updates the output collection
            publish(store, storage, staged, sources=sources)
        report.publish_s += perf_counter() - started
        report.produced.append(name)
        on_window(name, "produced")
    except EmptyProduct:
        report.empty.append(name)
        on_window(name, "empty")
    except (TerrapoleError, ValueError) as exc:
        report.failed.append((name, str(exc)))
        on_window(name, "failed")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)


def lazy_output(chain: Chain, store: Store, storage: Storage, area: Area, window: Window) -> Output:
    """What the chain makes of a window, not yet computed (its layers are dask arrays)."""
    ids = (window.item,) if window.item else None
    inputs = [storage.localise(i) for i in inputs_of(store, chain, area, window.start,
                                                     window.end, ids)]  # fmt: skip
    auxiliary = auxiliaries_of(store, storage, chain, window, inputs)
    context, _ = _context(area, window, inputs, auxiliary)
    return chain.produce(context)


def _lineage(chain: Chain, inputs: list[Json], auxiliaries: Auxiliaries) -> str:
    """One sentence: the chain, its version, its inputs and the auxiliary items it read."""
    text = (f"terrapole {chain.name} chain (version {chain_version(chain)}) on {len(inputs)} "
            f"{chain.input_collection} product(s)")  # fmt: skip
    used = [f"{n.collection} {', '.join(i['id'] for i in items)}"
            for n, items in auxiliaries.items() if items]  # fmt: skip
    missing = [n.collection for n, items in auxiliaries.items() if not items]
    if used:
        text += "; with " + "; ".join(used)
    if missing:
        text += "; no " + ", no ".join(missing) + " item covered the inputs"
    return text


def _context(
    area: Area, window: Window, inputs: list[Json], auxiliaries: Auxiliaries
) -> tuple[Context, list[str]]:
    reprojected: list[str] = []

    def load(
        keys: tuple[str, ...],
        resolution: float,
        resampling: str | dict[str, str] = "nearest",
        chunk: int = loading.CHUNK,
    ) -> xr.Dataset:
        geobox = loading.grid(inputs, keys, resolution, area.bbox)
        stack = loading.load(inputs, keys, geobox, resampling, chunk)
        reprojected.extend(i for i in stack.reprojected if i not in reprojected)
        return stack.data

    def load_bands(
        keys: tuple[str, ...],
        resolution: float,
        chunk: int = loading.CHUNK,
        like: GeoBox | None = None,
    ) -> xr.DataArray:
        geobox = like or loading.grid(inputs, keys, resolution, area.bbox)
        bands, moved = loading.load_bands(inputs, keys, geobox, chunk)
        reprojected.extend(i for i in moved if i not in reprojected)
        return bands

    def auxiliary(collection: str, key: str, like: xr.Dataset) -> xr.DataArray | None:
        needs = [n for n in auxiliaries if n.collection == collection and n.asset == key]
        if not needs:  # what a chain reads must be declared: it is linked and fingerprinted
            raise LookupError(f"the chain did not declare the auxiliary {collection}/{key}")
        found = auxiliaries[needs[0]]
        if not found:
            return None
        chunk = max(like.chunks["y"]) if like.chunks else loading.CHUNK  # as ``like``'s
        mosaic: xr.DataArray = loading.load_mosaic(found, key, like.odc.geobox, chunk=chunk)
        return mosaic

    return Context(window, area, inputs, load, load_bands, auxiliary), reprojected


def _product(
    chain: Chain,
    storage: Storage,
    client: Client,
    area: Area,
    window: Window,
    inputs: list[Json],
    auxiliaries: Auxiliaries,
    work: Path,
    name: str,
) -> Product:
    """Compute and write the chain's layers; describe them as a product for the ingest pipeline."""
    context, reprojected = _context(area, window, inputs, auxiliaries)
    with client.as_current():  # what the chain persists goes to this cluster, not the default
        output = chain.produce(context)
        lazy = {k: v for k, v in output.properties.items() if is_dask_collection(v)}
        paths, values = write_layers(output.layers, work, client, lazy)
    output.properties.update(values)
    rasters = [
        Raster(
            layer.key,
            str(paths[layer.key]),
            layer.title,
            layer.roles,
            layer.band,
            layer.nodata,
            layer.scale,
            unit=layer.unit,
            classes=layer.classes,
        )  # fmt: skip
        for layer in output.layers
    ]
    properties: dict[str, Any] = {
        "title": f"{chain.title} {name}",
        "processing:level": chain.level,
        **describe(chain),
        **provenance(_lineage(chain, inputs, auxiliaries)),
    }
    if reprojected:
        properties["terrapole:reprojected"] = reprojected
    if window.item is not None:  # per product: the input's acquisition
        source = inputs[0]["properties"]
        moment = datetime.fromisoformat(source["datetime"].replace("Z", "+00:00"))
        for key in ("platform", "constellation", "instruments", "theia:tile"):
            if key in source:
                properties[key] = source[key]
    else:
        moment = datetime.combine(window.centre, time(12), UTC)
        properties["start_datetime"] = utc_iso(window.start, timespec="seconds")
        properties["end_datetime"] = utc_iso(window.end - timedelta(seconds=1), timespec="seconds")
        if area.tile:
            properties["theia:tile"] = area.tile
    properties.update(output.properties)
    return Product(
        source=work,
        format=chain.name,
        id=name,
        collection=chain.output_collection,
        datetime=moment,
        rasters=sorted(rasters, key=lambda r: r.key),
        rgb=output.rgb,
        valid_from=output.valid_from or output.layers[0].key,
        properties=properties,
        collection_defaults={
            "title": chain.collection_title,
            "description": chain.collection_description,
            "license": "etalab-2.0",
        },
    )
