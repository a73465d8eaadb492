"""Draft records for what the platform holds: a catalogue collection, an in-situ dataset, a job's
output. Pure: plain JSON in (a STAC collection, ``insitu.model.Dataset.to_json()``, STAC
items), a :class:`~terrapole.fair.model.Record` out, provenance as related identifiers.

The owner completes the draft (creators, publisher...) in the editor: these functions fill
only what the source says, so :func:`terrapole.fair.checks.problems` shows what is left.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from terrapole.fair.model import (
    Description,
    Extras,
    GeoBox,
    GeoLocation,
    Record,
    RelatedIdentifier,
    Rights,
    Source,
    SourceKind,
    Subject,
    TemporalExtent,
    Title,
    Types,
)


def _link(url: str, relation: str, kind: str | None = None) -> RelatedIdentifier:
    return RelatedIdentifier(url, "URL", relation, resource_type_general=kind)


def _rights(licence: str | None) -> tuple[Rights, ...]:
    if not licence or licence.lower() in ("proprietary", "various", "other"):
        return ()
    return (
        Rights(
            rights=licence,
            rights_identifier=licence,
            rights_identifier_scheme="SPDX",
            scheme_uri="https://spdx.org/licenses/",
        ),
    )


def _box(bbox: Sequence[float] | None) -> tuple[tuple[GeoLocation, ...], Any]:
    if not bbox or len(bbox) < 4:
        return (), None
    west, south, east, north = (float(v) for v in (bbox[0], bbox[1], bbox[-2], bbox[-1]))
    box = GeoBox(west, east, south, north)
    return (GeoLocation(geo_location_box=box),), (west, south, east, north)


def _period(start: str | None, end: str | None) -> TemporalExtent | None:
    return TemporalExtent(start, end) if start else None


def collection_record(collection: Mapping[str, Any], *, base_url: str) -> Record:
    """A draft for a STAC collection: title, abstract, keywords, licence, extent, and the
    collection's STAC URL as what the record describes (IsVariantFormOf, i.e. the same data)."""
    cid = str(collection["id"])
    extent = collection.get("extent") or {}
    bboxes = (extent.get("spatial") or {}).get("bbox") or [None]
    intervals = (extent.get("temporal") or {}).get("interval") or [[None, None]]
    places, box = _box(bboxes[0])
    start, end = (intervals[0] + [None, None])[:2]
    url = f"{base_url.rstrip('/')}/stac/collections/{cid}"
    return Record(
        titles=(Title(str(collection.get("title") or cid)),),
        types=Types("Dataset", "Earth observation collection"),
        subjects=tuple(Subject(str(k)) for k in collection.get("keywords") or ()),
        descriptions=_abstract(collection.get("description")),
        rights_list=_rights(collection.get("license")),
        geo_locations=places,
        formats=("image/tiff; application=geotiff; profile=cloud-optimized",),
        related_identifiers=(_link(url, "IsVariantFormOf", "Dataset"),),
        extras=Extras(
            temporal_extent=_period(start, end),
            spatial_extent=box,
            source=Source(SourceKind.COLLECTION, cid),
        ),
    )


def _abstract(text: Any) -> tuple[Description, ...]:
    return (Description(str(text)),) if text else ()


def insitu_dataset_record(dataset_id: str, dataset: Mapping[str, Any], *, base_url: str) -> Record:
    """A draft for an in-situ dataset (its ``to_json()``): the producer's DOI, if any, is the
    source it derives from; the dataset's page is what the record describes."""
    period = dataset.get("temporalExtent") or {}
    related = [
        _link(f"{base_url.rstrip('/')}/insitu/datasets/{dataset_id}", "IsVariantFormOf", "Dataset")
    ]
    if dataset.get("doi"):
        related.append(RelatedIdentifier(str(dataset["doi"]), "DOI", "IsDerivedFrom", "Dataset"))
    return Record(
        titles=(Title(str(dataset["title"])),),
        types=Types("Dataset", "In-situ observations"),
        subjects=tuple(Subject(str(k)) for k in dataset.get("keywords") or ()),
        descriptions=_abstract(dataset.get("description")),
        rights_list=_rights(dataset.get("licence")),
        formats=("text/csv",),
        related_identifiers=tuple(related),
        extras=Extras(
            temporal_extent=_period(period.get("start"), period.get("end")),
            source=Source(SourceKind.INSITU_DATASET, dataset_id),
        ),
    )


def job_output_record(
    job_id: str, process: str, items: Sequence[Mapping[str, Any]], *, base_url: str
) -> Record:
    """A draft for a job's published items: each item is a part of the record (HasPart); the
    inputs each item names (``derived_from`` links) are sources (IsDerivedFrom); the
    process's lineage goes in the extras."""
    base = base_url.rstrip("/")
    related: list[RelatedIdentifier] = []
    for item in items:
        href = f"{base}/stac/collections/{item.get('collection')}/items/{item.get('id')}"
        related.append(_link(href, "HasPart", "Dataset"))
        for link in item.get("links") or ():
            if link.get("rel") == "derived_from" and link.get("href"):
                related.append(_link(str(link["href"]), "IsDerivedFrom", "Dataset"))
    related.append(_link(f"{base}/jobs/{job_id}", "IsCompiledBy", "Workflow"))
    unique = tuple(dict.fromkeys(related))
    bboxes = [item["bbox"] for item in items if item.get("bbox")]
    union = None
    if bboxes:
        union = [
            min(b[0] for b in bboxes),
            min(b[1] for b in bboxes),
            max(b[-2] for b in bboxes),
            max(b[-1] for b in bboxes),
        ]
    places, box = _box(union)
    return Record(
        titles=(Title(f"{process} output of job {job_id}"),),
        types=Types("Dataset", "Processing output"),
        geo_locations=places,
        related_identifiers=unique,
        extras=Extras(
            lineage=f"Produced by the terrapole process {process!r}, job {job_id}.",
            spatial_extent=box,
            source=Source(SourceKind.JOB_OUTPUT, job_id),
        ),
    )
