"""Portal pages of the long-tail deposits: my deposits, a new deposit, a deposit (its files
with sizes and checksums, an upload box, the record's workflow) and a file's preview (a
GeoTIFF's map through its tilejson, a CSV's first rows).

Thin over :class:`terrapole.fair.deposits.Deposits`. ``/deposits`` and ``/deposits/{id}``
share their paths with the JSON API and answer browsers only
(:class:`~terrapole.portal.html_route.HtmlRoute`). Files are sent by ``static/deposit.js``
through the JSON API's chunked uploads with the session's CSRF token; the workflow's forms
post to ``/deposits/{id}/act`` with it too, and a refused move shows the page again with the
core's message and its 4xx.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from terrapole.access import Principal
from terrapole.access.policy import ANONYMOUS
from terrapole.errors import InvalidInput, NotFound, TerrapoleError
from terrapole.fair.deposit_files import CSV, GEOTIFF
from terrapole.fair.deposits import (
    Access,
    Deposit,
    DepositFile,
    DepositFrozen,
    Deposits,
    DepositState,
)
from terrapole.fair.record_workflow import InvalidRecordTransition, RecordState
from terrapole.fair.records import actor_name
from terrapole.portal.account_pages import form_of, render, status_of, to_login
from terrapole.portal.fair_strings import DEPOSIT_STRINGS
from terrapole.portal.html_route import HtmlRoute
from terrapole.portal.i18n import translate
from terrapole.portal.routes import _human, _lang
from terrapole.web.account_auth import AccountAuth, Caller
from terrapole.web.deposits import deposits_of
from terrapole.web.services import WebServices

ACTIONS = ("submit", "publish", "new_version")
"""The workflow's moves a deposit page posts."""
TABLE_KINDS = (CSV, "text/tab-separated-values")
_CONFLICTS = (DepositFrozen, InvalidRecordTransition)  # 409, as in app.py's table


def refusal_status(exc: TerrapoleError) -> int:
    """The HTTP status of a refused deposit form: a move the deposit's state forbids is 409."""
    return 409 if isinstance(exc, _CONFLICTS) else status_of(exc)


def preview_kind(found: DepositFile) -> str | None:
    """How a file is previewed: ``map`` (a GeoTIFF), ``table`` (a CSV) or not at all."""
    if found.format == GEOTIFF:
        return "map"
    if found.format in TABLE_KINDS:
        return "table"
    return None


def groups_of(text: str) -> list[str]:
    """Group names typed in a form, separated by commas or spaces."""
    return [g for g in text.replace(",", " ").split() if g]


def access_of(fields: dict[str, str]) -> Access:
    """The access chosen in the new deposit form (checked by :meth:`Access.of`)."""
    return Access.of(
        fields.get("access", "open"), fields.get("embargo_until", ""),
        groups_of(fields.get("groups", "")),
    )  # fmt: skip


def may_edit(principal: Principal, deposit: Deposit) -> bool:
    """Whether ``principal`` owns ``deposit`` or curates (who may upload and submit)."""
    if principal.anonymous:
        return False
    return principal.curator or actor_name(principal) == deposit.owner


@dataclass(frozen=True)
class DepositView:
    """What a deposit page shows besides the deposit: the record's state, what the caller may
    do, whether the files are open to them, and the versions they may see."""

    record_state: RecordState
    editable: bool
    files_open: bool
    versions: tuple[Deposit, ...]

    @property
    def uploads(self) -> bool:
        """Files may be added: a draft deposit whose record is a draft, by its owner."""
        return self.editable and self.record_state is RecordState.DRAFT


def view_of(deposits: Deposits, principal: Principal, deposit: Deposit) -> DepositView:
    """The page's view of ``deposit`` for ``principal``."""
    record = deposits.book.get(principal, deposit.record_id)
    editable = may_edit(principal, deposit)
    versions = tuple(
        v
        for v in deposits.versions(deposit.id)
        if v.state is not DepositState.DRAFT or may_edit(principal, v)
    )
    return DepositView(
        record.state, editable, deposits.may_read_files(principal, deposit), versions
    )


class DepositPages:
    """What the routes share: the deposits, who calls, and how a page is drawn."""

    def __init__(self, services: WebServices) -> None:
        self.auth = AccountAuth(services)
        self.deposits = deposits_of(services)

    def show(
        self, request: Request, name: str, caller: Caller | None, **extra: Any
    ) -> HTMLResponse:
        """A deposit template with the deposit strings and the size formatter."""
        u = translate(DEPOSIT_STRINGS, _lang(request))
        return render(request, name, caller=caller, u=u, human=_human, **extra)

    def deposit_page(
        self, request: Request, caller: Caller | None, deposit_id: str, status: int = 200,
        **extra: Any,
    ) -> HTMLResponse:  # fmt: skip
        """A deposit's page (404 for a draft that is not the caller's)."""
        principal = caller.principal if caller else ANONYMOUS
        deposit = self.deposits.get(principal, deposit_id)
        return self.show(
            request, "deposit_detail.html", caller, status=status, deposit=deposit,
            view=view_of(self.deposits, principal, deposit), preview_kind=preview_kind, **extra,
        )  # fmt: skip


def router(services: WebServices) -> APIRouter:
    """``/deposits``, ``/deposits/new``, ``/deposits/{id}``, its ``act`` form and the files'
    ``preview`` pages."""
    pages = APIRouter(include_in_schema=False, route_class=HtmlRoute)
    forms = APIRouter(include_in_schema=False)
    shared = DepositPages(services)
    _list_routes(pages, forms, shared)
    _deposit_routes(pages, forms, shared)
    api = APIRouter(include_in_schema=False)
    api.include_router(pages)
    api.include_router(forms)
    return api


def _list_routes(pages: APIRouter, forms: APIRouter, shared: DepositPages) -> None:
    """My deposits, and the new deposit form."""
    auth, deposits, show = shared.auth, shared.deposits, shared.show

    @pages.get("/deposits", response_model=None)
    async def my_deposits(request: Request) -> Response:
        caller = await auth.optional(request)
        if caller is None:
            return to_login(request)
        return show(request, "deposit_list.html", caller,
                    deposits=deposits.find(caller.principal, mine=True))  # fmt: skip

    @pages.get("/deposits/new", response_model=None)
    async def new_page(request: Request) -> Response:
        caller = await auth.optional(request)
        if caller is None:
            return to_login(request)
        return show(request, "deposit_new.html", caller, form={})

    @forms.post("/deposits/new", response_model=None)
    async def create(request: Request) -> Response:
        caller = await auth.caller(request)
        fields = await form_of(request)
        try:
            made = deposits.create(caller.principal, fields.get("title", ""), access_of(fields))
        except TerrapoleError as exc:
            return show(request, "deposit_new.html", caller, status=refusal_status(exc),
                        error=exc.message, form=fields)  # fmt: skip
        return RedirectResponse(f"{request.base_url}deposits/{made.id}", 303)


def _deposit_routes(pages: APIRouter, forms: APIRouter, shared: DepositPages) -> None:
    """A deposit's page, its workflow form and its files' previews."""
    auth, deposits, show = shared.auth, shared.deposits, shared.show

    @pages.get("/deposits/{deposit_id}", response_class=HTMLResponse)
    async def one(request: Request, deposit_id: str) -> HTMLResponse:
        return shared.deposit_page(request, await auth.optional(request), deposit_id)

    @forms.post("/deposits/{deposit_id}/act", response_model=None)
    async def act(request: Request, deposit_id: str) -> Response:
        caller = await auth.caller(request)
        action = (await form_of(request)).get("action", "")
        try:
            target = _act(deposits, caller.principal, deposit_id, action)
        except TerrapoleError as exc:
            if isinstance(exc, NotFound):
                raise
            return shared.deposit_page(request, caller, deposit_id, status=refusal_status(exc),
                                       error=exc.message)  # fmt: skip
        return RedirectResponse(f"{request.base_url}deposits/{target}", 303)

    @forms.get("/deposits/{deposit_id}/files/{name}/preview", response_class=HTMLResponse)
    async def preview(request: Request, deposit_id: str, name: str) -> HTMLResponse:
        caller = await auth.optional(request)
        principal = caller.principal if caller else ANONYMOUS
        found = deposits.readable_file(principal, deposit_id, name)
        kind = preview_kind(found)
        if kind is None:
            raise InvalidInput("file", f"{name} is {found.format}: no preview of that format")
        table = deposits.table(principal, deposit_id, name) if kind == "table" else None
        base = f"{request.base_url}deposits/{deposit_id}/files/{quote(found.name)}"
        return show(
            request, "deposit_preview.html", caller, deposit=deposits.get(principal, deposit_id),
            file=found, kind=kind, table=table, file_url=base,
        )  # fmt: skip


def _act(deposits: Deposits, principal: Principal, deposit_id: str, action: str) -> str:
    """Make the workflow's move ``action``; the deposit to show next (a new version's id)."""
    if action == "submit":
        deposits.submit(principal, deposit_id)
    elif action == "publish":
        deposits.publish(principal, deposit_id)
    elif action == "new_version":
        return deposits.new_version(principal, deposit_id).id
    else:
        raise InvalidInput("action", f"{action!r} is not one of {', '.join(ACTIONS)}")
    return deposit_id
