"""The DCAT-AP 3 catalogue of the published records (rdflib), as Turtle or JSON-LD.

One ``dcat:Catalog`` lists a ``dcat:Dataset`` per published record (withdrawn, draft and
restricted records are not in it: :class:`terrapole.fair.harvest.Harvest` decides), each with
its title, description, identifier, landing page, publisher and creators (``foaf:Agent``,
named by their ROR or ORCID IRI when they have one), keywords, themes (INSPIRE theme URIs and
the concept URIs of thesaurus keywords, as ``skos:Concept``), spatial and temporal coverage,
and a distribution carrying the licence. :func:`catalogue_graph` builds the whole graph (for
small catalogues and tests, checked by :func:`terrapole.fair.validation.validate_dcat`);
:func:`serialize` streams a large catalogue chunk by chunk from the same triples. The triples
are made of plain terms (:class:`Iri`, :class:`Blank`, :class:`Text`) and written by this
module (N-Triples-style Turtle lines, expanded JSON-LD): rdflib's terms, its ``n3()`` and its
serialisers cost several times as much at 100 000 records; only the graph is rdflib's.
"""

from __future__ import annotations

import gc
import itertools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Protocol

import rdflib
from rdflib import BNode, Graph, URIRef
from rdflib.term import Node

from terrapole.fair.harvest import Harvest, HarvestRow, Selection
from terrapole.fair.oai_formats import identifiers


class Iri(str):
    """An IRI."""

    __slots__ = ()


class Blank(str):
    """A blank node's label, unique within one catalogue."""

    __slots__ = ()


class Text(NamedTuple):
    """A literal: its lexical form, and its language tag or its datatype's IRI."""

    value: str
    lang: str | None = None
    datatype: str | None = None


Term = Iri | Blank | Text
Triple = tuple[Iri | Blank, Iri, Term]


class _Terms:
    """A vocabulary whose terms are made once (looked up as plain attributes afterwards)."""

    def __init__(self, namespace: str) -> None:
        self._namespace = namespace

    def __str__(self) -> str:
        return self._namespace

    def __getattr__(self, name: str) -> Iri:
        term = Iri(self._namespace + name)
        setattr(self, name, term)
        return term


DCAT = _Terms(str(rdflib.DCAT))
DCTERMS = _Terms(str(rdflib.DCTERMS))
FOAF = _Terms(str(rdflib.FOAF))
RDF = _Terms(str(rdflib.RDF))
SKOS = _Terms(str(rdflib.SKOS))
XSD = _Terms(str(rdflib.XSD))
GSP = _Terms("http://www.opengis.net/ont/geosparql#")
Format = Literal["turtle", "json-ld"]
CONTEXT = {
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "foaf": str(FOAF),
    "skos": str(SKOS),
    "xsd": str(XSD),
    "gsp": str(GSP),
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LANG = re.compile(r"^[a-zA-Z]+(-[a-zA-Z0-9]+)*$")
_IRI = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
INSPIRE_THEME = "http://inspire.ec.europa.eu/theme/"
# the English names of the INSPIRE themes (the INSPIRE theme register), for skos:prefLabel
INSPIRE_THEME_NAMES = {
    "ad": "Addresses", "au": "Administrative units", "rs": "Coordinate reference systems",
    "gg": "Geographical grid systems", "cp": "Cadastral parcels", "gn": "Geographical names",
    "hy": "Hydrography", "ps": "Protected sites", "tn": "Transport networks", "el": "Elevation",
    "ge": "Geology", "lc": "Land cover", "oi": "Orthoimagery",
    "af": "Agricultural and aquaculture facilities",
    "am": "Area management/restriction/regulation zones and reporting units",
    "ac": "Atmospheric conditions", "br": "Bio-geographical regions", "bu": "Buildings",
    "er": "Energy resources", "ef": "Environmental monitoring facilities",
    "hb": "Habitats and biotopes", "hh": "Human health and safety", "lu": "Land use",
    "mr": "Mineral resources", "nz": "Natural risk zones",
    "of": "Oceanographic geographical features", "pd": "Population distribution — demography",
    "pf": "Production and industrial facilities", "sr": "Sea regions",
    "sd": "Species distribution", "so": "Soil", "su": "Statistical units",
    "us": "Utility and governmental services", "mf": "Meteorological geographical features",
}  # fmt: skip


class Sink(Protocol):
    """Where triples go, and where blank nodes get their labels."""

    def add(self, triple: Triple, /) -> object:
        """Take one triple."""

    def blank(self) -> Blank:
        """A blank node not used before in this catalogue."""


class Triples(list[Triple]):
    """Triples in the order they were made; ``labels`` numbers the blank nodes of a whole
    catalogue (shared by its chunks so that no two chunks use one label)."""

    def __init__(self, labels: Iterator[int] | None = None) -> None:
        super().__init__()
        self._labels = labels if labels is not None else itertools.count()

    def add(self, triple: Triple, /) -> None:
        """Keep one triple."""
        self.append(triple)

    def blank(self) -> Blank:
        """The next blank node label."""
        return Blank(f"b{next(self._labels)}")


@dataclass(frozen=True)
class CatalogueInfo:
    """What the catalogue says of itself: its URL, the platform's home page, its publisher;
    ``records_url`` + a record id is the record's landing page."""

    url: str
    homepage: str
    records_url: str
    title: str = "terrapole FAIR records"
    description: str = "Datasets published on this terrapole platform, with their DOIs."
    publisher: str = "terrapole"
    publisher_url: str | None = None


def _iri(value: object) -> Iri | None:
    text = str(value or "").strip()
    return Iri(text) if _IRI.match(text) else None


def _text(value: Mapping[str, Any], key: str) -> Text:
    """A literal in the language ``value`` names (left out unless a well-formed tag)."""
    lang = value.get("lang")
    return Text(str(value[key]), str(lang) if lang and _LANG.match(str(lang)) else None)


def _date(value: object) -> Text | None:
    text = str(value or "")
    return Text(text, None, XSD.date) if _DATE.match(text) else None


def _agent(graph: Sink, agent: Mapping[str, Any]) -> Iri | Blank:
    """A creator or publisher as a ``foaf:Agent`` (its ORCID/ROR IRI, else a blank node)."""
    ids = [i.get("nameIdentifier") for i in agent.get("nameIdentifiers") or ()]
    named = [_iri(agent.get("publisherIdentifier")), *(_iri(i) for i in ids)]
    node: Iri | Blank = next((n for n in named if n is not None), None) or graph.blank()
    graph.add((node, RDF.type, FOAF.Agent))
    graph.add((node, FOAF.name, Text(str(agent.get("name", "")))))
    return node


def _concept(graph: Sink, uri: Iri, label: str | None) -> Iri:
    """A theme (DCAT-AP asks each ``skos:Concept`` for a preferred label)."""
    if not label:
        code = uri.removeprefix(INSPIRE_THEME).strip("/")
        label = INSPIRE_THEME_NAMES.get(code) or uri.rstrip("/").rpartition("/")[2] or uri
    graph.add((uri, RDF.type, SKOS.Concept))
    graph.add((uri, SKOS.prefLabel, Text(str(label))))
    return uri


def _coverage(graph: Sink, dataset: Iri, extras: Mapping[str, Any]) -> None:
    box = extras.get("spatialExtent")
    if isinstance(box, list | tuple) and len(box) == 4:
        w, s, e, n = (float(v) for v in box)
        place = graph.blank()
        wkt = f"POLYGON(({w} {s},{e} {s},{e} {n},{w} {n},{w} {s}))"
        graph.add((dataset, DCTERMS.spatial, place))
        graph.add((place, RDF.type, DCTERMS.Location))
        graph.add((place, DCAT.bbox, Text(wkt, None, GSP.wktLiteral)))
    period = extras.get("temporalExtent")
    start = _date(period.get("start")) if isinstance(period, Mapping) else None
    if isinstance(period, Mapping) and start is not None:
        span = graph.blank()
        graph.add((dataset, DCTERMS.temporal, span))
        graph.add((span, RDF.type, DCTERMS.PeriodOfTime))
        graph.add((span, DCAT.startDate, start))
        end = _date(period.get("end"))
        if end is not None:
            graph.add((span, DCAT.endDate, end))


def _themes(graph: Sink, dataset: Iri, metadata: Mapping[str, Any]) -> None:
    for subject in metadata.get("subjects") or ():
        if subject.get("subject"):
            graph.add((dataset, DCAT.keyword, _text(subject, "subject")))
        concept = _iri(subject.get("valueUri"))
        if concept is not None:
            label = subject.get("subject")
            graph.add((dataset, DCAT.theme, _concept(graph, concept, label)))
    for theme in (metadata.get("extras") or {}).get("inspireThemes") or ():
        concept = _iri(theme)
        if concept is not None:
            graph.add((dataset, DCAT.theme, _concept(graph, concept, None)))


def add_dataset(graph: Sink, catalogue: Iri, row: HarvestRow, info: CatalogueInfo) -> None:
    """The triples of one published record, linked from ``catalogue``."""
    metadata = row.metadata
    landing = Iri(f"{info.records_url}{row.id}")
    dataset = landing
    graph.add((catalogue, DCAT.dataset, dataset))
    graph.add((dataset, RDF.type, DCAT.Dataset))
    titles = [t for t in metadata.get("titles") or () if t.get("title")]
    for title in titles[:1] or [{"title": row.id}]:
        graph.add((dataset, DCTERMS.title, _text(title, "title")))
    descriptions = [d for d in metadata.get("descriptions") or () if d.get("description")]
    for description in descriptions[:1] or [{"description": titles[0]["title"] if titles
                                              else row.id}]:  # fmt: skip
        graph.add((dataset, DCTERMS.description, _text(description, "description")))
    identifier = identifiers(metadata, row.identifier, landing)[0]
    graph.add((dataset, DCTERMS.identifier, Text(identifier)))
    graph.add((dataset, DCAT.landingPage, landing))
    graph.add((landing, RDF.type, FOAF.Document))
    publisher = metadata.get("publisher")
    if isinstance(publisher, Mapping) and publisher.get("name"):
        graph.add((dataset, DCTERMS.publisher, _agent(graph, publisher)))
    for creator in metadata.get("creators") or ():
        graph.add((dataset, DCTERMS.creator, _agent(graph, creator)))
    issued = next((d.get("date") for d in metadata.get("dates") or ()
                   if d.get("dateType") == "Issued"), None)  # fmt: skip
    issued_date = _date(issued)
    if issued_date is not None:
        graph.add((dataset, DCTERMS.issued, issued_date))
    if metadata.get("version"):
        graph.add((dataset, DCAT.version, Text(str(metadata["version"]))))
    _themes(graph, dataset, metadata)
    _coverage(graph, dataset, metadata.get("extras") or {})
    distribution = Iri(f"{landing}#distribution")
    graph.add((dataset, DCAT.distribution, distribution))
    graph.add((distribution, RDF.type, DCAT.Distribution))
    graph.add((distribution, DCAT.accessURL, landing))
    for rights in metadata.get("rightsList") or ():
        licence = _iri(rights.get("rightsUri"))
        if licence is not None:
            graph.add((distribution, DCTERMS.license, licence))
            graph.add((licence, RDF.type, DCTERMS.LicenseDocument))
            break


def _catalogue_node(graph: Sink, info: CatalogueInfo) -> Iri:
    catalogue = Iri(info.url)
    graph.add((catalogue, RDF.type, DCAT.Catalog))
    graph.add((catalogue, DCTERMS.title, Text(info.title, "en")))
    graph.add((catalogue, DCTERMS.description, Text(info.description, "en")))
    agent = _agent(graph, {"name": info.publisher, "publisherIdentifier": info.publisher_url})
    graph.add((catalogue, DCTERMS.publisher, agent))
    graph.add((catalogue, FOAF.homepage, Iri(info.homepage)))
    graph.add((Iri(info.homepage), RDF.type, FOAF.Document))
    return catalogue


def rdflib_term(term: Term) -> Node:
    """A term as rdflib's node."""
    if isinstance(term, Text):
        datatype = None if term.datatype is None else URIRef(term.datatype)
        return rdflib.Literal(term.value, lang=term.lang, datatype=datatype)
    return BNode(term) if isinstance(term, Blank) else URIRef(term)


class _GraphSink:
    """A :class:`Sink` adding to an rdflib graph."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._labels = itertools.count()

    def add(self, triple: Triple, /) -> None:
        s, p, o = triple
        self.graph.add((rdflib_term(s), rdflib_term(p), rdflib_term(o)))

    def blank(self) -> Blank:
        return Blank(f"b{next(self._labels)}")


def _published(harvest: Harvest, chunk: int) -> Iterator[list[HarvestRow]]:
    """The published records (tombstones left out), ``chunk`` at a time."""
    after = None
    while True:
        rows = harvest.page(Selection(), after=after, limit=chunk)
        if not rows:
            return
        yield [row for row in rows if not row.deleted]
        after = (rows[-1].updated, rows[-1].id)


def catalogue_graph(harvest: Harvest, info: CatalogueInfo) -> Graph:
    """The whole catalogue as one graph."""
    graph = Graph()
    for prefix, namespace in CONTEXT.items():
        graph.bind(prefix, namespace)
    sink = _GraphSink(graph)
    catalogue = _catalogue_node(sink, info)
    for rows in _published(harvest, 1000):
        for row in rows:
            add_dataset(sink, catalogue, row, info)
    return graph


# N-Triples escapes: in an IRI, what IRIREF forbids, as \uXXXX; in a string, the four
# characters STRING_LITERAL_QUOTE forbids (other characters may stand as they are)
_IRI_ESCAPES = {c: f"\\u{c:04X}" for c in [*range(0x21), *map(ord, '<>"{}|^`\\')]}
_STRING_ESCAPES = {ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n", ord("\r"): "\\r"}


def turtle_term(term: Term) -> str:
    """A term as N-Triples (a subset of Turtle): ``<iri>``, ``_:label``, ``"text"@en``."""
    if isinstance(term, Text):
        quoted = f'"{term.value.translate(_STRING_ESCAPES)}"'
        if term.lang:
            return f"{quoted}@{term.lang}"
        if term.datatype:
            return f"{quoted}^^<{term.datatype.translate(_IRI_ESCAPES)}>"
        return quoted
    if isinstance(term, Blank):
        return f"_:{term}"
    return f"<{term.translate(_IRI_ESCAPES)}>"


def _turtle_lines(triples: Triples) -> str:
    """Triples as N-Triples-style statements, one a line (IRIs written once each)."""
    written: dict[Term, str] = {}
    lines = []
    for triple in dict.fromkeys(triples):
        parts = []
        for term in triple:
            text = written.get(term)
            if text is None:
                text = written[term] = turtle_term(term)
            parts.append(text)
        lines.append(f"{parts[0]} {parts[1]} {parts[2]} .\n")
    return "".join(lines)


def _jsonld_value(term: Term) -> dict[str, str]:
    if isinstance(term, Text):
        if term.lang:
            return {"@value": term.value, "@language": term.lang}
        if term.datatype:
            return {"@value": term.value, "@type": term.datatype}
        return {"@value": term.value}
    return {"@id": f"_:{term}" if isinstance(term, Blank) else str(term)}


def _jsonld_nodes(triples: Triples) -> list[dict[str, Any]]:
    """Triples as expanded JSON-LD node objects, one per subject."""
    nodes: dict[Term, dict[str, Any]] = {}
    for subject, predicate, value in dict.fromkeys(triples):
        node = nodes.get(subject)
        if node is None:
            node = nodes[subject] = dict[str, Any](_jsonld_value(subject))
        if predicate == RDF.type:
            node.setdefault("@type", []).append(str(value))
        else:
            node.setdefault(str(predicate), []).append(_jsonld_value(value))
    return list(nodes.values())


def _chunks(harvest: Harvest, info: CatalogueInfo, chunk: int) -> Iterator[Triples]:
    """The catalogue's own triples, then those of ``chunk`` records at a time."""
    labels = itertools.count()
    head = Triples(labels)
    catalogue = _catalogue_node(head, info)
    yield head
    for rows in _published(harvest, chunk):
        triples = Triples(labels)
        for row in rows:
            add_dataset(triples, catalogue, row, info)
        yield triples


def _turtle(harvest: Harvest, info: CatalogueInfo, chunk: int) -> Iterator[bytes]:
    yield "".join(f"@prefix {p}: <{n}> .\n" for p, n in CONTEXT.items()).encode()
    for triples in _chunks(harvest, info, chunk):
        yield _turtle_lines(triples).encode()


def _jsonld(harvest: Harvest, info: CatalogueInfo, chunk: int) -> Iterator[bytes]:
    dump: Callable[[Any], str] = json.JSONEncoder().encode
    yield b'{"@graph": ['
    first = True
    for triples in _chunks(harvest, info, chunk):
        nodes = [dump(node) for node in _jsonld_nodes(triples)]
        if nodes:
            yield (b"" if first else b",\n") + ",\n".join(nodes).encode()
            first = False
    yield b"]}\n"


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off for a moment (back on after, unless it was off before)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _made_without_collection(parts: Iterator[bytes]) -> Iterator[bytes]:
    """Each part made with the cycle collector paused; it runs again between parts.

    A chunk makes hundreds of thousands of small objects that live until it is written,
    which sets the collector off again and again over everything the process holds: more
    than half the export's time otherwise. The pause (process-wide, a chunk's making at
    most) never spans the consumer's work, nor outlives a failing or abandoned export.
    """
    while True:
        with _collector_paused():
            part = next(parts, None)
        if part is None:
            return
        yield part


def serialize(
    harvest: Harvest, info: CatalogueInfo, fmt: Format = "turtle", *, chunk: int = 1000
) -> Iterator[bytes]:
    """The catalogue in ``fmt``, streamed ``chunk`` records at a time: Turtle as prefixes
    and then one statement a line; JSON-LD as one ``@graph`` of expanded node objects (a
    subject described in two chunks is two node objects, which JSON-LD merges)."""
    parts = _turtle(harvest, info, chunk) if fmt == "turtle" else _jsonld(harvest, info, chunk)
    return _made_without_collection(parts)


__all__ = [
    "CONTEXT",
    "Blank",
    "CatalogueInfo",
    "Iri",
    "Sink",
    "Term",
    "Text",
    "Triple",
    "Triples",
    "add_dataset",
    "catalogue_graph",
    "rdflib_term",
    "serialize",
    "turtle_term",
]
