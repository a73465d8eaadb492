"""The DCAT-AP 3 catalogue of the published records (rdflib), as Turtle or JSON-LD.

One ``dcat:Catalog`` lists a ``dcat:Dataset`` per published record (withdrawn, draft and
restricted records are not in it: :class:`terrapole.fair.harvest.Harvest` decides), each with
its title, description, identifier, landing page, publisher and creators (``foaf:Agent``,
named by their ROR or ORCID IRI when they have one), keywords, themes (INSPIRE theme URIs and
the concept URIs of thesaurus keywords, as ``skos:Concept``), spatial and temporal coverage,
and a distribution carrying the licence. :func:`catalogue_graph` builds the whole graph (for
small catalogues and tests, checked by :func:`terrapole.fair.validation.validate_dcat`);
:func:`serialize` streams a large catalogue chunk by chunk from the same triples, written
term by term with rdflib's ``n3()`` rather than through a graph and its serialisers (which
cost more than ten times as much at 100 000 records).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import rdflib
from rdflib import BNode, Graph, URIRef
from rdflib import Literal as Lit
from rdflib.term import Node

from terrapole.fair.harvest import Harvest, HarvestRow, Selection
from terrapole.fair.oai_formats import identifiers


class _Terms:
    """A vocabulary whose terms are made once: rdflib's namespace attribute lookups cost
    more than building a whole dataset's triples otherwise."""

    def __init__(self, namespace: str) -> None:
        self._namespace = namespace

    def __str__(self) -> str:
        return self._namespace

    def __getattr__(self, name: str) -> URIRef:
        term = URIRef(self._namespace + name)
        setattr(self, name, term)  # found as a plain attribute from now on
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


Triple = tuple[Node, Node, Node]


class Sink(Protocol):
    """Where triples go: an rdflib ``Graph``, or a :class:`Triples` list for streaming."""

    def add(self, triple: Triple, /) -> object:
        """Take one triple."""


class Triples(list[Triple]):
    """Triples in the order they were made (no graph: cheaper when they are only written)."""

    def add(self, triple: Triple, /) -> None:
        """Keep one triple."""
        self.append(triple)


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


def _iri(value: object) -> URIRef | None:
    text = str(value or "").strip()
    return URIRef(text) if _IRI.match(text) else None


def _text(value: Mapping[str, Any], key: str) -> Lit:
    lang = value.get("lang")
    return Lit(str(value[key]), lang=str(lang) if lang else None)


def _date(value: object) -> Lit | None:
    text = str(value or "")
    return Lit(text, datatype=XSD.date) if _DATE.match(text) else None


def _agent(graph: Sink, agent: Mapping[str, Any]) -> Node:
    """A creator or publisher as a ``foaf:Agent`` (its ORCID/ROR IRI, else a blank node)."""
    ids = [i.get("nameIdentifier") for i in agent.get("nameIdentifiers") or ()]
    named = [_iri(agent.get("publisherIdentifier")), *(_iri(i) for i in ids)]
    node: Node = next((n for n in named if n is not None), None) or BNode()
    graph.add((node, RDF.type, FOAF.Agent))
    graph.add((node, FOAF.name, Lit(str(agent.get("name", "")))))
    return node


def _concept(graph: Sink, uri: URIRef, label: str | None) -> URIRef:
    """A theme (DCAT-AP asks each ``skos:Concept`` for a preferred label)."""
    if not label:
        code = str(uri).removeprefix(INSPIRE_THEME).strip("/")
        label = INSPIRE_THEME_NAMES.get(code) or str(uri).rstrip("/").rpartition("/")[2] or str(uri)
    graph.add((uri, RDF.type, SKOS.Concept))
    graph.add((uri, SKOS.prefLabel, Lit(label)))
    return uri


def _coverage(graph: Sink, dataset: URIRef, extras: Mapping[str, Any]) -> None:
    box = extras.get("spatialExtent")
    if isinstance(box, list | tuple) and len(box) == 4:
        w, s, e, n = (float(v) for v in box)
        place = BNode()
        wkt = f"POLYGON(({w} {s},{e} {s},{e} {n},{w} {n},{w} {s}))"
        graph.add((dataset, DCTERMS.spatial, place))
        graph.add((place, RDF.type, DCTERMS.Location))
        graph.add((place, DCAT.bbox, Lit(wkt, datatype=GSP.wktLiteral)))
    period = extras.get("temporalExtent")
    start = _date(period.get("start")) if isinstance(period, Mapping) else None
    if isinstance(period, Mapping) and start is not None:
        span = BNode()
        graph.add((dataset, DCTERMS.temporal, span))
        graph.add((span, RDF.type, DCTERMS.PeriodOfTime))
        graph.add((span, DCAT.startDate, start))
        end = _date(period.get("end"))
        if end is not None:
            graph.add((span, DCAT.endDate, end))


def _themes(graph: Sink, dataset: URIRef, metadata: Mapping[str, Any]) -> None:
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


def add_dataset(graph: Sink, catalogue: URIRef, row: HarvestRow, info: CatalogueInfo) -> None:
    """The triples of one published record, linked from ``catalogue``."""
    metadata = row.metadata
    landing = f"{info.records_url}{row.id}"
    dataset = URIRef(landing)
    graph.add((catalogue, DCAT.dataset, dataset))
    graph.add((dataset, RDF.type, DCAT.Dataset))
    titles = [t for t in metadata.get("titles") or () if t.get("title")]
    for title in titles[:1] or [{"title": row.id}]:
        graph.add((dataset, DCTERMS.title, _text(title, "title")))
    descriptions = [d for d in metadata.get("descriptions") or () if d.get("description")]
    for description in descriptions[:1] or [{"description": titles[0]["title"] if titles
                                              else row.id}]:  # fmt: skip
        graph.add((dataset, DCTERMS.description, _text(description, "description")))
    graph.add((dataset, DCTERMS.identifier, Lit(identifiers(metadata, row.identifier, landing)[0])))
    graph.add((dataset, DCAT.landingPage, URIRef(landing)))
    graph.add((URIRef(landing), RDF.type, FOAF.Document))
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
        graph.add((dataset, DCAT.version, Lit(str(metadata["version"]))))
    _themes(graph, dataset, metadata)
    _coverage(graph, dataset, metadata.get("extras") or {})
    distribution = URIRef(f"{landing}#distribution")
    graph.add((dataset, DCAT.distribution, distribution))
    graph.add((distribution, RDF.type, DCAT.Distribution))
    graph.add((distribution, DCAT.accessURL, URIRef(landing)))
    for rights in metadata.get("rightsList") or ():
        licence = _iri(rights.get("rightsUri"))
        if licence is not None:
            graph.add((distribution, DCTERMS.license, licence))
            graph.add((licence, RDF.type, DCTERMS.LicenseDocument))
            break


def _catalogue_node(graph: Sink, info: CatalogueInfo) -> URIRef:
    catalogue = URIRef(info.url)
    graph.add((catalogue, RDF.type, DCAT.Catalog))
    graph.add((catalogue, DCTERMS.title, Lit(info.title, lang="en")))
    graph.add((catalogue, DCTERMS.description, Lit(info.description, lang="en")))
    agent = _agent(graph, {"name": info.publisher, "publisherIdentifier": info.publisher_url})
    graph.add((catalogue, DCTERMS.publisher, agent))
    graph.add((catalogue, FOAF.homepage, URIRef(info.homepage)))
    graph.add((URIRef(info.homepage), RDF.type, FOAF.Document))
    return catalogue


def _bound(graph: Graph) -> Graph:
    for prefix, namespace in CONTEXT.items():
        graph.bind(prefix, namespace)
    return graph


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
    graph = _bound(Graph())
    catalogue = _catalogue_node(graph, info)
    for rows in _published(harvest, 1000):
        for row in rows:
            add_dataset(graph, catalogue, row, info)
    return graph


def _turtle_lines(triples: Triples) -> str:
    """Triples as N-Triples-style statements, a subset of Turtle; each term written by
    rdflib (``n3()``: full IRIs, escaped literals, blank node labels unique to the run)."""
    return "".join(f"{s.n3()} {p.n3()} {o.n3()} .\n" for s, p, o in dict.fromkeys(triples))


def _jsonld_value(term: Node) -> dict[str, str]:
    if isinstance(term, Lit):
        value = {"@value": str(term)}
        if term.language:
            value["@language"] = term.language
        elif term.datatype is not None:
            value["@type"] = str(term.datatype)
        return value
    return {"@id": term.n3() if isinstance(term, BNode) else str(term)}


def _jsonld_nodes(triples: Triples) -> list[dict[str, Any]]:
    """Triples as expanded JSON-LD node objects, one per subject."""
    nodes: dict[Node, dict[str, Any]] = {}
    for subject, predicate, value in dict.fromkeys(triples):
        node = nodes.setdefault(subject, _jsonld_value(subject))
        if predicate == RDF.type:
            node.setdefault("@type", []).append(str(value))
        else:
            node.setdefault(str(predicate), []).append(_jsonld_value(value))
    return list(nodes.values())


def _chunks(harvest: Harvest, info: CatalogueInfo, chunk: int) -> Iterator[Triples]:
    """The catalogue's own triples, then those of ``chunk`` records at a time."""
    head = Triples()
    catalogue = _catalogue_node(head, info)
    yield head
    for rows in _published(harvest, chunk):
        triples = Triples()
        for row in rows:
            add_dataset(triples, catalogue, row, info)
        yield triples


def serialize(
    harvest: Harvest, info: CatalogueInfo, fmt: Format = "turtle", *, chunk: int = 1000
) -> Iterator[bytes]:
    """The catalogue in ``fmt``, streamed ``chunk`` records at a time: Turtle as prefixes
    and then one statement a line; JSON-LD as one ``@graph`` of expanded node objects (a
    subject described in two chunks is two node objects, which JSON-LD merges)."""
    if fmt == "turtle":
        yield "".join(f"@prefix {p}: <{n}> .\n" for p, n in CONTEXT.items()).encode()
        for triples in _chunks(harvest, info, chunk):
            yield _turtle_lines(triples).encode()
        return
    yield b'{"@graph": ['
    first = True
    for triples in _chunks(harvest, info, chunk):
        for node in _jsonld_nodes(triples):
            yield (b"" if first else b",\n") + json.dumps(node).encode()
            first = False
    yield b"]}\n"


__all__ = [
    "CONTEXT",
    "CatalogueInfo",
    "Sink",
    "Triples",
    "add_dataset",
    "catalogue_graph",
    "serialize",
]
