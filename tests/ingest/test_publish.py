"""The one publish path: a staged product goes in whole (files and item) or not at all.

Staged products here are made by hand (a small file and a valid item document), so that what is
tested is publishing itself, over both stores; the callers (ingest, production chains, jobs) are
checked to go through it and to link their inputs alike.
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from terrapole.access import AccessService
from terrapole.catalog.links import derived_from, item_href
from terrapole.catalog.sqlite import SqliteStore
from terrapole.catalog.store import Store
from terrapole.errors import InvalidInput, InvalidItem, NotFound, NotPublished, StoreUnavailable
from terrapole.ingest import publish as publish_module
from terrapole.ingest.items import asset_href
from terrapole.ingest.publish import Published, Staged, provenance, publish
from terrapole.ingest.service import Ingestor, IngestReport
from terrapole.jobs.process import File, Result
from terrapole.jobs.registry import default_processes
from terrapole.jobs.results import publish as publish_result
from terrapole.jobs.store import JobOutputs, JobStore
from terrapole.software import software
from terrapole.storage import LocalStorage

from ..conftest import ROOT

SQUARE = {"type": "Polygon", "coordinates": [[[5, 45], [6, 45], [6, 46], [5, 46], [5, 45]]]}


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "assets")


def _staged(storage: LocalStorage, item_id: str, text: str, **properties: Any) -> Staged:
    """A staged product: ``table.csv`` holding ``text`` and its item in collection ``out``."""
    folder = storage.new_staging("test-")
    (folder / "table.csv").write_text(text)
    item = {
        "type": "Feature", "stac_version": "1.0.0", "id": item_id, "collection": "out",
        "geometry": SQUARE, "bbox": [5.0, 45.0, 6.0, 46.0],
        "properties": {"datetime": "2024-05-01T00:00:00Z", "title": text, **properties},
        "links": [],
        "assets": {"table": {"href": asset_href("out", item_id, "table.csv"), "type": "text/csv"}},
    }  # fmt: skip
    return Staged("out", item_id, str(folder), item, {"title": "Outputs", "license": "other"})


def test_publish_puts_the_files_and_the_item_in_with_derived_from_links(
    store: Store, storage: LocalStorage
) -> None:
    staged = _staged(storage, "a", "v1")
    done = publish(store, storage, staged, sources=[("s2", "S2A_1"), ("dem", "DEM_N45")])

    assert done == Published(
        "out", "a", done.item, {"table": "/assets/out/a/table.csv"}, created_collection=True
    )
    assert storage.local_path("out/a/table.csv").read_text() == "v1"
    assert not Path(staged.folder).exists()  # moved into storage
    item = store.get_item("out", "a")
    links = [link for link in item["links"] if link["rel"] == "derived_from"]
    assert links == [derived_from("s2", "S2A_1"), derived_from("dem", "DEM_N45")]
    assert links[0] == {
        "rel": "derived_from", "href": "/stac/collections/s2/items/S2A_1",
        "type": "application/geo+json", "title": "S2A_1",
    }  # fmt: skip
    assert store.get_collection("out")["title"] == "Outputs"

    again = publish(store, storage, _staged(storage, "a", "v2"))  # the same item again
    assert again.created_collection is False
    assert storage.local_path("out/a/table.csv").read_text() == "v2"
    assert store.get_item("out", "a")["properties"]["title"] == "v2"


def test_a_refused_item_leaves_no_file_no_item_and_no_collection(
    store: Store, storage: LocalStorage
) -> None:
    staged = _staged(storage, "bad", "v1", **{"eo:cloud_cover": 140})

    with pytest.raises(NotPublished) as raised:
        publish(store, storage, staged)

    error = raised.value
    assert isinstance(error, InvalidInput) and isinstance(error.__cause__, InvalidItem)
    assert (error.collection, error.item_id) == ("out", "bad")
    assert "eo:cloud_cover must be a number 0-100" in error.reason
    assert storage.list("out") == [] and not Path(staged.folder).exists()
    with pytest.raises(NotFound):
        store.get_collection("out")


def test_a_store_failure_on_a_new_collection_leaves_no_file_and_no_collection(
    store: Store, storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*args: Any, **kwargs: Any) -> None:
        raise StoreUnavailable("the catalogue went away")

    monkeypatch.setattr(store, "load_items", down)  # after the collection and the files
    staged = _staged(storage, "a", "v1")
    with pytest.raises(NotPublished, match="the catalogue went away"):
        publish(store, storage, staged)

    monkeypatch.undo()
    assert storage.list("out") == [] and not Path(staged.folder).exists()
    with pytest.raises(NotFound):
        store.get_collection("out")  # made for the item, removed with it


def test_a_refused_republish_keeps_the_previous_files_and_item(
    store: Store, storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(store, storage, _staged(storage, "a", "v1"))
    before = store.get_item("out", "a")

    def down(*args: Any, **kwargs: Any) -> None:
        raise StoreUnavailable("the catalogue went away")

    monkeypatch.setattr(store, "load_items", down)  # the files are swapped in, the item fails
    staged = _staged(storage, "a", "v2")
    with pytest.raises(NotPublished, match="the catalogue went away"):
        publish(store, storage, staged)

    monkeypatch.undo()
    assert storage.local_path("out/a/table.csv").read_text() == "v1"
    assert storage.list("out") == ["out/a/table.csv"] and not Path(staged.folder).exists()
    assert store.get_item("out", "a") == before
    assert store.get_collection("out")["id"] == "out"  # not made by this publish: kept


def test_the_ingestor_reports_a_refusal_with_its_reason(
    store: Store, storage: LocalStorage
) -> None:
    report = IngestReport()
    outcomes: list[tuple[str, str]] = []
    staged = _staged(storage, "bad", "v1", **{"eo:cloud_cover": -1})
    Ingestor(store, storage).publish(Path("bad.zip"), staged, report, lambda *o: outcomes.append(o))
    assert report.ingested == [] and outcomes == [("bad.zip", "rejected")]
    ((path, reason),) = report.rejected
    assert (path, reason) == (
        "bad.zip", "invalid STAC document 'bad': properties.eo:cloud_cover must be a number "
        "0-100, not -1",
    )  # the store's own words, as before the publish path was shared  # fmt: skip
    assert storage.list("out") == []

    Ingestor(store, storage).publish(Path("a.zip"), _staged(storage, "a", "v1"), report,
                                     lambda *o: outcomes.append(o))  # fmt: skip
    assert report.ingested == ["a"] and outcomes[-1] == ("a.zip", "ingested")


def test_ingest_production_and_jobs_publish_through_the_one_path() -> None:
    service = importlib.import_module("terrapole.ingest.service")
    runner = importlib.import_module("terrapole.production.runner")
    results = importlib.import_module("terrapole.jobs.results")
    assert service.publish is runner.publish is results.publish_staged is publish_module.publish
    # the STAC item route is written in one place (catalog.links), by no producer
    for package in ("ingest", "production", "jobs"):
        for path in (ROOT / "src" / "terrapole" / package).rglob("*.py"):
            assert "/stac/collections" not in path.read_text(), path


def test_a_job_result_links_its_inputs_as_production_outputs_do(tmp_path: Path) -> None:
    """The job's item gets the same derived_from links (and provenance fields) as a chain's
    output: both come from the publish path (production's checked in test_provenance)."""
    store, storage = SqliteStore(tmp_path / "catalog.db"), LocalStorage(tmp_path / "assets")
    url = f"sqlite:///{tmp_path / 'terrapole.db'}"
    jobs, access = JobStore(url), AccessService(url)
    job = jobs.submit("zonal-statistics", "ana", {"item": "x"}, 5.0)
    table = tmp_path / "statistics.csv"
    table.write_text("zone,count\n1,4\n")
    now = datetime.now(UTC)
    result = Result(geometry=SQUARE, start=now, end=now,
                    files=[File("table", table, "text/csv", "Statistics")],
                    derived_from=[("s2", "S2A_1"), ("dem", "DEM_N45")])  # fmt: skip

    outputs = publish_result(job, default_processes()["zonal-statistics"], result, tmp_path,
                             store, storage, access)  # fmt: skip

    assert outputs == JobOutputs(
        "results-ana", f"zonal-statistics-{job.id[:12]}",
        {"table": f"/assets/results-ana/zonal-statistics-{job.id[:12]}/statistics.csv"},
    )  # fmt: skip
    item = store.get_item(outputs.collection or "", outputs.item or "")
    assert item["links"] == [derived_from("s2", "S2A_1"), derived_from("dem", "DEM_N45")]
    process = default_processes()["zonal-statistics"]
    assert {k: item["properties"][k] for k in ("processing:software", "processing:lineage")} == (
        provenance(f"zonal-statistics {process.version} on demand, job {job.id}")
    )
    assert item["properties"]["processing:software"] == software()
    assert item_href(outputs.collection or "", outputs.item or "") == (
        f"/stac/collections/results-ana/items/zonal-statistics-{job.id[:12]}"
    )
    jobs.close()
    access.close()
    store.close()


def test_job_outputs_are_stored_as_before_and_keep_unknown_keys() -> None:
    outputs = JobOutputs("results-ana", "x-1", {"table": "/assets/results-ana/x-1/t.csv"})
    doc = {"collection": "results-ana", "item": "x-1",
           "assets": {"table": "/assets/results-ana/x-1/t.csv"}}  # fmt: skip
    assert outputs.to_json() == doc and JobOutputs.from_json(doc) == outputs
    assert outputs.published and not JobOutputs().published
    assert JobOutputs().to_json() == {} and JobOutputs.from_json({}) == JobOutputs()
    bare = {"collection": "results-ana", "item": "x-2", "assets": {}}  # a result with no file
    assert JobOutputs("results-ana", "x-2").to_json() == bare
    old = {"result": "done", "item": "y"}  # another release's keys come back as written
    assert JobOutputs.from_json(old).to_json() == old
