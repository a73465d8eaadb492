"""OAI-PMH at /oai on SQLite and PostgreSQL: every response valid against the OAI-PMH,
oai_dc and DataCite schemas, a real harvester (pyoai) over a live server following
resumption tokens, sets, selective harvesting, deleted and hidden records, error codes."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import oaipmh.client
import oaipmh.metadata
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from lxml import etree
from oaipmh import error as oai_errors
from oaipmh.client import Client
from oaipmh.metadata import MetadataRegistry, oai_dc_reader

from terrapole.access.policy import Principal
from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.fair.ces import CesDirectory, Consortium, Kind, Offer
from terrapole.fair.model import Source, SourceKind
from terrapole.fair.records import RecordBook
from terrapole.fair.validation import validate_oai
from terrapole.web import oai as oai_api

from ..stac_api.live import serve
from .harvest_fixtures import insert_published
from .records_fixtures import complete_record

OAI = "{http://www.openarchives.org/OAI/2.0/}"
ALICE = Principal(name="alice", user_id="alice")
CURATOR = Principal(name="carol", user_id="carol", roles=frozenset({"curator"}))
START = datetime(2020, 1, 1, tzinfo=UTC)
BULK = 250
PAGE = 40
HOST = "data.theia.example"


@dataclass
class Repo:
    """The app's services with records in every state, and the ids of the interesting ones."""

    services: Any
    bulk: list[str]
    snow: str
    withdrawn: str
    draft: str
    secret: str

    def oai_id(self, record_id: str) -> str:
        return f"oai:{HOST}:{record_id}"


def _about(collection: str) -> Any:
    record = complete_record(f"Snow cover of {collection}")
    source = Source(SourceKind.COLLECTION, collection)
    return replace(record, extras=replace(record.extras, source=source))


def _published(book: RecordBook, record: Any) -> str:
    rid = book.create(ALICE, record).id
    book.submit(ALICE, rid)
    book.approve(CURATOR, rid)
    book.publish(ALICE, rid)
    return rid


@pytest.fixture
def repo(tmp_path: Path, database_url: str) -> Repo:
    settings = Settings(data_dir=tmp_path, database_url=database_url, public_url=f"https://{HOST}")
    services = create_app(settings).state.services
    engine = services.access.engine
    book = RecordBook(engine, base_url=f"https://{HOST}")
    bulk = insert_published(engine, BULK, start=START, step=timedelta(hours=1))
    snow = _published(book, _about("snow"))
    withdrawn = _published(book, complete_record("Withdrawn"))
    book.withdraw(CURATOR, withdrawn, "published twice")
    draft = book.create(ALICE, complete_record("Draft")).id
    secret = _published(book, _about("secret"))
    services.access.restrict("secret", ["partners"])
    directory = CesDirectory(engine)
    directory.create(CURATOR, Consortium(id="snow-ces", name="Snow CES", acronym="SNOW",
                                         description="Snow products"))  # fmt: skip
    directory.add_offer(CURATOR, Offer(id="snow-maps", ces_id="snow-ces", name="Snow maps",
                                       kind=Kind.PRODUCT, trl=7, collections=("snow",)))  # fmt: skip
    return Repo(services, bulk, snow, withdrawn, draft, secret)


def small_pages(repo: Repo) -> FastAPI:
    app = FastAPI()
    app.include_router(oai_api.router(repo.services, page_size=PAGE))
    return app


@pytest.fixture
def http(repo: Repo) -> Iterator[TestClient]:
    with TestClient(small_pages(repo)) as client:
        yield client


class _Evaluator:
    """lxml 6 dropped ``XPathEvaluator.evaluate`` (an old alias of calling it), which pyoai
    2.5 still calls; this gives it back to pyoai's modules only."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._evaluate = etree.XPathEvaluator(*args, **kwargs)

    def evaluate(self, path: str, **variables: Any) -> Any:
        return self._evaluate(path, **variables)


class _EtreeForPyoai:
    XPathEvaluator = _Evaluator

    def __getattr__(self, name: str) -> Any:
        return getattr(etree, name)


@pytest.fixture
def harvester(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    for module in (oaipmh.client, oaipmh.metadata):
        monkeypatch.setattr(module, "etree", _EtreeForPyoai())
    registry = MetadataRegistry()
    registry.registerReader("oai_dc", oai_dc_reader)
    with serve(small_pages(repo)) as url:
        yield Client(f"{url}/oai", registry)


def ask(http: TestClient, **arguments: str) -> etree._Element:
    """A GET request; the response must be valid whatever it says."""
    response = http.get("/oai", params=arguments)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert validate_oai(response.content) == []
    return etree.fromstring(response.content)


def error_code(root: etree._Element) -> str | None:
    error = root.find(f"{OAI}error")
    return None if error is None else error.get("code")


def identifiers(root: etree._Element) -> list[str]:
    return [
        e.text or "" for e in root.iter(f"{OAI}identifier") if e.getparent().tag == f"{OAI}header"
    ]


# -- every verb, valid ----------------------------------------------------------------------------


def test_identify_names_the_repository_and_its_identifier_scheme(http: TestClient) -> None:
    root = ask(http, verb="Identify")
    identify = root.find(f"{OAI}Identify")
    assert identify is not None
    assert identify.findtext(f"{OAI}baseURL") == f"https://{HOST}/oai"
    assert identify.findtext(f"{OAI}deletedRecord") == "persistent"
    assert identify.findtext(f"{OAI}granularity") == "YYYY-MM-DDThh:mm:ssZ"
    assert identify.findtext(f"{OAI}earliestDatestamp") == "2020-01-01T00:00:00Z"
    described = identify.find(f"{OAI}description")
    assert described is not None and HOST in etree.tostring(described).decode()


def test_a_resumption_sequence_gives_every_visible_record_once_and_validates(
    http: TestClient, repo: Repo
) -> None:
    for prefix in ("oai_dc", "oai_datacite"):
        seen: list[str] = []
        root = ask(http, verb="ListRecords", metadataPrefix=prefix)
        cursors = []
        while True:
            seen += identifiers(root)
            token = root.find(f"{OAI}ListRecords/{OAI}resumptionToken")
            assert token is not None
            assert token.get("completeListSize") == str(BULK + 2)
            cursors.append(int(token.get("cursor", "-1")))
            if not token.text:
                break
            root = ask(http, verb="ListRecords", resumptionToken=token.text)
        assert cursors == list(range(0, BULK + 2, PAGE))
        assert len(seen) == len(set(seen)) == BULK + 2
        expected = {repo.oai_id(r) for r in [*repo.bulk, repo.snow, repo.withdrawn]}
        assert set(seen) == expected


def test_get_record_list_formats_and_sets_validate(http: TestClient, repo: Repo) -> None:
    root = ask(http, verb="GetRecord", identifier=repo.oai_id(repo.snow),
               metadataPrefix="oai_datacite")  # fmt: skip
    resource = root.find(".//{http://datacite.org/schema/kernel-4}resource")
    assert resource is not None
    specs = [e.text for e in root.iter(f"{OAI}setSpec")]
    assert specs == ["collection:snow", "ces:snow-ces", "producer:user:alice"]
    formats = ask(http, verb="ListMetadataFormats", identifier=repo.oai_id(repo.snow))
    assert [e.text for e in formats.iter(f"{OAI}metadataPrefix")] == ["oai_dc", "oai_datacite"]
    sets = [e.text for e in ask(http, verb="ListSets").iter(f"{OAI}setSpec")]
    assert {"collection", "collection:snow", "ces:snow-ces", "producer:user:alice"} <= set(sets)
    assert "collection:secret" not in sets


def test_a_post_request_is_answered_as_a_get(http: TestClient) -> None:
    response = http.post("/oai", data={"verb": "Identify"})
    assert response.status_code == 200 and validate_oai(response.content) == []
    assert b"<Identify>" in response.content


# -- deleted, hidden, drafts ----------------------------------------------------------------------


def test_a_withdrawn_record_is_deleted_and_drafts_and_hidden_records_do_not_exist(
    http: TestClient, repo: Repo
) -> None:
    root = ask(http, verb="GetRecord", identifier=repo.oai_id(repo.withdrawn),
               metadataPrefix="oai_dc")  # fmt: skip
    header = root.find(f".//{OAI}header")
    assert header is not None and header.get("status") == "deleted"
    assert root.find(f".//{OAI}metadata") is None
    gone = ask(http, verb="ListMetadataFormats", identifier=repo.oai_id(repo.withdrawn))
    assert error_code(gone) == "noMetadataFormats"
    for hidden in (repo.draft, repo.secret):
        answer = ask(
            http, verb="GetRecord", identifier=repo.oai_id(hidden), metadataPrefix="oai_dc"
        )
        assert error_code(answer) == "idDoesNotExist"
    secret = ask(http, verb="ListIdentifiers", metadataPrefix="oai_dc", set="collection:secret")
    assert error_code(secret) == "noRecordsMatch"


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ({}, "badVerb"),
        ({"verb": "ListEverything"}, "badVerb"),
        ({"verb": "ListRecords"}, "badArgument"),
        ({"verb": "Identify", "set": "x"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "yesterday"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2020-01-02",
          "until": "2020-01-01T00:00:00Z"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2020-01-03",
          "until": "2020-01-02"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "a set"}, "badArgument"),
        ({"verb": "ListRecords", "resumptionToken": "not-a-token"}, "badResumptionToken"),
        ({"verb": "ListSets", "resumptionToken": "x"}, "badResumptionToken"),
        ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
        ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:elsewhere:1"},
         "idDoesNotExist"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2030-01-01"},
         "noRecordsMatch"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "collection:none"},
         "noRecordsMatch"),
    ],
)  # fmt: skip
def test_bad_requests_get_the_protocol_s_error_code(
    http: TestClient, arguments: dict[str, str], code: str
) -> None:
    root = ask(http, **arguments)
    assert error_code(root) == code
    request = root.find(f"{OAI}request")
    assert request is not None and request.text == f"https://{HOST}/oai"


@pytest.mark.parametrize("until", ["9999-12-31", "9999-12-31T23:59:59Z"])
def test_an_until_on_the_last_representable_day_lists_everything(
    http: TestClient, until: str
) -> None:
    root = ask(http, verb="ListIdentifiers", metadataPrefix="oai_dc", until=until)
    assert error_code(root) is None
    token = root.find(f"{OAI}ListIdentifiers/{OAI}resumptionToken")
    assert token is not None and token.get("completeListSize") == str(BULK + 2)
    bounded = ask(http, verb="ListIdentifiers", metadataPrefix="oai_dc", until=until,
                  **{"from": until})  # fmt: skip
    assert error_code(bounded) == "noRecordsMatch"


DROP = object()


def forged(token: str, **changes: Any) -> str:
    """A token of this repository with some of its fields changed (``DROP`` removes one)."""
    data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    data.update(changes)
    data = {key: value for key, value in data.items() if value is not DROP}
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


FORGERIES: list[dict[str, Any]] = [
    {"c": float("inf")},
    {"n": float("-inf")},
    {"c": float("nan")},
    {"c": -5, "n": -1},
    {"c": -5},
    {"n": -1},
    {"c": 1.5},
    {"c": "40"},
    {"c": True},
    {"e": "0001-01-01T00:00:00+05:00"},
    {"d": "9999-12-31T23:00:00-05:00"},
    {"b": 12},
    {"i": DROP},
    {"p": ["oai_dc"]},
]


def test_a_forged_token_is_a_bad_resumption_token(http: TestClient) -> None:
    first = ask(http, verb="ListIdentifiers", metadataPrefix="oai_dc")
    token = first.findtext(f".//{OAI}resumptionToken")
    assert token
    for changes in FORGERIES:
        answer = ask(http, verb="ListIdentifiers", resumptionToken=forged(token, **changes))
        assert error_code(answer) == "badResumptionToken", changes


def test_a_deeply_nested_token_is_a_bad_resumption_token(repo: Repo) -> None:
    from terrapole.fair.oai import OaiRepository

    repository = OaiRepository(oai_api.harvest_of(repo.services),
                               base_url="https://x.example/oai", records_url="https://x/")  # fmt: skip
    nested = base64.urlsafe_b64encode(b"[" * 100_000 + b"]" * 100_000).decode()
    answer = b"".join(repository.respond({"verb": ["ListRecords"], "resumptionToken": [nested]}))
    assert validate_oai(answer) == []
    assert error_code(etree.fromstring(answer)) == "badResumptionToken"


def test_a_token_with_a_zero_cursor_and_list_size_is_read(http: TestClient) -> None:
    first = ask(http, verb="ListIdentifiers", metadataPrefix="oai_dc")
    token = first.findtext(f".//{OAI}resumptionToken")
    assert token
    second = ask(http, verb="ListIdentifiers", resumptionToken=forged(token, c=0, n=0))
    resumption = second.find(f".//{OAI}resumptionToken")
    assert error_code(second) is None and resumption is not None
    assert resumption.get("cursor") == "0"
    assert resumption.get("completeListSize") == str(PAGE + 1)


def test_a_repeated_argument_or_a_token_with_other_arguments_is_a_bad_argument(
    http: TestClient,
) -> None:
    twice = http.get("/oai?verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc")
    assert error_code(etree.fromstring(twice.content)) == "badArgument"
    first = ask(http, verb="ListIdentifiers", metadataPrefix="oai_dc")
    token = first.findtext(f".//{OAI}resumptionToken")
    assert token
    mixed = ask(http, verb="ListIdentifiers", metadataPrefix="oai_dc", resumptionToken=token)
    assert error_code(mixed) == "badArgument"


def test_an_expired_token_is_refused(repo: Repo) -> None:
    base = oai_api.harvest_of(repo.services)
    from terrapole.fair.oai import OaiRepository

    early = OaiRepository(base, base_url="https://x.example/oai", records_url="https://x/",
                          page_size=10, clock=lambda: START)  # fmt: skip
    page = b"".join(early.respond({"verb": ["ListIdentifiers"], "metadataPrefix": ["oai_dc"]}))
    token = etree.fromstring(page).findtext(f".//{OAI}resumptionToken")
    assert token
    later = replace_clock(early, START + timedelta(days=2))
    answer = b"".join(later.respond({"verb": ["ListIdentifiers"], "resumptionToken": [token]}))
    assert validate_oai(answer) == []
    assert error_code(etree.fromstring(answer)) == "badResumptionToken"
    assert b"expired" in answer


def replace_clock(repository: Any, now: datetime) -> Any:
    repository.clock = lambda: now
    return repository


# -- a real harvester -----------------------------------------------------------------------------


def test_pyoai_harvests_every_record_once_following_tokens(harvester: Client, repo: Repo) -> None:
    harvested = list(harvester.listRecords(metadataPrefix="oai_dc"))
    ids = [header.identifier() for header, _metadata, _about in harvested]
    assert len(ids) == len(set(ids)) == BULK + 2
    deleted = [h.identifier() for h, _m, _a in harvested if h.isDeleted()]
    assert deleted == [repo.oai_id(repo.withdrawn)]
    snow = next(m for h, m, _a in harvested if h.identifier() == repo.oai_id(repo.snow))
    assert snow.getField("title") == ["Snow cover of snow"]
    assert f"https://{HOST}/records/{repo.snow}" in snow.getField("identifier")


def test_pyoai_reads_identify_get_record_and_sets(harvester: Client, repo: Repo) -> None:
    assert harvester.identify().repositoryName() == "terrapole"
    header, metadata, _about = harvester.getRecord(identifier=repo.oai_id(repo.snow),
                                                   metadataPrefix="oai_dc")  # fmt: skip
    assert header.setSpec() == ["collection:snow", "ces:snow-ces", "producer:user:alice"]
    assert metadata.getField("creator") == ["Carberry, Josiah"]
    header, metadata, _about = harvester.getRecord(identifier=repo.oai_id(repo.withdrawn),
                                                   metadataPrefix="oai_dc")  # fmt: skip
    assert header.isDeleted() and metadata is None
    sets = {spec: name for spec, name, _description in harvester.listSets()}
    assert sets["ces:snow-ces"] == "Snow CES"
    in_ces = [h.identifier() for h in harvester.listIdentifiers(metadataPrefix="oai_dc",
                                                                set="ces:snow-ces")]  # fmt: skip
    assert in_ces == [repo.oai_id(repo.snow)]


def test_pyoai_harvests_selectively_by_datestamp(harvester: Client, repo: Repo) -> None:
    # bulk record i changed at START + i hours: 2 January to 3 January inclusive is 24..71
    headers = list(harvester.listIdentifiers(metadataPrefix="oai_dc",
                                             from_=datetime(2020, 1, 2),
                                             until=datetime(2020, 1, 3, 23, 59, 59)))  # fmt: skip
    assert [h.identifier() for h in headers] == [repo.oai_id(r) for r in repo.bulk[24:72]]
    stamps = [h.datestamp() for h in headers]
    assert stamps[0] == datetime(2020, 1, 2) and stamps[-1] == datetime(2020, 1, 3, 23)


def test_pyoai_raises_the_protocol_s_errors(harvester: Client) -> None:
    with pytest.raises(oai_errors.CannotDisseminateFormatError):
        list(harvester.listRecords(metadataPrefix="marc21"))
    with pytest.raises(oai_errors.IdDoesNotExistError):
        harvester.getRecord(identifier=f"oai:{HOST}:nothing", metadataPrefix="oai_dc")
    with pytest.raises(oai_errors.NoRecordsMatchError):
        list(harvester.listIdentifiers(metadataPrefix="oai_dc", from_=datetime(2031, 1, 1)))
