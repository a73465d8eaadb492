"""Catalogue a job's result: COGs and files in the owner's private results collection.

Each user's results go to ``results-<owner>``, restricted (access policy) to that user's own
group ``user:<owner>`` — admins see every collection. The item carries the same provenance as
production outputs: processing:* fields, the job's parameters, ``derived_from`` links; it is
published by the one publish path (:mod:`terrapole.ingest.publish`).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from terrapole.access import AccessService
from terrapole.catalog.store import Store
from terrapole.errors import NotFound
from terrapole.ingest.items import asset_href
from terrapole.ingest.model import Product, Raster
from terrapole.ingest.publish import Staged, provenance
from terrapole.ingest.publish import publish as publish_staged
from terrapole.ingest.service import stage
from terrapole.jobs.process import Process, Result
from terrapole.jobs.store import Job, JobOutputs
from terrapole.jsontypes import Json, utc_iso
from terrapole.storage import Storage


def personal_group(owner: str) -> str:
    """The access group only ``owner`` belongs to."""
    return f"user:{owner}"


def results_collection(owner: str) -> str:
    """The id of ``owner``'s results collection."""
    return "results-" + (re.sub(r"[^A-Za-z0-9_.-]+", "-", owner).strip("-").lower() or "user")


def result_item_id(job: Job) -> str:
    """The id of a job's result item."""
    return f"{job.process}-{job.id[:12]}"


def _bbox(geometry: Json) -> list[float]:
    from shapely.geometry import shape

    return list(shape(geometry).bounds)


def publish(
    job: Job, process: Process, result: Result, work: Path, store: Store,
    storage: Storage, access: AccessService,
) -> JobOutputs:  # fmt: skip
    """Stage and publish the result item (:func:`terrapole.ingest.publish.publish`); the job's
    outputs name it and its assets. Raises NotPublished when refused (nothing is kept)."""
    collection = results_collection(job.owner)
    access.restrict(collection, [personal_group(job.owner)])  # private before anything lands
    item_id = result_item_id(job)
    properties: Json = {
        "title": f"{process.title} (job {job.id[:12]})",
        **provenance(f"{process.id} {process.version} on demand, job {job.id}"),
        "terrapole:job": job.id,
        "terrapole:process": process.id,
        "terrapole:parameters": job.inputs,
        **result.properties,
    }
    if result.start != result.end:
        properties.update(start_datetime=utc_iso(result.start), end_datetime=utc_iso(result.end))
    folder = storage.new_staging("job-result-")
    try:
        if result.layers:
            product = Product(
                source=work, format=process.id, id=item_id, collection=collection,
                datetime=result.start, properties=properties,
                rasters=[Raster(layer.key, str(layer.path), layer.title, layer.roles,
                                nodata=layer.nodata, unit=layer.unit, classes=layer.classes)
                         for layer in result.layers],
            )  # fmt: skip
            item = stage(product, folder)
        else:
            item = {
                "type": "Feature", "stac_version": "1.0.0", "id": item_id,
                "collection": collection, "geometry": result.geometry,
                "bbox": _bbox(result.geometry),
                "properties": {"datetime": utc_iso(result.start), **properties},
                "links": [], "assets": {},
            }  # fmt: skip
        for file in result.files:
            shutil.copy(file.path, folder / file.path.name)
            item["assets"][file.key] = {
                "href": asset_href(collection, item_id, file.path.name), "type": file.media_type,
                "title": file.title, "roles": list(file.roles),
            }  # fmt: skip
        defaults = {
            "title": f"Results of {job.owner}",
            "license": "other",
            "description": f"On-demand processing results of {job.owner} (private).",
        }
        staged = Staged(collection, item_id, str(folder), item, defaults)
        published = publish_staged(store, storage, staged, sources=result.derived_from)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # gone already once published
    return JobOutputs(published.collection, published.item_id, published.assets)


def unpublish(job: Job, store: Store, storage: Storage) -> None:
    """Delete a job's result item and files (purge)."""
    outputs = job.outputs
    if outputs.collection is None or outputs.item is None:
        return
    try:
        store.delete_item(outputs.collection, outputs.item)
    except NotFound:
        pass
    storage.delete_prefix(f"{outputs.collection}/{outputs.item}")
