"""Ingest products: read, write COGs and previews in a staging folder, then publish atomically.

Per product: the reader describes it (cheap); an unchanged product (same source fingerprint as
the stored item) stops there. Otherwise a worker process writes the per-band COGs, the
footprint, cloud cover and previews into a private staging folder; the main process then swaps
the folder in and writes the item in one store transaction — if that fails, the old files come
back. Products are independent: one bad product is reported and the rest go through.
"""

from __future__ import annotations

import glob
import hashlib
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import rasterio
from rasterio.errors import RasterioError

from terrapole.catalog.store import Store
from terrapole.errors import (
    EmptyProduct,
    InvalidProduct,
    NotFound,
    NotPublished,
    TerrapoleError,
)
from terrapole.ingest.cog import WrittenFile, describe, link_cog, write_cog
from terrapole.ingest.footprint import band_statistics, cloud_cover, data_footprint
from terrapole.ingest.items import build_item
from terrapole.ingest.model import Product, Raster
from terrapole.ingest.publish import Staged, publish
from terrapole.ingest.quicklook import QUICKLOOK_SIDE, THUMBNAIL_SIDE, preview_png
from terrapole.ingest.readers import read_product
from terrapole.ingest.readers.muscate import BAND_FILE
from terrapole.jsontypes import Json
from terrapole.storage import Storage
from terrapole.worker_pool import worker_pool

PRODUCT_SUFFIXES = (".zip", ".tif", ".tiff")
FINGERPRINT = "terrapole:source_fingerprint"


@dataclass
class IngestReport:
    """What happened to each input: ingested, unchanged (already there) or rejected (why)."""

    ingested: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)


def _is_product_dir(path: Path) -> bool:
    return any(BAND_FILE.search(p.name) or p.name == "MTD_MSIL2A.xml" for p in path.iterdir())


def expand(inputs: list[str]) -> Iterator[Path]:
    """Products named by ``inputs``: files, product folders, folders of products, globs."""
    for raw in inputs:
        matches = sorted(glob.glob(raw)) if glob.has_magic(raw) else [raw]
        if not matches:
            yield Path(raw)  # reported as "does not exist"
        for match in matches:
            found = list(_walk(Path(match)))
            yield from found or [Path(match)]  # a folder with no product is reported, not skipped


def _walk(path: Path) -> Iterator[Path]:
    if path.is_dir() and not _is_product_dir(path):
        for child in sorted(path.iterdir()):
            if child.name.startswith("."):
                continue
            if child.is_dir() or child.suffix.lower() in PRODUCT_SUFFIXES:
                yield from _walk(child)
    else:
        yield path


def check_allowed(path: Path, roots: list[Path]) -> None:
    """Refuse a path outside the configured ingest roots (when any are configured)."""
    if not roots:
        return
    real = path.resolve()
    if not any(real.is_relative_to(root.resolve()) for root in roots):
        raise InvalidProduct(str(path), "is outside the allowed ingest roots")


def fingerprint(path: Path, reader: str = "") -> str:
    """Identity of the source bytes (names, sizes and modification times of its files) and of
    the ``reader`` version that described them: a new metadata mapping changes it too."""
    digest = hashlib.sha256()
    if reader:
        digest.update(f"reader\0{reader}\n".encode())
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        stat = file.stat()
        rel = file.name if path.is_file() else file.relative_to(path).as_posix()
        digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def stage_product(
    path: str, collection: str | None, folder: str, in_place: bool = False
) -> Staged | str:
    """Worker: write COGs, previews and the item for one product into ``folder`` (a staging
    folder of the calling process, removed here on failure); an error string on failure."""
    try:
        product = read_product(Path(path), collection)
        item = stage(product, Path(folder), in_place)
        item["properties"][FINGERPRINT] = fingerprint(Path(path), product.reader)
        return Staged(product.collection, product.id, folder, item, product.collection_defaults)
    except TerrapoleError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return str(exc)
    except Exception as exc:  # a reader or GDAL failure we did not foresee: report, go on
        shutil.rmtree(folder, ignore_errors=True)
        return f"{path}: {type(exc).__name__}: {exc}"


def check_consistent(product: Product) -> None:
    """All rasters share one CRS and cover the same ground (to a pixel of the coarsest)."""
    grids = []
    for raster in product.rasters:
        try:
            with rasterio.open(raster.path) as ds:
                grids.append((raster.key, ds.crs, ds.bounds, ds.res, ds.width, ds.height))
        except RasterioError as exc:
            raise InvalidProduct(raster.path, f"cannot be read as a raster ({exc})") from exc
    key0, crs0, bounds0, _, _, _ = grids[0]
    tolerance = max(max(g[3]) for g in grids)
    for key, crs, bounds, res, width, height in grids[1:]:
        if crs != crs0:
            raise InvalidProduct(str(product.source), f"{key} is in {crs}, {key0} in {crs0}")
        if max(abs(a - b) for a, b in zip(bounds, bounds0, strict=True)) > tolerance:
            raise InvalidProduct(
                str(product.source),
                f"band sizes do not match: {key} is {width}x{height} px at {res[0]:g} m "
                f"covering {tuple(round(v) for v in bounds)}, {key0} covers "
                f"{tuple(round(v) for v in bounds0)}",
            )


def _pixels(path: str) -> int:
    with rasterio.open(path) as ds:
        return int(ds.width * ds.height)


def stage_raster(
    raster: Raster, folder: Path, in_place: bool = False
) -> tuple[WrittenFile, dict[str, float]]:
    """One raster's COG (written, or linked with ``in_place``) and its statistics."""
    target = folder / f"{raster.key}.tif"
    linked = link_cog(raster, target) if in_place else None
    written = linked or write_cog(raster, target)
    return written, band_statistics(str(target), raster.nodata)


def stage(
    product: Product, folder: Path, in_place: bool = False, executor: Executor | None = None
) -> Json:
    """Write the COGs, then derive footprint, cloud cover and previews from their overviews.

    ``in_place``: rasters that already are valid single-band COGs are linked, not copied.
    ``executor``: where the COGs are written, one raster a task (a thread pool, or a Dask
    cluster whose workers see ``folder``); without one, here, one after the other.
    """
    check_consistent(product)
    run_all = executor.map if executor else map
    task = partial(stage_raster, folder=folder, in_place=in_place)
    # the largest first, so that the workers end together
    order = sorted(product.rasters, key=lambda r: -_pixels(r.path))
    done = dict(zip((r.key for r in order), run_all(task, order), strict=True))
    staged = [done[r.key] for r in product.rasters]
    written = {r.key: w for r, (w, _) in zip(product.rasters, staged, strict=True)}
    stats = {r.key: s for r, (_, s) in zip(product.rasters, staged, strict=True)}
    cogs = {r.key: replace(r, path=str(folder / f"{r.key}.tif"), index=1) for r in product.rasters}
    valid = cogs[product.valid_from or product.rasters[0].key]
    footprint = data_footprint(valid.path, valid.index, valid.nodata)
    if footprint is None:
        raise EmptyProduct(str(product.source), "no valid pixel (empty footprint): not ingested")
    cloud = None
    if product.cloud_mask is not None:
        mask = cogs[product.cloud_mask]
        cloud = cloud_cover(mask.path, valid.path, valid.index, valid.nodata, product.cloudy_values)
    sources = [cogs[k] for k in product.rgb] if product.rgb else [valid]
    sizes = {"thumbnail": THUMBNAIL_SIDE, "quicklook": QUICKLOOK_SIDE}
    pngs = run_all(partial(preview_png, sources), sizes.values())
    previews: dict[str, WrittenFile] = {}
    for key, png in zip(sizes, pngs, strict=True):
        target = folder / f"{key}.png"
        target.write_bytes(png)
        previews[key] = describe(target)
    return build_item(product, footprint, written, previews, cloud, stats)


class Ingestor:
    """Ingest products into a store and a storage, with ``workers`` processes."""

    def __init__(self, store: Store, storage: Storage, *, roots: list[Path] | None = None) -> None:
        self.store = store
        self.storage = storage
        self.roots = roots or []

    def _unchanged(self, path: Path, collection: str | None) -> str | None:
        product = read_product(path, collection)
        try:
            item = self.store.get_item(product.collection, product.id)
        except NotFound:
            return None
        same = item["properties"].get(FINGERPRINT) == fingerprint(path, product.reader)
        return product.id if same else None

    def run(
        self,
        inputs: list[str],
        *,
        collection: str | None = None,
        workers: int = 1,
        in_place: bool = False,
        on_product: Callable[[str, str], None] | None = None,
    ) -> IngestReport:
        """Ingest every product of ``inputs``; ``on_product(name, outcome)`` after each.

        ``in_place`` registers rasters that already are COGs without copying them.
        """
        report = IngestReport()
        notify = on_product or (lambda name, outcome: None)
        todo: list[Path] = []
        for path in expand(inputs):
            try:
                check_allowed(path, self.roots)
                same = self._unchanged(path, collection)
            except TerrapoleError as exc:
                report.rejected.append((str(path), str(exc)))
                notify(path.name, "rejected")
                continue
            if same is not None:
                report.unchanged.append(same)
                notify(path.name, "unchanged")
            else:
                todo.append(path)
        # the folders belong to this process (workers die with it): a crash leaves debris
        # that the next start-up's clean_stale_staging removes
        folders = [str(self.storage.new_staging("ingest-")) for _ in todo]
        try:
            if workers > 1 and len(todo) > 1:
                with worker_pool(workers) as pool:
                    futures: list[tuple[Path, Future[Staged | str]]] = [
                        (p, pool.submit(stage_product, str(p), collection, f, in_place))
                        for p, f in zip(todo, folders, strict=True)
                    ]
                    for path, future in futures:
                        self.publish(path, future.result(), report, notify)
            else:
                for path, folder in zip(todo, folders, strict=True):
                    staged = stage_product(str(path), collection, folder, in_place)
                    self.publish(path, staged, report, notify)
        finally:
            for folder in folders:
                shutil.rmtree(folder, ignore_errors=True)
        return report

    def publish(
        self,
        path: Path,
        staged: Staged | str,
        report: IngestReport,
        notify: Callable[[str, str], None],
    ) -> None:
        """Publish one staged product (:func:`terrapole.ingest.publish.publish`); report the
        outcome: ingested, or rejected with the reason (a failed staging's, or the refusal's)."""
        if isinstance(staged, str):
            report.rejected.append((str(path), staged))
            notify(path.name, "rejected")
            return
        try:
            publish(self.store, self.storage, staged)
        except NotPublished as exc:
            report.rejected.append((str(path), exc.reason))
            notify(path.name, "rejected")
            return
        report.ingested.append(staged.item_id)
        notify(path.name, "ingested")
