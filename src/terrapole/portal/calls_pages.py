"""Portal pages of the calls for projects: the calls (open and past), one call with the
"Apply" form, the applicant's applications with their state and history, the reviewer's
assigned applications with a score form, and the committee's page of a call (reviewer
assignment, state moves, scores, CSV export).

Thin over :class:`terrapole.fair.calls.CallBook`: every move goes through the core, which
enforces the roles and the transitions table; these pages word the records and post the
forms with the session's CSRF token. A refused form shows the page again with the core's
message and its 4xx. ``/calls`` and ``/calls/{id}`` share their paths with the JSON API and
answer browsers only (:class:`~terrapole.portal.html_route.HtmlRoute`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from statistics import fmean
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from terrapole.errors import InvalidInput, TerrapoleError
from terrapole.fair.call_workflow import TRANSITIONS, Role, State
from terrapole.fair.calls import RESOURCES, Application, CallBook, ProjectType, Proposal
from terrapole.portal.account_pages import form_of, render, status_of, to_login
from terrapole.portal.admin_pages import gates
from terrapole.portal.fair_strings import CALL_STRINGS, CES_STRINGS
from terrapole.portal.html_route import HtmlRoute
from terrapole.portal.i18n import translate
from terrapole.portal.routes import _lang
from terrapole.web.account_auth import AccountAuth, Caller
from terrapole.web.calls import call_book
from terrapole.web.ces import ces_directory
from terrapole.web.services import WebServices

Change = Callable[[Caller, dict[str, str]], object]


def proposal_of(fields: dict[str, str]) -> Proposal:
    """An application's fields from the posted form (amounts typed with a comma too)."""
    kind = fields.get("type", "")
    try:
        project_type = ProjectType(kind)
    except ValueError:
        raise InvalidInput("type", f"{kind!r} is none of {', '.join(ProjectType)}") from None
    resources: dict[str, float] = {}
    for name in RESOURCES:
        text = fields.get(name, "").strip().replace(",", ".")
        if not text:
            continue
        try:
            resources[name] = float(text)
        except ValueError:
            raise InvalidInput(f"resources.{name}", f"{text!r} is not a number") from None
    return Proposal(
        fields.get("project", ""), fields.get("ces_id", ""), project_type,
        fields.get("description", ""), resources,
    )  # fmt: skip


def state_of(text: str) -> State:
    """The state a move form names."""
    try:
        return State(text)
    except ValueError:
        raise InvalidInput("to", f"{text!r} is no application state") from None


def moves_for(state: State, role: Role) -> list[State]:
    """Where ``role`` may move an application in ``state`` (the transitions table's)."""
    return [finish for finish, roles in TRANSITIONS[state].items() if role in roles]


def mean_score(scores: list[int | None]) -> str:
    """The mean of the given scores, or an empty text."""
    given = [s for s in scores if s is not None]
    return f"{fmean(given):.2f}" if given else ""


def router(services: WebServices) -> APIRouter:
    """``/calls``, ``/calls/{id}``, ``/profile/applications``, ``/reviews`` and
    ``/admin/calls``."""
    pages = APIRouter(include_in_schema=False, route_class=HtmlRoute)
    forms = APIRouter(include_in_schema=False)
    auth = AccountAuth(services)
    book = call_book(services)
    directory = ces_directory(services)

    def strings(request: Request) -> dict[str, str]:
        lang = _lang(request)
        return {**translate(CES_STRINGS, lang), **translate(CALL_STRINGS, lang)}

    @pages.get("/calls", response_class=HTMLResponse)
    async def calls_page(request: Request) -> HTMLResponse:
        today = datetime.now(UTC).date()
        every = book.calls()
        return render(
            request, "call_list.html", caller=await auth.optional(request), u=strings(request),
            open=[c for c in every if c.is_open(today)],
            other=[c for c in every if not c.is_open(today)],
        )  # fmt: skip

    def call_page(
        request: Request, caller: Caller | None, call_id: str, status: int = 200, **extra: Any
    ) -> HTMLResponse:
        call = book.call(call_id)
        return render(
            request, "call_detail.html", caller=caller, status=status, u=strings(request),
            call=call, is_open=call.is_open(datetime.now(UTC).date()),
            consortia=directory.consortia(), resources=list(RESOURCES), **{"form": {}, **extra},
        )  # fmt: skip

    @pages.get("/calls/{call_id}", response_class=HTMLResponse)
    async def call(request: Request, call_id: str) -> HTMLResponse:
        return call_page(request, await auth.optional(request), call_id)

    @forms.post("/calls/{call_id}/apply", response_model=None)
    async def apply(request: Request, call_id: str) -> Response:
        caller = await auth.caller(request)  # signed in, with the session's CSRF token
        fields = await form_of(request)
        try:
            made = book.draft(caller.principal, call_id, proposal_of(fields))
            if fields.get("action") != "draft":
                book.move(caller.principal, made.id, State.SUBMITTED)
        except TerrapoleError as exc:
            return call_page(request, caller, call_id, status_of(exc), error=exc.message,
                             form=fields)  # fmt: skip
        return RedirectResponse(f"{request.base_url}profile/applications", 303)

    _applicant_routes(forms, services, auth, book, strings)
    _reviewer_routes(forms, services, auth, book, strings)
    _admin_routes(forms, services, auth, book, strings)
    pages.include_router(forms)
    return pages


def _applicant_routes(
    api: APIRouter, services: WebServices, auth: AccountAuth, book: CallBook,
    strings: Callable[[Request], dict[str, str]],
) -> None:  # fmt: skip
    """The applicant's applications (state, history, their own moves)."""
    directory = ces_directory(services)

    def applications_page(
        request: Request, caller: Caller, status: int = 200, **extra: Any
    ) -> HTMLResponse:
        mine = [a for a in book.find(caller.principal) if a.applicant == caller.user.id]
        rows = [
            {"application": a, "history": book.history(caller.principal, a.id),
             "moves": moves_for(a.state, Role.APPLICANT)}
            for a in mine
        ]  # fmt: skip
        return render(
            request, "call_applications.html", caller=caller, status=status,
            u=strings(request), rows=rows, calls={c.id: c.title for c in book.calls()},
            ces={c.id: c.name for c in directory.consortia()}, **extra,
        )  # fmt: skip

    @api.get("/profile/applications", response_model=None)
    async def applications(request: Request) -> Response:
        caller = await auth.optional(request)
        return to_login(request) if caller is None else applications_page(request, caller)

    @api.post("/profile/applications/{application_id}/move", response_model=None)
    async def move(request: Request, application_id: str) -> Response:
        caller = await auth.caller(request)
        fields = await form_of(request)
        try:
            book.move(caller.principal, application_id, state_of(fields.get("to", "")))
        except TerrapoleError as exc:
            return applications_page(request, caller, status_of(exc), error=exc.message)
        return RedirectResponse(f"{request.base_url}profile/applications", 303)


def _reviewer_routes(
    api: APIRouter, services: WebServices, auth: AccountAuth, book: CallBook,
    strings: Callable[[Request], dict[str, str]],
) -> None:  # fmt: skip
    """The applications a reviewer was assigned, with their score form."""

    def reviews_page(
        request: Request, caller: Caller, status: int = 200, **extra: Any
    ) -> HTMLResponse:
        rows = []
        for a in book.find(caller.principal):
            if a.applicant == caller.user.id:
                continue
            mine = [r for r in book.reviews(caller.principal, a.id) if r.reviewer == caller.user.id]
            if mine:
                rows.append({"application": a, "review": mine[0]})
        return render(
            request, "call_reviews.html", caller=caller, status=status, u=strings(request),
            rows=rows, open_state=State.UNDER_REVIEW, **extra,
        )  # fmt: skip

    @api.get("/reviews", response_model=None)
    async def reviews(request: Request) -> Response:
        caller = await auth.optional(request)
        return to_login(request) if caller is None else reviews_page(request, caller)

    @api.post("/reviews/{application_id}", response_model=None)
    async def score(request: Request, application_id: str) -> Response:
        caller = await auth.caller(request)
        fields = await form_of(request)
        text = fields.get("score", "").strip()
        try:
            if not text.isdigit():
                raise InvalidInput("score", f"{text!r} is not a whole number from 1 to 5")
            book.review(caller.principal, application_id, int(text), fields.get("comment", ""))
        except TerrapoleError as exc:
            return reviews_page(request, caller, status_of(exc), error=exc.message)
        return RedirectResponse(f"{request.base_url}reviews", 303)


def _admin_routes(
    api: APIRouter, services: WebServices, auth: AccountAuth, book: CallBook,
    strings: Callable[[Request], dict[str, str]],
) -> None:  # fmt: skip
    """The committee's pages: every call, and a call's applications with their reviewers,
    scores and moves."""
    page, _ = gates(auth)

    def names() -> dict[str, str]:
        return {u.id: f"{u.display_name} <{u.email}>" for u in services.accounts.all()}

    def rows_of(caller: Caller, applications: list[Application]) -> list[dict[str, Any]]:
        rows = []
        for a in applications:
            found = book.reviews(caller.principal, a.id)
            rows.append({
                "application": a, "reviews": found, "mean": mean_score([r.score for r in found]),
                "moves": moves_for(a.state, Role.ADMIN),
            })  # fmt: skip
        return rows

    def call_admin_page(
        request: Request, caller: Caller, call_id: str, status: int = 200, **extra: Any
    ) -> HTMLResponse:
        call = book.call(call_id)
        return render(
            request, "call_admin.html", caller=caller, status=status, u=strings(request),
            call=call, rows=rows_of(caller, book.find(caller.principal, call_id=call.id)),
            names=names(), accounts=services.accounts.all(), **extra,
        )  # fmt: skip

    @api.get("/admin/calls", response_model=None)
    async def calls(request: Request) -> Response:
        caller = await page(request)
        if isinstance(caller, Response):
            return caller
        counts: dict[str, int] = {}
        for a in book.find(caller.principal):
            counts[a.call_id] = counts.get(a.call_id, 0) + 1
        return render(request, "call_admin_list.html", caller=caller, u=strings(request),
                      calls=book.calls(), counts=counts)  # fmt: skip

    @api.get("/admin/calls/{call_id}", response_model=None)
    async def call(request: Request, call_id: str) -> Response:
        caller = await page(request)
        return caller if isinstance(caller, Response) else call_admin_page(request, caller, call_id)

    _admin_forms(api, auth, book, call_admin_page)


def _admin_forms(
    api: APIRouter, auth: AccountAuth, book: CallBook, call_admin_page: Callable[..., HTMLResponse]
) -> None:
    """The committee's forms: assign a reviewer, move an application."""
    _, form = gates(auth)

    async def changed(request: Request, call_id: str, change: Change) -> Response:
        caller = await form(request)
        if isinstance(caller, Response):
            return caller
        fields = await form_of(request)
        try:
            change(caller, fields)
        except TerrapoleError as exc:
            return call_admin_page(request, caller, call_id, status_of(exc), error=exc.message)
        return RedirectResponse(f"{request.base_url}admin/calls/{call_id}", 303)

    @api.post("/admin/calls/{call_id}/applications/{application_id}/reviewers",
              response_model=None)  # fmt: skip
    async def assign(request: Request, call_id: str, application_id: str) -> Response:
        return await changed(request, call_id, lambda caller, f: book.assign(
            caller.principal, application_id, f.get("reviewer", "")))  # fmt: skip

    @api.post("/admin/calls/{call_id}/applications/{application_id}/move", response_model=None)
    async def move(request: Request, call_id: str, application_id: str) -> Response:
        def change(caller: Caller, fields: dict[str, str]) -> object:
            finish = state_of(fields.get("to", ""))
            return book.move(caller.principal, application_id, finish, fields.get("note", ""))

        return await changed(request, call_id, change)
