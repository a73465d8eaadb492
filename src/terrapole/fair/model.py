"""The metadata record: DataCite 4.5 properties plus the INSPIRE / ISO 19115 and OZCAR extras.

Every class is a frozen dataclass whose field names are the DataCite JSON names in snake case
(``nameIdentifierScheme`` → ``name_identifier_scheme``), so :mod:`terrapole.fair.datacite`
converts both ways without a table of names. Lists are tuples (records are values); a
property DataCite leaves optional is ``None`` or an empty tuple here. What DataCite has no
property for (topic category, INSPIRE theme, lineage, extents, what the record describes)
lives in :class:`Extras`, kept apart so that the DataCite export is the kernel only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from terrapole.fair import _codec

ORCID_SCHEME_URI = "https://orcid.org"
ROR_SCHEME_URI = "https://ror.org"
SPDX_SCHEME_URI = "https://spdx.org/licenses/"


@dataclass(frozen=True)
class NameIdentifier:
    """A person's or organisation's identifier (ORCID, ROR, ISNI, ...)."""

    name_identifier: str
    name_identifier_scheme: str
    scheme_uri: str | None = None


@dataclass(frozen=True)
class Affiliation:
    """An organisation a creator belongs to, ideally with its ROR id."""

    name: str
    affiliation_identifier: str | None = None
    affiliation_identifier_scheme: str | None = None
    scheme_uri: str | None = None


@dataclass(frozen=True)
class Creator:
    """A person (``name_type`` Personal, "Family, Given") or organisation who made the data."""

    name: str
    name_type: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    lang: str | None = None
    name_identifiers: tuple[NameIdentifier, ...] = ()
    affiliation: tuple[Affiliation, ...] = ()


@dataclass(frozen=True)
class Contributor(Creator):
    """Someone who helped in a named role (DataCite ``contributorType``: DataCollector, ...)."""

    contributor_type: str = "Other"


@dataclass(frozen=True)
class Title:
    """A title; the main one has no ``title_type`` (others: Subtitle, TranslatedTitle, ...)."""

    title: str
    title_type: str | None = None
    lang: str | None = None


@dataclass(frozen=True)
class Publisher:
    """Who makes the resource available (DataCite 4.5: with an optional ROR id)."""

    name: str
    publisher_identifier: str | None = None
    publisher_identifier_scheme: str | None = None
    scheme_uri: str | None = None
    lang: str | None = None


@dataclass(frozen=True)
class Types:
    """The resource type: the controlled ``resource_type_general`` and a free-text one."""

    resource_type_general: str
    resource_type: str | None = None


@dataclass(frozen=True)
class Subject:
    """A keyword, ideally a thesaurus concept (``scheme_uri`` the scheme, ``value_uri`` it)."""

    subject: str
    subject_scheme: str | None = None
    scheme_uri: str | None = None
    value_uri: str | None = None
    classification_code: str | None = None
    lang: str | None = None


@dataclass(frozen=True)
class Date:
    """A date (ISO 8601, or a ``start/end`` range) with its DataCite ``dateType``."""

    date: str
    date_type: str
    date_information: str | None = None


@dataclass(frozen=True)
class AlternateIdentifier:
    """Another identifier of the same resource (a local accession number, a URL)."""

    alternate_identifier: str
    alternate_identifier_type: str


@dataclass(frozen=True)
class RelatedIdentifier:
    """A link to another resource: ``relation_type`` says how (IsDerivedFrom, IsNewVersionOf)."""

    related_identifier: str
    related_identifier_type: str
    relation_type: str
    resource_type_general: str | None = None
    related_metadata_scheme: str | None = None
    scheme_uri: str | None = None
    scheme_type: str | None = None


@dataclass(frozen=True)
class RelatedItemIdentifier:
    """The identifier of a related item."""

    related_item_identifier: str
    related_item_identifier_type: str


@dataclass(frozen=True)
class RelatedItem:
    """A related resource described inline (a journal, a book), for those without a DOI."""

    related_item_type: str
    relation_type: str
    titles: tuple[Title, ...] = ()
    related_item_identifier: RelatedItemIdentifier | None = None
    creators: tuple[Creator, ...] = ()
    contributors: tuple[Contributor, ...] = ()
    publication_year: str | None = None
    volume: str | None = None
    issue: str | None = None
    number: str | None = None
    number_type: str | None = None
    first_page: str | None = None
    last_page: str | None = None
    publisher: str | None = None
    edition: str | None = None
    related_metadata_scheme: str | None = None
    scheme_uri: str | None = None
    scheme_type: str | None = None


@dataclass(frozen=True)
class Rights:
    """A licence or access statement; ``rights_identifier`` an SPDX id where there is one."""

    rights: str | None = None
    rights_uri: str | None = None
    rights_identifier: str | None = None
    rights_identifier_scheme: str | None = None
    scheme_uri: str | None = None
    lang: str | None = None


@dataclass(frozen=True)
class Description:
    """A description with its type (Abstract, Methods, TechnicalInfo, ...)."""

    description: str
    description_type: str = "Abstract"
    lang: str | None = None


@dataclass(frozen=True)
class GeoPoint:
    """A point in WGS 84 degrees."""

    point_longitude: float
    point_latitude: float


@dataclass(frozen=True)
class GeoBox:
    """A bounding box in WGS 84 degrees."""

    west_bound_longitude: float
    east_bound_longitude: float
    south_bound_latitude: float
    north_bound_latitude: float


@dataclass(frozen=True)
class PolygonPoint:
    """One vertex of a polygon (``polygon_point``) or the point inside it (``in_polygon_point``)."""

    polygon_point: GeoPoint | None = None
    in_polygon_point: GeoPoint | None = None


@dataclass(frozen=True)
class GeoLocation:
    """Where: a place name, a point, a box and/or a closed polygon (first vertex = last)."""

    geo_location_place: str | None = None
    geo_location_point: GeoPoint | None = None
    geo_location_box: GeoBox | None = None
    geo_location_polygon: tuple[PolygonPoint, ...] = ()


@dataclass(frozen=True)
class FundingReference:
    """Who funded it, ideally with a Crossref Funder ID or ROR, and the award."""

    funder_name: str
    funder_identifier: str | None = None
    funder_identifier_type: str | None = None
    award_number: str | None = None
    award_uri: str | None = None
    award_title: str | None = None


class SourceKind(StrEnum):
    """What on the platform a record describes."""

    COLLECTION = "collection"
    INSITU_DATASET = "insitu_dataset"
    DEPOSIT = "deposit"
    JOB_OUTPUT = "job_output"


@dataclass(frozen=True)
class Source:
    """The platform object a record describes (a collection id, a dataset id, ...)."""

    kind: SourceKind
    id: str


@dataclass(frozen=True)
class TemporalExtent:
    """The period the data covers (ISO 8601 dates or date-times; ``end`` None: ongoing)."""

    start: str
    end: str | None = None


@dataclass(frozen=True)
class Extras:
    """What INSPIRE / ISO 19115 and the OZCAR pivot ask beyond DataCite.

    ``topic_categories`` are ISO 19115 MD_TopicCategoryCode values (``environment``,
    ``inlandWaters``...); ``inspire_themes`` INSPIRE registry theme URIs; ``spatial_extent``
    a WGS 84 ``(west, south, east, north)`` box.
    """

    topic_categories: tuple[str, ...] = ()
    inspire_themes: tuple[str, ...] = ()
    lineage: str | None = None
    temporal_extent: TemporalExtent | None = None
    spatial_extent: tuple[float, float, float, float] | None = None
    source: Source | None = None


@dataclass(frozen=True)
class Record:
    """One version of a resource's metadata: the DataCite 4.5 kernel plus :class:`Extras`.

    ``doi`` is the registered DOI (None until published, or when local identifiers are used:
    then the identifier is the record book's, not part of the DataCite kernel).
    """

    titles: tuple[Title, ...] = ()
    creators: tuple[Creator, ...] = ()
    publisher: Publisher | None = None
    publication_year: str | None = None
    types: Types | None = None
    doi: str | None = None
    alternate_identifiers: tuple[AlternateIdentifier, ...] = ()
    subjects: tuple[Subject, ...] = ()
    contributors: tuple[Contributor, ...] = ()
    dates: tuple[Date, ...] = ()
    language: str | None = None
    related_identifiers: tuple[RelatedIdentifier, ...] = ()
    related_items: tuple[RelatedItem, ...] = ()
    sizes: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    version: str | None = None
    rights_list: tuple[Rights, ...] = ()
    descriptions: tuple[Description, ...] = ()
    geo_locations: tuple[GeoLocation, ...] = ()
    funding_references: tuple[FundingReference, ...] = ()
    extras: Extras = field(default_factory=Extras)

    @property
    def title(self) -> str:
        """The main title (the first without a type), or the first title, or ``""``."""
        for title in self.titles:
            if title.title_type is None:
                return title.title
        return self.titles[0].title if self.titles else ""

    @property
    def abstract(self) -> str:
        """The first Abstract description, or ``""``."""
        for description in self.descriptions:
            if description.description_type == "Abstract":
                return description.description
        return ""

    def to_json(self) -> dict[str, Any]:
        """The record as stored: DataCite JSON (camelCase) plus an ``extras`` object."""
        data: dict[str, Any] = _codec.dump(self)
        return data

    @classmethod
    def from_json(cls, data: Any) -> Record:
        """A record from :meth:`to_json`'s shape; InvalidInput names the first wrong property."""
        return _codec.load(cls, data)

    def with_related(self, *links: RelatedIdentifier) -> Record:
        """This record with ``links`` added to its related identifiers (duplicates dropped)."""
        kept = self.related_identifiers + tuple(
            link for link in links if link not in self.related_identifiers
        )
        return replace(self, related_identifiers=kept)
