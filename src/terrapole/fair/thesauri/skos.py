"""Reading a SKOS file (RDF/XML or Turtle) with rdflib into plain rows, checked before any
write: the file parses as RDF, names at least one ``skos:ConceptScheme``, and every concept has
a ``skos:prefLabel`` and belongs to one of the file's schemes.

Pure: bytes in, :class:`Parsed` out (no database). Relations are completed both ways
(``a broader b`` gives ``b narrower a`` when ``b`` is a concept of the file; ``related`` is
symmetric), so readers never need to look for the inverse.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import rdflib
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS
from rdflib.term import Literal, Node, URIRef

from terrapole.errors import InvalidInput
from terrapole.fair.thesauri.model import Label, LabelKind, RelationKind

FORMATS = {".rdf": "xml", ".xml": "xml", ".owl": "xml", ".skos": "xml", ".ttl": "turtle"}
"""rdflib's parser by file extension; any other extension is sniffed from the content."""
_KINDS = {"xml": "RDF/XML", "turtle": "Turtle"}
_LABELS: tuple[tuple[URIRef, LabelKind], ...] = (
    (SKOS.prefLabel, "pref"), (SKOS.altLabel, "alt"), (SKOS.hiddenLabel, "hidden"),
)  # fmt: skip
_RELATIONS: tuple[tuple[URIRef, RelationKind], ...] = (
    (SKOS.broader, "broader"), (SKOS.narrower, "narrower"), (SKOS.related, "related"),
)  # fmt: skip
_INVERSE: dict[RelationKind, RelationKind] = {
    "broader": "narrower", "narrower": "broader", "related": "related",
}  # fmt: skip


@dataclass
class ParsedConcept:
    """A concept's rows: labels, definitions by language, relations to other URIs."""

    uri: str
    scheme: str
    notation: str | None
    top: bool
    labels: list[Label]
    definitions: dict[str, str]
    relations: set[tuple[RelationKind, str]] = field(default_factory=set)


@dataclass(frozen=True)
class ParsedCollection:
    """A collection's labels by language and its member URIs."""

    uri: str
    scheme: str
    labels: dict[str, str]
    members: tuple[str, ...]


@dataclass(frozen=True)
class ParsedScheme:
    """A scheme's titles by language and the languages its concepts' labels use."""

    uri: str
    titles: dict[str, str]
    languages: tuple[str, ...]


@dataclass(frozen=True)
class Parsed:
    """A whole file, checked: its schemes, concepts and collections; its SHA-256."""

    source: str
    checksum: str
    schemes: tuple[ParsedScheme, ...]
    concepts: tuple[ParsedConcept, ...]
    collections: tuple[ParsedCollection, ...]


def rdf_format(name: str, data: bytes) -> str:
    """rdflib's parser for a file: by its extension, else RDF/XML when it opens with ``<``,
    else Turtle."""
    by_extension = FORMATS.get(Path(name).suffix.lower())
    if by_extension:
        return by_extension
    return "xml" if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") else "turtle"


@contextmanager
def _quiet_rdflib() -> Iterator[None]:
    """rdflib logs a traceback for each literal whose datatype it cannot convert (the INSPIRE
    register's ``xsd:date`` values with times); the import keeps labels only, so mute them."""
    term_logger = logging.getLogger("rdflib.term")
    level = term_logger.level
    term_logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        term_logger.setLevel(level)


def load_graph(name: str, data: bytes) -> rdflib.Graph:
    """The RDF graph of a file, or InvalidInput naming it when it is not RDF/XML or Turtle."""
    fmt = rdf_format(name, data)
    graph = rdflib.Graph()
    try:
        with _quiet_rdflib():
            graph.parse(data=data, format=fmt)
    except Exception as exc:  # rdflib raises SAX, BadSyntax, ValueError...: all mean "not RDF"
        reason = " ".join(str(exc).split())[:300]
        raise InvalidInput(name, f"not readable as {_KINDS[fmt]}: {reason}") from exc
    if len(graph) == 0:  # rdflib's RDF/XML parser reads any XML (an HTML page) as no triples
        raise InvalidInput(name, f"not readable as {_KINDS[fmt]}: no RDF statement in it")
    return graph


def _texts(graph: rdflib.Graph, subject: Node, predicate: URIRef) -> dict[str, str]:
    """One literal per language (the first in sorted order when a file repeats one)."""
    out: dict[str, str] = {}
    for value in sorted(graph.objects(subject, predicate), key=str):
        if isinstance(value, Literal):
            out.setdefault(value.language or "", " ".join(str(value).split()))
    return out


def _labels(graph: rdflib.Graph, subject: Node) -> list[Label]:
    seen: set[Label] = set()
    for predicate, kind in _LABELS:
        for value in graph.objects(subject, predicate):
            text = " ".join(str(value).split())
            if isinstance(value, Literal) and text:
                seen.add(Label(kind, value.language or "", text))
    return sorted(seen, key=lambda lb: (lb.kind, lb.lang, lb.text))


def _scheme_of(graph: rdflib.Graph, subject: Node, schemes: list[str], name: str) -> str:
    """The file's scheme ``subject`` belongs to: by inScheme/topConceptOf/hasTopConcept, else
    the file's only scheme; InvalidInput when several schemes leave it undecided."""
    declared = {str(o) for o in graph.objects(subject, SKOS.inScheme)}
    declared |= {str(o) for o in graph.objects(subject, SKOS.topConceptOf)}
    declared |= {str(s) for s in graph.subjects(SKOS.hasTopConcept, subject)}
    own = [uri for uri in schemes if uri in declared]
    if own:
        return own[0]
    if len(schemes) == 1:
        return schemes[0]
    raise InvalidInput(name, f"concept <{subject}> is in none of the file's concept schemes")


def _concept(graph: rdflib.Graph, subject: URIRef, scheme: str, name: str) -> ParsedConcept:
    labels = _labels(graph, subject)
    if not any(lb.kind == "pref" for lb in labels):
        raise InvalidInput(name, f"concept <{subject}> has no skos:prefLabel")
    notation = graph.value(subject, SKOS.notation)
    top = (subject, SKOS.topConceptOf, URIRef(scheme)) in graph or (
        URIRef(scheme),
        SKOS.hasTopConcept,
        subject,
    ) in graph
    relations = {
        (kind, str(target))
        for predicate, kind in _RELATIONS
        for target in graph.objects(subject, predicate)
        if isinstance(target, URIRef)
    }
    return ParsedConcept(
        uri=str(subject), scheme=scheme, notation=None if notation is None else str(notation),
        top=top, labels=labels, definitions=_texts(graph, subject, SKOS.definition),
        relations=relations,
    )  # fmt: skip


def _complete_inverses(concepts: dict[str, ParsedConcept]) -> None:
    """Add each relation's inverse to its target when the target is a concept of the file."""
    for concept in concepts.values():
        for kind, target in list(concept.relations):
            other = concepts.get(target)
            if other is not None and other.scheme == concept.scheme:
                other.relations.add((_INVERSE[kind], concept.uri))


def _scheme(graph: rdflib.Graph, uri: str, concepts: list[ParsedConcept]) -> ParsedScheme:
    subject = URIRef(uri)
    titles = (
        _texts(graph, subject, DCTERMS.title)
        or _texts(graph, subject, SKOS.prefLabel)
        or _texts(graph, subject, RDFS.label)
    )
    languages = {lb.lang for c in concepts if c.scheme == uri for lb in c.labels if lb.lang}
    return ParsedScheme(uri, titles, tuple(sorted(languages)))


def parse(name: str, data: bytes) -> Parsed:
    """Read and check a SKOS file; ``name`` (its file name) chooses the parser and names it in
    errors. Raises InvalidInput when it is not RDF, has no concept scheme, or a concept has no
    preferred label or no scheme."""
    graph = load_graph(name, data)
    schemes = sorted(str(s) for s in set(graph.subjects(RDF.type, SKOS.ConceptScheme)))
    if not schemes:
        raise InvalidInput(name, "no skos:ConceptScheme in the file")
    subjects = sorted(
        s for s in set(graph.subjects(RDF.type, SKOS.Concept)) if isinstance(s, URIRef)
    )
    concepts = {
        str(s): _concept(graph, s, _scheme_of(graph, s, schemes, name), name) for s in subjects
    }
    _complete_inverses(concepts)
    collections = tuple(
        ParsedCollection(
            uri=str(s),
            scheme=_scheme_of(graph, s, schemes, name),
            labels=_texts(graph, s, SKOS.prefLabel) or _texts(graph, s, RDFS.label),
            members=tuple(sorted(str(m) for m in graph.objects(s, SKOS.member))),
        )  # fmt: skip
        for s in sorted(
            {u for u in graph.subjects(RDF.type, SKOS.Collection) if isinstance(u, URIRef)}
        )
    )
    listed = list(concepts.values())
    return Parsed(
        source=Path(name).name,
        checksum=hashlib.sha256(data).hexdigest(),
        schemes=tuple(_scheme(graph, uri, listed) for uri in schemes),
        concepts=tuple(listed),
        collections=collections,
    )
