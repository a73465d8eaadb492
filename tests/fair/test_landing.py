"""The landing page of a published record over the real app: every negotiated format parses and
names the title, creator, identifier and licence; the inline schema.org JSON-LD reads without
network; the Signposting links and linkset carry every relation; 406 on an unknown Accept;
drafts are 404 to anonymous callers; the DCAT Turtle passes the DCAT-AP 3 shapes; a browser
shows the page (screenshot)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from playwright.sync_api import Browser
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, SDO

from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.fair.model import Extras, Source, SourceKind
from terrapole.fair.validation import validate_dcat

from ..conftest import needs_chromium, s2_collection
from ..stac_api.live import serve
from .conftest import token
from .records_fixtures import complete_record

SHOTS: str | None = None  # a folder to keep the screenshot in when looking at the page
TITLE = "Snow cover of the Pyrenees, 2018-2023"
ORCID = "https://orcid.org/0000-0002-1825-0097"
LICENCE = "https://creativecommons.org/licenses/by/4.0/"
CHECKSUM = "1220" + "9f" * 32
DATACITE = "http://datacite.org/schema/kernel-4"


def _collection() -> dict[str, Any]:
    collection = s2_collection()
    collection["assets"] = {
        "guide": {"href": "https://data.example/s2/guide.pdf", "type": "application/pdf",
                  "title": "Product guide", "file:size": 123456, "file:checksum": CHECKSUM},
    }  # fmt: skip
    return collection


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Any:
    app = create_app(Settings(data_dir=tmp_path, database_url=database_url))
    app.state.services.store.create_collection(_collection())
    return app


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def published(app: Any, client: TestClient) -> tuple[str, dict[str, str]]:
    """A record of the Sentinel-2 collection, published by its owner: (id, owner's header)."""
    owner = token(app, "ana@lab.example")
    curator = token(app, "cy@hub.example", frozenset({"curator"}))
    source = Source(SourceKind.COLLECTION, "sentinel-2-l2a")
    record = complete_record(TITLE)
    record = replace(record, version="1.0", extras=replace(record.extras, source=source))
    rid = client.post("/records", json=record.to_json(), headers=owner).json()["id"]
    assert client.post(f"/records/{rid}/submit", headers=owner).status_code == 200
    assert client.post(f"/records/{rid}/approve", headers=curator).status_code == 200
    assert client.post(f"/records/{rid}/publish", headers=owner).json()["state"] == "published"
    return rid, owner


def links_of(header: str) -> list[tuple[str, str, str | None]]:
    """(target, rel, type) of each link of a ``Link`` header."""
    found = []
    for target, params in re.findall(r"<([^>]*)>((?:\s*;\s*[a-z]+=\"[^\"]*\")*)", header):
        named = dict(re.findall(r'([a-z]+)="([^"]*)"', params))
        found.append((target, named["rel"], named.get("type")))
    return found


def test_every_negotiated_format_parses_and_names_the_essentials(
    app: Any, client: TestClient
) -> None:
    rid, _ = published(app, client)
    url = f"http://testserver/records/{rid}"

    def get(accept: str) -> Any:
        answer = client.get(f"/records/{rid}", headers={"Accept": accept})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith(accept)
        return answer

    xml = etree.fromstring(get("application/vnd.datacite.datacite+xml").content)
    ns = {"d": DATACITE}
    assert xml.findtext("d:titles/d:title", namespaces=ns) == TITLE
    assert xml.findtext("d:creators/d:creator/d:nameIdentifier", namespaces=ns) == ORCID
    assert xml.find("d:rightsList/d:rights", namespaces=ns).get("rightsURI") == LICENCE
    assert xml.find("d:identifier", namespaces=ns).get("identifierType") == "URL"
    assert xml.findtext("d:identifier", namespaces=ns) == url  # no DOI: named by its page

    kernel = get("application/vnd.datacite.datacite+json").json()
    assert kernel["titles"][0]["title"] == TITLE
    assert kernel["rightsList"][0]["rightsIdentifier"] == "CC-BY-4.0"
    assert {"alternateIdentifier": url, "alternateIdentifierType": "URL"} in kernel[
        "alternateIdentifiers"
    ]

    jsonld = get("application/ld+json").json()
    assert (jsonld["name"], jsonld["@id"], jsonld["license"]) == (TITLE, url, LICENCE)
    assert jsonld["creator"][0]["@id"] == ORCID
    assert jsonld["distribution"][0]["contentSize"] == "123456 B"

    graph = Graph().parse(data=get("text/turtle").text, format="turtle")
    dataset = URIRef(url)
    assert (dataset, RDF.type, DCAT.Dataset) in graph
    assert (dataset, DCTERMS.title, Literal(TITLE, lang="en")) in graph
    assert (dataset, DCTERMS.creator, URIRef(ORCID)) in graph
    assert (dataset, DCTERMS.identifier, Literal(f"terrapole:local/{rid}")) in graph
    assert list(graph.objects(None, DCTERMS.license)) == [URIRef(LICENCE)]

    bib = get("application/x-bibtex").text
    assert re.match(r"@misc\{Carberry2024,", bib)
    assert re.search(r"author = \{Carberry, Josiah\}", bib)
    assert re.search(rf"title = \{{\{{{re.escape(TITLE)}\}}\}}", bib)
    assert re.search(rf"url = \{{{re.escape(url)}\}}", bib)
    assert "copyright = {Creative Commons Attribution 4.0 International}" in bib

    ris = get("application/x-research-info-systems").text.split("\r\n")
    assert ris[0] == "TY  - DATA"
    assert {f"TI  - {TITLE}", "AU  - Carberry, Josiah", f"UR  - {url}", "ER  - "} <= set(ris)
    assert any(line.startswith("C1  - ") and LICENCE in line for line in ris)

    csl = get("application/vnd.citationstyles.csl+json").json()
    assert (csl["type"], csl["title"], csl["URL"]) == ("dataset", TITLE, url)
    assert csl["author"] == [{"family": "Carberry", "given": "Josiah"}]

    api = get("application/json").json()
    assert (api["id"], api["state"]) == (rid, "published")


def test_the_format_parameter_and_the_accept_ranking(app: Any, client: TestClient) -> None:
    rid, _ = published(app, client)
    by_query = client.get(f"/records/{rid}", params={"format": "ris"})
    assert by_query.headers["content-type"].startswith("application/x-research-info-systems")
    ranked = client.get(
        f"/records/{rid}", headers={"Accept": "text/html;q=0.5, application/x-bibtex"}
    )
    assert ranked.text.startswith("@misc")
    browser_like = client.get(
        f"/records/{rid}", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    )
    assert browser_like.headers["content-type"].startswith("text/html")
    assert client.get(f"/records/{rid}", params={"format": "pdf"}).status_code == 400


def test_an_unknown_accept_is_a_406_listing_the_formats(app: Any, client: TestClient) -> None:
    rid, _ = published(app, client)
    refused = client.get(f"/records/{rid}", headers={"Accept": "application/pdf"})
    assert refused.status_code == 406
    assert "application/x-bibtex" in refused.text
    assert "application/vnd.datacite.datacite+xml" in refused.text


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")  # rdflib's
def test_the_inline_json_ld_reads_without_network(app: Any, client: TestClient) -> None:
    rid, _ = published(app, client)
    page = client.get(f"/records/{rid}").text
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert found is not None
    doc = json.loads(found.group(1))
    assert isinstance(doc["@context"], dict)  # nothing to fetch
    graph = Graph().parse(data=json.dumps(doc), format="json-ld")
    dataset = URIRef(f"http://testserver/records/{rid}")
    assert (dataset, RDF.type, SDO.Dataset) in graph
    assert graph.value(dataset, SDO.name) == Literal(TITLE)
    assert graph.value(dataset, SDO.license) == URIRef(LICENCE)
    assert graph.value(dataset, SDO.identifier) == Literal(str(dataset))
    creator = graph.value(dataset, SDO.creator)
    assert creator == URIRef(ORCID)
    assert (creator, RDF.type, SDO.Person) in graph


def test_signposting_links_and_linkset_carry_every_relation(app: Any, client: TestClient) -> None:
    rid, _ = published(app, client)
    url = f"http://testserver/records/{rid}"
    links = links_of(client.get(f"/records/{rid}").headers["link"])
    rels = {rel for _, rel, _ in links}
    assert {"cite-as", "describedby", "item", "license", "author", "type", "linkset"} <= rels
    assert (url, "cite-as", None) in links
    assert (ORCID, "author", None) in links
    assert (LICENCE, "license", None) in links
    assert (f"{url}/files/0", "item", "application/pdf") in links
    assert {t for t, rel, _ in links if rel == "type"} == {
        "https://schema.org/Dataset", "https://schema.org/AboutPage"}  # fmt: skip
    described = {kind for _, rel, kind in links if rel == "describedby"}
    assert {"application/vnd.datacite.datacite+xml", "application/ld+json", "text/turtle",
            "application/x-bibtex"} <= described  # fmt: skip
    for target, rel, kind in links:
        if rel == "describedby":  # each one answers what it says
            got = client.get(target.removeprefix("http://testserver"))
            assert got.headers["content-type"].startswith(kind or "")
    page = client.get(f"/records/{rid}").text
    assert f'<link rel="cite-as" href="{url}">' in page

    linkset = client.get(f"/records/{rid}/linkset")
    assert linkset.headers["content-type"].startswith("application/linkset+json")
    anchors = {a["anchor"]: a for a in linkset.json()["linkset"]}
    assert anchors[url]["author"] == [{"href": ORCID}]
    assert anchors[f"{url}/files/0"]["collection"] == [{"href": url, "type": "text/html"}]

    file = client.get(f"/records/{rid}/files/0", follow_redirects=False)
    assert file.status_code == 303
    assert file.headers["location"] == "https://data.example/s2/guide.pdf"
    assert (url, "collection", "text/html") in links_of(file.headers["link"])
    assert client.get(f"/records/{rid}/files/7").status_code == 404


def test_the_page_shows_files_citations_versions_and_counts(app: Any, client: TestClient) -> None:
    rid, owner = published(app, client)
    page = client.get(f"/records/{rid}").text
    assert "Carberry, Josiah (2024): Snow cover of the Pyrenees, 2018-2023. Version 1.0." in page
    assert "Carberry, J. (2024)." in page  # APA
    assert "sha256:" + "9f" * 32 in page
    assert "120.6 KiB" in page
    assert 'href="https://orcid.org/0000-0002-1825-0097"' in page
    assert 'data-bbox="[-2.0, 42.0, 3.5, 43.5]"' in page
    assert "<strong>2</strong> views" in client.get(f"/records/{rid}").text
    client.cookies.set("lang", "fr")
    assert "Citer ce jeu de données" in client.get(f"/records/{rid}").text
    client.cookies.clear()

    nxt = client.post(f"/records/{rid}/versions", headers=owner).json()["id"]
    listed = client.get(f"/records/{rid}/versions").json()["versions"]
    assert [(v["current"], v["newest"]) for v in listed] == [(True, True)]  # drafts not listed
    assert (
        client.get(f"/records/concepts/{rid}", follow_redirects=False)
        .headers["location"]
        .endswith(f"/records/{rid}")
    )
    assert client.get(f"/records/{nxt}").status_code == 404  # a draft, anonymous


def test_a_draft_is_404_to_anonymous_callers_and_shown_to_its_owner(
    app: Any, client: TestClient
) -> None:
    owner = token(app, "ana@lab.example")
    rid = client.post("/records", json=complete_record().to_json(), headers=owner).json()["id"]
    for path in (f"/records/{rid}", f"/records/{rid}/linkset", f"/records/{rid}/versions"):
        assert client.get(path).status_code == 404
    assert client.get(f"/records/{rid}", headers=owner | {"Accept": "application/x-bibtex"}
                      ).status_code == 200  # fmt: skip
    shown = client.get(f"/records/{rid}", headers=owner)
    assert "Not published" in shown.text
    assert client.get("/records/no-such-record").status_code == 404


def test_the_dcat_turtle_passes_the_dcat_ap_shapes(app: Any, client: TestClient) -> None:
    rid, _ = published(app, client)
    turtle = client.get(f"/records/{rid}", params={"format": "turtle"}).text
    assert validate_dcat(turtle) == []


def test_the_dcat_of_a_bare_record_is_refused_by_the_shapes_only_where_it_should() -> None:
    from terrapole.fair.formats import DataFile, RecordView
    from terrapole.fair.formats.dcat_record import graph_of

    record = replace(complete_record(), extras=Extras())
    view = RecordView(record, "https://data.example/records/x",
                      files=(DataFile("a.csv", "https://data.example/a.csv", 10, "sha256:00",
                                      "text/csv"),))  # fmt: skip
    assert validate_dcat(graph_of(view)) == []
    graph = graph_of(view)
    graph.remove((None, DCTERMS.description, None))
    assert any("dct:description" in p for p in validate_dcat(graph))


@needs_chromium
def test_a_browser_shows_the_landing_page(
    browser: Browser, tmp_path: Path, database_url: str
) -> None:
    app = create_app(Settings(data_dir=tmp_path, database_url=database_url))
    app.state.services.store.create_collection(_collection())
    rid, _ = published(app, TestClient(app))  # no lifespan: the store stays open for serve()
    shots = Path(SHOTS) if SHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    with serve(app) as url:
        page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
        page.goto(f"{url}/records/{rid}")
        assert page.inner_text("#record-title") == TITLE
        assert page.inner_text("#cite-copy") == "Copy"
        assert page.locator("#files tbody tr").count() == 1
        page.select_option("#cite-style", "apa")
        assert page.locator('.citation[data-style="apa"]').is_visible()
        assert not page.locator('.citation[data-style="datacite"]').is_visible()
        page.wait_for_selector("#record-map canvas")
        assert page.screenshot(path=str(shots / "landing.png"), full_page=True)


def test_a_deposit_record_lists_its_files_through_the_deposit(app: Any, client: TestClient) -> None:
    from terrapole.access.policy import Principal
    from terrapole.web.deposits import deposits_of

    alice = Principal(name="alice-token", user_id="alice")
    curator = Principal(name="cora-token", user_id="cora", roles=frozenset({"curator"}))
    deposits = deposits_of(app.state.services)
    deposit = deposits.create(alice, "Discharge of the Garonne")
    data = b"date,discharge\n2020-01-01,412.5\n"
    digest = hashlib.sha256(data).hexdigest()
    upload = deposits.start_upload(alice, deposit.id, "garonne q.csv", len(data), sha256=digest)
    deposits.put_chunk(alice, upload.id, 0, data)
    deposits.complete(alice, upload.id)
    stored = deposits.record(alice, deposit.id)
    full = replace(complete_record(), extras=stored.record.extras)
    deposits.describe(alice, deposit.id, full)
    deposits.submit(alice, deposit.id)
    deposits.book.approve(curator, stored.id)
    deposits.publish(alice, deposit.id)

    url = f"http://testserver/records/{stored.id}"
    links = links_of(client.get(f"/records/{stored.id}").headers["link"])
    download = f"http://testserver/deposits/{deposit.id}/files/garonne%20q.csv"
    assert (f"{url}/files/0", "item", "text/csv") in links
    jsonld = client.get(f"/records/{stored.id}", params={"format": "jsonld"}).json()
    assert jsonld["distribution"] == [{"@type": "DataDownload", "name": "garonne q.csv",
                                       "contentUrl": download, "encodingFormat": "text/csv",
                                       "contentSize": f"{len(data)} B", "sha256": digest}]  # fmt: skip
    file = client.get(f"/records/{stored.id}/files/0", follow_redirects=False)
    assert file.headers["location"] == download
    assert client.get(download).content == data
