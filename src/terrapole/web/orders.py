"""The orders' JSON API: draft an archive order or a tasking request, read it with its
history and quota, quote it, submit it, and move it through the workflow.

The workflow, the quota debits and refunds and the roles are the access core's
(:mod:`terrapole.access.orders`), the delivery into the entity's collection too
(:mod:`terrapole.access.delivery`); who is mailed about a move, and what, is
:mod:`terrapole.access.order_mails`'s.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from terrapole.access.accounts import User
from terrapole.access.delivery import Delivery, collection_id_for
from terrapole.access.entities import Status
from terrapole.access.order_mails import Audience, Move, Recipient, order_mails
from terrapole.access.order_workflow import Actor, State
from terrapole.access.orders import Order, TaskingRequest
from terrapole.access.policy import can_order
from terrapole.access.pricing import Family
from terrapole.access.profiles import Profile
from terrapole.errors import Forbidden, InvalidInput, NotFound
from terrapole.web.account_auth import AccountAuth, Caller, json_of
from terrapole.web.services import WebServices

logger = logging.getLogger(__name__)

MOVES: dict[str, State] = {
    "approve": State.APPROVED,
    "accept": State.ACCEPTED,
    "plan": State.PLANNED,
    "deliver": State.DELIVERED,
    "close": State.CLOSED,
    "refuse": State.REFUSED,
    "cancel": State.CANCELLED,
}
"""The path's verb → the state it moves an order to (submission has its own route)."""

MAX_ITEMS = 1000
DELIVERED = frozenset({State.DELIVERED, State.CLOSED})


class NewOrder(BaseModel):
    """A draft: an archive order (``collection``, ``items``, optional ``aoi``) or a tasking
    request (``aoi``, ``start``, ``end``, ``sensor`` and how)."""

    kind: Literal["archive", "tasking"]
    entity_id: str = Field(max_length=64)
    family: str = Field(default="pleiades", max_length=32)
    collection: str = Field(default="", max_length=256)
    items: list[str] = Field(default_factory=list, max_length=MAX_ITEMS)
    aoi: dict[str, Any] | None = None
    start: date | None = None
    end: date | None = None
    mode: str = Field(default="mono", max_length=16)
    max_cloud: int = Field(default=20, strict=True)  # a JSON true is no percentage
    priority: str = Field(default="standard", max_length=16)
    note: str = Field(default="", max_length=2000)


class Submission(BaseModel):
    """The overage price the user accepted from the quote (0: the quota must cover it)."""

    accept_price_eur: float = 0.0


class MoveBody(BaseModel):
    """A note kept in the order's history; to deliver a tasking request, the acquisition's
    items (``collection/item`` or a bare item id)."""

    note: str = Field(default="", max_length=2000)
    items: list[str] = Field(default_factory=list, max_length=MAX_ITEMS)


def order_json(order: Order) -> dict[str, Any]:
    """An order as the API shows it."""
    return json_of(order)


def order_view(services: WebServices, actor: Actor, order_id: str) -> dict[str, Any]:
    """The order, its history and the quota it draws on (as it stands now)."""
    book = services.orders
    order = book.get(actor, order_id)
    balance = book.ledger.balance(order.quota)
    delivered = collection_id_for(order.entity_id) if order.state in DELIVERED else None
    return {
        **order_json(order),
        "history": [json_of(s) for s in book.history(actor, order_id)],
        "quota": {**json_of(balance), "remaining_km2": balance.remaining_km2},
        "moves": sorted(MOVES),
        "delivery_collection": delivered,
    }


def _profile(services: WebServices, user: User, entity_id: str) -> Profile:
    """The profile the caller orders with in ``entity_id`` (members only)."""
    entity = services.entities.get(entity_id)
    try:
        membership = services.entities.membership(entity_id, user.id)
    except NotFound:
        membership = None
    if membership is None or membership.status is not Status.MEMBER:
        raise Forbidden(f"you are not a member of entity {entity.name!r}")
    return membership.profile or entity.profile


def draft_order(services: WebServices, caller: Caller, actor: Actor, body: NewOrder) -> Order:
    """A draft order for one of the caller's entities, with the profile they hold there."""
    profile = _profile(services, caller.user, body.entity_id)
    if body.family not in set(Family):
        raise InvalidInput("family", f"{body.family!r} is none of {', '.join(Family)}")
    if body.kind == "tasking":
        if body.aoi is None or body.start is None or body.end is None:
            raise InvalidInput("tasking request", "aoi, start and end are required")
        request = TaskingRequest(
            aoi=body.aoi, start=body.start, end=body.end, sensor=Family(body.family),
            mode=body.mode, max_cloud=body.max_cloud, priority=body.priority, note=body.note,
        )  # fmt: skip
        return services.orders.draft_tasking(
            actor, entity_id=body.entity_id, profile=profile, request=request
        )
    if not body.items:
        raise InvalidInput("items", "an archive order names at least one item")
    hidden = services.access.hidden_for(caller.principal)
    footprints = {
        item_id: services.store.get_item(body.collection, item_id, hidden=hidden)["geometry"]
        for item_id in dict.fromkeys(body.items)
    }
    access = services.access  # the policy decides what may be ordered, after what may be seen
    if not can_order(caller.principal, body.collection, access.restrictions(), access.terms()):
        raise Forbidden(f"your account may not order from collection {body.collection!r}")
    return services.orders.draft_archive(
        actor, entity_id=body.entity_id, profile=profile, family=Family(body.family),
        collection_id=body.collection, footprints=footprints, aoi=body.aoi,
    )  # fmt: skip


def move_order(
    services: WebServices, actor: Actor, order_id: str, verb: str, body: MoveBody
) -> Order:
    """Make the move ``verb``; ``deliver`` copies the items into the entity's collection."""
    if verb not in MOVES:
        raise InvalidInput("transition", f"{verb!r} is none of {', '.join(sorted(MOVES))}")
    if MOVES[verb] is State.DELIVERED:
        delivery = Delivery(services.store, services.storage, services.orders,
                            services.entities, services.access)  # fmt: skip
        return delivery.deliver(actor, order_id, items=body.items, note=body.note).order
    if body.items:
        raise InvalidInput("items", f"only a delivery names items, not {verb!r}")
    return services.orders.move(actor, order_id, MOVES[verb], body.note)


def _recipient(user: User, lang: str) -> Recipient:
    """A user as the order mails see them, in ``lang`` (accounts keep no language yet: the
    setting ``mail_language`` decides for all)."""
    return Recipient(user.id, user.email, user.display_name, lang)


def notify(services: WebServices, order: Order, by: User, note: str = "") -> None:
    """Mail the people the move concerns (see :mod:`~terrapole.access.order_mails`); a mail
    that cannot go out is logged, not fatal."""
    accounts = services.accounts
    site = accounts.link_base.removesuffix("/account")  # the public URL the account mails use
    entity = services.entities.get(order.entity_id)
    lang = services.settings.mail_language
    people = {
        Audience.OWNER: [_recipient(accounts.get(order.owner), lang)],
        Audience.REFERENT: [_recipient(accounts.get(entity.referent_id), lang)],
        Audience.OPERATORS: [
            _recipient(u, lang) for u in accounts.all() if u.admin and not u.disabled
        ],
    }
    delivered = collection_id_for(order.entity_id) if order.state in DELIVERED else None
    move = Move(
        order, _recipient(by, lang), entity.name, f"{site}/profile/orders/{order.id}", note,
        f"{site}/collections/{delivered}" if delivered else None,
    )  # fmt: skip
    for mail in order_mails(move, people):
        try:
            accounts.mailer.send(mail)
        except OSError:
            logger.warning("could not mail %s about order %s", mail.to, order.id, exc_info=True)


def router(services: WebServices) -> APIRouter:
    """Routes under ``/orders``."""
    api = APIRouter(prefix="/orders", tags=["orders"])
    auth = AccountAuth(services)
    book = services.orders

    @api.post("", status_code=201)
    async def draft(body: NewOrder, request: Request) -> dict[str, Any]:
        """A draft order for one of the caller's entities."""
        caller = await auth.caller(request)
        actor = auth.actor(caller)
        order = draft_order(services, caller, actor, body)
        return order_view(services, actor, order.id)

    @api.get("/{order_id}")
    async def get(order_id: str, request: Request) -> dict[str, Any]:
        """The order with its history and quota (its owner, referent or an operator)."""
        caller = await auth.caller(request)
        return order_view(services, auth.actor(caller), order_id)

    @api.post("/{order_id}/quote")
    async def quote(order_id: str, request: Request) -> dict[str, Any]:
        """What submitting now would cost: km², quota used, overage and its price."""
        caller = await auth.caller(request)
        return json_of(book.quote(auth.actor(caller), order_id))

    @api.post("/{order_id}/submit")
    async def submit(
        order_id: str, request: Request, body: Submission | None = None
    ) -> dict[str, Any]:
        """Submit the draft: its km² are debited (the overage only at the accepted price)."""
        caller = await auth.caller(request)
        actor = auth.actor(caller)
        price = body.accept_price_eur if body else 0.0
        order = book.submit(actor, order_id, accept_price_eur=price)
        notify(services, order, caller.user)
        return order_view(services, actor, order_id)

    @api.post("/{order_id}/{move}")
    async def transition(
        order_id: str, move: str, request: Request, body: MoveBody | None = None
    ) -> dict[str, Any]:
        """Move the order (approve, accept, plan, deliver, close, refuse, cancel); a
        tasking request is delivered with the acquisition's ``items``."""
        caller = await auth.caller(request)
        actor = auth.actor(caller)
        said = body or MoveBody()
        order = move_order(services, actor, order_id, move, said)
        notify(services, order, caller.user, said.note)
        return order_view(services, actor, order_id)

    return api
