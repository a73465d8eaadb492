"""Exports of stored series: CSV of a Datastream or Dataset, and the pivot document of a
Dataset (validated against the same schemas as an import before a byte is written).

CSV columns: ``datastream, phenomenonTimeStart, phenomenonTimeEnd, value, flags, unit``
(times ISO 8601 UTC; start = end for an instant). The pivot export writes the document and,
beside it, one data file per Datastream (``<observationId>.csv``, the ``;``-separated layout
:mod:`terrapole.insitu.pivot` reads), so exporting then importing gives the same series back.
The pivot parts an import kept (producer contacts, dataset metadata, the observation's
feature and property) are written back; a Dataset that never had them (one imported from a
CSV) lacks what the pivot model requires, and the export says which.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from terrapole.errors import InvalidInput
from terrapole.insitu.ensure import datastreams_of_dataset
from terrapole.insitu.model import Datastream, Observation
from terrapole.insitu.pivot import DATA_COLUMNS, PivotInvalid, schema_violations
from terrapole.insitu.store import InsituStore
from terrapole.insitu.times import TimeInterval, iso
from terrapole.insitu.units import code_of
from terrapole.insitu.visibility import NOTHING_HIDDEN

_ALL_TIME = (datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC))
CSV_COLUMNS = ("datastream", "phenomenonTimeStart", "phenomenonTimeEnd", "value", "flags", "unit")


def observations(
    store: InsituStore, datastream_id: int, *, page: int = 10_000
) -> Iterator[Observation]:
    """Every Observation of a Datastream in time order, read page by page."""
    after = None
    while True:
        found = store.window(
            datastream_id, *_ALL_TIME, limit=page, after=after, hidden=NOTHING_HIDDEN
        )
        yield from found.observations
        if found.next is None:
            return
        after = found.next


def _span(o: Observation) -> tuple[str, str]:
    t = o.phenomenon_time
    if isinstance(t, TimeInterval):
        return iso(t.start), iso(t.end)
    return iso(t), iso(t)


def _flag(o: Observation) -> str:
    return "" if o.result_quality is None else str(o.result_quality)


def write_csv(store: InsituStore, streams: list[Datastream], out: TextIO) -> int:
    """Write the CSV of ``streams`` to ``out``; the number of rows written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for ds in streams:
        assert ds.id is not None
        for o in observations(store, ds.id):
            start, end = _span(o)
            writer.writerow((ds.id, start, end, o.result, _flag(o), ds.unit.symbol))
            count += 1
    return count


def export_csv(
    store: InsituStore,
    out: Path,
    *,
    datastream_id: int | None = None,
    dataset_id: int | None = None,
) -> int:
    """CSV of one Datastream or of every Datastream of a Dataset, to ``out``; rows written."""
    if (datastream_id is None) == (dataset_id is None):
        raise InvalidInput("export", "give a datastream or a dataset, not both")
    if datastream_id is not None:
        streams = [store.get_datastream(datastream_id, hidden=NOTHING_HIDDEN)]
    else:
        assert dataset_id is not None
        store.get_dataset(dataset_id, hidden=NOTHING_HIDDEN)
        streams = datastreams_of_dataset(store, dataset_id)
    with out.open("w", encoding="utf-8", newline="") as handle:
        return write_csv(store, streams, handle)


# -- pivot -------------------------------------------------------------------------------
def _observation_doc(store: InsituStore, ds: Datastream) -> dict[str, Any]:
    kept = dict(ds.properties.get("pivot") or {})
    prop = store.get_observed_property(ds.observed_property_id)
    thing = store.get_thing(ds.thing_id, hidden=NOTHING_HIDDEN)
    assert ds.id is not None and thing.id is not None
    places = store.locations_of(thing.id, hidden=NOTHING_HIDDEN)
    obs_id = kept.get("observationId") or f"TPOL_OBS_{ds.id}"
    feature = kept.get("featureOfInterest") or (
        {"samplingFeature": {"name": thing.name, "type": "Feature", "properties": {},
                             "geometry": places[0].location}}
        if places else None
    )  # fmt: skip
    doc: dict[str, Any] = {
        **kept,
        "observationId": obs_id,
        "dataType": kept.get("dataType", "Numeric"),
        "timeSerie": True,
        "observedProperty": {
            **(prop.properties.get("pivot") or {}),
            "name": prop.name,
            "unit": code_of(ds.unit),
            "theiaCategories": list(prop.categories),
        },
        "result": {"dataFile": {"name": f"{obs_id}.csv"}},
    }
    if feature is not None:
        doc["featureOfInterest"] = feature
    if ds.phenomenon_time is not None:
        doc["temporalExtent"] = {
            "dateBeg": iso(ds.phenomenon_time.start),
            "dateEnd": iso(ds.phenomenon_time.end),
        }
    sensor = store.get_sensor(ds.sensor_id)
    if sensor.properties.get("pivot"):
        doc["procedure"] = sensor.properties["pivot"]
    return doc


def pivot_document(store: InsituStore, dataset_id: int) -> tuple[dict[str, Any], list[Datastream]]:
    """The pivot document of a Dataset and its Datastreams (one pivot observation each)."""
    dataset = store.get_dataset(dataset_id, hidden=NOTHING_HIDDEN)
    producer = store.get_producer(dataset.producer_id)
    streams = datastreams_of_dataset(store, dataset_id)
    meta = dict(dataset.properties.get("pivot") or {})
    meta.update({"title": dataset.title, "description": dataset.description})
    doc = {
        "version": "1.0",
        "producer": {
            **(producer.properties.get("pivot") or {}),
            "producerId": producer.identifier,
            "name": producer.name,
            "description": producer.description,
        },
        "datasets": [
            {
                "datasetId": dataset.identifier or f"TPOL_DAT_{dataset.id}",
                "metadata": meta,
                "observations": [_observation_doc(store, ds) for ds in streams],
            }
        ],
    }
    return doc, streams


def _data_file(store: InsituStore, ds: Datastream, path: Path) -> None:
    assert ds.id is not None
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(";".join(DATA_COLUMNS) + "\n")
        for o in observations(store, ds.id):
            start, end = _span(o)
            handle.write(f"{start};{end};;;;{o.result};{_flag(o)}\n")


def export_pivot(store: InsituStore, dataset_id: int, out: Path) -> dict[str, Any]:
    """Write the Dataset's pivot document to ``out`` and its data files beside it.

    PivotInvalid (nothing written) when the stored metadata lacks what the schemas require.
    """
    doc, streams = pivot_document(store, dataset_id)
    violations = schema_violations(doc)
    if violations:
        raise PivotInvalid(violations)
    out.parent.mkdir(parents=True, exist_ok=True)
    for ds, observation in zip(streams, doc["datasets"][0]["observations"], strict=True):
        _data_file(store, ds, out.parent / observation["result"]["dataFile"]["name"])
    out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return doc
