"""What every export of one record reads: the record, where it lives, its files and versions.

The formats are pure functions of a :class:`RecordView`; the adapters build one from the record
book (landing URL, identifier, files of the record's source, published versions). The helpers
here answer the questions every format asks the same way: the identifier to cite, a creator's
ORCID, an organisation's ROR id, the licence URL, the year.
"""

from __future__ import annotations

from dataclasses import dataclass

from terrapole.fair.model import Affiliation, Creator, Record, Rights

DOI_RESOLVER = "https://doi.org/"
SPDX_LICENCES = "https://spdx.org/licenses/"


@dataclass(frozen=True)
class DataFile:
    """A file of the record: where to download it, its size in bytes, its checksum
    (``sha256:<hex>`` or ``md5:<hex>``) and media type where known."""

    name: str
    url: str
    size: int | None = None
    checksum: str | None = None
    media_type: str | None = None


@dataclass(frozen=True)
class VersionRef:
    """One published version of the same resource, for the versions list."""

    url: str
    version: str | None
    identifier: str | None
    published: str | None  # ISO date
    current: bool = False  # the version this view shows
    newest: bool = False


@dataclass(frozen=True)
class RecordView:
    """One record as its landing page and exports show it.

    ``url`` is the landing page; ``identifier`` the DOI (when ``record.doi``) or the platform's
    local identifier; ``catalog_url``/``catalog_name`` the repository holding it.
    """

    record: Record
    url: str
    identifier: str | None = None
    files: tuple[DataFile, ...] = ()
    versions: tuple[VersionRef, ...] = ()
    catalog_url: str | None = None
    catalog_name: str = "terrapole"
    withdrawn_reason: str | None = None

    @property
    def doi(self) -> str | None:
        """The DOI (lower case, no resolver), if the record has one."""
        return self.record.doi.lower() if self.record.doi else None

    @property
    def cite_as(self) -> str:
        """The persistent URL to cite: the DOI's resolver URL, else the landing page."""
        return f"{DOI_RESOLVER}{self.doi}" if self.doi else self.url

    @property
    def year(self) -> str:
        """The publication year ("n.d." before there is one)."""
        return self.record.publication_year or "n.d."


def orcid_of(creator: Creator) -> str | None:
    """The creator's ORCID iD as a URL (``https://orcid.org/0000-...``), if given."""
    for ident in creator.name_identifiers:
        if ident.name_identifier_scheme.upper() == "ORCID":
            value = ident.name_identifier.strip()
            return value if value.startswith("http") else f"https://orcid.org/{value}"
    return None


def ror_of(organisation: Affiliation) -> str | None:
    """The affiliation's ROR id as a URL, if given."""
    value = organisation.affiliation_identifier
    if not value or (organisation.affiliation_identifier_scheme or "").upper() != "ROR":
        return None
    return value if value.startswith("http") else f"https://ror.org/{value}"


def is_person(creator: Creator) -> bool:
    """Whether the creator is a person (``Personal``, or a given/family name or an ORCID)."""
    if creator.name_type:
        return creator.name_type == "Personal"
    return bool(creator.given_name or creator.family_name or orcid_of(creator))


def family_given(creator: Creator) -> tuple[str, str]:
    """(family, given) names; a "Family, Given" name is split when the parts are not given."""
    if creator.family_name:
        return creator.family_name, creator.given_name or ""
    family, _, given = creator.name.partition(",")
    return family.strip(), given.strip()


def licence_url(rights: Rights) -> str | None:
    """The licence's URL: its rights URI, else the SPDX page of its SPDX id."""
    if rights.rights_uri:
        return rights.rights_uri
    if rights.rights_identifier and (rights.rights_identifier_scheme or "").upper() == "SPDX":
        return f"{SPDX_LICENCES}{rights.rights_identifier}.html"
    return None


def licences(record: Record) -> list[tuple[str, str | None]]:
    """(name, URL) of each licence of the record (the SPDX id when it has no name)."""
    found = []
    for rights in record.rights_list:
        url = licence_url(rights)
        name = rights.rights or rights.rights_identifier or url
        if name:
            found.append((name, url))
    return found


def resource_type(record: Record) -> str:
    """DataCite's resourceTypeGeneral ("Dataset" when the record has no type yet)."""
    return record.types.resource_type_general if record.types else "Dataset"


def issued(record: Record) -> str | None:
    """The Issued date (ISO), else the publication year."""
    for date in record.dates:
        if date.date_type == "Issued":
            return date.date
    return record.publication_year
