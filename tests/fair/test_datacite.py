"""DataCite 4.5 JSON → Record → JSON / XML on DataCite's own example records (tests/data/datacite),
the XML checked against the 4.5 XSD and read back; invalid metadata refused by the schema."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from datacite import schema45
from lxml import etree

from terrapole.errors import InvalidInput
from terrapole.fair import datacite
from terrapole.fair.model import Publisher, Record, Types

DATA = Path(__file__).parent.parent / "data" / "datacite"
EXAMPLES = sorted(DATA.glob("*.json"))
ENVELOPE = {"prefix", "suffix", "url", "container", "schemaVersion"}


def _kernel(data: dict[str, Any]) -> dict[str, Any]:
    """The example without its envelope and empty lists (what carries no metadata)."""

    def prune(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: prune(v) for k, v in value.items() if v not in ([], None)}
        if isinstance(value, list):
            return [prune(v) for v in value]
        return value

    return prune({k: v for k, v in data.items() if k not in ENVELOPE})


@pytest.fixture(scope="module")
def xsd() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(DATA / "4.5" / "metadata.xsd")))


def test_the_examples_are_there() -> None:
    assert len(EXAMPLES) == 7


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_json_to_record_to_json_loses_nothing(path: Path) -> None:
    original = json.loads(path.read_text())
    back = datacite.to_datacite_json(datacite.from_datacite_json(original))
    assert back.pop("schemaVersion") == "http://datacite.org/schema/kernel-4"
    assert back == _kernel(original)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_record_xml_is_valid_and_reads_back_to_the_same_record(
    path: Path, xsd: etree.XMLSchema
) -> None:
    record = datacite.from_datacite_json(json.loads(path.read_text()))
    xml = datacite.to_xml(record)
    assert xsd.validate(etree.fromstring(xml)), xsd.error_log
    assert datacite.from_xml(xml) == record


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_record_xml_is_the_datacite_packages_xml_plus_the_publisher_language(path: Path) -> None:
    original = json.loads(path.read_text())
    ours = etree.fromstring(datacite.to_xml(datacite.from_datacite_json(original)))
    theirs = etree.fromstring(schema45.tostring(original).encode())
    publisher = ours.find("{*}publisher")
    assert publisher is not None
    assert publisher.attrib.pop(datacite.XML_LANG, None) == original["publisher"].get("lang")
    assert etree.tostring(ours, method="c14n") == etree.tostring(theirs, method="c14n")


def test_datacites_own_xml_examples_read_into_valid_records(xsd: etree.XMLSchema) -> None:
    for path in sorted(DATA.glob("*.xml")):
        record = datacite.from_xml(path.read_bytes())
        assert record.titles and record.creators, path.name
        assert xsd.validate(etree.fromstring(datacite.to_xml(record))), (path, xsd.error_log)


def test_the_publisher_language_survives_the_xml() -> None:
    record = datacite.from_datacite_json(json.loads((DATA / EXAMPLES[0].name).read_text()))
    record = replace(record, publisher=Publisher("Theia", lang="fr"))
    assert datacite.from_xml(datacite.to_xml(record)).publisher == Publisher("Theia", lang="fr")


def test_metadata_the_schema_refuses_is_not_exported() -> None:
    record = Record(types=Types("NotAType"))
    with pytest.raises(datacite.InvalidDataCite) as caught:
        datacite.to_xml(record)
    problems = caught.value.problems
    assert any("creators" in p for p in problems)
    assert any("NotAType" in p for p in problems)
    assert any("publicationYear" in p for p in problems)


def test_an_unknown_property_is_named() -> None:
    with pytest.raises(InvalidInput, match=r"creators\[0\]\.orcid"):
        datacite.from_datacite_json({"creators": [{"name": "A", "orcid": "x"}]})


def test_a_wrong_kind_of_value_is_named() -> None:
    with pytest.raises(InvalidInput, match=r"geoLocations\[0\]\.geoLocationPoint\.pointLatitude"):
        datacite.from_datacite_json(
            {
                "geoLocations": [
                    {"geoLocationPoint": {"pointLatitude": "north", "pointLongitude": 1}}
                ]
            }
        )


def test_broken_xml_is_refused() -> None:
    with pytest.raises(InvalidInput, match="DataCite XML"):
        datacite.from_xml(b"<resource")
