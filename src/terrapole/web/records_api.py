"""The metadata records' workflow as JSON (:class:`terrapole.fair.records.RecordBook` does the
work and decides who may do what: owners draft and submit, curators review and publish).

``GET /records`` (``state``, ``owner``, ``q``, ``limit``, ``offset``), ``POST /records`` (a
draft: the record's JSON, DataCite camelCase plus ``extras``), ``PUT /records/{id}`` (replace
a draft), ``POST /records/{id}/submit|approve|request-changes|publish|withdraw``,
``GET|POST /records/{id}/comments``, ``GET /records/{id}/history``, ``POST
/records/{id}/versions`` (a draft of the next version). One record reads at ``GET
/records/{id}`` with ``Accept: application/json`` (:mod:`terrapole.web.records` negotiates).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, Field

from terrapole.fair.model import Record
from terrapole.fair.record_workflow import RecordState
from terrapole.fair.records import Comment, Move, RecordBook, StoredRecord
from terrapole.web.services import WebServices

RecordBody = Annotated[
    dict[str, Any],
    Body(description="the record: DataCite 4.5 JSON properties (camelCase) plus `extras`"),
]


class CommentBody(BaseModel):
    """A review comment, optionally about one field (its DataCite JSON path)."""

    text: str = Field(min_length=1, max_length=10_000)
    field: str | None = Field(default=None, max_length=300)


class NoteBody(BaseModel):
    """What a curator says when approving or sending back."""

    note: str = Field(default="", max_length=10_000)


class ReasonBody(BaseModel):
    """Why a published record is withdrawn."""

    reason: str = Field(min_length=1, max_length=10_000)


def stored_json(book: RecordBook, stored: StoredRecord) -> dict[str, Any]:
    """A record as the API shows it: where it is in the workflow, its metadata and its links."""
    landing = f"{book.base_url}/records/{stored.id}"
    return {
        "id": stored.id,
        "conceptId": stored.concept_id,
        "versionNo": stored.version_no,
        "state": stored.state.value,
        "owner": stored.owner,
        "identifier": stored.identifier,
        "previousId": stored.previous_id,
        "created": stored.created.isoformat(),
        "updated": stored.updated.isoformat(),
        "published": stored.published.isoformat() if stored.published else None,
        "withdrawnReason": stored.withdrawn_reason,
        "record": stored.record.to_json(),
        "links": {"landing": landing, "concept": book.concept_url(stored)},
    }


def _comment_json(comment: Comment) -> dict[str, Any]:
    return {
        "author": comment.author,
        "text": comment.text,
        "field": comment.field,
        "at": comment.at.isoformat(),
    }


def _move_json(move: Move) -> dict[str, Any]:
    return {
        "from": move.start.value if move.start else None,
        "to": move.finish.value,
        "actor": move.actor,
        "note": move.note,
        "at": move.at.isoformat(),
    }


def router(services: WebServices) -> APIRouter:
    """The workflow routes over ``services.records``."""
    api = APIRouter(tags=["fair"])
    _drafting(api, services)
    _reviewing(api, services)
    return api


def _drafting(api: APIRouter, services: WebServices) -> None:
    """Listing, drafts, comments, history and new versions."""
    book = services.records

    def shown(stored: StoredRecord) -> dict[str, Any]:
        return stored_json(book, stored)

    @api.get("/records", summary="Records the caller may read, newest change first")
    def list_records(
        request: Request,
        state: RecordState | None = None,
        owner: Annotated[str | None, Query(max_length=300)] = None,
        q: Annotated[str | None, Query(max_length=300)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    ) -> dict[str, Any]:
        found = book.find(
            services.principal(request),
            state=state,
            owner=owner,
            text=q,
            limit=limit,
            offset=offset,
        )
        return {"records": [shown(s) for s in found]}

    @api.post("/records", status_code=201, summary="A new draft owned by the caller")
    def create(body: RecordBody, request: Request) -> dict[str, Any]:
        return shown(book.create(services.principal(request), Record.from_json(body)))

    @api.put("/records/{record_id}", summary="Replace a draft's metadata (owner or curator)")
    def update(record_id: str, body: RecordBody, request: Request) -> dict[str, Any]:
        record = Record.from_json(body)
        return shown(book.update(services.principal(request), record_id, record))

    @api.post(
        "/records/{record_id}/versions",
        status_code=201,
        summary="A draft of the next version of a published record",
    )
    def new_version(record_id: str, request: Request) -> dict[str, Any]:
        return shown(book.new_version(services.principal(request), record_id))

    @api.get("/records/{record_id}/comments", summary="Review comments (owner and curators)")
    def comments(record_id: str, request: Request) -> dict[str, Any]:
        found = book.comments(services.principal(request), record_id)
        return {"comments": [_comment_json(c) for c in found]}

    @api.post("/records/{record_id}/comments", status_code=201, summary="Add a review comment")
    def comment(record_id: str, body: CommentBody, request: Request) -> dict[str, Any]:
        principal = services.principal(request)
        said = book.comment(principal, record_id, body.text, field=body.field)
        return _comment_json(said)

    @api.get("/records/{record_id}/history", summary="The moves, oldest first (owner, curators)")
    def history(record_id: str, request: Request) -> dict[str, Any]:
        moves = book.history(services.principal(request), record_id)
        return {"history": [_move_json(m) for m in moves]}


def _reviewing(api: APIRouter, services: WebServices) -> None:
    """The workflow's moves: submit, approve, send back, publish, withdraw."""
    book = services.records

    def shown(stored: StoredRecord) -> dict[str, Any]:
        return stored_json(book, stored)

    @api.post("/records/{record_id}/submit", summary="Send a draft to the curators")
    def submit(record_id: str, request: Request) -> dict[str, Any]:
        return shown(book.submit(services.principal(request), record_id))

    @api.post("/records/{record_id}/approve", summary="Approve a submitted record (curators)")
    def approve(record_id: str, request: Request, body: NoteBody | None = None) -> dict[str, Any]:
        note = body.note if body else ""
        return shown(book.approve(services.principal(request), record_id, note))

    @api.post(
        "/records/{record_id}/request-changes",
        summary="Send a submitted or approved record back to draft, saying why (curators)",
    )
    def request_changes(record_id: str, body: NoteBody, request: Request) -> dict[str, Any]:
        principal = services.principal(request)
        return shown(book.request_changes(principal, record_id, body.note))

    @api.post("/records/{record_id}/publish", summary="Publish an approved record")
    def publish(record_id: str, request: Request) -> dict[str, Any]:
        return shown(book.publish(services.principal(request), record_id))

    @api.post("/records/{record_id}/withdraw", summary="Withdraw a published record (curators)")
    def withdraw(record_id: str, body: ReasonBody, request: Request) -> dict[str, Any]:
        return shown(book.withdraw(services.principal(request), record_id, body.reason))
