"""Record ↔ DataCite 4.5: JSON (the REST API's ``attributes`` and the ``datacite`` package's
shape, which are the same for the kernel) and XML, validated by the ``datacite`` package.

Nothing leaves as DataCite metadata without passing the package's 4.5 JSON schema:
:func:`to_xml` and :func:`checked_json` raise :class:`InvalidDataCite` listing every
violation. :func:`from_xml` reads DataCite XML back into a record, so a record can be
compared after a trip through XML.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from datacite import schema45
from lxml import etree

from terrapole.errors import InvalidInput
from terrapole.fair import _codec
from terrapole.fair.model import Record

SCHEMA_VERSION = "http://datacite.org/schema/kernel-4"
KERNEL = "{http://datacite.org/schema/kernel-4}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# keys of a DataCite JSON document (or of the REST API's attributes) that are not metadata
# of the resource: the registration envelope, and what DataCite computes or counts itself
_ENVELOPE = frozenset(
    {
        "prefix",
        "suffix",
        "url",
        "event",
        "schemaVersion",
        "container",
        "identifiers",
        "id",
        "state",
        "xml",
        "contentUrl",
        "metadataVersion",
        "source",
        "isActive",
        "reason",
        "landingPage",
        "viewCount",
        "viewsOverTime",
        "downloadCount",
        "downloadsOverTime",
        "referenceCount",
        "citationCount",
        "citationsOverTime",
        "partCount",
        "partOfCount",
        "versionCount",
        "versionOfCount",
        "created",
        "registered",
        "published",
        "updated",
        "agency",
        "relatedIdentifiersCount",
    }
)


class InvalidDataCite(InvalidInput):
    """Metadata the DataCite 4.5 schema refuses; ``problems`` lists each (path: message)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("DataCite metadata", "; ".join(problems))
        self.problems = problems


def to_datacite_json(record: Record) -> dict[str, Any]:
    """The record's DataCite kernel as JSON (extras left out), with ``schemaVersion``."""
    data: dict[str, Any] = _codec.dump(record)
    data.pop("extras", None)
    data["schemaVersion"] = SCHEMA_VERSION
    return data


def from_datacite_json(data: Any) -> Record:
    """A record from DataCite JSON or REST ``attributes`` (envelope and counters ignored).

    A deprecated ``identifiers`` list gives the DOI when ``doi`` is absent.
    """
    if not isinstance(data, dict):
        raise InvalidInput("DataCite metadata", "a JSON object is required")
    kernel = {key: value for key, value in data.items() if key not in _ENVELOPE}
    if isinstance(kernel.get("publisher"), str):  # the REST API's default shape
        kernel["publisher"] = {"name": kernel["publisher"]}
    if not kernel.get("doi"):
        for ident in data.get("identifiers") or ():
            if isinstance(ident, dict) and ident.get("identifierType") == "DOI":
                kernel["doi"] = ident.get("identifier")
    return _codec.load(Record, kernel)


def problems(data: dict[str, Any]) -> list[str]:
    """Every violation of the DataCite 4.5 JSON schema in ``data``, as ``path: message``."""
    found = []
    for error in schema45.validator.iter_errors(data):
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        found.append(f"{where}: {error.message}")
    return sorted(found)


def checked_json(record: Record) -> dict[str, Any]:
    """:func:`to_datacite_json`, raising :class:`InvalidDataCite` unless the schema accepts it."""
    data = to_datacite_json(record)
    found = problems(data)
    if found:
        raise InvalidDataCite(found)
    return data


def resource(kernel: Mapping[str, Any], *, landing: str | None = None) -> Any:
    """The DataCite 4.5 ``<resource>`` element of kernel JSON (a ``Record.to_json()``; extras
    left out). Without a DOI it is identified by its ``landing`` page URL: the schema requires
    an identifier, and local identifiers are no DOIs. Every adapter that writes DataCite XML
    (the landing page, OAI-PMH) goes through here."""
    data = {key: value for key, value in kernel.items() if key != "extras"}
    data["schemaVersion"] = SCHEMA_VERSION
    root = schema45.dump_etree(data)
    if not data.get("doi") and landing:
        named = etree.Element("identifier", identifierType="URL")
        named.text = landing
        root.insert(0, named)
    publisher = data.get("publisher")
    if isinstance(publisher, Mapping) and publisher.get("lang"):  # the package drops it
        element = root.find("publisher")  # built without a namespace, serialised in it
        if element is not None:
            element.set(XML_LANG, str(publisher["lang"]))
    return root


def to_xml(record: Record, *, landing: str | None = None) -> bytes:
    """The record as DataCite 4.5 XML (UTF-8), after the JSON schema accepted it; identified
    by ``landing`` when it has no DOI (see :func:`resource`)."""
    root = resource(checked_json(record), landing=landing)
    xml: bytes = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    return xml


def from_xml(xml: bytes | str) -> Record:
    """A record from DataCite 4.x XML (the kernel; no extras)."""
    try:
        root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    except etree.XMLSyntaxError as exc:
        raise InvalidInput("DataCite XML", str(exc)) from exc
    return from_datacite_json(_xml_to_json(root))


# -- XML → JSON ---------------------------------------------------------------------------------
# element → JSON key where the list's items are in child elements of one wrapper element
_LISTS = {
    "alternateIdentifiers": "alternateIdentifiers",
    "subjects": "subjects",
    "dates": "dates",
    "relatedIdentifiers": "relatedIdentifiers",
    "sizes": "sizes",
    "formats": "formats",
    "rightsList": "rightsList",
    "descriptions": "descriptions",
    "geoLocations": "geoLocations",
    "fundingReferences": "fundingReferences",
    "titles": "titles",
    "creators": "creators",
    "contributors": "contributors",
    "relatedItems": "relatedItems",
}
_TEXT_KEY = {
    "alternateIdentifier": "alternateIdentifier",
    "subject": "subject",
    "date": "date",
    "relatedIdentifier": "relatedIdentifier",
    "rights": "rights",
    "description": "description",
    "title": "title",
    "publisher": "name",
    "relatedItemIdentifier": "relatedItemIdentifier",
}
_RENAMED = {
    "schemeURI": "schemeUri",
    "valueURI": "valueUri",
    "rightsURI": "rightsUri",
    "awardURI": "awardUri",
    XML_LANG: "lang",
}


def _local(element: Any) -> str:
    return str(etree.QName(element).localname)


def _attributes(element: Any) -> dict[str, Any]:
    return {_RENAMED.get(key, key): value for key, value in element.attrib.items()}


def _text(element: Any) -> str:
    return (element.text or "").strip()


def _xml_to_json(root: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for child in root:
        if not isinstance(child.tag, str):
            continue
        name = _local(child)
        if name == "identifier":
            if child.get("identifierType") == "DOI":
                data["doi"] = _text(child).lower()
        elif name == "resourceType":
            data["types"] = {"resourceTypeGeneral": child.get("resourceTypeGeneral")}
            if _text(child):
                data["types"]["resourceType"] = _text(child)
        elif name in _LISTS:
            data[_LISTS[name]] = [_entry(item) for item in child if isinstance(item.tag, str)]
        elif name == "publisher":
            data["publisher"] = _entry(child)
        else:
            data[name] = _text(child)
    return data


def _entry(element: Any) -> Any:
    name = _local(element)
    if name in ("size", "format"):
        return _text(element)
    if name in ("creator", "contributor"):
        return _agent(element)
    if name == "geoLocation":
        return _geolocation(element)
    if name == "fundingReference":
        return _funding(element)
    if name == "relatedItem":
        return _related_item(element)
    out = _attributes(element)
    if name in _TEXT_KEY and _text(element):
        out[_TEXT_KEY[name]] = _text(element)
    return out


def _agent(element: Any) -> dict[str, Any]:
    out: dict[str, Any] = _attributes(element)
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = _local(child)
        if name in ("creatorName", "contributorName"):
            out["name"] = _text(child)
            out.update(_attributes(child))
        elif name == "nameIdentifier":
            out.setdefault("nameIdentifiers", []).append(
                {"nameIdentifier": _text(child), **_attributes(child)}
            )
        elif name == "affiliation":
            out.setdefault("affiliation", []).append({"name": _text(child), **_attributes(child)})
        else:
            out[name] = _text(child)
    return out


def _funding(element: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in element:
        if isinstance(child.tag, str):
            out[_local(child)] = _text(child)
            out.update(_attributes(child))  # funderIdentifierType, awardURI
    return out


def _point(element: Any) -> dict[str, float]:
    return {_local(c): float(_text(c)) for c in element if isinstance(c.tag, str)}


def _geolocation(element: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = _local(child)
        if name == "geoLocationPlace":
            out[name] = _text(child)
        elif name in ("geoLocationPoint", "geoLocationBox"):
            out[name] = _point(child)
        elif name == "geoLocationPolygon":
            out[name] = [{_local(p): _point(p)} for p in child if isinstance(p.tag, str)]
    return out


def _related_item(element: Any) -> dict[str, Any]:
    out: dict[str, Any] = _attributes(element)
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = _local(child)
        if name in _LISTS:
            out[name] = [_entry(item) for item in child if isinstance(item.tag, str)]
        elif name == "relatedItemIdentifier":
            attributes = _attributes(child)
            ident_type = attributes.pop("relatedItemIdentifierType", None)
            out["relatedItemIdentifier"] = {
                "relatedItemIdentifier": _text(child),
                "relatedItemIdentifierType": ident_type,
            }
            out.update(attributes)  # the related-object attributes sit on the identifier
        elif name == "number":
            out["number"] = _text(child)
            out.update(_attributes(child))
        else:
            out[name] = _text(child)
    return out
