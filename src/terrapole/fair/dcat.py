"""The DCAT-AP 3 catalogue of the published records (rdflib), as Turtle or JSON-LD.

One ``dcat:Catalog`` lists a ``dcat:Dataset`` per published record (withdrawn, draft and
restricted records are not in it: :class:`terrapole.fair.harvest.Harvest` decides), each with
its title, description, identifier, landing page, publisher and creators (``foaf:Agent``,
named by their ROR or ORCID IRI when they have one), keywords, themes (INSPIRE theme URIs and
the concept URIs of thesaurus keywords, as ``skos:Concept``), spatial and temporal coverage,
and a distribution carrying the licence. :func:`catalogue_graph` builds the whole graph (for
small catalogues and tests, checked by :func:`terrapole.fair.validation.validate_dcat`);
:func:`serialize` writes a large catalogue in chunks of records, so the memory it takes and the
time rdflib's serialisers spend sorting stay those of one chunk.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from rdflib import DCAT, DCTERMS, FOAF, RDF, SKOS, XSD, BNode, Graph, Namespace, URIRef
from rdflib import Literal as Lit
from rdflib.term import Node

from terrapole.fair.harvest import Harvest, HarvestRow, Selection
from terrapole.fair.oai_formats import identifiers

GSP = Namespace("http://www.opengis.net/ont/geosparql#")
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


def _agent(graph: Graph, agent: Mapping[str, Any]) -> Node:
    """A creator or publisher as a ``foaf:Agent`` (its ORCID/ROR IRI, else a blank node)."""
    ids = [i.get("nameIdentifier") for i in agent.get("nameIdentifiers") or ()]
    named = [_iri(agent.get("publisherIdentifier")), *(_iri(i) for i in ids)]
    node: Node = next((n for n in named if n is not None), None) or BNode()
    graph.add((node, RDF.type, FOAF.Agent))
    graph.add((node, FOAF.name, Lit(str(agent.get("name", "")))))
    return node


def _concept(graph: Graph, uri: URIRef, label: str | None) -> URIRef:
    """A theme (DCAT-AP asks each ``skos:Concept`` for a preferred label)."""
    if not label:
        code = str(uri).removeprefix(INSPIRE_THEME).strip("/")
        label = INSPIRE_THEME_NAMES.get(code) or str(uri).rstrip("/").rpartition("/")[2] or str(uri)
    graph.add((uri, RDF.type, SKOS.Concept))
    graph.add((uri, SKOS.prefLabel, Lit(label)))
    return uri


def _coverage(graph: Graph, dataset: URIRef, extras: Mapping[str, Any]) -> None:
    box = extras.get("spatialExtent")
    if isinstance(box, list | tuple) and len(box) == 4:
        w, s, e, n = (float(v) for v in box)
        place = BNode()
        wkt = f"POLYGON(({w} {s},{e} {s},{e} {n},{w} {n},{w} {s}))"
        graph.add((dataset, DCTERMS.spatial, place))
        graph.add((place, RDF.type, DCTERMS.Location))
        graph.add((place, DCAT.bbox, Lit(wkt, datatype=GSP.wktLiteral)))
    period = extras.get("temporalExtent")
    if isinstance(period, Mapping) and _date(period.get("start")) is not None:
        span = BNode()
        graph.add((dataset, DCTERMS.temporal, span))
        graph.add((span, RDF.type, DCTERMS.PeriodOfTime))
        graph.add((span, DCAT.startDate, _date(period["start"])))  # type: ignore[arg-type]
        end = _date(period.get("end"))
        if end is not None:
            graph.add((span, DCAT.endDate, end))


def _themes(graph: Graph, dataset: URIRef, metadata: Mapping[str, Any]) -> None:
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


def add_dataset(graph: Graph, catalogue: URIRef, row: HarvestRow, info: CatalogueInfo) -> None:
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
    if _date(issued) is not None:
        graph.add((dataset, DCTERMS.issued, _date(issued)))  # type: ignore[arg-type]
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


def _catalogue_node(graph: Graph, info: CatalogueInfo) -> URIRef:
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


def serialize(
    harvest: Harvest, info: CatalogueInfo, fmt: Format = "turtle", *, chunk: int = 500
) -> Iterator[bytes]:
    """The catalogue in ``fmt``, streamed: Turtle as one document per chunk of records
    (repeated prefixes are valid Turtle; blank nodes are labelled uniquely), JSON-LD as one
    ``@graph`` holding the nodes of every chunk under one ``@context``."""
    head = _bound(Graph())
    catalogue = _catalogue_node(head, info)
    if fmt == "turtle":
        yield head.serialize(format="turtle").encode()
        for rows in _published(harvest, chunk):
            graph = _bound(Graph())
            for row in rows:
                add_dataset(graph, catalogue, row, info)
            yield graph.serialize(format="turtle").encode()
        return
    yield f'{{"@context": {json.dumps(CONTEXT)}, "@graph": ['.encode()
    first = True
    for graph in _chunks_with_head(head, harvest, info, catalogue, chunk):
        for node in _jsonld_nodes(graph):
            yield (b"" if first else b",\n") + json.dumps(node).encode()
            first = False
    yield b"]}\n"


def _chunks_with_head(
    head: Graph, harvest: Harvest, info: CatalogueInfo, catalogue: URIRef, chunk: int
) -> Iterator[Graph]:
    yield head
    for rows in _published(harvest, chunk):
        graph = Graph()
        for row in rows:
            add_dataset(graph, catalogue, row, info)
        yield graph


def _jsonld_nodes(graph: Graph) -> list[Any]:
    data = json.loads(graph.serialize(format="json-ld", context=CONTEXT, auto_compact=True))
    if isinstance(data, dict) and "@graph" in data:
        nodes: list[Any] = data["@graph"]
        return nodes
    if isinstance(data, dict):
        data.pop("@context", None)
        return [data] if data else []
    return list(data)


__all__ = ["CONTEXT", "CatalogueInfo", "add_dataset", "catalogue_graph", "serialize"]
