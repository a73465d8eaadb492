"""Offline validators of what terrapole publishes for harvesters: OAI-PMH 2.0 responses (with
their ``oai_dc`` and DataCite payloads), DataCite 4.5 XML, and DCAT-AP 3 catalogue graphs.

The XSDs and SHACL shapes are kept in ``fair/schemas/`` (each folder's PROVENANCE.md says where
they come from) with every import pointing at a local file. XML is parsed without network
access or entity expansion, and schema imports go through a resolver that refuses anything
outside that folder, so a validation never fetches anything. Each validator returns the list
of problems it found, empty when the document is valid; the compiled schemas are built on
first use and kept.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Any

import pyshacl
from lxml import etree
from rdflib import RDF, RDFS, Graph, Namespace
from rdflib.term import BNode, Node, URIRef

SCHEMAS = Path(__file__).resolve().with_name("schemas")

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_IDENTIFIER = "http://www.openarchives.org/OAI/2.0/oai-identifier"
OAI_DATACITE = "http://schema.datacite.org/oai/oai-1.1/"
DATACITE = "http://datacite.org/schema/kernel-4"
DC = "http://purl.org/dc/elements/1.1/"

# the namespaces an OAI-PMH response may carry and the local schema of each: the envelope's
# `metadata`, `about` and `description` hold strict wildcards, so the payload schemas must be
# compiled with it (which also validates the payloads, including the lax `oai_datacite/payload`)
_OAI_SCHEMAS = {
    OAI: "oai/OAI-PMH.xsd",
    OAI_DC: "oai/oai_dc.xsd",
    OAI_IDENTIFIER: "oai/oai-identifier.xsd",
    OAI_DATACITE: "oai/oai_datacite.xsd",
    DATACITE: "datacite/metadata.xsd",
}
# the root element of each record format `<metadata>` may hold
_RECORD_ROOTS = (f"{{{OAI_DC}}}dc", f"{{{OAI_DATACITE}}}oai_datacite", f"{{{DATACITE}}}resource")
# prefixes that shorten the Clark names ({uri}local) in libxml2's messages
_PREFIXES = {OAI: "oai", OAI_DC: "oai_dc", OAI_IDENTIFIER: "oai-identifier",
             OAI_DATACITE: "oai_datacite", DATACITE: "datacite", DC: "dc"}  # fmt: skip

DCAT_AP_SHAPES = SCHEMAS / "dcat-ap" / "dcat-ap-SHACL.ttl"
SH = Namespace("http://www.w3.org/ns/shacl#")
_RDF_PREFIXES = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "adms": "http://www.w3.org/ns/adms#",
    "spdx": "http://spdx.org/rdf/terms#",
    "locn": "http://www.w3.org/ns/locn#",
    "prov": "http://www.w3.org/ns/prov#",
}


class _LocalSchemasOnly(etree.Resolver):  # type: ignore[misc]  # lxml is not typed
    """Lets libxml2 open the files under ``SCHEMAS`` and refuses any other URL, so a schema
    whose import was not rewritten fails to compile instead of going to the network."""

    def resolve(self, system_url: str | None, public_id: str | None, context: Any) -> Any:
        path = Path((system_url or "").removeprefix("file://"))
        if not path.is_absolute() or not path.resolve().is_relative_to(SCHEMAS):
            raise ValueError(f"{system_url!r} is not a schema kept in {SCHEMAS.name}/")
        return None  # libxml2 reads the local file itself


def _parser() -> etree.XMLParser:
    """A parser that reads no DTD, expands no entity and opens no URL (one per call: lxml
    parsers must not be shared between threads)."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(_LocalSchemasOnly())
    return parser


class _Validator:
    """A compiled XML Schema; validations are serialised because lxml keeps the error log of
    the last validation on the validator itself."""

    def __init__(self, schema: etree.XMLSchema) -> None:
        self._schema = schema
        self._lock = threading.Lock()

    def problems(self, element: etree._Element) -> list[str]:
        """Every violation of the schema in ``element`` (validated as a document root)."""
        with self._lock:
            try:
                if self._schema.validate(element):
                    return []
            except etree.XMLSchemaValidateError as exc:  # libxml2 gave up (an internal error)
                return [f"the document could not be validated: {exc}"]
            return [
                f"line {entry.line}: {_shorten(entry.message)}" for entry in self._schema.error_log
            ]


@functools.cache
def _oai_validator() -> _Validator:
    """OAI-PMH.xsd compiled with the schemas of the payloads and descriptions we publish."""
    imports = "".join(f'<xs:import namespace="{namespace}" schemaLocation="{location}"/>'
                      for namespace, location in _OAI_SCHEMAS.items())  # fmt: skip
    driver = f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">{imports}</xs:schema>'
    document = etree.fromstring(driver.encode(), _parser(), base_url=str(SCHEMAS / "oai.xsd"))
    return _Validator(etree.XMLSchema(document))


@functools.cache
def _datacite_validator() -> _Validator:
    """The DataCite Metadata Schema 4.5 (kernel-4 namespace)."""
    document = etree.parse(str(SCHEMAS / "datacite" / "metadata.xsd"), _parser())
    return _Validator(etree.XMLSchema(document))


def validate_oai(xml: bytes | str) -> list[str]:
    """Problems of an OAI-PMH 2.0 response: the envelope against OAI-PMH.xsd, and inside each
    ``<metadata>`` an ``oai_dc`` record, an ``oai_datacite`` wrapper or a bare DataCite
    resource, each against its own schema (DataCite 4.5 for the resource).

    Example:
        >>> validate_oai(b"<OAI-PMH xmlns='http://www.openarchives.org/OAI/2.0/'/>")
        ["line 1: Element 'oai:OAI-PMH': Missing child element(s). Expected is (...)"]
    """
    root, problems = _parse(xml)
    if root is None:
        return problems
    if root.tag != f"{{{OAI}}}OAI-PMH":
        return [
            f"line {root.sourceline}: the root element is {_shorten(root.tag)}, not oai:OAI-PMH"
        ]
    return _oai_validator().problems(root) + _record_format_problems(root)


def validate_datacite_xml(xml: bytes | str) -> list[str]:
    """Problems of a DataCite XML document (a kernel-4 ``<resource>``) against schema 4.5."""
    root, problems = _parse(xml)
    if root is None:
        return problems
    if root.tag != f"{{{DATACITE}}}resource":
        return [f"line {root.sourceline}: the root element is {_shorten(root.tag)}, "
                f"not datacite:resource ({{{DATACITE}}}resource)"]  # fmt: skip
    return _datacite_validator().problems(root)


def _parse(xml: bytes | str) -> tuple[etree._Element | None, list[str]]:
    """The document's root, or None and why it cannot be validated: not well-formed XML, or a
    document type declaration (whose entities are left unexpanded, which libxml2's schema
    validation cannot handle; no OAI-PMH or DataCite document needs one)."""
    data = xml.encode() if isinstance(xml, str) else xml
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        return None, [f"line {exc.lineno}: not well-formed XML: {exc.msg}"]
    if root.getroottree().docinfo.doctype:
        return None, ["the document has a DOCTYPE declaration: none is allowed"]
    return root, []


def _record_format_problems(root: etree._Element) -> list[str]:
    """What the schemas let through but a harvester of our formats cannot read: a `metadata`
    holding some other global element (a lone dc:title, an oai-identifier), and an
    `oai_datacite` payload (typed xs:anyType) that is not a DataCite kernel-4 resource."""
    problems = []
    for metadata in root.iter(f"{{{OAI}}}metadata"):
        record = metadata.findtext(f"../{{{OAI}}}header/{{{OAI}}}identifier") or "?"
        for payload in metadata.iterchildren(tag=etree.Element):
            if payload.tag not in _RECORD_ROOTS:
                where = f"line {payload.sourceline}: record {record}"
                served = ", ".join(map(_shorten, _RECORD_ROOTS))
                problems.append(f"{where}: {_shorten(payload.tag)} is not a record of a format "
                                f"served here ({served})")  # fmt: skip
        for wrapper in metadata.iterfind(
            f"{{{OAI_DATACITE}}}oai_datacite/{{{OAI_DATACITE}}}payload"
        ):
            tags = [_shorten(child.tag) for child in wrapper.iterchildren(tag=etree.Element)]
            if tags != ["datacite:resource"]:
                where = f"line {wrapper.sourceline}: record {record}"
                problems.append(f"{where}: the oai_datacite payload must hold one "
                                f"datacite:resource, not {tags or 'nothing'}")  # fmt: skip
    return problems


def _shorten(text: str) -> str:
    """Clark names of the known namespaces written with their usual prefix."""
    for namespace, prefix in _PREFIXES.items():
        text = text.replace(f"{{{namespace}}}", f"{prefix}:")
    return text


@functools.cache
def _dcat_shapes() -> Graph:
    """The DCAT-AP 3.0.0 shapes: cardinalities, datatypes and the class of each value."""
    shapes = Graph().parse(DCAT_AP_SHAPES, format="turtle")
    for prefix, namespace in _RDF_PREFIXES.items():  # pySHACL's messages name paths with these
        shapes.bind(prefix, namespace, replace=True)
    return shapes


def validate_dcat(data: Graph | str | bytes) -> list[str]:
    """Violations of the DCAT-AP 3.0.0 SHACL shapes in a graph (or its Turtle text).

    The shapes check the class of values too (a publisher is a ``foaf:Agent``, a dataset a
    ``dcat:Dataset``…), so the catalogue must type its nodes. Each problem names the shape,
    the focus node, the property path and pySHACL's message; the release's shapes carry no
    severity (so all are Violations), and results of severity Warning or Info are not problems.
    """
    if isinstance(data, Graph):
        graph = _with_resource_types(data)
    else:
        graph = Graph()
        try:
            graph.parse(data=data, format="turtle")
        # rdflib's Turtle parser raises BadSyntax (a SyntaxError), but also IndexError or
        # ValueError on truncated or odd input
        except (SyntaxError, IndexError, ValueError) as exc:
            return [f"not valid Turtle: {exc}"]
        graph = _with_resource_types(graph)
    _conforms, results, _text = pyshacl.validate(
        graph, shacl_graph=_dcat_shapes(), inference="none", inplace=True, advanced=False,
        do_owl_imports=False, allow_warnings=True, allow_infos=True,
    )  # fmt: skip
    assert isinstance(results, Graph)
    return sorted(_describe_result(results, result)
                  for result in results.subjects(RDF.type, SH.ValidationResult)
                  if results.value(result, SH.resultSeverity) == SH.Violation)  # fmt: skip


def _with_resource_types(graph: Graph) -> Graph:
    """A copy of the graph where every IRI or blank node used as a value is an ``rdfs:Resource``.

    RDFS entails it (rule rdfs4b) and the shapes ask ``sh:class rdfs:Resource`` of
    dcat:accessURL, dcat:downloadURL, dct:relation…, but pySHACL runs here without inference
    (RDFS inference over a whole catalogue is slow and would add far more than this).
    """
    typed = Graph()
    for prefix, namespace in graph.namespaces():
        typed.bind(prefix, namespace)
    for triple in graph:
        typed.add(triple)
    for value in set(graph.objects()):
        if isinstance(value, URIRef | BNode):
            typed.add((value, RDF.type, RDFS.Resource))
    return typed


def _describe_result(results: Graph, result: Node) -> str:
    """One SHACL result as `shape: focus node path: message`."""
    shape = str(results.value(result, SH.sourceShape))
    # the shapes are named <release#dcat:CatalogShape/hash of the property shape>
    name = shape.rpartition("#")[2].split("/")[0] or shape
    path = results.value(result, SH.resultPath)
    focus = results.value(result, SH.focusNode)
    message = results.value(result, SH.resultMessage)
    return f"{name}: <{focus}> {_qname(path)}: {message}"


def _qname(node: Node | None) -> str:
    """A property IRI written with its usual prefix (dct:title), other nodes as they are."""
    if not isinstance(node, URIRef):
        return str(node)
    for prefix, namespace in _RDF_PREFIXES.items():
        if node.startswith(namespace):
            return f"{prefix}:{node.removeprefix(namespace)}"
    return f"<{node}>"
