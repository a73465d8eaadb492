"""The DCAT-AP 3 catalogue at /dcat: valid against the DCAT-AP SHACL shapes, read back by
rdflib in Turtle and JSON-LD, every published record once, no draft, tombstone or record of
a hidden collection."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from rdflib import DCAT, DCTERMS, RDF, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from terrapole.access.policy import Principal
from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.fair.dcat import CatalogueInfo, catalogue_graph, serialize
from terrapole.fair.model import Source, SourceKind
from terrapole.fair.records import RecordBook
from terrapole.fair.tables import records
from terrapole.fair.validation import validate_dcat
from terrapole.web.oai import harvest_of

from .harvest_fixtures import insert_published
from .records_fixtures import complete_record

ALICE = Principal(name="alice", user_id="alice")
CURATOR = Principal(name="carol", user_id="carol", roles=frozenset({"curator"}))
HOST = "https://data.theia.example"


def _published(book: RecordBook, title: str, collection: str | None = None) -> str:
    record = complete_record(title)
    if collection:
        source = Source(SourceKind.COLLECTION, collection)
        record = replace(record, extras=replace(record.extras, source=source))
    rid = book.create(ALICE, record).id
    book.submit(ALICE, rid)
    book.approve(CURATOR, rid)
    book.publish(ALICE, rid)
    return rid


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> TestClient:
    settings = Settings(data_dir=tmp_path, database_url=database_url, public_url=HOST)
    return create_app(settings)


@pytest.fixture
def ids(app: TestClient) -> dict[str, list[str]]:
    services = app.state.services  # type: ignore[attr-defined]
    engine = services.access.engine
    book = RecordBook(engine, base_url=HOST)
    public = insert_published(engine, 30, start=datetime(2021, 1, 1, tzinfo=UTC),
                              step=timedelta(minutes=1))  # fmt: skip
    public.append(_published(book, "Snow", "snow"))
    withdrawn = _published(book, "Withdrawn")
    book.withdraw(CURATOR, withdrawn, "a duplicate")
    draft = book.create(ALICE, complete_record("Draft")).id
    secret = _published(book, "Secret", "secret")
    services.access.restrict("secret", ["partners"])
    return {"public": public, "left out": [withdrawn, draft, secret]}


@pytest.fixture
def http(app: TestClient) -> Iterator[TestClient]:
    with TestClient(app) as client:  # type: ignore[arg-type]
        yield client


def datasets(graph: Graph) -> list[str]:
    return sorted(str(s) for s in graph.subjects(RDF.type, DCAT.Dataset))


def test_the_turtle_catalogue_conforms_and_lists_each_published_record_once(
    http: TestClient, ids: dict[str, list[str]]
) -> None:
    response = http.get("/dcat")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/turtle")
    assert validate_dcat(response.content) == []
    graph = Graph().parse(data=response.content, format="turtle")
    expected = sorted(f"{HOST}/records/{rid}" for rid in ids["public"])
    assert datasets(graph) == expected
    catalogue = URIRef(f"{HOST}/dcat")
    assert sorted(str(d) for d in graph.objects(catalogue, DCAT.dataset)) == expected
    for rid in ids["left out"]:
        assert (URIRef(f"{HOST}/records/{rid}"), None, None) not in graph


# rdflib 7's JSON-LD parser builds a ConjunctiveGraph itself, which it deprecates
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_json_ld_holds_the_same_graph_as_turtle(
    http: TestClient, ids: dict[str, list[str]]
) -> None:
    turtle = Graph().parse(data=http.get("/dcat?format=ttl").content, format="turtle")
    answer = http.get("/dcat", headers={"Accept": "application/ld+json"})
    assert answer.headers["content-type"].startswith("application/ld+json")
    jsonld = Graph().parse(data=answer.content, format="json-ld")
    assert datasets(jsonld) == datasets(turtle)
    assert len(jsonld) == len(turtle)
    assert validate_dcat(jsonld) == []


def test_a_dataset_carries_licence_themes_coverage_and_publisher(
    app: TestClient, ids: dict[str, list[str]]
) -> None:
    services = app.state.services  # type: ignore[attr-defined]
    info = CatalogueInfo(f"{HOST}/dcat", f"{HOST}/", f"{HOST}/records/")
    graph = catalogue_graph(harvest_of(services), info)
    assert validate_dcat(graph) == []
    dataset = URIRef(f"{HOST}/records/{ids['public'][-1]}")
    themes = {str(t) for t in graph.objects(dataset, DCAT.theme)}
    assert themes == {"http://inspire.ec.europa.eu/theme/lc",
                      "http://www.eionet.europa.eu/gemet/concept/7863"}  # fmt: skip
    assert str(graph.value(dataset, DCTERMS.title)) == "Snow"
    assert graph.value(dataset, DCTERMS.publisher) == URIRef("https://ror.org/04wxnsj81")
    distribution = graph.value(dataset, DCAT.distribution)
    licence = graph.value(distribution, DCTERMS.license)
    assert licence == URIRef("https://creativecommons.org/licenses/by/4.0/")
    period = graph.value(dataset, DCTERMS.temporal)
    assert str(graph.value(period, DCAT.startDate)) == "2018-01-01"
    assert "POLYGON((-2.0 42.0" in str(graph.value(graph.value(dataset, DCTERMS.spatial),
                                                   DCAT.bbox))  # fmt: skip


def test_an_unknown_format_is_a_400_naming_it(http: TestClient) -> None:
    response = http.get("/dcat?format=rdfxml")
    assert response.status_code == 400
    assert "rdfxml" in response.text


ODD = 'Quote " back\\slash \\u0041 new\nline\r tab\t é 🧊 <b>&amp; """ end\\'


# rdflib 7's JSON-LD parser builds a ConjunctiveGraph itself, which it deprecates
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_the_streamed_catalogue_is_the_graph_with_odd_text_kept_as_it_is(
    app: TestClient, ids: dict[str, list[str]]
) -> None:
    services = app.state.services  # type: ignore[attr-defined]
    odd = ids["public"][0]
    with services.access.engine.begin() as con:
        metadata = con.execute(sa.select(records.c.metadata).where(records.c.id == odd)).scalar()
        metadata = {**metadata, "titles": [{"title": ODD, "lang": "en-GB"}],
                    "descriptions": [{"description": ODD, "lang": "not a tag!"}]}  # fmt: skip
        con.execute(sa.update(records).where(records.c.id == odd).values(metadata=metadata))
    harvest = harvest_of(services)
    info = CatalogueInfo(f"{HOST}/dcat", f"{HOST}/", f"{HOST}/records/")
    graph = catalogue_graph(harvest, info)
    dataset = URIRef(f"{HOST}/records/{odd}")
    assert graph.value(dataset, DCTERMS.title) == Literal(ODD, lang="en-GB")
    assert graph.value(dataset, DCTERMS.description) == Literal(ODD)  # the bad tag left out
    for fmt, parser in (("turtle", "turtle"), ("json-ld", "json-ld")):
        text = b"".join(serialize(harvest, info, fmt, chunk=7))  # type: ignore[arg-type]
        streamed = Graph().parse(data=text, format=parser)
        assert isomorphic(streamed, graph), fmt
        assert streamed.value(dataset, DCTERMS.title) == Literal(ODD, lang="en-GB")
