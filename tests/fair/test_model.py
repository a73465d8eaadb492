"""The record model: its stored JSON round-trips, extras included; helpers read it right."""

from __future__ import annotations

from dataclasses import replace

import pytest

from terrapole.errors import InvalidInput
from terrapole.fair.model import (
    Record,
    RelatedIdentifier,
    Source,
    SourceKind,
    Title,
)

from .records_fixtures import complete_record


def test_stored_json_round_trips_with_extras() -> None:
    record = replace(complete_record(), extras=replace(
        complete_record().extras, source=Source(SourceKind.COLLECTION, "snow")))  # fmt: skip
    data = record.to_json()
    assert data["extras"]["source"] == {"kind": "collection", "id": "snow"}
    assert data["extras"]["spatialExtent"] == [-2.0, 42.0, 3.5, 43.5]
    assert data["creators"][0]["nameIdentifiers"][0]["nameIdentifierScheme"] == "ORCID"
    assert Record.from_json(data) == record


def test_main_title_is_the_untyped_one() -> None:
    record = Record(titles=(Title("Sous-titre", "Subtitle"), Title("Main")))
    assert record.title == "Main"
    assert Record().title == ""


def test_with_related_adds_each_link_once() -> None:
    link = RelatedIdentifier("10.1234/abc", "DOI", "IsDerivedFrom")
    record = Record().with_related(link).with_related(link)
    assert record.related_identifiers == (link,)


def test_an_unknown_source_kind_is_refused() -> None:
    with pytest.raises(InvalidInput, match="extras.source.kind"):
        Record.from_json({"extras": {"source": {"kind": "satellite", "id": "x"}}})


def test_a_missing_required_property_is_named() -> None:
    with pytest.raises(InvalidInput, match="missing relationType"):
        Record.from_json({"relatedIdentifiers": [
            {"relatedIdentifier": "x", "relatedIdentifierType": "URL"}]})  # fmt: skip
