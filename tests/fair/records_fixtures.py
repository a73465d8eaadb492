"""A complete record the FAIR tests start from (every mandatory field, valid identifiers)."""

from __future__ import annotations

from terrapole.fair.model import (
    Affiliation,
    Creator,
    Date,
    Description,
    Extras,
    GeoBox,
    GeoLocation,
    NameIdentifier,
    Publisher,
    Record,
    Rights,
    Subject,
    TemporalExtent,
    Title,
    Types,
)


def complete_record(title: str = "Snow cover of the Pyrenees, 2018-2023") -> Record:
    """A record that passes every check (ORCID and ROR ids are real, checksums valid)."""
    return Record(
        titles=(Title(title, lang="en"),),
        creators=(
            Creator(
                "Carberry, Josiah", name_type="Personal", given_name="Josiah",
                family_name="Carberry",
                name_identifiers=(NameIdentifier("https://orcid.org/0000-0002-1825-0097",
                                                 "ORCID", "https://orcid.org"),),
                affiliation=(Affiliation("DataCite", "https://ror.org/04wxnsj81", "ROR",
                                         "https://ror.org"),),
            ),
        ),
        publisher=Publisher("Theia", "https://ror.org/04wxnsj81", "ROR", "https://ror.org/"),
        publication_year="2024",
        types=Types("Dataset", "Snow cover maps"),
        subjects=(Subject("snow cover", "GEMET", "http://www.eionet.europa.eu/gemet/",
                          "http://www.eionet.europa.eu/gemet/concept/7863"),),
        dates=(Date("2018-01-01/2023-12-31", "Collected"), Date("2024-01-10", "Created")),
        language="en",
        rights_list=(Rights("Creative Commons Attribution 4.0 International",
                            "https://creativecommons.org/licenses/by/4.0/", "CC-BY-4.0",
                            "SPDX", "https://spdx.org/licenses/"),),
        descriptions=(Description("Daily snow cover maps from Sentinel-2."),),
        geo_locations=(GeoLocation("Pyrenees", geo_location_box=GeoBox(-2.0, 3.5, 42.0, 43.5)),),
        extras=Extras(topic_categories=("climatologyMeteorologyAtmosphere",),
                      inspire_themes=("http://inspire.ec.europa.eu/theme/lc",),
                      lineage="Let-It-Snow on Sentinel-2 L2A.",
                      temporal_extent=TemporalExtent("2018-01-01", "2023-12-31"),
                      spatial_extent=(-2.0, 42.0, 3.5, 43.5)),
    )  # fmt: skip
