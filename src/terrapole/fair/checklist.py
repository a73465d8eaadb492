"""Which FAIR principles a record meets, and what is missing for each. Pure.

The principles are those of Wilkinson et al. 2016 (doi:10.1038/sdata.2016.18) that a record
and the platform can show; the platform's own part (an index, OAI-PMH, landing pages) is
granted only once the record is published, since only then is it harvested and resolvable.
"""

from __future__ import annotations

from dataclasses import dataclass

from terrapole.fair import checks
from terrapole.fair.model import Record

VOCABULARY_HINT = "keywords chosen from a thesaurus (subject scheme and value URIs)"


@dataclass(frozen=True)
class Principle:
    """One FAIR principle: its code (``F1``), what it asks, whether met and what is missing."""

    code: str
    text: str
    met: bool
    missing: str = ""


def checklist(
    record: Record, *, published: bool = False, restricted: bool = False
) -> list[Principle]:
    """Every principle, in order, for ``record`` (``published``: it has its identifier and is
    served). A1.2 is the platform's: restricted data go through the access policy's sign-in."""
    rich = _rich(record)
    controlled = [s for s in record.subjects if s.value_uri]
    qualified = [r for r in record.related_identifiers if r.relation_type]
    licence = [r for r in record.rights_list if r.rights_identifier or r.rights_uri]
    provenance = (
        record.extras.lineage
        or any(
            r.relation_type in ("IsDerivedFrom", "IsCompiledBy", "IsVariantFormOf", "IsSourceOf")
            for r in record.related_identifiers
        )
        or any(d.description_type == "Methods" for d in record.descriptions)
    )
    community = not checks.problems(record) and bool(
        record.extras.topic_categories or record.extras.inspire_themes
    )
    not_yet = "published records only: publish it"
    return [
        Principle("F1", "(Meta)data are assigned a globally unique and persistent identifier",
                  published, "" if published else not_yet),
        Principle("F2", "Data are described with rich metadata", not rich, "; ".join(rich)),
        Principle("F3", "Metadata clearly include the identifier of the data they describe",
                  published, "" if published else not_yet),
        Principle("F4", "(Meta)data are registered or indexed in a searchable resource",
                  published, "" if published else "harvested (OAI-PMH, DCAT) once published"),
        Principle("A1", "(Meta)data are retrievable by their identifier using a standardised "
                  "communications protocol", published, "" if published else not_yet),
        Principle("A1.2", "The protocol allows for an authentication and authorisation "
                  "procedure, where necessary", True,
                  ""),
        Principle("A2", "Metadata are accessible, even when the data are no longer available",
                  published, "" if published else "kept as a tombstone once published"),
        Principle("I1", "(Meta)data use a formal, accessible, shared language",
                  True, ""),
        Principle("I2", "(Meta)data use vocabularies that follow FAIR principles",
                  bool(controlled), "" if controlled else VOCABULARY_HINT),
        Principle("I3", "(Meta)data include qualified references to other (meta)data",
                  bool(qualified), "" if qualified else "related identifiers with a relation type"),
        Principle("R1.1", "(Meta)data are released with a clear and accessible data usage licence",
                  bool(licence), "" if licence else "a licence (SPDX id or URI)"),
        Principle("R1.2", "(Meta)data are associated with detailed provenance",
                  bool(provenance), "" if provenance else
                  "a lineage, a Methods description or the sources it derives from"),
        Principle("R1.3", "(Meta)data meet domain-relevant community standards",
                  community, "" if community else
                  "valid DataCite fields and an ISO topic category or INSPIRE theme"),
    ]  # fmt: skip


def _rich(record: Record) -> list[str]:
    missing = []
    if not record.abstract:
        missing.append("an abstract")
    if not record.subjects:
        missing.append("keywords")
    if not (record.geo_locations or record.extras.spatial_extent):
        missing.append("a spatial extent")
    if not (record.extras.temporal_extent or any(d.date_type == "Collected" for d in record.dates)):
        missing.append("a temporal extent")
    if not any(c.name_identifiers for c in record.creators):
        missing.append("creators' ORCID or ROR ids")
    return missing


def score(principles: list[Principle]) -> tuple[int, int]:
    """How many principles are met, out of how many."""
    return sum(p.met for p in principles), len(principles)
