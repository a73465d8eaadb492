"""One record as a DCAT-AP 3 ``dcat:Dataset`` graph (rdflib), served as Turtle by content
negotiation. Every node is typed with the class the DCAT-AP shapes expect (a publisher is a
``foaf:Agent``, a licence a ``dct:LicenseDocument``...), so the graph passes
:func:`terrapole.fair.validation.validate_dcat`."""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

from terrapole.fair.formats.view import RecordView, is_person, issued, licences, orcid_of
from terrapole.fair.model import Creator, Record

MEDIA_TYPE = "text/turtle"

DCAT3 = Namespace("http://www.w3.org/ns/dcat#")  # DCAT 3 terms rdflib's DCAT does not list
ADMS = Namespace("http://www.w3.org/ns/adms#")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
IANA_MEDIA = "https://www.iana.org/assignments/media-types/"
LEXVO = "http://lexvo.org/id/iso639-1/"

_DATE_DATATYPES = {4: XSD.gYear, 10: XSD.date}
_RELATIONS = {
    "IsNewVersionOf": DCAT3.previousVersion,
    "IsVersionOf": DCTERMS.isVersionOf,
    "IsDerivedFrom": DCTERMS.source,
}
"""DataCite relation types DCAT has a property for (others: ``dct:relation``)."""


def _date(value: str) -> Literal:
    """An ISO date or date-time as a typed literal (year, date or date-time)."""
    return Literal(value, datatype=_DATE_DATATYPES.get(len(value), XSD.dateTime))


def _agent(graph: Graph, creator: Creator) -> URIRef | BNode:
    node: URIRef | BNode = URIRef(orcid_of(creator) or "") if orcid_of(creator) else BNode()
    graph.add((node, RDF.type, FOAF.Agent))
    graph.add((node, RDF.type, FOAF.Person if is_person(creator) else FOAF.Organization))
    graph.add((node, FOAF.name, Literal(creator.name)))
    return node


def _spatial(graph: Graph, dataset: URIRef, record: Record) -> None:
    boxes = [
        (b.west_bound_longitude, b.south_bound_latitude, b.east_bound_longitude,
         b.north_bound_latitude)
        for g in record.geo_locations if (b := g.geo_location_box)
    ]  # fmt: skip
    if not boxes and record.extras.spatial_extent:
        boxes = [record.extras.spatial_extent]
    for west, south, east, north in boxes:
        place = BNode()
        wkt = (f"POLYGON(({west} {south},{east} {south},{east} {north},{west} {north},"
               f"{west} {south}))")  # fmt: skip
        graph.add((dataset, DCTERMS.spatial, place))
        graph.add((place, RDF.type, DCTERMS.Location))
        graph.add((place, DCAT.bbox, Literal(wkt, datatype=GSP.wktLiteral)))
    for location in record.geo_locations:
        if location.geo_location_place and not location.geo_location_box:
            place = BNode()
            graph.add((dataset, DCTERMS.spatial, place))
            graph.add((place, RDF.type, DCTERMS.Location))
            graph.add((place, LOCN.geographicName, Literal(location.geo_location_place)))


def _temporal(graph: Graph, dataset: URIRef, record: Record) -> None:
    extent = record.extras.temporal_extent
    if extent is None:
        return
    period = BNode()
    graph.add((dataset, DCTERMS.temporal, period))
    graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
    graph.add((period, DCAT.startDate, _date(extent.start)))
    if extent.end:
        graph.add((period, DCAT.endDate, _date(extent.end)))


def _distributions(graph: Graph, dataset: URIRef, view: RecordView) -> None:
    licence_urls = [url for _, url in licences(view.record) if url]
    for data in view.files:
        node = URIRef(data.url)
        graph.add((dataset, DCAT.distribution, node))
        graph.add((node, RDF.type, DCAT.Distribution))
        graph.add((node, DCTERMS.title, Literal(data.name)))
        graph.add((node, DCAT.accessURL, URIRef(view.url)))
        graph.add((node, DCAT.downloadURL, node))
        if data.size is not None:
            graph.add((node, DCAT.byteSize, Literal(data.size, datatype=XSD.nonNegativeInteger)))
        if data.media_type:
            media = URIRef(IANA_MEDIA + data.media_type.split(";")[0].strip())
            graph.add((node, DCAT.mediaType, media))
            graph.add((media, RDF.type, DCTERMS.MediaType))
        if data.checksum and ":" in data.checksum:
            algorithm, value = data.checksum.split(":", 1)
            checksum = BNode()
            graph.add((node, SPDX.checksum, checksum))
            graph.add((checksum, RDF.type, SPDX.Checksum))
            kind = SPDX[f"checksumAlgorithm_{algorithm}"]
            graph.add((checksum, SPDX.algorithm, kind))
            graph.add((kind, RDF.type, SPDX.ChecksumAlgorithm))
            graph.add((checksum, SPDX.checksumValue, Literal(value, datatype=XSD.hexBinary)))
        for url in licence_urls[:1]:
            graph.add((node, DCTERMS.license, URIRef(url)))


def _links(graph: Graph, dataset: URIRef, record: Record) -> None:
    for link in record.related_identifiers:
        kind = link.related_identifier_type.upper()
        value = link.related_identifier
        if kind == "DOI":
            value = value if value.startswith("http") else f"https://doi.org/{value}"
        elif kind != "URL":
            continue
        target = URIRef(value)
        predicate = _RELATIONS.get(link.relation_type, DCTERMS.relation)
        graph.add((dataset, predicate, target))
        graph.add((target, RDF.type, RDFS.Resource))


def graph_of(view: RecordView) -> Graph:
    """The record as a DCAT-AP 3 graph: the dataset (named by its citable URL), its agents,
    licences, keywords and themes, extents and distributions."""
    record = view.record
    graph = Graph()
    for prefix, namespace in (
        ("dcat", DCAT),
        ("dct", DCTERMS),
        ("foaf", FOAF),
        ("skos", SKOS),
        ("adms", ADMS),
        ("locn", LOCN),
        ("spdx", SPDX),
        ("gsp", GSP),
    ):
        graph.bind(prefix, namespace)  # fmt: skip
    dataset = URIRef(view.cite_as)
    graph.add((dataset, RDF.type, DCAT.Dataset))
    graph.add((dataset, DCTERMS.title, Literal(record.title, lang=record.language or None)))
    description = record.abstract or record.title
    graph.add((dataset, DCTERMS.description, Literal(description, lang=record.language or None)))
    graph.add((dataset, DCTERMS.identifier, Literal(view.doi or view.identifier or view.url)))
    page = URIRef(view.url)
    graph.add((dataset, DCAT.landingPage, page))
    graph.add((page, RDF.type, FOAF.Document))
    if record.publisher:
        publisher = BNode()
        graph.add((dataset, DCTERMS.publisher, publisher))
        graph.add((publisher, RDF.type, FOAF.Agent))
        graph.add((publisher, FOAF.name, Literal(record.publisher.name)))
    for creator in record.creators:
        graph.add((dataset, DCTERMS.creator, _agent(graph, creator)))
    if published := issued(record):
        graph.add((dataset, DCTERMS.issued, _date(published)))
    if record.version:
        graph.add((dataset, DCAT3.version, Literal(record.version)))
    if record.language:
        language = URIRef(LEXVO + record.language.split("-")[0].lower())
        graph.add((dataset, DCTERMS.language, language))
        graph.add((language, RDF.type, DCTERMS.LinguisticSystem))
    _keywords(graph, dataset, record)
    _spatial(graph, dataset, record)
    _temporal(graph, dataset, record)
    _distributions(graph, dataset, view)
    _links(graph, dataset, record)
    if record.extras.lineage:
        graph.add((dataset, DCTERMS.provenance, _provenance(graph, record.extras.lineage)))
    return graph


def _keywords(graph: Graph, dataset: URIRef, record: Record) -> None:
    """Keywords, thesaurus concepts and INSPIRE themes as ``dcat:theme``; licence documents."""
    for subject in record.subjects:
        graph.add((dataset, DCAT.keyword, Literal(subject.subject)))
        if subject.value_uri:
            concept = URIRef(subject.value_uri)
            graph.add((dataset, DCAT.theme, concept))
            graph.add((concept, RDF.type, SKOS.Concept))
            graph.add((concept, SKOS.prefLabel, Literal(subject.subject)))
    for theme in record.extras.inspire_themes:  # the record keeps the URI only
        code = theme.rstrip("/").rsplit("/", 1)[-1]
        graph.add((dataset, DCAT.theme, URIRef(theme)))
        graph.add((URIRef(theme), RDF.type, SKOS.Concept))
        graph.add((URIRef(theme), SKOS.prefLabel, Literal(f"INSPIRE theme {code}")))
        graph.add((URIRef(theme), SKOS.notation, Literal(code)))
    for name, url in licences(record):
        if url:
            graph.add((URIRef(url), RDF.type, DCTERMS.LicenseDocument))
            graph.add((URIRef(url), RDFS.label, Literal(name)))


def _provenance(graph: Graph, text: str) -> BNode:
    node = BNode()
    graph.add((node, RDF.type, DCTERMS.ProvenanceStatement))
    graph.add((node, RDFS.label, Literal(text)))
    return node


def turtle(view: RecordView) -> str:
    """The record's DCAT-AP graph as Turtle."""
    return graph_of(view).serialize(format="turtle")
