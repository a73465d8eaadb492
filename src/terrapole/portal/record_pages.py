"""The landing page of a record (``GET /records/{id}`` as HTML; :mod:`terrapole.web.records`
negotiates and calls :func:`landing_page`): title, creators with their ORCID, a citation in
several styles with a copy button, the DOI, description, files with sizes and checksums, a map
of the extent, licence, versions, related identifiers, usage counts, the schema.org JSON-LD
inline and the Signposting links in the head. A withdrawn record answers a tombstone
(:func:`tombstone_page`, 410): why it was withdrawn, its title and identifier, nothing more."""

from __future__ import annotations

from typing import Any, Protocol

from fastapi import Request
from fastapi.responses import HTMLResponse

from terrapole.fair.formats import RecordView, citation, schema_org
from terrapole.fair.formats.view import licences, orcid_of
from terrapole.fair.record_workflow import PUBLIC
from terrapole.fair.records import StoredRecord
from terrapole.portal.fair_strings import LANDING_STRINGS
from terrapole.portal.i18n import translate
from terrapole.portal.routes import _human, _lang, _page


class Signpost(Protocol):
    """A typed link of the page (``terrapole.web.records.Link``)."""

    href: str
    rel: str
    type: str | None


def _extent(view: RecordView) -> list[float] | None:
    """The record's box ``[west, south, east, north]`` for the map, if it has one."""
    record = view.record
    for location in record.geo_locations:
        if box := location.geo_location_box:
            return [box.west_bound_longitude, box.south_bound_latitude,
                    box.east_bound_longitude, box.north_bound_latitude]  # fmt: skip
    return list(record.extras.spatial_extent) if record.extras.spatial_extent else None


def _related_url(value: str, kind: str) -> str | None:
    if kind.upper() == "DOI":
        return value if value.startswith("http") else f"https://doi.org/{value}"
    return value if kind.upper() == "URL" else None


def landing_page(
    request: Request,
    stored: StoredRecord,
    view: RecordView,
    *,
    links: list[Any],
    counts: dict[str, int],
) -> HTMLResponse:
    """The human landing page of ``stored``."""
    record = view.record
    creators = [(c, orcid_of(c)) for c in record.creators]
    citations = [(key, label, citation.cite(view, key))
                 for key, (label, _) in citation.STYLES.items()]  # fmt: skip
    files = [{"n": n, "name": f.name, "size": _human(f.size), "checksum": f.checksum,
              "type": f.media_type} for n, f in enumerate(view.files)]  # fmt: skip
    related = [(r.relation_type, r.related_identifier, _related_url(r.related_identifier,
                r.related_identifier_type)) for r in record.related_identifiers]  # fmt: skip
    extent = record.extras.temporal_extent
    return _page(
        request, "record_landing.html", u=translate(LANDING_STRINGS, _lang(request)),
        stored=stored, view=view, record=record, creators=creators, citations=citations,
        files=files, related=related, licences=licences(record), box=_extent(view),
        period=(extent.start, extent.end or "…") if extent else None, counts=counts,
        jsonld=schema_org.dataset(view), signposts=links, public=stored.state in PUBLIC,
    )  # fmt: skip


def tombstone_page(request: Request, stored: StoredRecord, view: RecordView) -> HTMLResponse:
    """The page of a withdrawn record (410 Gone): the reason, its title and identifier; no
    description, files, metadata links or JSON-LD."""
    page = _page(
        request, "record_tombstone.html", u=translate(LANDING_STRINGS, _lang(request)),
        stored=stored, view=view, record=view.record,
    )  # fmt: skip
    page.status_code = 410
    return page
