"""The landing page of a record, the target URL of its DOI: ``GET /records/{id}`` answers the
format the ``Accept`` header asks (or ``?format=``): the human page, DataCite XML or JSON,
schema.org JSON-LD, DCAT Turtle, BibTeX, RIS, CSL JSON, or the API's JSON; 406 listing them
when none matches. FAIR Signposting: ``Link`` headers (cite-as, describedby, item, license,
author, type, linkset) on the page, ``GET /records/{id}/linkset`` (RFC 9264 JSON), and each
file through ``GET /records/{id}/files/{n}`` (a redirect carrying collection/cite-as links).
``GET /records/{id}/versions`` lists the published versions; ``GET
/records/concepts/{concept_id}`` leads to the newest.

Reading goes through the record book: drafts are 404 to everyone but their owner and the
curators; a collection's files follow the catalogue's access rules for the caller.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from terrapole.errors import InvalidInput, NotFound
from terrapole.fair import datacite
from terrapole.fair.deposits import Deposits
from terrapole.fair.formats import (
    DataFile,
    RecordView,
    VersionRef,
    bibtex,
    csl,
    dcat_record,
    ris,
    schema_org,
)
from terrapole.fair.formats.view import licences, orcid_of
from terrapole.fair.model import AlternateIdentifier, SourceKind
from terrapole.fair.record_workflow import RecordState
from terrapole.fair.records import StoredRecord
from terrapole.portal import record_pages
from terrapole.web.deposits import deposits_of
from terrapole.web.records_api import stored_json
from terrapole.web.services import WebServices

HTML = "text/html"
LINKSET = "application/linkset+json"
SCHEMA_TYPES = ("https://schema.org/Dataset", "https://schema.org/AboutPage")


@dataclass(frozen=True)
class Format:
    """One answer of the negotiation: its media type and how to write it."""

    media_type: str
    write: Callable[[RecordView, StoredRecord], str | bytes]
    metadata: bool = True  # a description of the record (Signposting ``describedby``)


def _datacite_record(view: RecordView) -> Any:
    """The record as DataCite sees it; without a DOI, the landing page is an alternate id."""
    record = view.record
    if record.doi is None:
        link = AlternateIdentifier(view.url, "URL")
        if link not in record.alternate_identifiers:
            record = replace(record, alternate_identifiers=(*record.alternate_identifiers, link))
    return record


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


FORMATS: dict[str, Format] = {
    "html": Format(HTML, lambda v, s: "", metadata=False),
    "datacite-xml": Format(
        "application/vnd.datacite.datacite+xml",
        lambda v, s: datacite.to_xml(v.record, landing=v.url),
    ),
    "datacite-json": Format(
        "application/vnd.datacite.datacite+json",
        lambda v, s: _json(datacite.checked_json(_datacite_record(v))),
    ),
    "jsonld": Format(schema_org.MEDIA_TYPE, lambda v, s: _json(schema_org.dataset(v))),
    "turtle": Format(dcat_record.MEDIA_TYPE, lambda v, s: dcat_record.turtle(v)),
    "bibtex": Format(bibtex.MEDIA_TYPE, lambda v, s: bibtex.entry(v)),
    "ris": Format(ris.MEDIA_TYPE, lambda v, s: ris.reference(v)),
    "csl": Format(csl.MEDIA_TYPE, lambda v, s: _json(csl.item(v))),
    "json": Format("application/json", lambda v, s: "", metadata=False),  # the API's view
}
"""``?format=`` key → format, in the order the 406 answer lists them."""


def negotiate(accept: str | None) -> str | None:
    """The key of the format ``accept`` prefers (highest q, then the header's order; ``*/*``
    and no header: the page); None when it accepts none of them. A type given ``q=0`` is
    refused: a wildcard does not bring it back."""
    if not accept or not accept.strip():
        return "html"
    ranked: list[tuple[float, int, str]] = []
    refused: set[str] = set()
    for n, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and media:
            ranked.append((-quality, n, media.lower()))
        elif media:
            refused.add(media.lower())
    for _, _, media in sorted(ranked):
        for key, found in FORMATS.items():
            kind = found.media_type.split("/")[0]
            if found.media_type not in refused and media in (
                found.media_type,
                f"{kind}/*",
                "*/*",
            ):
                return key
    return None


def files_of(
    services: WebServices, request: Request, stored: StoredRecord, deposits: Deposits
) -> list[DataFile]:
    """The files of the record's source: a deposit's files (downloads go through the deposit's
    access rules: embargo, restriction), or the own assets of a collection the caller may read
    (what its owner attached: documentation, a whole-archive download...)."""
    source = stored.record.extras.source
    root = str(request.base_url)
    if source is not None and source.kind is SourceKind.DEPOSIT:
        try:
            deposit = deposits.get(services.principal(request), source.id)
        except NotFound:
            return []
        return [
            DataFile(f.name, f"{root}deposits/{deposit.id}/files/{quote(f.name)}", f.size,
                     f"sha256:{f.sha256}", f.format)
            for f in deposit.files
        ]  # fmt: skip
    if source is None or source.kind is not SourceKind.COLLECTION:
        return []
    try:
        collection = services.store.get_collection(source.id, hidden=services.hidden(request))
    except NotFound:  # gone, or not for this caller: nothing to list
        return []
    assets = sorted((collection.get("assets") or {}).items())
    return [_asset_file(name, a) for name, a in assets if isinstance(a.get("href"), str)]


def _asset_file(name: str, asset: dict[str, Any]) -> DataFile:
    size = asset.get("file:size")
    checksum = asset.get("file:checksum")
    kind = asset.get("type")
    return DataFile(
        name=str(asset.get("title") or name),
        url=asset["href"],
        size=size if isinstance(size, int) else None,
        checksum=_checksum(checksum) if isinstance(checksum, str) else None,
        media_type=kind if isinstance(kind, str) else None,
    )


def _checksum(multihash: str) -> str | None:
    """A STAC ``file:checksum`` (hex multihash) as ``sha256:<hex>`` / ``md5:<hex>``."""
    codes = {"1220": "sha256", "d50110": "md5", "1340": "sha512"}
    for code, name in codes.items():
        if multihash.startswith(code):
            return f"{name}:{multihash[len(code) :]}"
    return None


def view_of(
    services: WebServices, request: Request, stored: StoredRecord, deposits: Deposits
) -> RecordView:
    """The record as its page and exports show it, with links from this request's root."""
    root = str(request.base_url)
    url = f"{root}records/{stored.id}"
    versions = services.records.versions(services.principal(request), stored.id)
    refs = tuple(
        VersionRef(
            url=f"{root}records/{v.id}",
            version=v.record.version or str(v.version_no),
            identifier=v.identifier,
            published=v.published.date().isoformat() if v.published else None,
            current=v.id == stored.id,
            newest=n == len(versions) - 1,
        )
        for n, v in enumerate(versions)
    )
    return RecordView(
        record=stored.record,
        url=url,
        identifier=stored.identifier,
        files=tuple(files_of(services, request, stored, deposits)),
        versions=refs,
        catalog_url=root,
        catalog_name=services.settings.public_url or "terrapole",
        withdrawn_reason=stored.withdrawn_reason,
    )


@dataclass(frozen=True)
class Link:
    """One typed link (RFC 8288): target, relation, media type."""

    href: str
    rel: str
    type: str | None = None

    def header(self) -> str:
        """The link as a ``Link`` header value."""
        kind = f'; type="{self.type}"' if self.type else ""
        return f'<{self.href}>; rel="{self.rel}"{kind}'


def file_url(view: RecordView, n: int) -> str:
    """The address of the record's ``n``-th file through the landing page (with signposts)."""
    return f"{view.url}/files/{n}"


def signposts(view: RecordView) -> list[Link]:
    """The FAIR Signposting links of the landing page (level 1 and the linkset); of a
    withdrawn record's tombstone, only how to cite it."""
    links = [Link(view.cite_as, "cite-as")]
    if view.withdrawn_reason is not None:
        return links
    links += [
        Link(f"{view.url}?format={key}", "describedby", found.media_type)
        for key, found in FORMATS.items()
        if found.metadata
    ]
    links += [
        Link(file_url(view, n), "item", data.media_type or "application/octet-stream")
        for n, data in enumerate(view.files)
    ]
    links += [Link(url, "license") for _, url in licences(view.record) if url]
    links += [Link(orcid, "author") for c in view.record.creators if (orcid := orcid_of(c))]
    links += [Link(kind, "type") for kind in SCHEMA_TYPES]
    links.append(Link(f"{view.url}/linkset", "linkset", LINKSET))
    return links


def linkset(view: RecordView) -> dict[str, Any]:
    """The Signposting linkset (RFC 9264 JSON): the page's links, each file's way back to the
    record, and each metadata document's subject."""
    page: dict[str, Any] = {"anchor": view.url}
    for link in signposts(view):
        if link.rel == "linkset":
            continue
        target = {"href": link.href, **({"type": link.type} if link.type else {})}
        page.setdefault(link.rel, []).append(target)
    anchors = [page]
    for n in range(len(view.files)):
        anchors.append({"anchor": file_url(view, n),
                        "collection": [{"href": view.url, "type": HTML}],
                        "cite-as": [{"href": view.cite_as}]})  # fmt: skip
    for link in signposts(view):
        if link.rel == "describedby":
            anchors.append({"anchor": link.href, "describes": [{"href": view.url, "type": HTML}]})
    return {"linkset": anchors}


def _headers(links: list[Link]) -> dict[str, str]:
    return {"Link": ", ".join(link.header() for link in links), "Vary": "Accept"}


def router(services: WebServices) -> APIRouter:
    """The landing routes over ``services.records``."""
    api = APIRouter(tags=["fair"])
    book = services.records
    deposits = deposits_of(services)
    views: Counter[str] = Counter()  # landing page views since the server started
    downloads: Counter[str] = Counter()

    @api.get("/records/concepts/{concept_id}", summary="The newest published version of a resource")
    def concept(concept_id: str, request: Request) -> RedirectResponse:
        # a concept's id is its first version's id
        newest = _newest(concept_id, book.versions(services.principal(request), concept_id))
        return RedirectResponse(f"{request.base_url}records/{newest.id}", status_code=303)

    @api.get(
        "/records/{record_id}",
        summary="A record's landing page, or its metadata in the format Accept asks",
        responses={406: {"description": "none of the formats asked for"}},
    )
    def landing(
        record_id: str,
        request: Request,
        format: Annotated[str | None, Query(description=", ".join(FORMATS))] = None,
    ) -> Response:
        stored = book.get(services.principal(request), record_id)
        if format is not None and format not in FORMATS:
            raise InvalidInput("format", f"{format!r} is none of {', '.join(FORMATS)}")
        key = format or negotiate(request.headers.get("accept"))
        if key is None:
            listed = ", ".join(f.media_type for f in FORMATS.values())
            return Response(
                f"406 Not Acceptable: this record is served as {listed}\n",
                status_code=406,
                media_type="text/plain",
                headers={"Vary": "Accept"},
            )
        view = view_of(services, request, stored, deposits)
        if stored.state is RecordState.WITHDRAWN:
            return _tombstone(request, stored, view, key)
        links = signposts(view)
        if key == "html":
            views[stored.id] += 1
            counts = {"views": views[stored.id], "downloads": downloads[stored.id]}
            page = record_pages.landing_page(request, stored, view, links=links, counts=counts)
            page.headers.update(_headers(links))
            return page
        chosen = FORMATS[key]
        if key == "json":
            body: str | bytes = _json(stored_json(book, stored))
        else:
            body = chosen.write(view, stored)
        return Response(body, media_type=chosen.media_type, headers=_headers(links))

    @api.get("/records/{record_id}/linkset", summary="The record's Signposting linkset")
    def record_linkset(record_id: str, request: Request) -> Response:
        stored = book.get(services.principal(request), record_id)
        view = view_of(services, request, stored, deposits)
        return Response(_json(linkset(view)), media_type=LINKSET)

    @api.get("/records/{record_id}/versions", summary="The published versions, oldest first")
    def versions(record_id: str, request: Request) -> dict[str, Any]:
        stored = book.get(services.principal(request), record_id)
        view = view_of(services, request, stored, deposits)
        return {"versions": [v.__dict__ for v in view.versions]}

    @api.get("/records/{record_id}/files/{n}", summary="A file of the record (a redirect)")
    def record_file(record_id: str, n: int, request: Request) -> RedirectResponse:
        stored = book.get(services.principal(request), record_id)
        view = view_of(services, request, stored, deposits)
        if not 0 <= n < len(view.files):
            raise NotFound("file", f"{record_id}/{n}")
        downloads[stored.id] += 1
        links = [Link(view.url, "collection", HTML), Link(view.cite_as, "cite-as")]
        return RedirectResponse(view.files[n].url, status_code=303, headers=_headers(links))

    return api


def _tombstone(request: Request, stored: StoredRecord, view: RecordView, key: str) -> Response:
    """What a withdrawn record answers (410 Gone): the page says why it was withdrawn and keeps
    only what names it (title, identifier, cite-as); every other format is the reason alone,
    no metadata, files or signposts to them."""
    links = signposts(view)
    if key == "html":
        page = record_pages.tombstone_page(request, stored, view)
        page.headers.update(_headers(links))
        return page
    said = f"410 Gone: record {stored.id} was withdrawn: {stored.withdrawn_reason or ''}\n"
    return Response(said, status_code=410, media_type="text/plain", headers=_headers(links))


def _newest(concept_id: str, versions: list[StoredRecord]) -> StoredRecord:
    """The newest published version; the newest tombstone when every one is withdrawn. A
    concept with no public version is as unknown as any other id."""
    if not versions:
        raise NotFound("record", concept_id)
    published = [v for v in versions if v.state is RecordState.PUBLISHED]
    return (published or versions)[-1]
