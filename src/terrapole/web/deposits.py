"""The deposits JSON API: create, upload in chunks (tus-like, simple), list, describe, submit,
publish, new versions, and the previews (a CSV's table, a GeoTIFF's XYZ tiles).

Thin over :class:`terrapole.fair.deposits.Deposits`. An upload is ``POST
/deposits/{id}/uploads`` (name, size, sha256 and/or md5) then ``PUT
/deposits/{id}/uploads/{upload}`` with the chunk's bytes and its first byte's offset in the
``Upload-Offset`` header, ``GET`` of the upload to resume, ``POST .../complete``. A chunk's
body is read only once the caller and the upload are known, from the stream, and a chunk past
:data:`~terrapole.fair.deposits.MAX_CHUNK_BYTES` is answered 413 (with or without
``Content-Length``). A portal session may call it too: its writes carry the session's CSRF
token (``X-CSRF-Token``).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import rasterio
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from rio_tiler.expression import parse_expression
from starlette.datastructures import QueryParams
from titiler.core.factory import TilerFactory

from terrapole.access import Principal
from terrapole.access.policy import ANONYMOUS
from terrapole.errors import InvalidInput
from terrapole.fair.deposit_files import Table
from terrapole.fair.deposits import (
    MAX_CHUNK_BYTES,
    Access,
    Deposit,
    DepositFile,
    Deposits,
    Upload,
)
from terrapole.fair.identifiers import LocalIdentifiers
from terrapole.fair.model import Record
from terrapole.fair.records import RecordBook, StoredRecord
from terrapole.maps.tiles import AssetReader
from terrapole.web.form_parts import read_limited
from terrapole.web.services import WebServices
from terrapole.web.sessions import COOKIE, CSRF_HEADER, SAFE_METHODS, SessionStore, check_csrf
from terrapole.web.tiles import BoundedStatistics, HistogramOptions, post_process

MAP_PREFIX = "/deposits/{deposit_id}/files/{name}/map"


def deposits_of(services: WebServices) -> Deposits:
    """The deposits over the services' database and storage (the record book of the
    services when it has one, else one on the same database with local identifiers)."""
    book = getattr(services, "records", None)
    if not isinstance(book, RecordBook):
        settings = services.settings
        base = settings.public_url or f"http://{settings.host}:{settings.port}"
        book = RecordBook(services.access.engine, identifiers=LocalIdentifiers(), base_url=base)
    limit = services.settings.deposit_max_file_bytes
    return Deposits(book, services.storage, services.access, max_file_bytes=limit)


def caller(services: WebServices, request: Request) -> Principal:
    """Who asks: a token's principal, or a portal session's (its writes need the CSRF token)."""
    if request.headers.get("authorization") or request.method in SAFE_METHODS:
        return services.principal(request)
    secret = request.cookies.get(COOKIE)
    session = SessionStore(services.access.engine).get(secret) if secret else None
    if session is None:
        return ANONYMOUS
    check_csrf(session, request.headers.get(CSRF_HEADER))
    return services.principal_of_session(session) or ANONYMOUS


def file_json(deposit_id: str, found: DepositFile) -> dict[str, Any]:
    """A file as the API shows it, with its links."""
    base = f"/deposits/{deposit_id}/files/{found.name}"
    links = {"download": base}
    if found.format.startswith("image/tiff; application=geotiff"):
        links["tilejson"] = f"{base}/map/WebMercatorQuad/tilejson.json"
    if found.format in ("text/csv", "text/tab-separated-values"):
        links["table"] = f"{base}/table"
    return {"name": found.name, "size": found.size, "sha256": found.sha256, "md5": found.md5,
            "format": found.format, "added": found.added.isoformat(), "links": links}  # fmt: skip


def deposit_json(deposit: Deposit) -> dict[str, Any]:
    """A deposit as the API shows it."""
    return {
        "id": deposit.id, "title": deposit.title, "owner": deposit.owner,
        "state": deposit.state.value, "version": deposit.version_no,
        "concept_id": deposit.concept_id, "previous_id": deposit.previous_id,
        "access": {"mode": deposit.access.mode.value,
                   "until": deposit.access.until.isoformat() if deposit.access.until else None,
                   "groups": list(deposit.access.groups)},
        "record_id": deposit.record_id, "record": f"/records/{deposit.record_id}",
        "created": deposit.created.isoformat(), "updated": deposit.updated.isoformat(),
        "published": deposit.published.isoformat() if deposit.published else None,
        "withdrawn_reason": deposit.withdrawn_reason,
        "files": [file_json(deposit.id, f) for f in deposit.files],
    }  # fmt: skip


def upload_json(upload: Upload) -> dict[str, Any]:
    """An upload: where to send the next chunk."""
    return {"id": upload.id, "name": upload.name, "size": upload.size,
            "received": upload.received, "offset": upload.received,
            "url": f"/deposits/{upload.deposit_id}/uploads/{upload.id}"}  # fmt: skip


def record_json(stored: StoredRecord) -> dict[str, Any]:
    """The record's workflow state and identifier."""
    return {"id": stored.id, "state": stored.state.value, "identifier": stored.identifier,
            "title": stored.record.title}  # fmt: skip


def table_json(table: Table) -> dict[str, Any]:
    """A CSV preview: typed columns, rows, whether rows were left out."""
    return {"columns": [asdict(c) for c in table.columns], "rows": [list(r) for r in table.rows],
            "delimiter": table.delimiter, "more": table.more}  # fmt: skip


class NewDeposit(BaseModel):
    """A deposit to create."""

    title: str = Field(min_length=1, max_length=2000)
    access: str = "open"
    embargo_until: date | None = None
    groups: list[str] = Field(default_factory=list, max_length=50)

    def access_of(self) -> Access:
        """The access asked, checked."""
        return Access.of(self.access, self.embargo_until, self.groups)


class AccessChange(BaseModel):
    """A draft's new access."""

    access: str
    embargo_until: date | None = None
    groups: list[str] = Field(default_factory=list, max_length=50)


class NewUpload(BaseModel):
    """A file to send: its name, size and checksums (SHA-256 and/or MD5)."""

    name: str = Field(min_length=1, max_length=1000)
    size: int = Field(ge=1)
    sha256: str | None = None
    md5: str | None = None


def router(services: WebServices) -> APIRouter:  # noqa: C901 - one closure per route
    """The ``/deposits`` endpoints and the map tiles of deposited GeoTIFFs."""
    api = APIRouter(tags=["deposits"])
    deposits = deposits_of(services)

    def who(request: Request) -> Principal:
        return caller(services, request)

    @api.post("/deposits", status_code=201, summary="Create a draft deposit")
    def create(request: Request, body: NewDeposit) -> dict[str, Any]:
        return deposit_json(deposits.create(who(request), body.title, body.access_of()))

    @api.get("/deposits", summary="The caller's deposits, or (mine=false) the published ones")
    def listing(
        request: Request,
        mine: bool = True,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    ) -> Any:
        found = deposits.find(who(request), mine=mine, limit=limit, offset=offset)
        return {"deposits": [deposit_json(d) for d in found]}

    @api.get("/deposits/{deposit_id}", summary="A deposit (drafts: owner and curators)")
    def one(request: Request, deposit_id: str) -> dict[str, Any]:
        return deposit_json(deposits.get(who(request), deposit_id))

    @api.put("/deposits/{deposit_id}/access", summary="Change a draft's access")
    def set_access(request: Request, deposit_id: str, body: AccessChange) -> dict[str, Any]:
        access = Access.of(body.access, body.embargo_until, body.groups)
        return deposit_json(deposits.set_access(who(request), deposit_id, access))

    @api.post("/deposits/{deposit_id}/uploads", status_code=201, summary="Start an upload")
    def start(request: Request, deposit_id: str, body: NewUpload) -> dict[str, Any]:
        upload = deposits.start_upload(
            who(request), deposit_id, body.name, body.size, sha256=body.sha256, md5=body.md5
        )
        return upload_json(upload)

    @api.get("/deposits/{deposit_id}/uploads/{upload_id}", summary="An upload: where to resume")
    def progress(request: Request, deposit_id: str, upload_id: str) -> dict[str, Any]:
        return upload_json(_upload_of(deposits.upload(who(request), upload_id), deposit_id))

    @api.put("/deposits/{deposit_id}/uploads/{upload_id}", summary="Send a chunk")
    async def chunk(
        request: Request,
        deposit_id: str,
        upload_id: str,
        upload_offset: Annotated[int, Header(ge=0)],
    ) -> dict[str, Any]:
        # who asks and for which upload first: a stranger's body is never read
        principal = who(request)
        _upload_of(deposits.upload(principal, upload_id), deposit_id)
        declared = request.headers.get("content-length")
        data = await read_limited(request.stream(), declared, MAX_CHUNK_BYTES)
        return upload_json(deposits.put_chunk(principal, upload_id, upload_offset, data))

    @api.post("/deposits/{deposit_id}/uploads/{upload_id}/complete", status_code=201,
              summary="Verify the checksums and add the file")  # fmt: skip
    def complete(request: Request, deposit_id: str, upload_id: str) -> dict[str, Any]:
        principal = who(request)
        _upload_of(deposits.upload(principal, upload_id), deposit_id)
        return file_json(deposit_id, deposits.complete(principal, upload_id))

    @api.delete("/deposits/{deposit_id}/uploads/{upload_id}", status_code=204)
    def cancel(request: Request, deposit_id: str, upload_id: str) -> None:
        principal = who(request)
        _upload_of(deposits.upload(principal, upload_id), deposit_id)
        deposits.cancel_upload(principal, upload_id)

    @api.get("/deposits/{deposit_id}/files/{name}", summary="Download a file")
    def download(request: Request, deposit_id: str, name: str) -> FileResponse:
        principal = who(request)
        found = deposits.readable_file(principal, deposit_id, name)
        path = deposits.local_file(principal, deposit_id, name)
        return FileResponse(path, media_type=found.format.split(";")[0], filename=found.name,
                            headers={"Digest": f"sha-256={found.sha256}"})  # fmt: skip

    @api.delete("/deposits/{deposit_id}/files/{name}", status_code=204)
    def delete(request: Request, deposit_id: str, name: str) -> None:
        deposits.delete_file(who(request), deposit_id, name)

    @api.get("/deposits/{deposit_id}/files/{name}/table", summary="A CSV's first 200 rows")
    def table(request: Request, deposit_id: str, name: str) -> dict[str, Any]:
        return table_json(deposits.table(who(request), deposit_id, name))

    @api.put("/deposits/{deposit_id}/record", summary="Describe the draft (record JSON)")
    def describe(request: Request, deposit_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return record_json(deposits.describe(who(request), deposit_id, Record.from_json(body)))

    @api.post("/deposits/{deposit_id}/submit", summary="Send the record to the curators")
    def submit(request: Request, deposit_id: str) -> dict[str, Any]:
        return record_json(deposits.submit(who(request), deposit_id))

    @api.post("/deposits/{deposit_id}/publish", summary="Publish (the record is approved)")
    def publish(request: Request, deposit_id: str) -> dict[str, Any]:
        return deposit_json(deposits.publish(who(request), deposit_id))

    @api.post("/deposits/{deposit_id}/versions", status_code=201, summary="Open a new version")
    def new_version(request: Request, deposit_id: str) -> dict[str, Any]:
        return deposit_json(deposits.new_version(who(request), deposit_id))

    def map_file(deposit_id: str, name: str, request: Request) -> str:
        path = deposits.map_source(who(request), deposit_id, name)
        check_bands(path, request.query_params)
        return str(path)

    tiles = TilerFactory(
        reader=AssetReader, path_dependency=map_file, router_prefix=MAP_PREFIX,
        add_viewer=False, add_part=False, add_ogc_maps=False,
        # the item maps' checked parameters: bad bins, percentiles, algorithm options are 400s
        process_dependency=post_process, stats_dependency=BoundedStatistics,
        histogram_dependency=HistogramOptions,
    )  # fmt: skip
    api.include_router(tiles.router, prefix=MAP_PREFIX, tags=["deposits"])
    return api


def check_bands(path: Path, query: QueryParams) -> None:
    """Refuse an ``expression`` or ``bidx`` naming a band the file lacks (rio-tiler would fail
    with an IndexError, a 500) or a band name that is not ``b<number>``."""
    wanted: list[int] = []
    expression = query.get("expression")
    if expression:
        try:
            wanted.extend(parse_expression(expression))
        except ValueError:
            raise InvalidInput(
                "expression", f"{expression[:80]!r}: bands are named b1, b2, ..."
            ) from None
    wanted.extend(int(v) for v in query.getlist("bidx") if v.strip().lstrip("-").isdigit())
    if not wanted:
        return
    with rasterio.open(path) as src:
        count = src.count
    missing = sorted({band for band in wanted if not 1 <= band <= count})
    if missing:
        raise InvalidInput(
            "bands", f"{', '.join(map(str, missing))}: the file has bands 1 to {count}"
        )


def _upload_of(upload: Upload, deposit_id: str) -> Upload:
    if upload.deposit_id != deposit_id:
        raise InvalidInput("upload", f"{upload.id} is not an upload of deposit {deposit_id}")
    return upload
