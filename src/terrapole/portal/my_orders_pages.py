"""The page ``/profile/orders``: the caller's orders and, for a referent, the orders of the
entities they lead that wait for their approval.

What an actor may read is :meth:`~terrapole.access.orders.OrderBook.find`'s rule; this module
only sorts the answer into the two lists and words the rows (also for the admins' list).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from terrapole.access.accounts import utc
from terrapole.access.order_workflow import State
from terrapole.access.orders import Order
from terrapole.portal.account_pages import render, to_login
from terrapole.web.account_auth import AccountAuth
from terrapole.web.services import WebServices


@dataclass(frozen=True)
class OrderRow:
    """One order as a list shows it."""

    id: str
    kind: str
    state: str
    entity: str
    km2: float
    price_eur: float | None
    created: str
    age_hours: int


def order_rows(orders: Iterable[Order], names: dict[str, str], now: datetime) -> list[OrderRow]:
    """The rows of ``orders``, with their entity's name (``names``: entity id → name) and
    their age at ``now`` in whole hours."""
    return [
        OrderRow(
            id=o.id,
            kind=o.kind.value,
            state=o.state.value,
            entity=names.get(o.entity_id, o.entity_id),
            km2=o.km2,
            price_eur=o.price_eur,
            created=utc(o.created).strftime("%Y-%m-%d %H:%M"),
            age_hours=int((now - utc(o.created)).total_seconds() // 3600),
        )  # fmt: skip
        for o in orders
    ]


def awaiting_approval(orders: Iterable[Order], led: frozenset[str]) -> list[Order]:
    """The submitted orders of the entities in ``led`` (what their referent must decide)."""
    return [o for o in orders if o.entity_id in led and o.state is State.SUBMITTED]


def router(services: WebServices) -> APIRouter:
    """The page ``/profile/orders``."""
    api = APIRouter(include_in_schema=False)
    auth = AccountAuth(services)

    @api.get("/profile/orders", response_model=None)
    async def my_orders(request: Request) -> Response:
        caller = await auth.optional(request)
        if caller is None:
            return to_login(request)
        actor = auth.actor(caller)
        names = {e.id: e.name for e in services.entities.of_user(caller.user.id)}
        now = datetime.now(UTC)
        readable = services.orders.find(actor)  # newest first: own and the led entities'
        own = [o for o in readable if o.owner == caller.user.id]
        pending = awaiting_approval(readable, actor.referent_of)
        return render(
            request, "my_orders.html", caller=caller, orders=order_rows(own, names, now),
            to_approve=order_rows(pending, names, now), referent=bool(actor.referent_of),
        )  # fmt: skip

    return api
