"""The offline validators of what harvesters read: OAI-PMH 2.0 responses with their oai_dc and
DataCite payloads (the XSDs kept in fair/schemas), DataCite 4.5 XML (DataCite's own example),
and DCAT-AP 3 catalogue graphs (the SEMIC SHACL shapes through pySHACL) — all without network."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF

from terrapole.fair.validation import (
    SCHEMAS,
    validate_datacite_xml,
    validate_dcat,
    validate_oai,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "datacite"
# DataCite's own 4.5 example with every property (datacite/schema, see PROVENANCE-schema-repository.md)
FULL_EXAMPLE = DATA / "schema-repository-example-full-v4.5.xml"

ENVELOPE = """<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">
  <responseDate>2026-12-05T10:00:00Z</responseDate>
  {request}
  {body}
</OAI-PMH>
"""

IDENTIFY = ENVELOPE.format(
    request='<request verb="Identify">https://data.theia.example/oai</request>',
    body="""<Identify>
    <repositoryName>Theia data platform</repositoryName>
    <baseURL>https://data.theia.example/oai</baseURL>
    <protocolVersion>2.0</protocolVersion>
    <adminEmail>catalogue@theia.example</adminEmail>
    <earliestDatestamp>2024-01-01T00:00:00Z</earliestDatestamp>
    <deletedRecord>persistent</deletedRecord>
    <granularity>YYYY-MM-DDThh:mm:ssZ</granularity>
    <description>
      <oai-identifier xmlns="http://www.openarchives.org/OAI/2.0/oai-identifier">
        <scheme>oai</scheme>
        <repositoryIdentifier>data.theia.example</repositoryIdentifier>
        <delimiter>:</delimiter>
        <sampleIdentifier>oai:data.theia.example:rec-0001</sampleIdentifier>
      </oai-identifier>
    </description>
  </Identify>""",
)

DC_RECORD = """<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"
                     xmlns:dc="http://purl.org/dc/elements/1.1/">
          {title}
          <dc:creator>Hagolle, Olivier</dc:creator>
          <dc:subject>snow cover</dc:subject>
          <dc:description>Daily snow cover of the Pyrenees from Sentinel-2.</dc:description>
          <dc:publisher>Theia</dc:publisher>
          <dc:date>2025</dc:date>
          <dc:type>Dataset</dc:type>
          <dc:identifier>https://doi.org/10.5072/theia.snow.1</dc:identifier>
          <dc:rights>https://spdx.org/licenses/etalab-2.0</dc:rights>
        </oai_dc:dc>"""

LIST_RECORDS = """<ListRecords>
    <record>
      <header>
        <identifier>oai:data.theia.example:rec-0001</identifier>
        <datestamp>2026-11-30T08:00:00Z</datestamp>
        <setSpec>collection:snow</setSpec>
      </header>
      <metadata>
        {payload}
      </metadata>
    </record>
    <record>
      <header status="deleted">
        <identifier>oai:data.theia.example:rec-0002</identifier>
        <datestamp>2026-12-01T08:00:00Z</datestamp>
      </header>
    </record>
    <resumptionToken completeListSize="250" cursor="0">c2V0PXNub3c7b2Zmc2V0PTI=</resumptionToken>
  </ListRecords>"""


def list_records(payload: str, prefix: str = "oai_dc") -> str:
    request = (f'<request verb="ListRecords" metadataPrefix="{prefix}">'
               "https://data.theia.example/oai</request>")  # fmt: skip
    return ENVELOPE.format(request=request, body=LIST_RECORDS.format(payload=payload))


def oai_datacite(resource: str) -> str:
    """DataCite's OAI wrapper (oai-1.1) around a kernel-4 resource."""
    return ('<oai_datacite xmlns="http://schema.datacite.org/oai/oai-1.1/">'
            "<schemaVersion>4.5</schemaVersion><datacentreSymbol>INIST.THEIA</datacentreSymbol>"
            f"<payload>{resource}</payload></oai_datacite>")  # fmt: skip


def full_example_resource() -> str:
    """DataCite's full 4.5 example as an element (no XML declaration)."""
    return etree.tostring(etree.parse(str(FULL_EXAMPLE)).getroot(), encoding="unicode")


# -- OAI-PMH ------------------------------------------------------------------------------------


def test_an_identify_response_with_an_oai_identifier_description_is_valid() -> None:
    assert validate_oai(IDENTIFY.encode()) == []


def test_list_records_with_an_oai_dc_record_a_deleted_one_and_a_token_is_valid() -> None:
    document = list_records(DC_RECORD.format(title="<dc:title>Snow cover, Pyrenees</dc:title>"))
    assert validate_oai(document) == []


def test_list_records_with_datacite_s_full_example_in_oai_datacite_is_valid() -> None:
    document = list_records(oai_datacite(full_example_resource()), prefix="oai_datacite")
    assert validate_oai(document) == []


def test_a_bare_datacite_resource_as_metadata_is_valid() -> None:
    document = list_records(full_example_resource(), prefix="datacite")
    assert validate_oai(document) == []


def test_an_unknown_verb_element_is_named() -> None:
    document = IDENTIFY.replace("<Identify>", "<Identity>").replace("</Identify>", "</Identity>")
    problems = validate_oai(document)
    assert any("'oai:Identity': This element is not expected" in p for p in problems), problems
    assert all(p.startswith("line ") for p in problems)


def test_an_unknown_verb_in_the_request_is_named() -> None:
    document = IDENTIFY.replace('verb="Identify"', 'verb="Identity"')
    problems = validate_oai(document)
    assert any("attribute 'verb'" in p and "'Identity'" in p for p in problems), problems


def test_a_missing_response_date_is_named() -> None:
    document = re.sub(r"<responseDate>.*</responseDate>", "", IDENTIFY)
    problems = validate_oai(document)
    assert any("'oai:request': This element is not expected. Expected is ( oai:responseDate )" in p
               for p in problems), problems  # fmt: skip


def test_a_record_datestamp_not_in_utc_is_named() -> None:
    document = list_records(DC_RECORD.format(title="")).replace("2026-11-30T08:00:00Z",
                                                                "2026-11-30T08:00:00+01:00")  # fmt: skip
    problems = validate_oai(document)
    assert any("oai:datestamp" in p and "UTCdatetimeType" in p for p in problems), problems


def test_a_dc_element_in_the_wrong_namespace_is_named() -> None:
    wrong = '<title xmlns="http://purl.org/dc/terms/">Snow cover, Pyrenees</title>'
    problems = validate_oai(list_records(DC_RECORD.format(title=wrong)))
    assert len(problems) == 1, problems
    assert "Element '{http://purl.org/dc/terms/}title': This element is not expected" in problems[0]
    assert "dc:title" in problems[0]  # the names that were expected


def test_an_invalid_datacite_payload_inside_oai_datacite_is_named() -> None:
    resource = full_example_resource().replace('resourceTypeGeneral="Dataset"',
                                               'resourceTypeGeneral="Snow"')  # fmt: skip
    problems = validate_oai(list_records(oai_datacite(resource), prefix="oai_datacite"))
    assert any("resourceTypeGeneral" in p and "'Snow'" in p for p in problems), problems


def test_an_oai_datacite_payload_that_is_no_kernel_4_resource_is_refused() -> None:
    old = full_example_resource().replace("http://datacite.org/schema/kernel-4",
                                          "http://datacite.org/schema/kernel-3")  # fmt: skip
    problems = validate_oai(list_records(oai_datacite(old), prefix="oai_datacite"))
    assert problems == [p for p in problems if "record oai:data.theia.example:rec-0001" in p]
    assert any("must hold one datacite:resource" in p for p in problems), problems


def test_metadata_holding_a_lone_dc_element_is_refused() -> None:
    lone = '<dc:title xmlns:dc="http://purl.org/dc/elements/1.1/">Snow</dc:title>'
    problems = validate_oai(list_records(lone))
    assert len(problems) == 1, problems
    assert (
        "record oai:data.theia.example:rec-0001: dc:title is not a record of a format"
        in problems[0]
    )


def test_an_unknown_metadata_format_is_refused() -> None:
    mods = '<mods xmlns="http://www.loc.gov/mods/v3"><titleInfo/></mods>'
    problems = validate_oai(list_records(mods, prefix="mods"))
    assert any("No matching global element declaration" in p for p in problems), problems


def test_an_error_response_is_valid_and_a_made_up_error_code_is_not() -> None:
    error = ENVELOPE.format(request="<request>https://data.theia.example/oai</request>",
                            body='<error code="badVerb">Illegal OAI verb</error>')  # fmt: skip
    assert validate_oai(error) == []
    problems = validate_oai(error.replace("badVerb", "noSuchVerb"))
    assert any("'noSuchVerb'" in p for p in problems), problems


def test_a_document_that_is_not_oai_pmh_or_not_xml_is_refused() -> None:
    assert validate_oai(FULL_EXAMPLE.read_bytes()) == [
        "line 5: the root element is datacite:resource, not oai:OAI-PMH"]  # fmt: skip
    problems = validate_oai(b"<OAI-PMH><responseDate>")
    assert len(problems) == 1 and problems[0].startswith("line 1: not well-formed XML")


def test_external_entities_are_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("the-password-is-swordfish")
    document = list_records(DC_RECORD.format(title="<dc:title>&secret;</dc:title>")).replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE OAI-PMH [<!ENTITY secret SYSTEM "{secret.as_uri()}">]>')  # fmt: skip
    problems = validate_oai(document)
    assert problems == ["the document has a DOCTYPE declaration: none is allowed"]


# -- DataCite -----------------------------------------------------------------------------------


def test_datacite_s_full_4_5_example_is_valid() -> None:
    assert validate_datacite_xml(FULL_EXAMPLE.read_bytes()) == []


def test_a_datacite_document_without_titles_and_with_a_bad_date_type_is_refused() -> None:
    root = etree.parse(str(FULL_EXAMPLE)).getroot()
    kernel = "{http://datacite.org/schema/kernel-4}"
    root.remove(root.find(f"{kernel}titles"))
    root.find(f"{kernel}dates/{kernel}date").set("dateType", "Published")
    problems = validate_datacite_xml(etree.tostring(root))
    assert any("dateType" in p and "'Published'" in p for p in problems), problems
    assert any("Expected is ( datacite:titles )" in p for p in problems), problems


def test_a_document_that_is_not_a_datacite_resource_is_refused() -> None:
    problems = validate_datacite_xml(IDENTIFY)
    assert problems == ["line 4: the root element is oai:OAI-PMH, not datacite:resource "
                        "({http://datacite.org/schema/kernel-4}resource)"]  # fmt: skip


# -- DCAT-AP 3 ----------------------------------------------------------------------------------

CATALOG = URIRef("https://data.theia.example/dcat")
DATASET = URIRef("https://data.theia.example/records/rec-0001")
DISTRIBUTION = URIRef("https://data.theia.example/records/rec-0001#files")
PUBLISHER = URIRef("https://ror.org/04wxnsj81")


def catalogue() -> Graph:
    """A small DCAT-AP 3 catalogue: the mandatory properties of each class, nodes typed."""
    graph = Graph()
    triples: list[tuple[Any, Any, Any]] = [
        (CATALOG, RDF.type, DCAT.Catalog),
        (CATALOG, DCTERMS.title, Literal("Theia FAIR records", lang="en")),
        (CATALOG, DCTERMS.description, Literal("Records published by Theia.", lang="en")),
        (CATALOG, DCTERMS.publisher, PUBLISHER),
        (CATALOG, DCAT.dataset, DATASET),
        (PUBLISHER, RDF.type, FOAF.Agent),
        (PUBLISHER, FOAF.name, Literal("Theia")),
        (DATASET, RDF.type, DCAT.Dataset),
        (DATASET, DCTERMS.title, Literal("Snow cover, Pyrenees", lang="en")),
        (DATASET, DCTERMS.description, Literal("Daily snow cover from Sentinel-2.", lang="en")),
        (DATASET, DCAT.distribution, DISTRIBUTION),
        (DISTRIBUTION, RDF.type, DCAT.Distribution),
        (DISTRIBUTION, DCAT.accessURL, URIRef("https://data.theia.example/records/rec-0001/files")),
    ]
    for triple in triples:
        graph.add(triple)
    return graph


def test_a_minimal_dcat_ap_catalogue_conforms() -> None:
    assert validate_dcat(catalogue()) == []


def test_the_same_catalogue_as_turtle_conforms() -> None:
    assert validate_dcat(catalogue().serialize(format="turtle")) == []


def test_a_catalogue_without_a_title_fails_on_the_catalog_shape() -> None:
    graph = catalogue()
    graph.remove((CATALOG, DCTERMS.title, None))
    assert validate_dcat(graph) == [
        f"dcat:CatalogShape: <{CATALOG}> dct:title: Less than 1 values on <{CATALOG}>->dct:title"]  # fmt: skip


def test_a_dataset_without_a_description_fails_on_the_dataset_shape() -> None:
    graph = catalogue()
    graph.remove((DATASET, DCTERMS.description, None))
    problems = validate_dcat(graph)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"dcat:DatasetShape: <{DATASET}> dct:description: Less than 1")


def test_a_publisher_not_typed_as_an_agent_fails_on_its_range() -> None:
    graph = catalogue()
    graph.remove((PUBLISHER, RDF.type, FOAF.Agent))
    assert validate_dcat(graph) == [
        f"dcat:CatalogShape: <{CATALOG}> dct:publisher: Value does not have class foaf:Agent"]  # fmt: skip


def test_the_caller_s_graph_is_left_unchanged() -> None:
    graph = catalogue()
    validate_dcat(graph)
    assert len(graph) == len(catalogue())


def test_text_that_is_not_turtle_is_refused() -> None:
    problems = validate_dcat("@prefix dcat: <http://www.w3.org/ns/dcat#> . <a> dcat:title")
    assert len(problems) == 1 and problems[0].startswith("not valid Turtle")


# -- offline ------------------------------------------------------------------------------------


def test_every_schema_location_names_a_file_kept_beside_it() -> None:
    locations = []
    for xsd in SCHEMAS.rglob("*.xsd"):
        tree = etree.parse(str(xsd))
        for node in tree.iterfind(".//{http://www.w3.org/2001/XMLSchema}*[@schemaLocation]"):
            location = node.get("schemaLocation")
            assert "://" not in location, f"{xsd.name} imports {location}"
            assert (xsd.parent / location).is_file(), f"{xsd.name}: {location} is missing"
            locations.append(location)
    assert "xml.xsd" in locations and "include/datacite-titleType-v4.xsd" in locations


def test_each_schema_folder_has_its_provenance() -> None:
    folders = {path.parent.name for path in SCHEMAS.rglob("*") if path.suffix in {".xsd", ".ttl"}}
    assert folders == {"oai", "datacite", "include", "dcat-ap"}
    for folder in ("oai", "datacite", "dcat-ap"):
        assert "commit" in (SCHEMAS / folder / "PROVENANCE.md").read_text()


def test_the_validators_compile_and_run_with_sockets_forbidden() -> None:
    """In a fresh interpreter (nothing compiled yet) where any socket use raises."""
    script = f"""
import socket
def refuse(*args, **kwargs):
    raise OSError("network use during validation")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from terrapole.fair.validation import validate_datacite_xml, validate_dcat, validate_oai
assert validate_oai({IDENTIFY!r}) == []
assert validate_datacite_xml(open({str(FULL_EXAMPLE)!r}, "rb").read()) == []
assert validate_dcat({catalogue().serialize(format="turtle")!r}) == []
print("offline ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "offline ok"


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network use during validation")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.mark.usefixtures("no_sockets")
def test_a_turtle_catalogue_with_remote_looking_iris_is_validated_offline() -> None:
    turtle = catalogue().serialize(format="turtle")
    turtle = "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n" + turtle
    turtle += f"\n<{CATALOG}> owl:imports <https://semiceu.github.io/DCAT-AP/releases/3.0.0/shacl/dcat-ap-SHACL.ttl> .\n"
    assert validate_dcat(turtle) == []
