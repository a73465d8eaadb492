"""The metadata formats the OAI-PMH repository disseminates, written from a record's stored
DataCite JSON: ``oai_dc`` (unqualified Dublin Core, which every repository must offer) and
``oai_datacite`` (DataCite's OAI wrapper around the 4.5 kernel XML).

Each writer returns the XML of one ``<metadata>`` payload as text, ready to be streamed.
They work on the stored JSON rather than on :class:`terrapole.fair.model.Record` objects
because a harvest writes tens of thousands of them and building the model costs more than the
XML; the JSON is the DataCite shape (:func:`terrapole.fair.datacite.to_datacite_json` is it
without ``extras``), checked when the record was published.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from terrapole.fair import datacite

OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
OAI_DATACITE = "http://schema.datacite.org/oai/oai-1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
DOI_RESOLVER = "https://doi.org/"

# characters XML 1.0 cannot carry at all (escaping does not help)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class MetadataFormat:
    """A format a harvester may ask for by its ``metadataPrefix``."""

    prefix: str
    schema: str
    namespace: str


FORMATS: dict[str, MetadataFormat] = {
    "oai_dc": MetadataFormat("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC),
    "oai_datacite": MetadataFormat(
        "oai_datacite", "http://schema.datacite.org/oai/oai-1.1/oai.xsd", OAI_DATACITE
    ),
}


def text(value: object) -> str:
    """``value`` as XML character data."""
    return escape(_NOT_XML.sub("", str(value)))


def attribute(value: object) -> str:
    """``value`` as a quoted XML attribute value."""
    return quoteattr(_NOT_XML.sub("", str(value)))


def identifiers(metadata: Mapping[str, Any], identifier: str | None, landing: str) -> list[str]:
    """How to name the resource, best first: its DOI as a URL, its local identifier, its page."""
    found = []
    if metadata.get("doi"):
        found.append(DOI_RESOLVER + str(metadata["doi"]))
    if identifier and not metadata.get("doi"):
        found.append(identifier)
    found.append(landing)
    return found


# -- oai_dc --------------------------------------------------------------------------------------


def _names(items: Any, key: str) -> Iterator[str]:
    for item in items or ():
        if isinstance(item, Mapping) and item.get(key):
            yield str(item[key])


def _dc_text(metadata: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for element, key, field in (
        ("title", "titles", "title"),
        ("creator", "creators", "name"),
        ("subject", "subjects", "subject"),
        ("description", "descriptions", "description"),
        ("contributor", "contributors", "name"),
        ("coverage", "geoLocations", "geoLocationPlace"),
    ):
        for value in _names(metadata.get(key), field):
            yield element, value
    publisher = metadata.get("publisher")
    if isinstance(publisher, Mapping) and publisher.get("name"):
        yield "publisher", str(publisher["name"])
    if metadata.get("language"):
        yield "language", str(metadata["language"])


def _dc_dates_and_types(metadata: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    if metadata.get("publicationYear"):
        yield "date", str(metadata["publicationYear"])
    for date in metadata.get("dates") or ():
        if isinstance(date, Mapping) and date.get("date"):
            yield "date", f"{date.get('dateType', '')}: {date['date']}".lstrip(": ")
    types = metadata.get("types")
    if isinstance(types, Mapping):
        for key in ("resourceTypeGeneral", "resourceType"):
            if types.get(key):
                yield "type", str(types[key])
    for value in (*(metadata.get("formats") or ()), *(metadata.get("sizes") or ())):
        yield "format", str(value)


def _dc_links(metadata: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for link in metadata.get("relatedIdentifiers") or ():
        if isinstance(link, Mapping) and link.get("relatedIdentifier"):
            kind = str(link.get("relatedIdentifierType", "")).lower()
            value = str(link["relatedIdentifier"])
            yield "relation", f"{kind}:{value}" if kind else value
    for rights in metadata.get("rightsList") or ():
        if isinstance(rights, Mapping):
            for key in ("rightsUri", "rights"):
                if rights.get(key):
                    yield "rights", str(rights[key])


def _dc_values(
    metadata: Mapping[str, Any], identifier: str | None, landing: str
) -> Iterator[tuple[str, str]]:
    """(Dublin Core element, value) pairs, the DataCite → DC mapping DataCite itself uses."""
    yield from _dc_text(metadata)
    yield from _dc_dates_and_types(metadata)
    for name in identifiers(metadata, identifier, landing):
        yield "identifier", name
    yield from _dc_links(metadata)


def oai_dc(metadata: Mapping[str, Any], *, identifier: str | None, landing: str) -> str:
    """The record as ``<oai_dc:dc>``."""
    lines = "".join(
        f"<dc:{element}>{text(value)}</dc:{element}>"
        for element, value in _dc_values(metadata, identifier, landing)
    )
    return (
        f'<oai_dc:dc xmlns:oai_dc="{OAI_DC}" xmlns:dc="{DC}" xmlns:xsi="{XSI}" '
        f'xsi:schemaLocation="{OAI_DC} {FORMATS["oai_dc"].schema}">{lines}</oai_dc:dc>'
    )


# -- oai_datacite --------------------------------------------------------------------------------


def datacite_resource(metadata: Mapping[str, Any], *, landing: str) -> str:
    """The DataCite 4.5 ``<resource>``: a record without a DOI is identified by its landing
    page URL (:func:`terrapole.fair.datacite.resource`, as the landing page writes it)."""
    return str(etree.tostring(datacite.resource(metadata, landing=landing), encoding="unicode"))


def oai_datacite(metadata: Mapping[str, Any], *, landing: str, datacentre: str) -> str:
    """The record as ``<oai_datacite>`` (schema version, data centre symbol, payload)."""
    resource = datacite_resource(metadata, landing=landing)
    return (
        f'<oai_datacite xmlns="{OAI_DATACITE}" xmlns:xsi="{XSI}" '
        f'xsi:schemaLocation="{OAI_DATACITE} {FORMATS["oai_datacite"].schema}">'
        f"<schemaVersion>4.5</schemaVersion>"
        f"<datacentreSymbol>{text(datacentre)}</datacentreSymbol>"
        f"<payload>{resource}</payload></oai_datacite>"
    )


def payload(
    prefix: str,
    metadata: Mapping[str, Any],
    *,
    identifier: str | None,
    landing: str,
    datacentre: str,
) -> str:
    """The ``<metadata>`` content of a record in the format ``prefix`` (one of FORMATS)."""
    if prefix == "oai_dc":
        return oai_dc(metadata, identifier=identifier, landing=landing)
    return oai_datacite(metadata, landing=landing, datacentre=datacentre)


__all__ = [
    "FORMATS",
    "MetadataFormat",
    "attribute",
    "datacite_resource",
    "identifiers",
    "oai_datacite",
    "oai_dc",
    "payload",
    "text",
]
