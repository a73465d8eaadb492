"""Review 23 of the record book and its landing page, on SQLite and PostgreSQL: a history is for
the owner and curators; records of a hidden collection are hidden on every path; someone else's
draft is 404 whatever is asked; a deposit's record moves only with its deposit; a new version's
back-link moves the old record's datestamp and reaches the identifier provider; a refused move
keeps no note; a record names only a source its author may name; a withdrawn record answers a
tombstone; DataCite XML without a DOI passes the schema; the concept leads to the newest
published version; ``q=0`` refuses a type."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from terrapole import db
from terrapole.access.policy import ANONYMOUS, Principal
from terrapole.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from terrapole.fair.harvest import Harvest, Selection
from terrapole.fair.identifiers import LocalIdentifiers
from terrapole.fair.model import Record, Source, SourceKind
from terrapole.fair.record_workflow import InvalidRecordTransition, RecordOfDeposit, RecordState
from terrapole.fair.records import RecordBook
from terrapole.fair.validation import validate_datacite_xml
from terrapole.web.deposits import deposits_of
from terrapole.web.records import negotiate

from .conftest import token
from .records_fixtures import complete_record

ALICE = Principal(name="alice", user_id="alice")
BOB = Principal(name="bob", user_id="bob")
CURATOR = Principal(name="carol", user_id="carol", roles=frozenset({"curator"}))
SECRET = "secret-coll"


class Provider(LocalIdentifiers):
    """Local identifiers that remember what they were told to update."""

    def __init__(self) -> None:
        super().__init__("theia")
        self.updated: list[tuple[str, Record]] = []

    def update(self, identifier: str, record: Record) -> None:
        self.updated.append((identifier, record))


def ticking() -> Callable[[], datetime]:
    """A clock one minute further at each reading."""
    start = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    minutes = itertools.count()
    return lambda: start + timedelta(minutes=next(minutes))


def hidden_from_all_but_alice(principal: Principal) -> frozenset[str]:
    return frozenset() if principal.user_id == "alice" else frozenset({SECRET})


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = db.open_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def book(engine: sa.Engine) -> RecordBook:
    return RecordBook(engine, identifiers=Provider(), clock=ticking(),
                      base_url="https://hub.example", hidden=hidden_from_all_but_alice)  # fmt: skip


def of(source: Source | None) -> Record:
    record = complete_record()
    return replace(record, extras=replace(record.extras, source=source))


def published(book: RecordBook, record: Record, **kw: bool) -> str:
    rid = book.create(ALICE, record, **kw).id
    book.submit(ALICE, rid)
    book.approve(CURATOR, rid)
    return book.publish(ALICE, rid, **kw).id


def test_a_history_is_for_the_owner_and_curators(book: RecordBook) -> None:
    rid = book.create(ALICE, complete_record()).id
    book.submit(ALICE, rid)
    book.request_changes(CURATOR, rid, "the licence is not the producer's")
    book.submit(ALICE, rid)
    book.approve(CURATOR, rid)
    book.publish(ALICE, rid)
    with pytest.raises(Unauthorized):
        book.history(ANONYMOUS, rid)
    with pytest.raises(Forbidden):
        book.history(BOB, rid)
    notes = [m.note for m in book.history(ALICE, rid)]
    assert "the licence is not the producer's" in notes
    assert [m.actor for m in book.history(CURATOR, rid)][0] == "user:alice"


def test_records_of_a_hidden_collection_are_hidden_on_every_read(
    book: RecordBook, engine: sa.Engine
) -> None:
    rid = published(book, of(Source(SourceKind.COLLECTION, SECRET)))
    open_rid = published(book, of(Source(SourceKind.COLLECTION, "open")))
    for who in (ANONYMOUS, BOB):
        with pytest.raises(NotFound):
            book.get(who, rid)
        assert [s.id for s in book.find(who)] == [open_rid]
        assert book.versions(who, rid) == []
    with pytest.raises(NotFound):
        book.comment(BOB, rid, "seen it")
    assert book.get(CURATOR, rid).id == rid  # curators review every record
    assert book.get(ALICE, rid).id == rid
    assert {s.id for s in book.find(ALICE)} == {rid, open_rid}
    assert [s.id for s in book.versions(ALICE, rid)] == [rid]
    harvest = Harvest(engine, hidden=lambda: hidden_from_all_but_alice(ANONYMOUS))
    assert [r.id for r in harvest.page(Selection())] == [open_rid]


def test_someone_elses_draft_is_404_whatever_is_asked(book: RecordBook) -> None:
    rid = book.create(ALICE, complete_record()).id
    for ask in (
        lambda: book.update(BOB, rid, complete_record()),
        lambda: book.submit(BOB, rid),
        lambda: book.comment(BOB, rid, "hello"),
        lambda: book.get(BOB, rid),
    ):
        with pytest.raises(NotFound, match=rid):
            ask()
    with pytest.raises(NotFound):
        book.update(ANONYMOUS, rid, complete_record())


def test_a_deposits_record_is_published_and_versioned_only_through_its_deposit(
    book: RecordBook,
) -> None:
    source = Source(SourceKind.DEPOSIT, "d1")
    rid = book.create(ALICE, of(source), by_deposits=True).id
    book.submit(ALICE, rid)
    book.approve(CURATOR, rid)
    with pytest.raises(RecordOfDeposit, match="POST /deposits/d1/publish") as refused:
        book.publish(CURATOR, rid)
    assert isinstance(refused.value, InvalidRecordTransition)  # answered 409
    assert book.get(ALICE, rid).state is RecordState.APPROVED
    assert book.publish(ALICE, rid, by_deposits=True).state is RecordState.PUBLISHED
    with pytest.raises(RecordOfDeposit, match="POST /deposits/d1/versions"):
        book.new_version(ALICE, rid)
    assert book.new_version(ALICE, rid, by_deposits=True).previous_id == rid


def test_a_new_versions_back_link_moves_the_datestamp_and_reaches_the_provider(
    book: RecordBook,
) -> None:
    first = book.get(ALICE, published(book, complete_record()))
    draft = book.new_version(ALICE, first.id)
    book.submit(ALICE, draft.id)
    book.approve(CURATOR, draft.id)
    second = book.publish(ALICE, draft.id)
    old = book.get(ANONYMOUS, first.id)
    assert old.updated > first.updated
    assert old.updated == second.updated  # the same commit
    provider = book.identifiers
    assert isinstance(provider, Provider)
    [(identifier, record)] = provider.updated
    assert identifier == first.identifier
    links = {(r.relation_type, r.related_identifier) for r in record.related_identifiers}
    assert ("IsPreviousVersionOf", f"https://hub.example/records/{second.id}") in links


def test_a_refused_request_for_changes_keeps_no_note(book: RecordBook) -> None:
    rid = book.create(ALICE, complete_record()).id
    with pytest.raises(InvalidRecordTransition):
        book.request_changes(CURATOR, rid, "never said")  # a draft is not under review
    assert book.comments(ALICE, rid) == []
    book.submit(ALICE, rid)
    book.request_changes(CURATOR, rid, "said")
    assert [c.text for c in book.comments(ALICE, rid)] == ["said"]


def test_a_record_names_only_a_source_its_author_may_name(book: RecordBook) -> None:
    with pytest.raises(InvalidInput, match="extras.source"):
        book.create(BOB, of(Source(SourceKind.DEPOSIT, "alices-deposit")))
    with pytest.raises(InvalidInput, match="extras.source"):
        book.create(CURATOR, of(Source(SourceKind.DEPOSIT, "alices-deposit")))
    with pytest.raises(NotFound, match=SECRET):
        book.create(BOB, of(Source(SourceKind.COLLECTION, SECRET)))
    for kind in (SourceKind.JOB_OUTPUT, SourceKind.INSITU_DATASET):
        with pytest.raises(Forbidden, match="curator"):
            book.create(BOB, of(Source(kind, "x/y")))
        assert book.create(CURATOR, of(Source(kind, "x/y"))).owner == "user:carol"
    assert book.create(ALICE, of(Source(SourceKind.COLLECTION, SECRET))).owner == "user:alice"
    assert book.create(BOB, of(Source(SourceKind.COLLECTION, "open"))).owner == "user:bob"


def test_a_type_given_q_0_is_refused_even_by_a_wildcard() -> None:
    assert negotiate("text/html;q=0, */*") == "datacite-xml"
    assert negotiate("text/html;q=0, text/*") == "turtle"  # the first other text/ type
    assert negotiate("text/html;q=0") is None
    assert negotiate("*/*") == "html"
    assert negotiate("application/ld+json;q=0.5, text/html;q=0.4") == "jsonld"


# -- over the app ---------------------------------------------------------------------------------


def _publish(client: TestClient, record: Record, owner: dict[str, str],
             curator: dict[str, str]) -> str:  # fmt: skip
    rid = client.post("/records", json=record.to_json(), headers=owner).json()["id"]
    assert client.post(f"/records/{rid}/submit", headers=owner).status_code == 200
    assert client.post(f"/records/{rid}/approve", headers=curator).status_code == 200
    assert client.post(f"/records/{rid}/publish", headers=owner).status_code == 200
    return str(rid)


def test_the_landing_of_hidden_withdrawn_and_newer_records(app: Any, client: TestClient) -> None:
    ana, cora = (
        token(app, "ana@lab.example"),
        token(app, "cora@hub.example", frozenset({"curator"})),
    )
    first = _publish(client, of(Source(SourceKind.COLLECTION, SECRET)), ana, cora)
    # DataCite XML of a record without DOI names its landing page and passes the 4.5 schema
    xml = client.get(f"/records/{first}", params={"format": "datacite-xml"})
    assert validate_datacite_xml(xml.content) == []
    assert f'<identifier identifierType="URL">http://testserver/records/{first}<' in xml.text
    # the history is the owner's and the curators'
    assert client.get(f"/records/{first}/history").status_code == 401
    assert client.get(f"/records/{first}/history", headers=ana).status_code == 200
    # the concept leads to the newest published version, not a withdrawn one
    second = client.post(f"/records/{first}/versions", headers=ana).json()["id"]
    client.post(f"/records/{second}/submit", headers=ana)
    client.post(f"/records/{second}/approve", headers=cora)
    client.post(f"/records/{second}/publish", headers=ana)
    concept = f"/records/concepts/{first}"
    assert client.get(concept, follow_redirects=False).headers["location"].endswith(second)
    reason = {"reason": "the licence was not the producer's"}
    assert client.post(f"/records/{second}/withdraw", json=reason, headers=cora).status_code == 200
    assert client.get(concept, follow_redirects=False).headers["location"].endswith(first)
    # a withdrawn record is a tombstone: the reason, no metadata, no signposts but cite-as
    for key in ("jsonld", "bibtex", "datacite-xml", "json"):
        gone = client.get(f"/records/{second}", params={"format": key})
        assert gone.status_code == 410 and "the licence was not the producer" in gone.text, key
        assert "Snow cover" not in gone.text
    page = client.get(f"/records/{second}", headers={"Accept": "text/html"})
    assert page.status_code == 410 and "the licence was not the producer" in page.text
    assert 'rel="describedby"' not in page.headers["link"]
    assert 'rel="cite-as"' in page.headers["link"]
    assert "Daily snow cover maps" not in page.text
    # a draft's id and an unknown id read the same at the concept URL
    draft = client.post("/records", json=complete_record().to_json(), headers=ana).json()["id"]
    unknown = client.get("/records/concepts/nothing-here").json()["description"]
    assert client.get(f"/records/concepts/{draft}").json()["description"] == unknown.replace(
        "nothing-here", draft)  # fmt: skip
    # restricting the collection hides its records from everyone outside the group
    app.state.services.access.restrict(SECRET, ["insiders"])
    for path in (f"/records/{first}", f"/records/{first}/linkset", f"/records/{first}/versions",
                 f"/records/{first}?format=jsonld", concept):  # fmt: skip
        assert client.get(path, follow_redirects=False).status_code == 404, path
    assert first not in {r["id"] for r in client.get("/records").json()["records"]}
    # a record may not claim someone else's deposit
    claim = of(Source(SourceKind.DEPOSIT, "someone-elses"))
    refused = client.post("/records", json=claim.to_json(), headers=ana)
    assert refused.status_code == 400 and "extras.source" in refused.json()["description"]


def test_a_deposits_record_is_published_by_its_deposit_only(app: Any, client: TestClient) -> None:
    ana, cora = (
        token(app, "ana@lab.example"),
        token(app, "cora@hub.example", frozenset({"curator"})),
    )
    made = client.post("/deposits", headers=ana, json={"title": "Discharge"}).json()
    did, rid = made["id"], made["record_id"]
    deposits = deposits_of(app.state.services)
    owner = app.state.services.access.authenticate(ana["Authorization"])
    data = b"date,discharge\n2020-01-01,412.5\n"
    digest = hashlib.sha256(data).hexdigest()
    upload = deposits.start_upload(owner, did, "q.csv", len(data), sha256=digest)
    deposits.put_chunk(owner, upload.id, 0, data)
    deposits.complete(owner, upload.id)
    extras = deposits.record(owner, did).record.extras
    deposits.describe(owner, did, replace(complete_record(), extras=extras))
    deposits.submit(owner, did)
    assert client.post(f"/records/{rid}/approve", headers=cora).status_code == 200
    refused = client.post(f"/records/{rid}/publish", headers=ana)
    assert refused.status_code == 409
    assert f"POST /deposits/{did}/publish" in refused.json()["description"]
    assert client.post(f"/deposits/{did}/publish", headers=ana).status_code == 200
    assert client.get(f"/deposits/{did}").json()["state"] == "published"
    again = client.post(f"/records/{rid}/versions", headers=ana)
    assert again.status_code == 409 and f"/deposits/{did}/versions" in again.text
