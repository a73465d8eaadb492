"""The admins' portal pages: an index, the entities (members, history, profile), every order,
and the licences with the terms each collection declares.

The rules are the access core's (only admins change an entity's profile or a licence, only
admins and curators declare terms); these pages only gate on the admin role, word the records
and post the forms, with the session's CSRF token. After every change the access service
forgets what it cached, so the policy applies the change at the next request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from terrapole.access.entities import Entity, Event
from terrapole.access.order_workflow import State
from terrapole.access.pricing import Kind
from terrapole.access.profiles import Profile
from terrapole.catalog.model import CollectionQuery
from terrapole.errors import InvalidInput, NotFound, TerrapoleError
from terrapole.portal.account_pages import form_of, render, status_of, to_login
from terrapole.portal.entity_pages import quotas_left
from terrapole.portal.my_orders_pages import order_rows
from terrapole.web.account_auth import AccountAuth, Caller
from terrapole.web.services import WebServices

Gate = Callable[[Request], Awaitable[Caller | Response]]
"""Resolves an admin caller, or answers instead (to the login page, or a 403 page)."""

ADMIN_PAGES = ("entities", "orders", "licences", "statistics", "jobs", "calls")
"""The pages the index links to, under ``/admin/`` (statistics, jobs and calls are other
modules')."""


def gates(auth: AccountAuth) -> tuple[Gate, Gate]:
    """The gate of the admin pages (a visitor is sent to log in) and of their forms (the
    session's CSRF token is checked first); a user who is no admin gets a 403 page."""

    def checked(request: Request, caller: Caller | None) -> Caller | Response:
        if caller is None:
            return to_login(request)
        if not caller.user.admin:
            return render(request, "admin_denied.html", caller=caller, status=403)
        return caller

    async def page(request: Request) -> Caller | Response:
        return checked(request, await auth.optional(request))

    async def form(request: Request) -> Caller | Response:
        return checked(request, await auth.caller(request))

    return page, form


def entity_rows(services: WebServices, found: list[Entity], q: str) -> list[dict[str, Any]]:
    """The entities whose name, country, kind, profile or referent's address holds ``q``
    (case ignored), with their referent, members count and quota left this quarter."""
    emails = {u.id: u.email for u in services.accounts.all()}
    needle = q.strip().casefold()
    rows = []
    for entity in found:
        referent = emails.get(entity.referent_id, entity.referent_id)
        text = " ".join((entity.name, entity.country, entity.kind, entity.profile, referent))
        if needle and needle not in text.casefold():
            continue
        rows.append(
            {"entity": entity, "referent": referent,
             "members": len(services.entities.members(entity.id)),
             "quotas": quotas_left(services, entity.id)}
        )  # fmt: skip
    return rows


def history_rows(events: list[Event], emails: dict[str, str]) -> list[dict[str, str]]:
    """An entity's events, newest first, with addresses for user ids."""
    return [
        {"at": e.at.strftime("%Y-%m-%d %H:%M"), "who": emails.get(e.actor_id, e.actor_id),
         "action": e.action, "subject": emails.get(e.subject_id or "", e.subject_id or ""),
         "detail": ", ".join(f"{k}: {v}" for k, v in sorted(e.detail.items()))}
        for e in reversed(events)
    ]  # fmt: skip


def _choice(field: str, value: str, allowed: list[str]) -> str:
    """``value`` if it is empty (no filter) or one of ``allowed``; else InvalidInput."""
    if value and value not in allowed:
        raise InvalidInput(field, f"{value!r} is none of {', '.join(allowed)}")
    return value


def router(services: WebServices) -> APIRouter:
    """The pages under ``/admin`` (but ``/admin/statistics`` and ``/admin/jobs``)."""
    api = APIRouter(include_in_schema=False)
    auth = AccountAuth(services)
    page, _ = gates(auth)

    @api.get("/admin", response_model=None)
    async def index(request: Request) -> Response:
        caller = await page(request)
        if isinstance(caller, Response):
            return caller
        return render(request, "admin_index.html", caller=caller, pages=ADMIN_PAGES)

    _entity_routes(api, services, auth)
    _order_routes(api, services, auth)
    _licence_routes(api, services, auth)
    return api


def _entity_routes(api: APIRouter, services: WebServices, auth: AccountAuth) -> None:
    """The entities' list and each entity's page, with its profile form."""
    page, form = gates(auth)

    def entity_page(
        request: Request, caller: Caller, entity_id: str, status: int = 200, **extra: Any
    ) -> HTMLResponse:
        entity = services.entities.get(entity_id)
        users = {u.id: u for u in services.accounts.all()}
        emails = {i: u.email for i, u in users.items()}
        members = [
            {"membership": m, "user": users.get(m.user_id)}
            for m in services.entities.members(entity_id)
        ]
        return render(
            request, "admin_entity.html", caller=caller, status=status, entity=entity,
            referent=emails.get(entity.referent_id, entity.referent_id), members=members,
            history=history_rows(services.entities.history(entity_id), emails),
            quotas=quotas_left(services, entity_id), profiles=[p.value for p in Profile],
            **extra,
        )  # fmt: skip

    @api.get("/admin/entities", response_model=None)
    async def entities(request: Request, q: str = "") -> Response:
        caller = await page(request)
        if isinstance(caller, Response):
            return caller
        rows = entity_rows(services, services.entities.all(), q)
        return render(request, "admin_entities.html", caller=caller, rows=rows, q=q)

    @api.get("/admin/entities/{entity_id}", response_model=None)
    async def entity(entity_id: str, request: Request) -> Response:
        caller = await page(request)
        if isinstance(caller, Response):
            return caller
        return entity_page(request, caller, entity_id)

    @api.post("/admin/entities/{entity_id}/profile", response_model=None)
    async def change_profile(entity_id: str, request: Request) -> Response:
        caller = await form(request)
        if isinstance(caller, Response):
            return caller
        fields = await form_of(request)
        try:
            services.entities.set_profile(caller.user, entity_id, fields.get("profile", ""))
        except NotFound:
            raise  # no page to show the error on: the app's 404
        except TerrapoleError as exc:
            return entity_page(request, caller, entity_id, status_of(exc), error=exc.message)
        auth.changed()
        return RedirectResponse(f"{request.base_url}admin/entities/{entity_id}", 303)


def _order_routes(api: APIRouter, services: WebServices, auth: AccountAuth) -> None:
    """Every order, filtered by state, kind and entity."""
    page, _ = gates(auth)

    @api.get("/admin/orders", response_model=None)
    async def orders(
        request: Request, state: str = "", kind: str = "", entity: str = ""
    ) -> Response:
        caller = await page(request)
        if isinstance(caller, Response):
            return caller
        known = services.entities.all()
        names = {e.id: e.name for e in known}
        filters = {"state": state, "kind": kind, "entity": entity}
        context: dict[str, Any] = {
            "filters": filters, "states": [s.value for s in State],
            "kinds": [k.value for k in Kind], "entities": known,
        }  # fmt: skip
        try:
            _choice("state", state, context["states"])
            _choice("kind", kind, context["kinds"])
            _choice("entity", entity, list(names))
        except InvalidInput as exc:
            return render(request, "admin_orders.html", caller=caller, status=400,
                          error=exc.message, rows=[], **context)  # fmt: skip
        found = services.orders.find(auth.actor(caller), entity_id=entity or None)
        chosen = [o for o in found if state in ("", o.state) and kind in ("", o.kind)]
        rows = order_rows(chosen, names, datetime.now(UTC))
        return render(request, "admin_orders.html", caller=caller, rows=rows, **context)


def _licence_routes(api: APIRouter, services: WebServices, auth: AccountAuth) -> None:
    """The licences with their acceptance counts; create one, publish a version; the terms
    each collection declares."""
    page, form = gates(auth)
    licences = services.licences

    def licences_page(
        request: Request, caller: Caller, status: int = 200, **extra: Any
    ) -> HTMLResponse:
        rows = []
        for licence in licences.all():
            accepted = licences.history(licence.id)
            current = sum(1 for a in accepted if a.version == licence.version)
            rows.append({"licence": licence, "current": current, "total": len(accepted)})
        docs, _ = services.store.list_collections(CollectionQuery(limit=10_000))
        return render(
            request, "admin_licences.html", caller=caller, status=status, rows=rows,
            collections=[str(d["id"]) for d in docs], terms=licences.all_terms(),
            profiles=[p.value for p in Profile],
            entity_names={e.id: e.name for e in services.entities.all()}, **{"form": {}, **extra},
        )  # fmt: skip

    async def changed(
        request: Request, change: Callable[[Caller, dict[str, str]], object]
    ) -> Response:
        """Make ``change`` with the posted form; the page again with its error if refused."""
        caller = await form(request)
        if isinstance(caller, Response):
            return caller
        fields = await form_of(request)
        try:
            change(caller, fields)
        except TerrapoleError as exc:
            return licences_page(request, caller, status_of(exc), error=exc.message, form=fields)
        auth.changed()
        return RedirectResponse(f"{request.base_url}admin/licences", 303)

    @api.get("/admin/licences", response_model=None)
    async def licences_list(request: Request) -> Response:
        caller = await page(request)
        return caller if isinstance(caller, Response) else licences_page(request, caller)

    @api.post("/admin/licences", response_model=None)
    async def create(request: Request) -> Response:
        return await changed(request, lambda caller, f: licences.create(
            caller.user, f.get("id", "").strip(), f.get("title", ""), f.get("text", ""),
            kind=f.get("kind", "licence"),
        ))  # fmt: skip

    @api.post("/admin/licences/{licence_id}/publish", response_model=None)
    async def publish(licence_id: str, request: Request) -> Response:
        return await changed(
            request, lambda caller, f: licences.publish(caller.user, licence_id, f.get("text", ""))
        )

    @api.post("/admin/terms/{collection_id}", response_model=None)
    async def set_terms(collection_id: str, request: Request) -> Response:
        def change(caller: Caller, fields: dict[str, str]) -> object:
            services.store.get_collection(collection_id)  # NotFound for a collection unknown
            return licences.set_terms(
                caller.user, collection_id,
                licence_ids=[k.split(":", 1)[1] for k in fields if k.startswith("licence:")],
                profiles=[k.split(":", 1)[1] for k in fields if k.startswith("profile:")],
            )  # fmt: skip

        return await changed(request, change)
