"""A record as a schema.org ``Dataset`` in JSON-LD, as Google Dataset Search and FAIR
evaluators read it from the landing page.

The ``@context`` is an inline object (``@vocab`` schema.org, and which terms are IRIs), so a
JSON-LD processor reads it without fetching anything. Creators and affiliations carry their
ORCID/ROR as ``@id``; keywords from a thesaurus are ``DefinedTerm`` in their scheme.
"""

from __future__ import annotations

from typing import Any

from terrapole.fair.formats.view import (
    RecordView,
    is_person,
    issued,
    licences,
    orcid_of,
    resource_type,
    ror_of,
)
from terrapole.fair.model import Creator, GeoLocation, Record, Subject

MEDIA_TYPE = "application/ld+json"

CONTEXT: dict[str, Any] = {
    "@vocab": "https://schema.org/",
    **{
        term: {"@type": "@id"}
        for term in ("url", "license", "sameAs", "contentUrl", "isBasedOn", "relatedLink",
                     "inDefinedTermSet", "citation")
    },
}  # fmt: skip
"""Terms are schema.org's; these ones hold IRIs rather than text."""

_BASED_ON = {"IsDerivedFrom", "IsSupplementTo", "IsNewVersionOf", "IsVersionOf", "Requires"}
_SAME = {"IsIdenticalTo"}
_CITED = {"Cites", "References", "IsDocumentedBy", "IsDescribedBy"}


def _organisation(name: str, ror: str | None) -> dict[str, Any]:
    org: dict[str, Any] = {"@type": "Organization", "name": name}
    if ror:
        org["@id"] = ror
    return org


def agent(creator: Creator) -> dict[str, Any]:
    """A creator or contributor as a ``Person`` (with its ORCID as ``@id``) or ``Organization``."""
    if not is_person(creator):
        ror = next(
            (i.name_identifier for i in creator.name_identifiers
             if i.name_identifier_scheme.upper() == "ROR"), None,
        )  # fmt: skip
        return _organisation(creator.name, ror)
    person: dict[str, Any] = {"@type": "Person", "name": creator.name}
    if orcid := orcid_of(creator):
        person["@id"] = orcid
        person["identifier"] = orcid
    if creator.given_name:
        person["givenName"] = creator.given_name
    if creator.family_name:
        person["familyName"] = creator.family_name
    if creator.affiliation:
        person["affiliation"] = [_organisation(a.name, ror_of(a)) for a in creator.affiliation]
    return person


def keyword(subject: Subject) -> str | dict[str, Any]:
    """A keyword: plain text, or a ``DefinedTerm`` when it comes from a scheme."""
    if not (subject.value_uri or subject.scheme_uri):
        return subject.subject
    term: dict[str, Any] = {"@type": "DefinedTerm", "name": subject.subject}
    if subject.value_uri:
        term["@id"] = subject.value_uri
        term["url"] = subject.value_uri
    if subject.scheme_uri:
        term["inDefinedTermSet"] = subject.scheme_uri
    if subject.classification_code:
        term["termCode"] = subject.classification_code
    return term


def place(location: GeoLocation) -> dict[str, Any]:
    """A geo-location as a ``Place``: its name, a ``GeoShape`` box ("S W N E") or point, or a
    polygon."""
    found: dict[str, Any] = {"@type": "Place"}
    if location.geo_location_place:
        found["name"] = location.geo_location_place
    if box := location.geo_location_box:
        found["geo"] = {
            "@type": "GeoShape",
            "box": f"{box.south_bound_latitude} {box.west_bound_longitude} "
            f"{box.north_bound_latitude} {box.east_bound_longitude}",
        }
    elif point := location.geo_location_point:
        found["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": point.point_latitude,
            "longitude": point.point_longitude,
        }
    elif location.geo_location_polygon:
        vertices = [p.polygon_point for p in location.geo_location_polygon if p.polygon_point]
        text = " ".join(f"{v.point_latitude} {v.point_longitude}" for v in vertices)
        found["geo"] = {"@type": "GeoShape", "polygon": text}
    return found


def _spatial(record: Record) -> list[dict[str, Any]]:
    places = [place(g) for g in record.geo_locations]
    if not places and (box := record.extras.spatial_extent):
        west, south, east, north = box
        places = [{"@type": "Place", "geo": {"@type": "GeoShape",
                                             "box": f"{south} {west} {north} {east}"}}]  # fmt: skip
    return places


def _temporal(record: Record) -> str | None:
    extent = record.extras.temporal_extent
    if extent:
        return f"{extent.start}/{extent.end or '..'}"
    for date in record.dates:
        if date.date_type in ("Collected", "Coverage"):
            return date.date
    return None


def _links(record: Record) -> dict[str, list[str]]:
    links: dict[str, list[str]] = {"isBasedOn": [], "sameAs": [], "citation": [],
                                   "relatedLink": []}  # fmt: skip
    for link in record.related_identifiers:
        url = _as_url(link.related_identifier, link.related_identifier_type)
        if url is None:
            continue
        kind = link.relation_type
        where = ("isBasedOn" if kind in _BASED_ON else "sameAs" if kind in _SAME
                 else "citation" if kind in _CITED else "relatedLink")  # fmt: skip
        links[where].append(url)
    for alternate in record.alternate_identifiers:
        if url := _as_url(alternate.alternate_identifier, alternate.alternate_identifier_type):
            links["sameAs"].append(url)
    return {k: v for k, v in links.items() if v}


def _as_url(value: str, kind: str) -> str | None:
    if kind.upper() == "DOI":
        return value if value.startswith("http") else f"https://doi.org/{value}"
    if kind.upper() in ("URL", "HANDLE", "ARK", "PURL", "URN") and ":" in value:
        return value if kind.upper() != "HANDLE" else f"https://hdl.handle.net/{value}"
    return None


def _distribution(view: RecordView) -> list[dict[str, Any]]:
    found = []
    for data in view.files:
        download: dict[str, Any] = {"@type": "DataDownload", "name": data.name,
                                    "contentUrl": data.url}  # fmt: skip
        if data.media_type:
            download["encodingFormat"] = data.media_type
        if data.size is not None:
            download["contentSize"] = f"{data.size} B"
        if data.checksum and data.checksum.startswith("sha256:"):
            download["sha256"] = data.checksum.removeprefix("sha256:")
        found.append(download)
    return found


def _about(record: Record) -> dict[str, Any]:
    """Contributors, publisher, date, version and language, where the record has them."""
    about: dict[str, Any] = {}
    if record.contributors:
        about["contributor"] = [agent(c) for c in record.contributors]
    if pub := record.publisher:
        is_ror = (pub.publisher_identifier_scheme or "").upper() == "ROR"
        about["publisher"] = _organisation(pub.name, pub.publisher_identifier if is_ror else None)
    if published := issued(record):
        about["datePublished"] = published
    if record.version:
        about["version"] = record.version
    if record.language:
        about["inLanguage"] = record.language
    return about


def dataset(view: RecordView) -> dict[str, Any]:
    """The record as a schema.org ``Dataset`` JSON-LD document (inline ``@context``)."""
    record = view.record
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "Dataset",
        "@id": view.cite_as,
        "identifier": view.cite_as,
        "url": view.url,
        "name": record.title,
        "description": record.abstract or record.title,
        "creator": [agent(c) for c in record.creators],
        "isAccessibleForFree": True,
        "additionalType": resource_type(record),
    }
    if record.types and record.types.resource_type:
        doc["additionalType"] = [resource_type(record), record.types.resource_type]
    if view.identifier and view.identifier != view.cite_as:
        doc["alternateName"] = view.identifier
    doc.update(_about(record))
    if found := [url for _, url in licences(record) if url]:
        doc["license"] = found[0] if len(found) == 1 else found
    if record.subjects:
        doc["keywords"] = [keyword(s) for s in record.subjects]
    if spatial := _spatial(record):
        doc["spatialCoverage"] = spatial
    if temporal := _temporal(record):
        doc["temporalCoverage"] = temporal
    if files := _distribution(view):
        doc["distribution"] = files
    if record.funding_references:
        doc["funder"] = [_organisation(f.funder_name, f.funder_identifier if (
            f.funder_identifier_type or "").upper() == "ROR" else None)
            for f in record.funding_references]  # fmt: skip
    doc.update(_links(record))
    if view.catalog_url:
        doc["includedInDataCatalog"] = {"@type": "DataCatalog", "name": view.catalog_name,
                                        "url": view.catalog_url}  # fmt: skip
    return doc
