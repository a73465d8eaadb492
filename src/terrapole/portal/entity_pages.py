"""Portal pages of the entities and licences: create or join an entity, its page with members,
the referent's decisions and the quota left, and the licences to accept."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from terrapole.access.licences import Holder
from terrapole.access.pricing import Family, quarter
from terrapole.access.quotas import Quota
from terrapole.errors import TerrapoleError
from terrapole.portal.account_pages import (
    form_of,
    profile_context,
    refused,
    render,
    status_of,
    to_login,
)
from terrapole.web.account_auth import AccountAuth, Caller
from terrapole.web.entities import entity_view, licences_view
from terrapole.web.services import WebServices


def quotas_left(services: WebServices, entity_id: str) -> list[dict[str, Any]]:
    """The entity's quota left this quarter, per sensor family, for its profile."""
    entity = services.entities.get(entity_id)
    period = quarter(datetime.now(UTC))
    rows = []
    for family in Family:
        balance = services.ledger.balance(Quota(entity.id, entity.profile, family, period))
        rows.append(
            {"family": family.value, "period": period, "allowance": balance.allowance_km2,
             "left": balance.remaining_km2}
        )  # fmt: skip
    return rows


def router(services: WebServices) -> APIRouter:
    """Entity and licence pages under ``/profile``."""
    api = APIRouter(include_in_schema=False)
    auth = AccountAuth(services)
    entities = services.entities

    def entity_page(
        request: Request, caller: Caller, entity_id: str, status: int = 200, **extra: Any
    ) -> HTMLResponse:
        view = entity_view(services, caller, entity_id)
        mine = view["you"]["referent"] or view["you"]["admin"]
        try:
            standing = entities.membership(entity_id, caller.user.id).status.value
        except TerrapoleError:
            standing = None
        licences = licences_view(services, caller) if mine else []
        return render(
            request, "account_entity.html", caller=caller, status=status, entity=view,
            standing=standing, quotas=quotas_left(services, entity_id) if "members" in view
            else [], licences=licences, **extra,
        )  # fmt: skip

    @api.post("/profile/entities", response_model=None)
    async def create(request: Request) -> Response:
        caller = await auth.caller(request)
        form = await form_of(request)
        try:
            entity = entities.create(
                caller.user, name=form.get("name", ""), country=form.get("country", ""),
                kind=form.get("kind", ""), profile_name=form.get("profile", ""),
                siren=form.get("siren") or None, ror=form.get("ror") or None,
            )  # fmt: skip
        except TerrapoleError as exc:
            return refused(
                request, "account_profile.html", exc, caller=caller,
                **{**profile_context(services, caller), "form": form},
            )  # fmt: skip
        auth.changed()
        return RedirectResponse(f"{request.base_url}profile/entities/{entity.id}", 303)

    @api.get("/profile/entities/{entity_id}", response_model=None)
    async def show(entity_id: str, request: Request) -> Response:
        caller = await auth.optional(request)
        return to_login(request) if caller is None else entity_page(request, caller, entity_id)

    @api.post("/profile/entities/{entity_id}/join", response_model=None)
    async def join(entity_id: str, request: Request) -> Response:
        caller = await auth.caller(request)
        try:
            entities.request(caller.user, entity_id)
        except TerrapoleError as exc:
            return entity_page(request, caller, entity_id, status=status_of(exc), error=exc.message)
        return RedirectResponse(f"{request.base_url}profile/entities/{entity_id}", 303)

    @api.post("/profile/entities/{entity_id}/requests/{user_id}/{decision}", response_model=None)
    async def decide(entity_id: str, user_id: str, decision: str, request: Request) -> Response:
        caller = await auth.caller(request)
        try:
            if decision == "approve":
                entities.approve(caller.user, entity_id, user_id)
            elif decision == "refuse":
                entities.refuse(caller.user, entity_id, user_id)
            else:
                return entity_page(request, caller, entity_id, status=404,
                                   error=f"no decision {decision!r}")  # fmt: skip
        except TerrapoleError as exc:
            return entity_page(request, caller, entity_id, status=status_of(exc), error=exc.message)
        auth.changed()
        return RedirectResponse(f"{request.base_url}profile/entities/{entity_id}", 303)

    _licence_routes(api, services, auth)
    return api


def _licence_routes(api: APIRouter, services: WebServices, auth: AccountAuth) -> None:
    """The licences page and acceptances."""

    def page(request: Request, caller: Caller, status: int = 200, **extra: Any) -> HTMLResponse:
        led = [e for e in services.entities.of_user(caller.user.id)
               if e.referent_id == caller.user.id]  # fmt: skip
        licences = licences_view(services, caller)
        accepted = {
            (lic["id"], e.id)
            for lic in licences
            for e in led
            if not services.licences.needs_acceptance(lic["id"], [(Holder.ENTITY, e.id)])
        }
        return render(
            request, "account_licences.html", caller=caller, status=status,
            licences=licences, led=led, accepted=accepted, **extra,
        )  # fmt: skip

    @api.get("/profile/licences", response_model=None)
    async def licences(request: Request) -> Response:
        caller = await auth.optional(request)
        return to_login(request) if caller is None else page(request, caller)

    @api.post("/profile/licences/{licence_id}/accept", response_model=None)
    async def accept(licence_id: str, request: Request) -> Response:
        caller = await auth.caller(request)
        form = await form_of(request)
        entity_id = form.get("entity_id") or None
        try:
            version = int(form.get("version", "0"))
            on_behalf = None
            if entity_id:
                on_behalf = (entity_id, services.entities.get(entity_id).referent_id)
            services.licences.accept(caller.user, licence_id, version, entity=on_behalf)
        except ValueError:
            return page(request, caller, status=400, error="the version must be a number")
        except TerrapoleError as exc:
            return page(request, caller, status=status_of(exc), error=exc.message)
        auth.changed()
        return RedirectResponse(f"{request.base_url}profile/licences", 303)
