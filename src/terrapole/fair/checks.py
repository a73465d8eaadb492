"""What is wrong with a record: mandatory fields, identifiers, licences, dates, geometry.

:func:`problems` is pure and lists every problem at once (the editor shows them as you type;
submission refuses a record with any). Each :class:`Problem` names the field by its DataCite
JSON path (``creators[0].nameIdentifiers[1].nameIdentifier``) and says what is expected.
Identifiers are checked with ``idutils`` (ORCID checksum, DOI, URL) and the ROR checksum of
:mod:`terrapole.access.identifiers`; licences against the SPDX list of ``license-expression``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache

import idutils
from license_expression import Licensing, get_spdx_licensing

from terrapole.access.identifiers import check_ror
from terrapole.errors import InvalidInput
from terrapole.fair.model import (
    Creator,
    Date,
    GeoBox,
    GeoLocation,
    GeoPoint,
    Record,
)

NOT_IN_FUTURE = frozenset(
    {"Created", "Issued", "Submitted", "Accepted", "Copyrighted", "Collected", "Updated"}
)
"""Date types that cannot lie after today (a dataset is not created tomorrow)."""

_YEAR = re.compile(r"^[0-9]{4}$")
_DATE = re.compile(r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2}([T ][0-9:.]+(Z|[+-][0-9:]+)?)?)?)?$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a record: where (a DataCite JSON path) and what is expected."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class IncompleteRecord(InvalidInput):
    """A record that cannot be submitted or published; ``problems`` lists each."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("record", "; ".join(str(p) for p in problems))
        self.problems = problems


def problems(record: Record, *, today: date | None = None) -> list[Problem]:
    """Every problem of ``record``, mandatory fields first; empty when it may be submitted."""
    today = today or datetime.now(UTC).date()
    return [
        *_mandatory(record),
        *_agents(record),
        *_identifiers(record),
        *_rights(record),
        *_dates(record, today),
        *_geometry(record),
    ]


def check(record: Record, *, today: date | None = None) -> None:
    """Raise :class:`IncompleteRecord` listing every problem, if there is one."""
    found = problems(record, today=today)
    if found:
        raise IncompleteRecord(found)


def _mandatory(record: Record) -> Iterator[Problem]:
    if not any(title.title.strip() for title in record.titles):
        yield Problem("titles", "at least one title is required")
    if not record.creators:
        yield Problem("creators", "at least one creator is required")
    if record.publisher is None or not record.publisher.name.strip():
        yield Problem("publisher", "the publisher's name is required")
    if record.publication_year is None:
        yield Problem("publicationYear", "the publication year is required")
    elif not _YEAR.match(record.publication_year):
        yield Problem("publicationYear", f"{record.publication_year!r} is not a 4-digit year")
    if record.types is None or not record.types.resource_type_general:
        yield Problem("types.resourceTypeGeneral", "the resource type (general) is required")
    if not record.rights_list:
        yield Problem("rightsList", "a licence is required to publish (an SPDX id)")
    if not record.abstract.strip():
        yield Problem("descriptions", "an Abstract description is required")


def _agents(record: Record) -> Iterator[Problem]:
    agents: list[tuple[str, Creator]] = [
        (f"creators[{i}]", c) for i, c in enumerate(record.creators)
    ]
    agents += [(f"contributors[{i}]", c) for i, c in enumerate(record.contributors)]
    for where, agent in agents:
        if not agent.name.strip():
            yield Problem(f"{where}.name", "a name is required")
        for j, ident in enumerate(agent.name_identifiers):
            yield from _scheme_check(
                f"{where}.nameIdentifiers[{j}].nameIdentifier",
                ident.name_identifier_scheme,
                ident.name_identifier,
            )
        for j, place in enumerate(agent.affiliation):
            if place.affiliation_identifier:
                scheme = place.affiliation_identifier_scheme or (
                    "ROR" if "ror.org" in (place.scheme_uri or "") else ""
                )
                yield from _scheme_check(
                    f"{where}.affiliation[{j}].affiliationIdentifier",
                    scheme,
                    place.affiliation_identifier,
                )
    if record.publisher is not None and record.publisher.publisher_identifier:
        yield from _scheme_check(
            "publisher.publisherIdentifier",
            record.publisher.publisher_identifier_scheme or "",
            record.publisher.publisher_identifier,
        )


def _scheme_check(where: str, scheme: str, value: str) -> Iterator[Problem]:
    kind = scheme.upper()
    if kind == "ORCID" and not idutils.is_orcid(value):
        yield Problem(where, f"{value!r} is not a valid ORCID iD (16 digits, last a checksum)")
    elif kind == "ROR":
        try:
            check_ror(value)
        except InvalidInput as exc:
            yield Problem(where, exc.reason)


def _identifiers(record: Record) -> Iterator[Problem]:
    if record.doi is not None and not idutils.is_doi(record.doi):
        yield Problem("doi", f"{record.doi!r} is not a DOI (10.prefix/suffix)")
    for i, link in enumerate(record.related_identifiers):
        where = f"relatedIdentifiers[{i}].relatedIdentifier"
        kind, value = link.related_identifier_type, link.related_identifier
        if kind == "DOI" and not idutils.is_doi(value):
            yield Problem(where, f"{value!r} is not a DOI")
        elif kind == "URL" and not idutils.is_url(value):
            yield Problem(where, f"{value!r} is not an absolute URL")
    urls = [(f"subjects[{i}].valueUri", s.value_uri) for i, s in enumerate(record.subjects)]
    urls += [(f"subjects[{i}].schemeUri", s.scheme_uri) for i, s in enumerate(record.subjects)]
    urls += [(f"rightsList[{i}].rightsUri", r.rights_uri) for i, r in enumerate(record.rights_list)]
    urls += [
        (f"extras.inspireThemes[{i}]", uri) for i, uri in enumerate(record.extras.inspire_themes)
    ]
    for where, url in urls:
        if url is not None and not idutils.is_url(url):
            yield Problem(where, f"{url!r} is not an absolute URL")


@cache
def _spdx() -> Licensing:
    return get_spdx_licensing()


def spdx_id(value: str) -> str | None:
    """The SPDX expression ``value`` names, in its canonical spelling; None if it names none.

    >>> spdx_id("cc-by-4.0")
    'CC-BY-4.0'
    """
    info = _spdx().validate(value)
    return None if info.errors else str(info.normalized_expression)


def _rights(record: Record) -> Iterator[Problem]:
    for i, rights in enumerate(record.rights_list):
        scheme = (rights.rights_identifier_scheme or "").upper()
        if rights.rights_identifier and scheme in ("", "SPDX"):
            if spdx_id(rights.rights_identifier) is None:
                yield Problem(
                    f"rightsList[{i}].rightsIdentifier",
                    f"{rights.rights_identifier!r} is not an SPDX licence id",
                )
        elif not rights.rights_identifier and not rights.rights_uri and not rights.rights:
            yield Problem(f"rightsList[{i}]", "a licence names an SPDX id, a URI or a text")


def _dates(record: Record, today: date) -> Iterator[Problem]:
    for i, entry in enumerate(record.dates):
        yield from _date(f"dates[{i}].date", entry, today)
    if record.publication_year and _YEAR.match(record.publication_year):
        if int(record.publication_year) > today.year:
            yield Problem("publicationYear", f"{record.publication_year} is in the future")
    extent = record.extras.temporal_extent
    if extent is not None:
        for name, bound in (("start", extent.start), ("end", extent.end)):
            if bound is not None and not _DATE.match(bound):
                yield Problem(f"extras.temporalExtent.{name}", f"{bound!r} is not an ISO date")
        if extent.end is not None and _DATE.match(extent.start) and _DATE.match(extent.end):
            if extent.end < extent.start:
                yield Problem(
                    "extras.temporalExtent",
                    f"ends ({extent.end}) before it starts ({extent.start})",
                )


def _date(where: str, entry: Date, today: date) -> Iterator[Problem]:
    parts = entry.date.split("/")
    if len(parts) > 2 or not all(not p or _DATE.match(p) for p in parts) or not any(parts):
        yield Problem(where, f"{entry.date!r} is not an ISO 8601 date or start/end range")
        return
    if len(parts) == 2 and all(parts) and parts[1] < parts[0]:
        yield Problem(where, f"the range {entry.date!r} ends before it starts")
    if entry.date_type in NOT_IN_FUTURE and max(p for p in parts if p)[:10] > today.isoformat():
        yield Problem(where, f"a {entry.date_type} date cannot be in the future ({entry.date})")


def _geometry(record: Record) -> Iterator[Problem]:
    for i, place in enumerate(record.geo_locations):
        yield from _geolocation(f"geoLocations[{i}]", place)
    box = record.extras.spatial_extent
    if box is not None:
        west, south, east, north = box
        yield from _box("extras.spatialExtent", GeoBox(west, east, south, north))


def _geolocation(where: str, place: GeoLocation) -> Iterator[Problem]:
    if place.geo_location_point is not None:
        yield from _point(f"{where}.geoLocationPoint", place.geo_location_point)
    if place.geo_location_box is not None:
        yield from _box(f"{where}.geoLocationBox", place.geo_location_box)
    if place.geo_location_polygon:
        ring = [p.polygon_point for p in place.geo_location_polygon if p.polygon_point]
        for j, vertex in enumerate(ring):
            yield from _point(f"{where}.geoLocationPolygon[{j}]", vertex)
        if len(ring) < 4:
            yield Problem(
                f"{where}.geoLocationPolygon",
                f"a polygon has at least 4 points (3 + the first again), not {len(ring)}",
            )
        elif ring[0] != ring[-1]:
            yield Problem(f"{where}.geoLocationPolygon", "the last point must repeat the first")
    if not (
        place.geo_location_place
        or place.geo_location_point
        or place.geo_location_box
        or place.geo_location_polygon
    ):
        yield Problem(where, "a geolocation has a place, a point, a box or a polygon")


def _point(where: str, point: GeoPoint) -> Iterator[Problem]:
    if not -180 <= point.point_longitude <= 180:
        yield Problem(f"{where}.pointLongitude", f"{point.point_longitude} is outside -180..180")
    if not -90 <= point.point_latitude <= 90:
        yield Problem(f"{where}.pointLatitude", f"{point.point_latitude} is outside -90..90")


def _box(where: str, box: GeoBox) -> Iterator[Problem]:
    for name, value, limit in (
        ("westBoundLongitude", box.west_bound_longitude, 180),
        ("eastBoundLongitude", box.east_bound_longitude, 180),
        ("southBoundLatitude", box.south_bound_latitude, 90),
        ("northBoundLatitude", box.north_bound_latitude, 90),
    ):
        if not -limit <= value <= limit:
            yield Problem(f"{where}.{name}", f"{value} is outside -{limit}..{limit}")
    if box.south_bound_latitude > box.north_bound_latitude:
        yield Problem(
            where,
            f"south ({box.south_bound_latitude}) is north of north ({box.north_bound_latitude})",
        )
