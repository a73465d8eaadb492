"""What ``terrapole demo`` publishes on the FAIR side (``fair.demo.publish_demo``) over real
demo products: a record per public collection with an open licence, the production output,
the deposits; a second run adds nothing; the landing pages answer; the deposited files are the
bundle's bytes."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from terrapole.access.demo_accounts import ADMIN, COLLECTION, principal_of, seed
from terrapole.app import create_app
from terrapole.catalog.documents import prepare_item
from terrapole.catalog.model import SearchQuery
from terrapole.config import Settings
from terrapole.fair.demo import DEPOSITS, OUTPUT_COLLECTION, PUBLISHER, publish_demo
from terrapole.fair.deposits import Deposits, DepositState
from terrapole.fair.model import Source, SourceKind
from terrapole.fair.record_workflow import RecordState
from terrapole.ingest.service import Ingestor
from terrapole.services import Services

from ..conftest import ROOT

DEMO = ROOT / "demo"
L2A = DEMO / "products" / "theia" / "SENTINEL2B_20190915-104723-867_L2A_T31UFQ_C_V2-2"


def _wasp_output(services: Services) -> None:
    """A WASP collection holding one item made from the ingested L2A product, as the demo's
    chain writes it (its chain, lineage and derived_from link)."""
    l2a = services.store.search(SearchQuery(collections=("theia-sentinel-2-l2a",))).items[0]
    services.store.create_collection({
        "type": "Collection", "stac_version": "1.0.0", "id": OUTPUT_COLLECTION,
        "title": "THEIA-style Level-3A monthly syntheses (WASP)",
        "description": "Cloud-free monthly surface reflectance composites.",
        "license": "etalab-2.0", "links": [],
        "extent": {"spatial": {"bbox": [l2a["bbox"]]},
                   "temporal": {"interval": [["2019-08-23T00:00:00Z", "2019-10-08T23:59:59Z"]]}},
    })  # fmt: skip
    item = copy.deepcopy(l2a)
    item["id"], item["collection"] = "WASP_T31UFQ_20190915", OUTPUT_COLLECTION
    item["properties"].update({
        "terrapole:chain": "wasp-monthly", "processing:lineage": "terrapole wasp-monthly chain",
        "start_datetime": "2019-08-23T00:00:00Z", "end_datetime": "2019-10-08T23:59:59Z",
    })  # fmt: skip
    item["links"] = [
        {
            "rel": "derived_from",
            "type": "application/geo+json",
            "href": f"/stac/collections/theia-sentinel-2-l2a/items/{l2a['id']}",
        }
    ]
    services.store.load_items([prepare_item(item)])


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[Any]:
    """The app over the land-cover crop (licensed: hidden to anonymous readers), one THEIA
    L2A product and a WASP output, with the demo's accounts."""
    app = create_app(Settings(data_dir=tmp_path, database_url=database_url))
    services: Services = app.state.services
    ingest = Ingestor(services.store, services.storage)
    assert not ingest.run([str(DEMO / "products" / "landcover")], collection=COLLECTION).rejected
    assert not ingest.run([str(L2A)]).rejected
    _wasp_output(services)
    seed(services)
    yield app


def test_the_demo_publishes_each_record_once_and_its_pages_answer(app: Any) -> None:
    services: Services = app.state.services
    first = publish_demo(services, DEMO)
    second = publish_demo(services, DEMO)
    assert first.added and not second.added
    assert sorted(first.published) == sorted(second.published) == sorted(first.added)
    assert len(first.published) == 2 + 1 + len(DEPOSITS)  # L2A, WASP; the output; deposits
    assert COLLECTION not in first.skipped  # hidden: not even considered
    admin = principal_of(services.access, services.accounts.by_email(ADMIN[0]))
    book = services.records
    stored = [book.get(admin, rid) for rid in first.published]
    assert all(s.state is RecordState.PUBLISHED and s.identifier for s in stored)
    assert all(s.record.publisher == PUBLISHER for s in stored)
    every = book.find(admin, limit=1000)
    assert len(every) == len(first.published)  # nothing drafted twice
    l2a = book.find(admin, source=Source(SourceKind.COLLECTION, "theia-sentinel-2-l2a"))[0]
    assert [c.name for c in l2a.record.creators] == ["CNES / THEIA"]  # the producer
    wasp = book.find(admin, source=Source(SourceKind.COLLECTION, OUTPUT_COLLECTION))[0]
    assert [c.name for c in wasp.record.creators] == ["terrapole demo"]
    assert any(
        r.relation_type == "IsDerivedFrom"
        and r.related_identifier.endswith("/stac/collections/theia-sentinel-2-l2a")
        for r in wasp.record.related_identifiers
    )
    output = book.find(
        admin, source=Source(SourceKind.JOB_OUTPUT, f"{OUTPUT_COLLECTION}/WASP_T31UFQ_20190915")
    )[0]
    derived = [r.related_identifier for r in output.record.related_identifiers
               if r.relation_type == "IsDerivedFrom"]  # fmt: skip
    assert len(derived) == 1 and derived[0].startswith("http")
    with TestClient(app) as client:
        for rid in first.published:
            page = client.get(f"/records/{rid}", headers={"Accept": "text/html"})
            assert page.status_code == 200, (rid, page.text[:300])
            assert "terrapole demo" in page.text
        oai = client.get("/oai", params={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
        assert oai.status_code == 200 and oai.text.count("<identifier>") == len(first.published)


def test_the_deposited_files_are_the_bundle_files(app: Any) -> None:
    services: Services = app.state.services
    report = publish_demo(services, DEMO)
    publish_demo(services, DEMO)
    admin = principal_of(services.access, services.accounts.by_email(ADMIN[0]))
    deposits = Deposits(services.records, services.storage, services.access)
    found = [deposits.get(admin, did) for did in report.deposits]
    assert len(found) == len(DEPOSITS) == len(deposits.find(admin))
    with TestClient(app) as client:
        for deposit, spec in zip(found, DEPOSITS, strict=True):
            assert deposit.state is DepositState.PUBLISHED and deposit.title == spec.title
            (kept,) = deposit.files
            data = (DEMO / spec.path).read_bytes()
            assert kept.sha256 == hashlib.sha256(data).hexdigest() and kept.size == len(data)
            assert kept.md5 == hashlib.md5(data).hexdigest()
            got = client.get(f"/deposits/{deposit.id}/files/{kept.name}")  # anonymous
            assert got.status_code == 200 and got.content == data
