"""The DataCite provider against a local DataCite REST API (tests/fair/datacite_server.py) that
checks credentials, keeps the DOI state machine and validates what it receives against the
DataCite 4.5 JSON schema: drafts, publication, metadata updates, both-way version links, and
the failures that must leave a record as it was."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from terrapole import db
from terrapole.access.policy import ANONYMOUS, Principal
from terrapole.config import load_settings
from terrapole.errors import ConfigError, NotFound
from terrapole.fair.datacite import InvalidDataCite
from terrapole.fair.datacite_client import (
    DataCiteProvider,
    DataCiteRefused,
    DataCiteUnavailable,
    provider_for,
)
from terrapole.fair.identifiers import IdentifierFailed, LocalIdentifiers
from terrapole.fair.model import Record, Title, Types
from terrapole.fair.record_workflow import RecordState
from terrapole.fair.records import RecordBook
from terrapole.fair.tables import record_versions
from terrapole.services import identifier_provider

from .datacite_server import FakeDataCite, running
from .records_fixtures import complete_record

ALICE = Principal(name="alice", user_id="alice")
CURATOR = Principal(name="carol", user_id="carol", roles=frozenset({"curator"}))
LANDING = "https://data.theia.example/records/"


def clock() -> datetime:
    return datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> FakeDataCite:
    return FakeDataCite()


@pytest.fixture
def api_url(fake: FakeDataCite) -> Iterator[str]:
    with running(fake) as url:
        yield url


def provider(url: str, fake: FakeDataCite, *, password: str | None = None,
             timeout_s: float = 10.0) -> DataCiteProvider:  # fmt: skip
    return DataCiteProvider(api_url=url, prefix=fake.prefix, repository_id=fake.repository_id,
                            password=fake.password if password is None else password,
                            landing_base=LANDING, timeout_s=timeout_s)  # fmt: skip


@pytest.fixture
def datacite(api_url: str, fake: FakeDataCite) -> Iterator[DataCiteProvider]:
    client = provider(api_url, fake)
    yield client
    client.close()


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = db.open_engine(database_url)
    yield engine
    engine.dispose()


def approved(book: RecordBook, record: Record | None = None) -> str:
    rid = book.create(ALICE, record or complete_record()).id
    book.submit(ALICE, rid)
    book.approve(CURATOR, rid)
    return rid


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def related(metadata: dict[str, object]) -> set[tuple[str, str]]:
    links = metadata.get("relatedIdentifiers") or []
    assert isinstance(links, list)
    return {(x["relationType"], x["relatedIdentifier"]) for x in links}


def assert_left_approved(book: RecordBook, engine: sa.Engine, rid: str) -> None:
    after = book.get(ALICE, rid)
    assert after.state is RecordState.APPROVED and after.identifier is None
    assert after.record.doi is None
    with engine.connect() as con:
        assert con.execute(sa.select(sa.func.count()).select_from(record_versions)).scalar() == 0


# -- the REST calls --------------------------------------------------------------------------


def test_draft_then_findable_then_updated_metadata(
    datacite: DataCiteProvider, fake: FakeDataCite
) -> None:
    record = complete_record()
    doi = datacite.register("abc123", record)
    assert doi == "10.5072/abc123"
    held = datacite.get(doi)
    assert (held.state, held.url) == ("draft", LANDING + "abc123")
    assert held.record().title == record.title
    datacite.publish("abc123", doi, replace(record, doi=doi))
    assert fake.dois[doi]["state"] == "findable"
    datacite.update(doi, replace(record, titles=(Title("Snow cover, revised"),)))
    held = datacite.get(doi)
    assert held.state == "findable" and held.url == LANDING + "abc123"
    assert held.record().title == "Snow cover, revised"
    # what the server keeps is the kernel the model writes, read back without loss
    assert held.record().publisher == record.publisher
    assert held.record().creators == record.creators
    with pytest.raises(NotFound, match="10.5072/nothing"):
        datacite.get("10.5072/nothing")


def test_an_invalid_record_never_reaches_datacite(
    datacite: DataCiteProvider, fake: FakeDataCite
) -> None:
    invalid = replace(complete_record(), types=Types("Spreadsheet"), titles=())
    with pytest.raises(InvalidDataCite) as refused:
        datacite.register("abc123", invalid)
    assert any(p.startswith("types/resourceTypeGeneral") for p in refused.value.problems)
    assert "(root): 'titles' is a required property" in refused.value.problems
    with pytest.raises(InvalidDataCite):
        datacite.publish("abc123", "10.5072/abc123", invalid)
    with pytest.raises(InvalidDataCite):
        datacite.update("10.5072/abc123", invalid)
    assert fake.requests == [] and fake.dois == {}


def test_a_doi_taken_for_another_page_is_refused_with_datacites_errors(
    datacite: DataCiteProvider, fake: FakeDataCite
) -> None:
    datacite.register("abc123", complete_record())
    elsewhere = DataCiteProvider(api_url=datacite.api_url, prefix=fake.prefix,
                                 repository_id=fake.repository_id, password=fake.password,
                                 landing_base="https://other.example/")  # fmt: skip
    with pytest.raises(DataCiteRefused, match="doi: This DOI has already been taken") as refused:
        elsewhere.register("abc123", complete_record("Another"))
    assert refused.value.status == 422
    assert refused.value.errors == ("doi: This DOI has already been taken",)
    assert fake.dois["10.5072/abc123"]["metadata"]["url"] == LANDING + "abc123"
    elsewhere.close()


# -- through the record book: published, or left as it was -----------------------------------


def test_publishing_a_record_makes_its_doi_findable(
    engine: sa.Engine, datacite: DataCiteProvider, fake: FakeDataCite
) -> None:
    book = RecordBook(engine, identifiers=datacite, clock=clock, base_url="https://hub.example")
    rid = approved(book)
    published = book.publish(ALICE, rid)
    doi = f"10.5072/{rid}"
    assert published.identifier == published.record.doi == doi
    assert book.get(ANONYMOUS, rid).identifier == doi
    held = fake.dois[doi]
    assert held["state"] == "findable" and held["metadata"]["url"] == LANDING + rid
    assert held["metadata"]["titles"][0]["title"] == complete_record().title
    assert [m for m, _ in fake.requests] == ["POST", "GET", "PUT"]


def test_wrong_credentials_say_so_and_leave_the_record_approved(
    engine: sa.Engine, api_url: str, fake: FakeDataCite
) -> None:
    book = RecordBook(engine, identifiers=provider(api_url, fake, password="wrong"), clock=clock)
    rid = approved(book)
    with pytest.raises(DataCiteRefused, match="DataCite refused the credentials of repository "
                       "'THEIA.TEST' \\(401: Bad credentials.\\)") as refused:  # fmt: skip
        book.publish(ALICE, rid)
    assert isinstance(refused.value, IdentifierFailed) and refused.value.service == "DataCite"
    assert fake.dois == {} and len(fake.requests) == 1
    assert_left_approved(book, engine, rid)


def test_datacite_out_of_reach_leaves_the_record_approved(engine: sa.Engine) -> None:
    fake = FakeDataCite()
    down = provider(f"http://127.0.0.1:{closed_port()}", fake)
    book = RecordBook(engine, identifiers=down, clock=clock)
    rid = approved(book)
    with pytest.raises(DataCiteUnavailable, match="cannot be reached"):
        book.publish(ALICE, rid)
    assert_left_approved(book, engine, rid)


def test_datacite_without_an_answer_in_time_is_unavailable(engine: sa.Engine) -> None:
    with socket.socket() as silent:  # listens, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        book = RecordBook(engine, clock=clock, identifiers=provider(
            f"http://127.0.0.1:{port}", FakeDataCite(), timeout_s=0.5))  # fmt: skip
        rid = approved(book)
        with pytest.raises(DataCiteUnavailable, match="no answer from .* within 0.5 s"):
            book.publish(ALICE, rid)
    assert_left_approved(book, engine, rid)


def test_a_failure_after_the_draft_leaves_the_record_and_a_retry_finishes(
    engine: sa.Engine, datacite: DataCiteProvider, fake: FakeDataCite
) -> None:
    book = RecordBook(engine, identifiers=datacite, clock=clock)
    rid = approved(book)
    doi = f"10.5072/{rid}"
    fake.failures["PUT"] = [503]  # the draft is registered, its publication fails
    with pytest.raises(DataCiteUnavailable, match="503 Service Unavailable"):
        book.publish(ALICE, rid)
    assert_left_approved(book, engine, rid)
    assert fake.dois[doi]["state"] == "draft"
    published = book.publish(ALICE, rid)  # the draft is taken over, then published
    assert published.identifier == doi and fake.dois[doi]["state"] == "findable"
    assert [m for m, _ in fake.requests] == ["POST", "GET", "PUT", "POST", "GET", "GET", "PUT"]


def test_a_new_version_gets_a_new_doi_linked_both_ways_at_datacite(
    engine: sa.Engine, datacite: DataCiteProvider, fake: FakeDataCite
) -> None:
    book = RecordBook(engine, identifiers=datacite, clock=clock, base_url="https://hub.example")
    first = book.publish(ALICE, approved(book))
    draft = book.new_version(ALICE, first.id)
    book.update(ALICE, draft.id, replace(draft.record, titles=(Title("Snow cover v2"),)))
    book.submit(ALICE, draft.id)
    book.approve(CURATOR, draft.id)
    second = book.publish(ALICE, draft.id)
    assert first.identifier and second.identifier and second.identifier != first.identifier
    newer, older = fake.dois[second.identifier], fake.dois[first.identifier]
    assert newer["state"] == older["state"] == "findable"
    assert ("IsNewVersionOf", first.identifier) in related(newer["metadata"])
    assert ("IsPreviousVersionOf", second.identifier) in related(older["metadata"])
    assert older["metadata"]["titles"][0]["title"] == complete_record().title  # rest unchanged
    # the platform's own copy of the old record says the same
    links = book.get(ANONYMOUS, first.id).record.related_identifiers
    assert ("IsPreviousVersionOf", second.identifier) in {
        (r.relation_type, r.related_identifier) for r in links}  # fmt: skip


def test_a_failed_back_link_leaves_the_new_version_approved_and_a_retry_links(
    engine: sa.Engine, datacite: DataCiteProvider, fake: FakeDataCite
) -> None:
    book = RecordBook(engine, identifiers=datacite, clock=clock, base_url="https://hub.example")
    first = book.publish(ALICE, approved(book))
    rid = book.new_version(ALICE, first.id).id
    book.submit(ALICE, rid)
    book.approve(CURATOR, rid)
    assert first.identifier
    fake.failures["PUT"] = [None, 502]  # the new DOI is published, the old one's links fail
    with pytest.raises(DataCiteUnavailable, match="502"):
        book.publish(ALICE, rid)
    assert book.get(ALICE, rid).state is RecordState.APPROVED
    assert fake.dois[f"10.5072/{rid}"]["state"] == "findable"
    assert not any(rel == "IsPreviousVersionOf" for rel, _ in related(
        fake.dois[first.identifier]["metadata"]))  # fmt: skip
    second = book.publish(ALICE, rid)
    assert ("IsPreviousVersionOf", second.identifier) in related(
        fake.dois[first.identifier]["metadata"])  # fmt: skip
    # publishing the same version again adds no second link
    datacite.publish(rid, f"10.5072/{rid}", second.record)
    links = fake.dois[first.identifier]["metadata"]["relatedIdentifiers"]
    assert [x["relationType"] for x in links].count("IsPreviousVersionOf") == 1


# -- settings --------------------------------------------------------------------------------


def test_settings_choose_the_provider() -> None:
    assert isinstance(identifier_provider(load_settings()), LocalIdentifiers)
    assert isinstance(provider_for(load_settings()), LocalIdentifiers)
    chosen = provider_for(load_settings(
        datacite_url="https://api.test.datacite.org", datacite_prefix="10.5072",
        datacite_repository_id="THEIA.TEST", datacite_password="s3cret",
        public_url="https://data.theia.example"))  # fmt: skip
    assert isinstance(chosen, DataCiteProvider)
    assert chosen.landing_url("abc") == "https://data.theia.example/records/abc"
    assert chosen.doi_for("abc") == "10.5072/abc"
    chosen.close()
    wired = identifier_provider(load_settings(
        datacite_url="https://api.test.datacite.org", datacite_prefix="10.5072",
        datacite_repository_id="THEIA.TEST", datacite_password="s3cret",
        doi_landing_base="https://doi.theia.example/r"))  # fmt: skip
    assert isinstance(wired, DataCiteProvider)  # what the server's record book publishes with
    assert wired.landing_url("abc") == "https://doi.theia.example/r/abc"
    wired.close()
    with pytest.raises(ConfigError, match="datacite_prefix"):
        load_settings(datacite_url="https://api.test.datacite.org", datacite_prefix="5072",
                      datacite_repository_id="X", datacite_password="y")  # fmt: skip
    with pytest.raises(ConfigError, match="datacite_password"):
        load_settings(datacite_url="https://api.test.datacite.org", datacite_prefix="10.5072")
