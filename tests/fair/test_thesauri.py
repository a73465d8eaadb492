"""Thesaurus import and reads on the two real vocabularies (INSPIRE themes in RDF/XML, MET
Norway's MMD in Turtle), on SQLite and PostgreSQL: counts equal rdflib's own, a known
concept's labels and hierarchy, search ranks, an idempotent re-import, bad files refused with
nothing written, and the CLI."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import rdflib
import sqlalchemy as sa
from rdflib.namespace import RDF, SKOS

from terrapole import db
from terrapole.cli import main
from terrapole.errors import InvalidInput, NotFound
from terrapole.fair.thesauri import Thesauri, fold
from terrapole.fair.thesauri import tables as t

DATA = Path(__file__).resolve().parents[1] / "data" / "thesauri"
INSPIRE = DATA / "inspire-theme.en.rdf"
MMD = DATA / "mmd-vocabulary.ttl"
INSPIRE_URI = "http://inspire.ec.europa.eu/theme"
MMD_URI = "https://vocab.met.no/mmd"
NORWEGIAN_SEA = "https://vocab.met.no/mmd/Areas/NorwegianSea"
NERSC = "https://vocab.met.no/mmd/Organisation/NERSC"


@pytest.fixture
def thesauri(database_url: str) -> Thesauri:
    return Thesauri(db.open_engine(database_url))


@pytest.fixture
def loaded(thesauri: Thesauri) -> Thesauri:
    thesauri.import_file(INSPIRE)
    thesauri.import_file(MMD)
    return thesauri


def _rdflib_concepts(path: Path, fmt: str) -> int:
    logging.getLogger("rdflib.term").setLevel(logging.CRITICAL)  # INSPIRE's odd xsd:date values
    graph = rdflib.Graph().parse(path, format=fmt)
    return len(set(graph.subjects(RDF.type, SKOS.Concept)))


def _row_counts(thesauri: Thesauri) -> dict[str, int]:
    with thesauri.engine.connect() as con:
        return {
            table.name: con.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in t.TABLES
        }


def test_both_files_import_every_concept_rdflib_finds(thesauri: Thesauri) -> None:
    inspire = thesauri.import_file(INSPIRE)
    mmd = thesauri.import_file(MMD)
    assert inspire.schemes == ((INSPIRE_URI, _rdflib_concepts(INSPIRE, "xml")),)
    assert mmd.schemes == ((MMD_URI, _rdflib_concepts(MMD, "turtle")),)
    assert (inspire.concepts, mmd.concepts) == (35, 319)
    listed = {s.uri: s for s in thesauri.schemes()}
    assert listed[MMD_URI].titles == {"en": "MMD Vocabulary", "nb": "MMD Vokabular"}
    assert listed[MMD_URI].languages == ("en", "nb")
    assert listed[INSPIRE_URI].title("fr") == "INSPIRE theme register"  # English fallback
    assert listed[INSPIRE_URI].source == "inspire-theme.en.rdf"
    assert len(listed[INSPIRE_URI].checksum) == 64


def test_a_known_concept_has_its_labels_definition_and_hierarchy(loaded: Thesauri) -> None:
    nersc = loaded.concept(NERSC)
    assert nersc.pref_labels == {
        "en": "Nansen Environmental and Remote Sensing Center", "nb": "Nansensenteret",
    }  # fmt: skip
    assert nersc.labels_by_language()["en"]["alt"] == ["NERSC", "Nansen Center"]
    assert nersc.label("fr") == "Nansen Environmental and Remote Sensing Center"
    sea = loaded.concept(NORWEGIAN_SEA)
    assert [(b.uri, b.label("en")) for b in sea.broader] == [
        ("https://vocab.met.no/mmd/Areas/Arctic", "Arctic")
    ]
    assert sea.definitions["en"].startswith("This is used to identify data from the North Sea")
    assert [c.label("en") for c in sea.collections] == ["Geographical Areas"]
    arctic = loaded.concept("https://vocab.met.no/mmd/Areas/Arctic")
    assert NORWEGIAN_SEA in {n.uri for n in arctic.narrower}  # the inverse, completed
    hydrography = loaded.concept("http://inspire.ec.europa.eu/theme/hy")
    assert hydrography.top and hydrography.scheme == INSPIRE_URI
    assert hydrography.definitions["en"].startswith("Hydrographic elements")


def test_a_broader_concept_of_another_vocabulary_stays_a_link(loaded: Thesauri) -> None:
    http = loaded.concept("https://vocab.met.no/mmd/Data_Access_Types/HTTP")
    (gcmd,) = http.broader
    assert gcmd.uri.startswith("https://gcmd.earthdata.nasa.gov/kms/concept/")
    assert not gcmd.known and gcmd.label("en") == gcmd.uri


def test_the_hierarchy_starts_at_the_top_concepts(loaded: Thesauri) -> None:
    roots, children = loaded.hierarchy(INSPIRE_URI)
    assert len(roots) == 35 and children == {}
    assert roots[0].label("en") == "Addresses"  # sorted by label
    roots, children = loaded.hierarchy(MMD_URI)
    root_uris = {r.uri for r in roots}
    assert "https://vocab.met.no/mmd/Areas/Arctic" in root_uris and NORWEGIAN_SEA not in root_uris
    assert NORWEGIAN_SEA in {c.uri for c in children["https://vocab.met.no/mmd/Areas/Arctic"]}
    collections = {c.uri: c for c in loaded.collections(MMD_URI)}
    assert len(collections) == 23
    assert NORWEGIAN_SEA in {m.uri for m in collections["https://vocab.met.no/mmd/Areas"].members}


def test_search_ranks_whole_label_then_prefix_then_word_then_infix(loaded: Thesauri) -> None:
    hits = loaded.search("arctic", scheme=MMD_URI)
    assert [h.rank for h in hits] == sorted(h.rank for h in hits)
    assert (hits[0].concept.label("en"), hits[0].rank) == ("Arctic", 0)
    assert (hits[1].concept.label("en"), hits[1].matched, hits[1].rank) == (
        "ADC",
        "Arctic Data Centre",
        1,
    )  # an alternative label matched
    assert {h.rank for h in hits} >= {0, 1, 2}
    word = next(h for h in hits if h.rank == 2)
    assert " arctic" in fold(word.matched)
    infix = loaded.search("ydrograph", scheme=INSPIRE_URI)
    assert [h.concept.label("en") for h in infix] == ["Hydrography"] and infix[0].rank == 3


def test_search_ignores_accents_and_case_and_reads_alt_labels(loaded: Thesauri) -> None:
    assert fold("Énergie  HYDRAULIQUE") == "energie hydraulique"
    (hit,) = loaded.search("NERSC", scheme=MMD_URI)
    assert hit.concept.uri == NERSC and hit.matched == "NERSC" and hit.rank == 0
    accented = loaded.search("Fjernmaling", scheme=MMD_URI)  # "Fjernmåling" in an alt label
    assert NERSC in [h.concept.uri for h in accented]
    assert loaded.search("hydrographie") == []
    sea = loaded.search("norwegian sea")[0]
    assert sea.concept.uri == NORWEGIAN_SEA and [b.label("en") for b in sea.broader] == ["Arctic"]


def test_search_limits_filters_by_scheme_and_shows_the_asked_language(loaded: Thesauri) -> None:
    assert len(loaded.search("a", limit=5)) == 5
    assert {h.scheme for h in loaded.search("land", scheme=INSPIRE_URI)} == {INSPIRE_URI}
    assert {h.scheme for h in loaded.search("land")} == {INSPIRE_URI, MMD_URI}
    (hit,) = loaded.search("nansensenteret")
    assert hit.concept.label("nb") == "Nansensenteret"
    assert hit.concept.label("en") == "Nansen Environmental and Remote Sensing Center"
    assert loaded.search("   ") == [] and loaded.search("100%_") == []


def test_reimport_replaces_the_scheme_with_the_same_content(loaded: Thesauri) -> None:
    before = _row_counts(loaded)
    concept = loaded.concept(NERSC)
    again = loaded.import_file(MMD)
    assert again.replaced and again.unchanged
    assert _row_counts(loaded) == before
    assert loaded.concept(NERSC) == concept
    assert len(loaded.schemes()) == 2


def test_a_changed_file_replaces_the_old_content(loaded: Thesauri, tmp_path: Path) -> None:
    smaller = tmp_path / "mmd.ttl"
    text = MMD.read_text()
    smaller.write_text(text.replace('"Nansensenteret"@nb', '"Nansen-senteret"@nb'))
    report = loaded.import_file(smaller)
    assert report.replaced and not report.unchanged
    assert loaded.concept(NERSC).pref_labels["nb"] == "Nansen-senteret"
    assert loaded.search("nansensenteret") == []
    assert loaded.scheme(MMD_URI).source == "mmd.ttl"


BAD_FILES = {
    "not-rdf.ttl": (b"this is not turtle at all {", "not readable as Turtle"),
    "not-rdf.rdf": (b"<html><body>no</body></html>", "no skos:ConceptScheme"),
    "empty.rdf": (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>',
        "not readable as RDF/XML: no RDF statement",
    ),
    "no-scheme.ttl": (
        b"@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        b'<http://x.org/c> a skos:Concept ; skos:prefLabel "C"@en .\n',
        "no skos:ConceptScheme",
    ),
    "no-label.ttl": (
        b"@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        b"<http://x.org/s> a skos:ConceptScheme .\n"
        b'<http://x.org/ok> a skos:Concept ; skos:prefLabel "ok"@en .\n'
        b'<http://x.org/bad> a skos:Concept ; skos:altLabel "alt only"@en .\n',
        "concept <http://x.org/bad> has no skos:prefLabel",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_file_is_refused_naming_it_and_nothing_is_written(
    loaded: Thesauri, tmp_path: Path, name: str
) -> None:
    data, reason = BAD_FILES[name]
    before = _row_counts(loaded)
    (tmp_path / name).write_bytes(data)
    with pytest.raises(InvalidInput) as refused:
        loaded.import_file(tmp_path / name)
    assert refused.value.field == name and reason in refused.value.reason
    assert _row_counts(loaded) == before


def test_a_file_with_a_skos_format_unknown_by_extension_is_sniffed(
    thesauri: Thesauri, tmp_path: Path
) -> None:
    (tmp_path / "themes.skos.txt").write_bytes(INSPIRE.read_bytes())
    (tmp_path / "mmd.data").write_bytes(MMD.read_bytes())
    assert thesauri.import_file(tmp_path / "themes.skos.txt").concepts == 35
    assert thesauri.import_file(tmp_path / "mmd.data").concepts == 319


def test_unknown_scheme_and_concept_are_not_found(loaded: Thesauri) -> None:
    with pytest.raises(NotFound):
        loaded.scheme("http://example.org/none")
    with pytest.raises(NotFound):
        loaded.concept("http://example.org/none")
    with pytest.raises(NotFound):
        loaded.hierarchy("http://example.org/none")


def _run(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_the_cli_imports_lists_and_searches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TERRAPOLE_DATA_DIR", str(tmp_path))
    assert _run("thesaurus", "import", str(INSPIRE), str(MMD)) == 0
    assert "inspire-theme.en.rdf: imported http://inspire.ec.europa.eu/theme (35 concepts)" in (
        capsys.readouterr().err
    )
    assert _run("thesaurus", "import", str(MMD)) == 0
    assert "re-imported (unchanged)" in capsys.readouterr().err
    assert _run("thesaurus", "list") == 0
    assert "MMD Vocabulary [en, nb] 319 concepts" in capsys.readouterr().out
    assert _run("thesaurus", "search", "norwegian sea") == 0
    assert f"Norwegian Sea  {NORWEGIAN_SEA}  [Arctic]" in capsys.readouterr().out
    bad = tmp_path / "bad.ttl"
    bad.write_text("nope {")
    assert _run("thesaurus", "import", str(bad)) == 2
    assert "invalid bad.ttl: not readable as Turtle" in capsys.readouterr().err
