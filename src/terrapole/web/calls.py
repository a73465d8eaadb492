"""The calls for projects' JSON API (:mod:`terrapole.fair.calls`).

``GET /calls``, ``GET /calls/{id}``, ``POST /calls`` (admins); ``POST /calls/{id}/applications``
(a signed-in account drafts), ``GET /applications`` (the caller's: all for admins),
``GET|PUT /applications/{id}`` (read; the applicant edits a draft), ``POST
/applications/{id}/{verb}`` to move it (submit, withdraw, review, accept, reject,
needs_changes), ``POST /applications/{id}/reviewers`` (admins assign), ``POST
/applications/{id}/review`` (a reviewer scores), ``GET /applications/{id}/reviews`` and
``GET /calls/{id}/export.csv`` (the committee's table, admins).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from terrapole.errors import NotFound
from terrapole.fair.call_workflow import State
from terrapole.fair.calls import RESOURCES, Application, Call, CallBook, ProjectType, Proposal
from terrapole.web.account_auth import json_of
from terrapole.web.services import WebServices

MOVES: dict[str, State] = {
    "submit": State.SUBMITTED,
    "withdraw": State.WITHDRAWN,
    "start_review": State.UNDER_REVIEW,
    "accept": State.ACCEPTED,
    "reject": State.REJECTED,
    "needs_changes": State.NEEDS_CHANGES,
}
"""The path's verb → the state it moves an application to."""


class CallBody(BaseModel):
    """A new call: no ``closes``: open continuously."""

    id: str = Field(max_length=64)
    title: str = Field(max_length=300)
    year: int
    types: list[ProjectType] = Field(min_length=1)
    opens: date
    closes: date | None = None
    description: str = Field(default="", max_length=20_000)


class ProposalBody(BaseModel):
    """An application's fields; ``resources``: amounts by name (storage_tb, cpu_hours,
    gpu_hours, person_months, campaign_days)."""

    project: str = Field(max_length=300)
    ces_id: str = Field(max_length=64)
    type: ProjectType
    description: str = Field(default="", max_length=20_000)
    resources: dict[str, float] = Field(default_factory=dict, max_length=len(RESOURCES))

    def proposal(self) -> Proposal:
        """As the core's fields."""
        return Proposal(self.project, self.ces_id, self.type, self.description, self.resources)


class MoveBody(BaseModel):
    """A note kept in the application's history."""

    note: str = Field(default="", max_length=2000)


class ReviewerBody(BaseModel):
    """The account id of the reviewer to assign."""

    reviewer: str = Field(max_length=64)


class ReviewBody(BaseModel):
    """A reviewer's score (1–5) and comment."""

    score: int = Field(strict=True)
    comment: str = Field(default="", max_length=20_000)


def call_book(services: WebServices) -> CallBook:
    """The calls on the project database."""
    return CallBook(services.access.engine)


def call_json(call: Call) -> dict[str, Any]:
    """A call as the API shows it."""
    return json_of(call)


def application_json(book: CallBook, services: WebServices, request: Request,
                     application: Application) -> dict[str, Any]:  # fmt: skip
    """An application with its history, as its reader sees it."""
    principal = services.principal(request)
    return {
        **json_of(application),
        "history": [json_of(s) for s in book.history(principal, application.id)],
    }


def router(services: WebServices) -> APIRouter:
    """The calls' routes."""
    api = APIRouter(tags=["fair"])
    book = call_book(services)

    @api.get("/calls", summary="The calls for projects")
    def list_calls() -> dict[str, Any]:
        return {"calls": [call_json(c) for c in book.calls()]}

    @api.get("/calls/{call_id}", summary="One call")
    def show_call(call_id: str) -> dict[str, Any]:
        return call_json(book.call(call_id))

    @api.post("/calls", status_code=201, summary="Open a call (admins)")
    def create_call(body: CallBody, request: Request) -> dict[str, Any]:
        call = Call(body.id, body.title, body.year, tuple(body.types), body.opens, body.closes,
                    body.description)  # fmt: skip
        return call_json(book.create_call(services.principal(request), call))

    @api.get("/calls/{call_id}/export.csv", summary="The committee's table (admins)")
    def export(call_id: str, request: Request) -> Response:
        text = book.export_csv(services.principal(request), call_id)
        disposition = f'attachment; filename="{call_id}-applications.csv"'
        return Response(text, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": disposition})  # fmt: skip

    _application_routes(api, services, book)
    return api


def _application_routes(api: APIRouter, services: WebServices, book: CallBook) -> None:
    """Drafting, reading, editing, reviewing and moving applications."""

    def shown(request: Request, application: Application) -> dict[str, Any]:
        return application_json(book, services, request, application)

    @api.post("/calls/{call_id}/applications", status_code=201, summary="Draft an application")
    def draft(call_id: str, body: ProposalBody, request: Request) -> dict[str, Any]:
        made = book.draft(services.principal(request), call_id, body.proposal())
        return shown(request, made)

    @api.get("/applications", summary="The applications the caller may read")
    def list_applications(
        request: Request, call: str = "", state: State | None = None
    ) -> dict[str, Any]:
        found = book.find(services.principal(request), call_id=call or None, state=state)
        return {"applications": [json_of(a) for a in found]}

    @api.get("/applications/{application_id}", summary="An application and its history")
    def show(application_id: str, request: Request) -> dict[str, Any]:
        return shown(request, book.get(services.principal(request), application_id))

    @api.put("/applications/{application_id}", summary="Change a draft (its applicant)")
    def edit(application_id: str, body: ProposalBody, request: Request) -> dict[str, Any]:
        changed = book.edit(services.principal(request), application_id, body.proposal())
        return shown(request, changed)

    @api.post("/applications/{application_id}/reviewers", status_code=201,
              summary="Assign a reviewer (admins)")  # fmt: skip
    def assign(application_id: str, body: ReviewerBody, request: Request) -> dict[str, Any]:
        return json_of(book.assign(services.principal(request), application_id, body.reviewer))

    @api.post("/applications/{application_id}/review", summary="Score it (its reviewers)")
    def review(application_id: str, body: ReviewBody, request: Request) -> dict[str, Any]:
        principal = services.principal(request)
        return json_of(book.review(principal, application_id, body.score, body.comment))

    @api.get("/applications/{application_id}/reviews", summary="Its reviews (committee)")
    def reviews(application_id: str, request: Request) -> dict[str, Any]:
        found = book.reviews(services.principal(request), application_id)
        return {"reviews": [json_of(r) for r in found]}

    @api.post("/applications/{application_id}/{verb}", summary="Move it through the workflow")
    def move(
        application_id: str, verb: str, request: Request, body: MoveBody | None = None
    ) -> dict[str, Any]:
        if verb not in MOVES:
            raise NotFound("move", verb)
        note = body.note if body else ""
        moved = book.move(services.principal(request), application_id, MOVES[verb], note)
        return shown(request, moved)
