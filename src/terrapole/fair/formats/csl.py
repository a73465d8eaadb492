"""A record as CSL JSON (``type`` dataset), the input of citeproc processors and the
``application/vnd.citationstyles.csl+json`` answer of DOI content negotiation."""

from __future__ import annotations

from typing import Any

from terrapole.fair.formats.view import RecordView, family_given, is_person, issued

MEDIA_TYPE = "application/vnd.citationstyles.csl+json"


def item(view: RecordView) -> dict[str, Any]:
    """The CSL JSON item of the record."""
    record = view.record
    authors: list[dict[str, str]] = []
    for creator in record.creators:
        if is_person(creator):
            family, given = family_given(creator)
            authors.append({"family": family, "given": given} if given else {"family": family})
        else:
            authors.append({"literal": creator.name})
    found: dict[str, Any] = {
        "type": "dataset",
        "id": view.doi or view.url,
        "title": record.title,
        "author": authors,
        "URL": view.cite_as,
    }
    date = issued(record) or ""
    parts = [int(p) for p in date[:10].split("-") if p.isdigit()]
    if parts:
        found["issued"] = {"date-parts": [parts]}
    if view.doi:
        found["DOI"] = view.doi
    if record.publisher:
        found["publisher"] = record.publisher.name
    if record.version:
        found["version"] = record.version
    if record.abstract:
        found["abstract"] = record.abstract
    if record.language:
        found["language"] = record.language
    if record.subjects:
        found["keyword"] = ", ".join(s.subject for s in record.subjects)
    return found
