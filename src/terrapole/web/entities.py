"""The entities' and licences' JSON API: create an entity, ask to join, the referent's
decisions, members; the licences and their acceptance.

The rules (who may decide, which version may be accepted) are the access core's; this module
only resolves the caller and shapes the answers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from terrapole.access.entities import Entity, Membership, Status
from terrapole.access.licences import Holder
from terrapole.errors import NotFound
from terrapole.web.account_auth import AccountAuth, Caller, json_of
from terrapole.web.services import WebServices


class NewEntity(BaseModel):
    """An entity to create (its creator becomes its referent)."""

    name: str = Field(max_length=200)
    country: str = Field(max_length=2)
    kind: str = Field(max_length=32)
    profile: str = Field(max_length=32)
    siren: str | None = Field(default=None, max_length=20)
    ror: str | None = Field(default=None, max_length=64)


class Decision(BaseModel):
    """A referent's approval, with the profile given to the new member (default: the
    entity's)."""

    profile: str | None = Field(default=None, max_length=32)


class Acceptance(BaseModel):
    """The version of a licence the user read and accepts, for themself or their entity."""

    version: int = Field(ge=1)
    entity_id: str | None = Field(default=None, max_length=64)


def entity_json(entity: Entity) -> dict[str, Any]:
    """An entity as the API shows it."""
    return json_of(entity)


def membership_json(membership: Membership) -> dict[str, Any]:
    """A membership as the API shows it."""
    return json_of(membership)


def entity_view(services: WebServices, caller: Caller, entity_id: str) -> dict[str, Any]:
    """The entity; its members to its members and admins; its pending requests to its referent
    and admins."""
    entity = services.entities.get(entity_id)
    view: dict[str, Any] = entity_json(entity)
    leads = caller.user.id == entity.referent_id or caller.user.admin
    members = services.entities.members(entity_id)
    if leads or any(m.user_id == caller.user.id for m in members):
        view["members"] = [_member(services, m) for m in members]
    if leads:
        pending = services.entities.members(entity_id, status=Status.PENDING)
        view["requests"] = [_member(services, m) for m in pending]
    view["you"] = {"referent": caller.user.id == entity.referent_id, "admin": caller.user.admin}
    return view


def _member(services: WebServices, membership: Membership) -> dict[str, Any]:
    user = services.accounts.get(membership.user_id)
    return {**membership_json(membership), "email": user.email, "display_name": user.display_name}


def licences_view(services: WebServices, caller: Caller) -> list[dict[str, Any]]:
    """Every licence at its current version, and whether the caller (or none of their entities)
    has accepted it yet."""
    holders = [(Holder.USER, caller.user.id)]
    holders += [(Holder.ENTITY, e.id) for e in services.entities.of_user(caller.user.id)]
    return [
        {
            **json_of(licence),
            "needs_acceptance": services.licences.needs_acceptance(licence.id, holders),
        }
        for licence in services.licences.all()
    ]


def router(services: WebServices) -> APIRouter:
    """Routes under ``/entities`` and ``/licences``."""
    api = APIRouter(tags=["accounts"])
    auth = AccountAuth(services)
    entities = services.entities

    @api.post("/entities", status_code=201)
    async def create(body: NewEntity, request: Request) -> dict[str, Any]:
        """Create an entity; the caller becomes its referent and first member."""
        caller = await auth.caller(request)
        entity = entities.create(
            caller.user, name=body.name, country=body.country, kind=body.kind,
            profile_name=body.profile, siren=body.siren, ror=body.ror,
        )  # fmt: skip
        auth.changed()
        return entity_json(entity)

    @api.get("/entities/{entity_id}")
    async def get(entity_id: str, request: Request) -> dict[str, Any]:
        """The entity (with its members to them, and its requests to its referent)."""
        return entity_view(services, await auth.caller(request), entity_id)

    @api.get("/entities/{entity_id}/members")
    async def members(entity_id: str, request: Request) -> dict[str, Any]:
        """The entity's members (to its members and admins)."""
        view = entity_view(services, await auth.caller(request), entity_id)
        if "members" not in view:
            raise NotFound("members of entity", entity_id)
        return {"members": view["members"], "requests": view.get("requests", [])}

    @api.post("/entities/{entity_id}/join", status_code=201)
    async def join(entity_id: str, request: Request) -> dict[str, Any]:
        """Ask to join the entity (its referent decides)."""
        caller = await auth.caller(request)
        return membership_json(entities.request(caller.user, entity_id))

    @api.post("/entities/{entity_id}/requests/{user_id}/approve")
    async def approve(
        entity_id: str, user_id: str, request: Request, body: Decision | None = None
    ) -> dict[str, Any]:
        """Accept a request to join (the referent or an admin)."""
        caller = await auth.caller(request)
        profile = body.profile if body else None
        done = entities.approve(caller.user, entity_id, user_id, member_profile=profile)
        auth.changed()
        return membership_json(done)

    @api.post("/entities/{entity_id}/requests/{user_id}/refuse")
    async def refuse(entity_id: str, user_id: str, request: Request) -> dict[str, Any]:
        """Refuse a request to join (the referent or an admin)."""
        caller = await auth.caller(request)
        return membership_json(entities.refuse(caller.user, entity_id, user_id))

    @api.post("/entities/{entity_id}/leave")
    async def leave(entity_id: str, request: Request) -> dict[str, Any]:
        """Leave the entity."""
        caller = await auth.caller(request)
        done = entities.leave(caller.user, entity_id)
        auth.changed()
        return membership_json(done)

    @api.post("/entities/{entity_id}/members/{user_id}/remove")
    async def remove(entity_id: str, user_id: str, request: Request) -> dict[str, Any]:
        """Remove a member (the referent or an admin)."""
        caller = await auth.caller(request)
        done = entities.remove(caller.user, entity_id, user_id)
        auth.changed()
        return membership_json(done)

    _licence_routes(api, services, auth)
    return api


def _licence_routes(api: APIRouter, services: WebServices, auth: AccountAuth) -> None:
    """The licences and their acceptance."""
    entities = services.entities

    @api.get("/licences")
    async def licences(request: Request) -> dict[str, Any]:
        """The licences, and which ones the caller still has to accept."""
        return {"licences": licences_view(services, await auth.caller(request))}

    @api.post("/licences/{licence_id}/accept", status_code=201)
    async def accept(licence_id: str, body: Acceptance, request: Request) -> dict[str, Any]:
        """Accept the version read, for oneself or (its referent) for an entity."""
        caller = await auth.caller(request)
        on_behalf = None
        if body.entity_id:
            on_behalf = (body.entity_id, entities.get(body.entity_id).referent_id)
        done = services.licences.accept(caller.user, licence_id, body.version, entity=on_behalf)
        auth.changed()
        return json_of(done)
