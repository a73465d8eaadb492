"""The thesaurus JSON and pages over the two real vocabularies: the scheme list, the
autocomplete (ranked, language fallback, broader labels), a scheme page (tree, collections,
search), a concept page (labels by language, definition, links), French, and bad input as
400/404 naming what is wrong."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.fair.thesauri import Thesauri

DATA = Path(__file__).resolve().parents[1] / "data" / "thesauri"
INSPIRE_URI = "http://inspire.ec.europa.eu/theme"
MMD_URI = "https://vocab.met.no/mmd"
NORWEGIAN_SEA = "https://vocab.met.no/mmd/Areas/NorwegianSea"
NERSC = "https://vocab.met.no/mmd/Organisation/NERSC"


@pytest.fixture
def app(tmp_path: Path) -> Any:
    built = create_app(Settings(data_dir=tmp_path))
    thesauri = Thesauri(built.state.services.access.engine)
    thesauri.import_file(DATA / "inspire-theme.en.rdf")
    thesauri.import_file(DATA / "mmd-vocabulary.ttl")
    return built


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as opened:
        yield opened


def test_the_schemes_are_listed_as_json(client: TestClient) -> None:
    answer = client.get("/thesauri", params={"lang": "nb"})
    assert answer.status_code == 200
    schemes = {s["uri"]: s for s in answer.json()}
    assert set(schemes) == {INSPIRE_URI, MMD_URI}
    assert schemes[MMD_URI]["title"] == "MMD Vokabular" and schemes[MMD_URI]["concepts"] == 319
    assert schemes[INSPIRE_URI]["title"] == "INSPIRE theme register"  # no Norwegian: English


def test_the_autocomplete_ranks_and_names_broader_concepts(client: TestClient) -> None:
    answer = client.get("/thesauri/search", params={"q": "Norwegian sé", "limit": 3})
    assert answer.status_code == 200, answer.text
    (hit,) = answer.json()["hits"]
    assert hit == {
        "uri": NORWEGIAN_SEA, "prefLabel": "Norwegian Sea", "matched": "Norwegian Sea",
        "scheme": MMD_URI, "broader": ["Arctic"], "rank": 1,
    }  # fmt: skip
    nb = client.get("/thesauri/search", params={"q": "nersc", "lang": "nb"}).json()["hits"]
    assert [(h["prefLabel"], h["matched"], h["rank"]) for h in nb] == [
        ("Nansensenteret", "NERSC", 0)
    ]
    only = client.get("/thesauri/search", params={"q": "land", "scheme": INSPIRE_URI}).json()
    assert [h["prefLabel"] for h in only["hits"]][:2] == ["Land use", "Land cover"]
    assert {h["scheme"] for h in only["hits"]} == {INSPIRE_URI}


@pytest.mark.parametrize(
    ("params", "status", "names"),
    [
        ({}, 400, "q"),
        ({"q": ""}, 400, "q"),
        ({"q": "sea", "limit": "0"}, 400, "limit"),
        ({"q": "sea", "lang": "en;drop"}, 400, "lang"),
        ({"q": "sea", "scheme": "http://example.org/none"}, 404, "http://example.org/none"),
    ],
)
def test_bad_searches_are_client_errors_naming_the_problem(
    client: TestClient, params: dict[str, str], status: int, names: str
) -> None:
    answer = client.get("/thesauri/search", params=params)
    assert answer.status_code == status
    assert names in answer.text


def test_scheme_and_concept_json(client: TestClient) -> None:
    scheme = client.get("/thesauri/scheme", params={"uri": INSPIRE_URI}).json()
    assert len(scheme["topConcepts"]) == 35 and scheme["topConcepts"][0]["prefLabel"] == "Addresses"
    concept = client.get("/thesauri/concept", params={"uri": NERSC, "lang": "nb"}).json()
    assert concept["prefLabel"] == "Nansensenteret"
    assert concept["labels"]["en"]["alt"] == ["NERSC", "Nansen Center"]
    sea = client.get("/thesauri/concept", params={"uri": NORWEGIAN_SEA}).json()
    assert sea["broader"] == [
        {"uri": "https://vocab.met.no/mmd/Areas/Arctic", "prefLabel": "Arctic", "known": True}
    ]
    missing = client.get("/thesauri/concept", params={"uri": "http://example.org/x"})
    assert missing.status_code == 404 and "http://example.org/x" in missing.text


def test_the_list_and_scheme_pages_show_the_tree_and_search(client: TestClient) -> None:
    listing = client.get("/thesaurus")
    assert listing.status_code == 200 and "MMD Vocabulary" in listing.text
    assert "thesaurus/scheme?uri=https%3A//vocab.met.no/mmd" in listing.text
    inspire = client.get("/thesaurus/scheme", params={"uri": INSPIRE_URI}).text
    tree = inspire.split('id="hierarchy"')[1]
    assert tree.count("<li>") == 35 and ">Hydrography</a>" in tree
    mmd = client.get("/thesaurus/scheme", params={"uri": MMD_URI, "q": "norwegian sea"}).text
    results = mmd.split('id="results"')[1].split("</section>")[0]
    assert ">Norwegian Sea</a>" in results and "Arctic" in results
    areas = mmd.split("<summary>Geographical Areas")[1].split("</details>")[0]
    assert ">Norwegian Sea</a>" in areas  # under Arctic in the collection's tree
    assert areas.index(">Arctic</a>") < areas.index(">Norwegian Sea</a>")
    assert client.get("/thesaurus/scheme", params={"uri": "http://x.org/s"}).status_code == 404


def test_the_concept_page_in_english_and_french(client: TestClient) -> None:
    page = client.get("/thesaurus/concept", params={"uri": NERSC})
    assert page.status_code == 200
    assert "<h1>Nansen Environmental and Remote Sensing Center</h1>" in page.text
    assert f'id="concept-uri" href="{NERSC}"' in page.text
    labels = page.text.split('id="labels"')[1]
    assert "Nansensenteret" in labels and "NERSC · Nansen Center" in labels
    http = client.get(
        "/thesaurus/concept", params={"uri": "https://vocab.met.no/mmd/Data_Access_Types/HTTP"}
    ).text
    assert "outside the imported thesauri" in http.split('id="broader"')[1]
    client.cookies.set("lang", "fr")
    french = client.get("/thesaurus/concept", params={"uri": NORWEGIAN_SEA}).text
    assert "Générique" in french and "Libellés" in french and ">Arctic</a>" in french
