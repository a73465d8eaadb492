"""The monthly WASP chain: THEIA L2A items of a window -> one Level-3A composite item per month.

For each month of the asked period the synthesis date D0 is the 15th and the window D0 ± 23
days. The inputs are the catalogue's items of the input collection in that window over the
asked bbox; they must share one grid per band (the chain refuses, naming the items, rather than
reprojecting). The outputs (FRC per band, WGT/DTS/FLG per resolution) are ingested like any
product — COGs, footprint, previews, item — with ``derived_from`` links to every input and
``processing:*`` fields, into the output collection.

Idempotent: the output item carries a fingerprint of the chain, its parameters and the inputs'
ids and ``updated`` times; a window whose fingerprint matches the stored output is skipped, and
a window with new or changed inputs is produced again (replacing its output).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import rasterio

from terrapole import __version__
from terrapole.catalog.model import Json, SearchQuery, TimeRange
from terrapole.catalog.store import Store
from terrapole.errors import InvalidInput, NotFound, TerrapoleError
from terrapole.ingest.model import Product, Raster
from terrapole.ingest.service import FINGERPRINT, Ingestor, IngestReport, Staged, stage
from terrapole.processing.wasp import Observation, composite
from terrapole.storage import LocalStorage

NAME = "wasp-monthly"
OUTPUT_COLLECTION = "theia-l3a-wasp"
GROUPS = {"R1": ("B2", "B3", "B4"), "R2": ("B8A", "B11", "B12")}  # 10 m and 20 m bands


@dataclass
class ProductionReport:
    """Per window: produced, unchanged (same inputs), empty (no input) or failed (why)."""

    produced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def months(start: date, end: date) -> Iterator[date]:
    """The synthesis dates (15th of each month) from ``start`` to ``end``."""
    day = date(start.year, start.month, 15)
    while day <= end:
        yield day
        day = date(day.year + day.month // 12, day.month % 12 + 1, 15)


def fingerprint(centre: date, inputs: list[Json]) -> str:
    """Identity of a window's work: chain, version, parameters and inputs (id + updated)."""
    digest = hashlib.sha256(f"{NAME}|{centre.isoformat()}|23|{sorted(GROUPS.items())}".encode())
    for item in sorted(inputs, key=lambda i: i["id"]):
        digest.update(f"{item['id']}|{item['properties'].get('updated')}\n".encode())
    return digest.hexdigest()


def _observation(item: Json, bands: tuple[str, ...], res: str) -> tuple[Observation, Any]:
    keys = [f"FRE_{b}" if f"FRE_{b}" in item["assets"] else f"SRE_{b}" for b in bands]
    missing = [k for k in keys if k not in item["assets"]]
    if missing or "CLM_R2" not in item["assets"]:
        raise InvalidInput("inputs", f"{item['id']} lacks {missing or ['CLM_R2']}")
    arrays, profile = [], None
    for key in keys:
        with rasterio.open(item["assets"][key]["href"]) as ds:
            data = ds.read(1).astype("float64")
            profile = profile or ds.profile
            grid = (profile["crs"], profile["transform"], (profile["height"], profile["width"]))
            if (ds.crs, ds.transform, ds.shape) != grid:
                raise InvalidInput("inputs", f"{item['id']}: {key} is not on the {bands[0]} grid")
        arrays.append(np.where(data == -10000, np.nan, data / 10000))
    with rasterio.open(item["assets"]["CLM_R2"]["href"]) as ds:
        clm = ds.read(1) != 0
    if res == "R1":
        rows, cols = arrays[0].shape
        clm = np.repeat(np.repeat(clm, 2, axis=0), 2, axis=1)[:rows, :cols]
    day = datetime.fromisoformat(item["properties"]["datetime"].replace("Z", "+00:00")).date()
    sensor = "landsat-8" if item["properties"].get("platform") == "landsat-8" else "sentinel-2"
    return Observation(np.stack(arrays), clm, day, sensor), profile


def _write(path: Path, data: Any, profile: Any, nodata: float | None) -> None:
    out = dict(profile)
    out.update(driver="GTiff", count=1, dtype=str(data.dtype), nodata=nodata, compress="deflate")
    with rasterio.open(path, "w", **out) as ds:
        ds.write(data, 1)


def _produce_window(centre: date, inputs: list[Json], tile: str, work: Path) -> Product:
    rasters: list[Raster] = []
    for res, bands in GROUPS.items():
        pairs = [_observation(item, bands, res) for item in inputs]
        grids = {(str(p["crs"]), tuple(p["transform"]), p["width"], p["height"]) for _, p in pairs}
        if len(grids) > 1:
            names = ", ".join(i["id"] for i in inputs)
            raise InvalidInput(
                "inputs", f"{res} bands of {names} lie on {len(grids)} grids; reproject them first"
            )
        profile = pairs[0][1]
        result = composite([o for o, _ in pairs], centre, abs(profile["transform"].a))
        for n, band in enumerate(bands):
            path = work / f"FRC_{band}.tif"
            _write(path, result.frc[n], profile, -10000)
            title = f"{band} composite reflectance"
            roles = ("data", "reflectance")
            raster = Raster(f"FRC_{band}", str(path), title, roles, band, -10000, 1e-4)
            rasters.append(raster)
        for key, data, title, nodata in (
            (f"WGT_{res}", result.wgt, "total weight x1000", None),
            (
                f"DTS_{res}",
                np.nan_to_num(result.dts, nan=-9999.0),
                "mean date (days from D0)",
                -9999.0,
            ),
            (f"FLG_{res}", result.flg, "flag: 0 no data, 1 cloud, 4 land", None),
        ):
            path = work / f"{key}.tif"
            _write(path, data, profile, nodata)
            role = "data-mask" if key.startswith("FLG") else "data"
            rasters.append(Raster(key, str(path), title, ("data", role), nodata=nodata))
    product = Product(
        source=work,
        format="theia-l3a-wasp",
        id=f"WASP_{tile}_{centre:%Y%m%d}",
        collection=OUTPUT_COLLECTION,
        datetime=datetime(centre.year, centre.month, centre.day, 12, tzinfo=UTC),
        rasters=sorted(rasters, key=lambda r: r.key),
        rgb=("FRC_B4", "FRC_B3", "FRC_B2"),
        valid_from="FRC_B2",
        properties={
            "title": f"WASP monthly synthesis {tile} {centre:%Y-%m}",
            "start_datetime": f"{centre - timedelta(days=23)}T00:00:00Z",
            "end_datetime": f"{centre + timedelta(days=23)}T23:59:59Z",
            "processing:level": "L3A",
            "processing:software": {"terrapole": __version__},
            "processing:lineage": (
                f"WASP weighted synthesis of {len(inputs)} L2A products, "
                f"D0 {centre}, window ±23 days"
            ),
            "constellation": "sentinel-2",
        },
        collection_defaults={
            "title": "THEIA-style Level-3A monthly syntheses (WASP)",
            "description": "Cloud-free monthly surface reflectance composites made by terrapole.",
            "license": "etalab-2.0",
        },
    )
    return product


def run(
    store: Store,
    storage: LocalStorage,
    *,
    input_collection: str,
    bbox: tuple[float, float, float, float],
    start: date,
    end: date,
    tile: str,
    on_window: Callable[[str, str], None] = lambda name, outcome: None,
) -> ProductionReport:
    """Produce (or skip, when unchanged) every monthly synthesis of the period."""
    report = ProductionReport()
    ingestor = Ingestor(store, storage)
    for centre in months(start, end):
        window = TimeRange(
            f"{centre - timedelta(days=23)}T00:00:00Z", f"{centre + timedelta(days=23)}T23:59:59Z"
        )
        query = SearchQuery(collections=(input_collection,), bbox=bbox, datetime=window, limit=1000)
        inputs = [storage.localise(i) for i in store.search(query).items]
        name = f"WASP_{tile}_{centre:%Y%m%d}"
        if not inputs:
            report.empty.append(name)
            on_window(name, "empty")
            continue
        print_ = fingerprint(centre, inputs)
        try:
            existing = store.get_item(OUTPUT_COLLECTION, name)
            if existing["properties"].get(FINGERPRINT) == print_:
                report.unchanged.append(name)
                on_window(name, "unchanged")
                continue
        except NotFound:
            pass
        work = Path(tempfile.mkdtemp(dir=storage.staging_root))
        folder = Path(tempfile.mkdtemp(dir=storage.staging_root))
        try:
            product = _produce_window(centre, inputs, tile, work)
            item = stage(product, folder)
            item["properties"][FINGERPRINT] = print_
            item["links"] = [
                {
                    "rel": "derived_from",
                    "href": f"/stac/collections/{i['collection']}/items/{i['id']}",
                    "type": "application/geo+json",
                    "title": i["id"],
                }
                for i in inputs
            ]
            ingest_report = IngestReport()
            staged = Staged(OUTPUT_COLLECTION, name, str(folder), item, product.collection_defaults)
            ingestor.publish(work, staged, ingest_report, lambda n, o: None)
            if ingest_report.rejected:
                raise InvalidInput("output", ingest_report.rejected[0][1])
            report.produced.append(name)
            on_window(name, "produced")
        except TerrapoleError as exc:
            report.failed.append((name, str(exc)))
            on_window(name, "failed")
        finally:
            shutil.rmtree(work, ignore_errors=True)
            shutil.rmtree(folder, ignore_errors=True)
    return report
