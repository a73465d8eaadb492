"""Checks of a record: mandatory fields, identifiers (ORCID checksum, ROR, DOI, URL), SPDX
licences, dates (future, reversed), geometry; each problem names its field."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from terrapole.fair import checks
from terrapole.fair.model import (
    Creator,
    Date,
    Extras,
    GeoBox,
    GeoLocation,
    GeoPoint,
    NameIdentifier,
    PolygonPoint,
    Record,
    RelatedIdentifier,
    Rights,
    TemporalExtent,
)

from .records_fixtures import complete_record

TODAY = date(2026, 6, 1)


def fields(record: Record) -> dict[str, str]:
    return {p.field: p.message for p in checks.problems(record, today=TODAY)}


def test_a_complete_record_has_no_problem() -> None:
    assert checks.problems(complete_record(), today=TODAY) == []


def test_an_empty_record_lists_every_mandatory_field() -> None:
    found = fields(Record())
    assert set(found) == {"titles", "creators", "publisher", "publicationYear",
                          "types.resourceTypeGeneral", "rightsList", "descriptions"}  # fmt: skip


def test_an_orcid_with_a_wrong_check_digit_is_refused() -> None:
    bad = Creator("Carberry, Josiah", name_identifiers=(
        NameIdentifier("https://orcid.org/0000-0002-1825-0098", "ORCID"),))  # fmt: skip
    found = fields(replace(complete_record(), creators=(bad,)))
    assert "checksum" in found["creators[0].nameIdentifiers[0].nameIdentifier"]


def test_a_ror_with_wrong_check_digits_is_refused() -> None:
    record = complete_record()
    publisher = replace(record.publisher, publisher_identifier="https://ror.org/04wxnsj82")
    found = fields(replace(record, publisher=publisher))
    assert "check digits" in found["publisher.publisherIdentifier"]


def test_bad_doi_and_url_relations_are_refused() -> None:
    record = complete_record().with_related(
        RelatedIdentifier("11.1234/x", "DOI", "IsDerivedFrom"),
        RelatedIdentifier("not a url", "URL", "References"),
    )
    found = fields(record)
    assert "not a DOI" in found["relatedIdentifiers[0].relatedIdentifier"]
    assert "URL" in found["relatedIdentifiers[1].relatedIdentifier"]


def test_an_unknown_spdx_id_is_refused_and_case_is_forgiven() -> None:
    bad = replace(complete_record(), rights_list=(Rights(rights_identifier="CC-BY-5.0"),))
    assert "SPDX" in fields(bad)["rightsList[0].rightsIdentifier"]
    good = replace(complete_record(), rights_list=(Rights(rights_identifier="cc-by-4.0"),))
    assert fields(good) == {}
    assert checks.spdx_id("cc-by-4.0") == "CC-BY-4.0"


@pytest.mark.parametrize("kind", ["Created", "Issued"])
def test_a_creation_or_issue_date_in_the_future_is_refused(kind: str) -> None:
    record = replace(complete_record(), dates=(Date("2026-06-02", kind),))
    assert "future" in fields(record)["dates[0].date"]


def test_a_future_validity_date_is_fine() -> None:
    assert fields(replace(complete_record(), dates=(Date("2030-01-01", "Valid"),))) == {}


def test_reversed_ranges_are_refused() -> None:
    record = replace(
        complete_record(),
        dates=(Date("2020-05-01/2020-01-01", "Collected"),),
        extras=Extras(temporal_extent=TemporalExtent("2021-01-01", "2020-01-01")),
    )
    found = fields(record)
    assert "ends before it starts" in found["dates[0].date"]
    assert "before it starts" in found["extras.temporalExtent"]


def test_a_future_publication_year_and_a_malformed_date_are_refused() -> None:
    record = replace(
        complete_record(), publication_year="2027", dates=(Date("01/02/2020", "Created"),)
    )
    found = fields(record)
    assert "future" in found["publicationYear"]
    assert "ISO 8601" in found["dates[0].date"]


def test_geometry_errors_are_named() -> None:
    open_ring = tuple(PolygonPoint(GeoPoint(x, y)) for x, y in [(0, 0), (1, 0), (1, 1), (0, 2)])
    record = replace(complete_record(), geo_locations=(
        GeoLocation(geo_location_point=GeoPoint(200.0, 10.0)),
        GeoLocation(geo_location_box=GeoBox(0.0, 1.0, 45.0, 44.0)),
        GeoLocation(geo_location_polygon=open_ring),
        GeoLocation(),
    ))  # fmt: skip
    found = fields(record)
    assert "outside" in found["geoLocations[0].geoLocationPoint.pointLongitude"]
    assert "north" in found["geoLocations[1].geoLocationBox"]
    assert "repeat the first" in found["geoLocations[2].geoLocationPolygon"]
    assert "place, a point" in found["geoLocations[3]"]


def test_check_raises_with_every_problem() -> None:
    with pytest.raises(checks.IncompleteRecord) as caught:
        checks.check(Record(), today=TODAY)
    assert len(caught.value.problems) == 7
