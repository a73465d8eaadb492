"""The record book on SQLite and PostgreSQL: draft → submit → curator → publish → new version;
refused moves change nothing; a failing identifier provider leaves the record approved."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from terrapole import db
from terrapole.access.policy import ANONYMOUS, Principal
from terrapole.errors import Forbidden, NotFound, Unauthorized
from terrapole.fair.checks import IncompleteRecord
from terrapole.fair.harvest import Harvest, Selection
from terrapole.fair.identifiers import IdentifierFailed, LocalIdentifiers
from terrapole.fair.model import Record, SourceKind, Title
from terrapole.fair.record_workflow import InvalidRecordTransition, RecordState
from terrapole.fair.records import RecordBook
from terrapole.fair.tables import record_versions

from .records_fixtures import complete_record

ALICE = Principal(name="alice", user_id="alice")
BOB = Principal(name="bob", user_id="bob")
CURATOR = Principal(name="carol", user_id="carol", roles=frozenset({"curator"}))


class Dois:
    """A DOI provider that records its calls, and fails when told to."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail = False

    @property
    def mints_dois(self) -> bool:
        return True

    def register(self, record_id: str, record: Record) -> str:
        self.calls.append(("register", record_id))
        return f"10.5072/tp-{record_id[:8]}"

    def publish(self, record_id: str, identifier: str, record: Record) -> None:
        if self.fail:
            raise IdentifierFailed("DataCite", "503 Service Unavailable")
        assert record.doi == identifier
        self.calls.append(("publish", identifier))

    def update(self, identifier: str, record: Record) -> None:
        self.calls.append(("update", identifier))


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = db.open_engine(database_url)
    yield engine
    engine.dispose()


def clock() -> datetime:
    return datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def book(engine: sa.Engine) -> RecordBook:
    return RecordBook(engine, identifiers=LocalIdentifiers("theia"), clock=clock,
                      base_url="https://hub.example")  # fmt: skip


def approved(book: RecordBook) -> str:
    rid = book.create(ALICE, complete_record()).id
    book.submit(ALICE, rid)
    book.approve(CURATOR, rid)
    return rid


def test_the_whole_workflow_with_local_identifiers(book: RecordBook) -> None:
    draft = book.create(ALICE, Record(titles=(Title("Half done"),)))
    assert draft.state is RecordState.DRAFT and draft.owner == "user:alice"
    book.update(ALICE, draft.id, complete_record())
    assert book.submit(ALICE, draft.id).state is RecordState.SUBMITTED
    book.comment(CURATOR, draft.id, "Add the processing level", field="descriptions")
    assert book.request_changes(CURATOR, draft.id, "see comment").state is RecordState.DRAFT
    book.submit(ALICE, draft.id)
    book.approve(CURATOR, draft.id)
    published = book.publish(ALICE, draft.id)
    assert published.state is RecordState.PUBLISHED
    assert published.identifier == f"terrapole:theia/{draft.id}"
    assert published.record.doi is None
    assert any(d.date_type == "Issued" and d.date == "2026-06-01" for d in published.record.dates)
    assert [c.text for c in book.comments(ALICE, draft.id)] == [
        "Add the processing level", "see comment"]  # fmt: skip
    assert [m.finish for m in book.history(ALICE, draft.id)] == [
        RecordState.DRAFT, RecordState.SUBMITTED, RecordState.DRAFT, RecordState.SUBMITTED,
        RecordState.APPROVED, RecordState.PUBLISHED]  # fmt: skip
    assert book.get(ANONYMOUS, draft.id) == published


def test_submit_lists_every_problem_and_changes_nothing(book: RecordBook) -> None:
    rid = book.create(ALICE, Record(titles=(Title("Only a title"),))).id
    with pytest.raises(IncompleteRecord) as caught:
        book.submit(ALICE, rid)
    assert {"creators", "publisher", "rightsList"} <= {p.field for p in caught.value.problems}
    assert book.get(ALICE, rid).state is RecordState.DRAFT


def test_publish_without_approval_is_refused(book: RecordBook) -> None:
    rid = book.create(ALICE, complete_record()).id
    book.submit(ALICE, rid)
    with pytest.raises(InvalidRecordTransition, match="submitted to published"):
        book.publish(CURATOR, rid)
    assert book.get(ALICE, rid).state is RecordState.SUBMITTED


def test_owners_do_not_approve_and_strangers_see_no_draft(book: RecordBook) -> None:
    rid = book.create(ALICE, complete_record()).id
    book.submit(ALICE, rid)
    with pytest.raises(Forbidden, match="curator"):
        book.approve(ALICE, rid)
    with pytest.raises(NotFound):
        book.get(BOB, rid)
    with pytest.raises(Unauthorized):
        book.create(ANONYMOUS, complete_record())
    assert book.find(BOB) == [] and [r.id for r in book.find(CURATOR)] == [rid]


def test_published_records_are_immutable(book: RecordBook) -> None:
    rid = approved(book)
    book.publish(ALICE, rid)
    with pytest.raises(InvalidRecordTransition):
        book.update(ALICE, rid, complete_record("Changed"))
    assert book.get(ALICE, rid).record.title == complete_record().title


def test_a_failing_provider_leaves_the_record_approved(engine: sa.Engine) -> None:
    dois = Dois()
    book = RecordBook(engine, identifiers=dois, clock=clock, base_url="https://hub.example")
    rid = approved(book)
    dois.fail = True
    with pytest.raises(IdentifierFailed, match="503"):
        book.publish(ALICE, rid)
    after = book.get(ALICE, rid)
    assert after.state is RecordState.APPROVED and after.identifier is None
    with engine.connect() as con:
        assert con.execute(sa.select(sa.func.count()).select_from(record_versions)).scalar() == 0
    dois.fail = False
    published = book.publish(ALICE, rid)
    assert published.record.doi == published.identifier == f"10.5072/tp-{rid[:8]}"


def test_a_new_version_links_both_ways_and_shares_the_concept(engine: sa.Engine) -> None:
    book = RecordBook(engine, identifiers=Dois(), clock=clock, base_url="https://hub.example")
    first = book.publish(ALICE, approved(book))
    draft = book.new_version(ALICE, first.id)
    assert draft.concept_id == first.concept_id and draft.version_no == 2
    assert draft.record.doi is None and draft.record.version == "2"
    book.update(ALICE, draft.id, replace(draft.record, titles=(Title("Snow cover v2"),)))
    book.submit(ALICE, draft.id)
    book.approve(CURATOR, draft.id)
    second = book.publish(ALICE, draft.id)
    assert second.identifier != first.identifier
    newer = {(r.relation_type, r.related_identifier) for r in second.record.related_identifiers}
    assert ("IsNewVersionOf", first.identifier) in newer
    older = book.get(ANONYMOUS, first.id).record.related_identifiers
    assert ("IsPreviousVersionOf", second.identifier) in {
        (r.relation_type, r.related_identifier) for r in older}  # fmt: skip
    assert [r.id for r in book.versions(ANONYMOUS, second.id)] == [first.id, second.id]
    with engine.connect() as con:  # the published snapshot of version 1 did not change
        kept = con.execute(sa.select(record_versions.c.metadata).where(
            record_versions.c.record_id == first.id)).scalar_one()  # fmt: skip
    assert "IsPreviousVersionOf" not in str(kept)


def test_withdrawn_records_stay_as_tombstones(book: RecordBook) -> None:
    rid = approved(book)
    book.publish(ALICE, rid)
    with pytest.raises(Forbidden):
        book.withdraw(ALICE, rid, "duplicate")
    gone = book.withdraw(CURATOR, rid, "duplicate of another record")
    assert gone.state is RecordState.WITHDRAWN
    assert gone.withdrawn_reason == "duplicate of another record"
    assert [r.id for r in Harvest(book.engine).page(Selection())] == [rid]


def test_describing_platform_data_takes_one_step(book: RecordBook) -> None:
    collection = {
        "id": "snow-pyrenees", "title": "Snow cover", "description": "Daily maps",
        "license": "CC-BY-4.0", "keywords": ["snow"],
        "extent": {"spatial": {"bbox": [[-2, 42, 3.5, 43.5]]},
                   "temporal": {"interval": [["2018-01-01T00:00:00Z", None]]}},
    }  # fmt: skip
    draft = book.describe_collection(ALICE, collection)
    assert draft.record.extras.source is not None
    assert draft.record.extras.source.kind is SourceKind.COLLECTION
    assert draft.record.related_identifiers[0].related_identifier == (
        "https://hub.example/stac/collections/snow-pyrenees"
    )
    items = [
        {
            "id": "out-1",
            "collection": "results",
            "bbox": [1, 43, 2, 44],
            "links": [
                {"rel": "derived_from", "href": "https://hub.example/stac/collections/s2/items/a"}
            ],
        }
    ]
    job = book.describe_job_output(ALICE, "job42", "snow", items)
    relations = {(r.relation_type, r.related_identifier) for r in job.record.related_identifiers}
    assert ("IsDerivedFrom", "https://hub.example/stac/collections/s2/items/a") in relations
    assert ("HasPart", "https://hub.example/stac/collections/results/items/out-1") in relations
    ds = book.describe_insitu_dataset(ALICE, "7", {"title": "Rain gauges", "doi": "10.5072/x"})
    assert ("IsDerivedFrom", "10.5072/x") in {
        (r.relation_type, r.related_identifier) for r in ds.record.related_identifiers}  # fmt: skip
