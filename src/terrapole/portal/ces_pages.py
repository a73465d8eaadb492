"""Portal pages of the CES directory: the consortia (filtered by theme or text) and one
consortium with its members and the products and services it backs, their TRL gauge and
maturity stage and their links; curators and admins edit members and offers there.

Thin over :class:`terrapole.fair.ces.CesDirectory` (which enforces who may change what and
checks every field); ``/ces`` and ``/ces/{id}`` share their paths with the JSON API and
answer browsers only (:class:`~terrapole.portal.html_route.HtmlRoute`). Every form posts with
the session's CSRF token; a refused change shows the page again with the core's message and
its 4xx.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from terrapole.errors import InvalidInput, TerrapoleError
from terrapole.fair.ces import TRL_MAX, TRL_MIN, CesDirectory, Consortium, Kind, Member, Offer
from terrapole.portal.account_pages import form_of, render, status_of
from terrapole.portal.fair_strings import CES_STRINGS
from terrapole.portal.html_route import HtmlRoute
from terrapole.portal.i18n import translate
from terrapole.portal.routes import _lang
from terrapole.web.account_auth import AccountAuth, Caller
from terrapole.web.ces import ces_directory
from terrapole.web.services import WebServices

_SEPARATORS = re.compile(r"[\s,;]+")

PageOf = Callable[..., HTMLResponse]
"""Renders a consortium's page: (request, caller, ces id, status, **extra)."""


def member_of(fields: dict[str, str]) -> Member:
    """A member from a posted form (checked by the core when the consortium is saved)."""
    return Member(
        name=fields.get("name", ""), orcid=fields.get("orcid", "").strip() or None,
        affiliation=fields.get("affiliation", "").strip() or None,
        ror=fields.get("ror", "").strip() or None, lead=fields.get("lead", "") == "on",
    )  # fmt: skip


def trl_of(text: str) -> int:
    """A TRL typed in a form, as a number (its range is the core's to check)."""
    if not text.strip().isdigit():
        raise InvalidInput("trl", f"{text!r} is not a whole number from {TRL_MIN} to {TRL_MAX}")
    return int(text)


def offer_of(fields: dict[str, str], ces_id: str, offer_id: str | None = None) -> Offer:
    """A product or service from a posted form: collections separated by commas or spaces,
    URLs one a line."""
    kind = fields.get("kind", "")
    if kind not in {k.value for k in Kind}:
        raise InvalidInput("kind", f"{kind!r} is neither product nor service")
    return Offer(
        id=offer_id or fields.get("id", "").strip(), ces_id=ces_id,
        name=fields.get("name", ""), kind=Kind(kind), trl=trl_of(fields.get("trl", "")),
        description=fields.get("description", ""),
        collections=tuple(c for c in _SEPARATORS.split(fields.get("collections", "")) if c),
        urls=tuple(u.strip() for u in fields.get("urls", "").splitlines() if u.strip()),
    )  # fmt: skip


def with_member(ces: Consortium, index: int | None, member: Member | None) -> Consortium:
    """The consortium with ``member`` added (``index`` None), put at ``index``, or the one at
    ``index`` removed (``member`` None)."""
    members = list(ces.members)
    if index is not None and not 0 <= index < len(members):
        raise InvalidInput("member", f"no member number {index}")
    if index is None and member is not None:
        members.append(member)
    elif index is not None and member is None:
        del members[index]
    elif index is not None and member is not None:
        members[index] = member
    return replace(ces, members=tuple(members))


def router(services: WebServices) -> APIRouter:
    """``/ces``, ``/ces/{id}`` and the curators' forms under ``/ces/{id}/``."""
    pages = APIRouter(include_in_schema=False, route_class=HtmlRoute)
    forms = APIRouter(include_in_schema=False)
    auth = AccountAuth(services)
    directory = ces_directory(services)

    def strings(request: Request) -> dict[str, str]:
        return translate(CES_STRINGS, _lang(request))

    @pages.get("/ces", response_class=HTMLResponse)
    async def directory_page(request: Request, theme: str = "", q: str = "") -> HTMLResponse:
        caller = await auth.optional(request)
        every = directory.consortia()
        counts = Counter(o.ces_id for o in directory.offers())
        return render(
            request, "ces_list.html", caller=caller, u=strings(request),
            consortia=directory.consortia(theme=theme, text=q), counts=counts,
            themes=sorted({t for c in every for t in c.themes}, key=str.casefold),
            theme=theme, q=q,
        )  # fmt: skip

    def consortium_page(
        request: Request, caller: Caller | None, ces_id: str, status: int = 200, **extra: Any
    ) -> HTMLResponse:
        ces = directory.consortium(ces_id)
        return render(
            request, "ces_detail.html", caller=caller, status=status, u=strings(request),
            ces=ces, offers=directory.offers(ces_id=ces_id), kinds=[k.value for k in Kind],
            levels=range(TRL_MIN, TRL_MAX + 1),
            curator=caller is not None and caller.principal.curator, **{"form": {}, **extra},
        )  # fmt: skip

    @pages.get("/ces/{ces_id}", response_class=HTMLResponse)
    async def consortium(request: Request, ces_id: str) -> HTMLResponse:
        return consortium_page(request, await auth.optional(request), ces_id)

    _curator_routes(forms, auth, directory, consortium_page)
    pages.include_router(forms)
    return pages


def _curator_routes(
    forms: APIRouter, auth: AccountAuth, directory: CesDirectory, consortium_page: PageOf
) -> None:
    """The curators' forms: add, change or remove a member or an offer."""

    async def changed(
        request: Request, ces_id: str, change: Callable[[Caller, dict[str, str]], object]
    ) -> Response:
        """Post ``change(caller, fields)`` through the core; the page again if refused."""
        caller = await auth.caller(request)  # signed in, with the session's CSRF token
        fields = await form_of(request)
        try:
            change(caller, fields)
        except TerrapoleError as exc:
            return consortium_page(
                request, caller, ces_id, status_of(exc), error=exc.message, form=fields
            )
        return RedirectResponse(f"{request.base_url}ces/{ces_id}", 303)

    @forms.post("/ces/{ces_id}/members", response_model=None)
    async def add_member(request: Request, ces_id: str) -> Response:
        return await changed(request, ces_id, lambda caller, f: _save_member(
            directory, caller, ces_id, None, f))  # fmt: skip

    @forms.post("/ces/{ces_id}/members/{index}", response_model=None)
    async def edit_member(request: Request, ces_id: str, index: int) -> Response:
        return await changed(request, ces_id, lambda caller, f: _save_member(
            directory, caller, ces_id, index, f))  # fmt: skip

    @forms.post("/ces/{ces_id}/offers", response_model=None)
    async def add_offer(request: Request, ces_id: str) -> Response:
        return await changed(request, ces_id, lambda caller, f: directory.add_offer(
            caller.principal, offer_of(f, ces_id)))  # fmt: skip

    @forms.post("/ces/{ces_id}/offers/{offer_id}", response_model=None)
    async def edit_offer(request: Request, ces_id: str, offer_id: str) -> Response:
        def change(caller: Caller, fields: dict[str, str]) -> None:
            if fields.get("action") == "delete":
                directory.delete_offer(caller.principal, offer_id)
            else:
                directory.update_offer(caller.principal, offer_of(fields, ces_id, offer_id))

        return await changed(request, ces_id, change)


def _save_member(
    directory: CesDirectory, caller: Caller, ces_id: str, index: int | None,
    fields: dict[str, str],
) -> Consortium:  # fmt: skip
    """Add, change or (``action=remove``) drop a member, saving the whole consortium."""
    member = None if fields.get("action") == "remove" else member_of(fields)
    ces = with_member(directory.consortium(ces_id), index, member)
    return directory.update(caller.principal, ces)
