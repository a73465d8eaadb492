"""Portal pages of the orders: a new order with its AOI drawn on a map, and an order's page
with its AOI, quote, the moves the viewer may make (delivering a tasking request names the
acquisition's items), its status timeline and, once delivered, a link to the collection the
products went into."""

from __future__ import annotations

import json
from typing import Any, Protocol

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from terrapole.access.order_workflow import TRANSITIONS, Actor, State
from terrapole.access.pricing import Family, Kind
from terrapole.errors import InvalidInput, TerrapoleError
from terrapole.portal.account_pages import form_of, render, status_of, to_login
from terrapole.portal.i18n import translate
from terrapole.portal.routes import _lang
from terrapole.web.account_auth import AccountAuth, Caller
from terrapole.web.orders import (
    MAX_ITEMS,
    MOVES,
    MoveBody,
    NewOrder,
    draft_order,
    move_order,
    notify,
    order_view,
)
from terrapole.web.services import WebServices

_VERB = {state: verb for verb, state in MOVES.items()}
STEPS = {
    Kind.ARCHIVE: ["draft", "submitted", "approved", "accepted", "delivered", "closed"],
    Kind.TASKING: ["draft", "submitted", "approved", "accepted", "planned", "delivered", "closed"],
}
"""The states an order goes through when all goes well, for the timeline."""

DELIVERY_STRINGS = {
    "deliver_items": {
        "en": "Items of the acquisition (one a line: collection/item or item id)",
        "fr": "Éléments de l'acquisition (un par ligne : collection/élément ou id d'élément)",
    },
    "delivered_into": {"en": "Delivered into", "fr": "Livrée dans"},
}


def moves_for(actor: Actor, order: dict[str, Any]) -> list[str]:
    """The verbs the viewer may use on the order now (submission apart)."""
    roles = actor.roles(owner=order["owner"], entity_id=order["entity_id"])
    allowed = TRANSITIONS[Kind(order["kind"])][State(order["state"])]
    return [_VERB[finish] for finish, who in allowed.items() if finish in _VERB and who & roles]


def move_body(form: dict[str, str]) -> MoveBody:
    """The move form as the API's body (the items one a line)."""
    note = form.get("note", "")
    if len(note) > 2000:
        raise InvalidInput("note", "at most 2000 characters")
    items = [line.strip() for line in form.get("items", "").splitlines() if line.strip()]
    if len(items) > MAX_ITEMS:
        raise InvalidInput("items", f"at most {MAX_ITEMS} items in one delivery")
    return MoveBody(note=note, items=items)


def new_order(form: dict[str, str]) -> NewOrder:
    """The order form as the API's draft (the AOI drawn on the map comes as GeoJSON text)."""
    fields: dict[str, Any] = {k: v for k, v in form.items() if v != "" and k != "csrf_token"}
    if "items" in fields:
        fields["items"] = [line.strip() for line in fields["items"].splitlines() if line.strip()]
    if "max_cloud" in fields:
        try:
            fields["max_cloud"] = int(fields["max_cloud"])
        except ValueError:
            raise InvalidInput("max_cloud", "a whole percentage 0-100 is required") from None
    if "aoi" in fields:
        try:
            fields["aoi"] = json.loads(fields["aoi"])
        except ValueError:
            raise InvalidInput("aoi", "draw the area on the map, or give GeoJSON") from None
    return NewOrder.model_validate(fields)


class OrderPage(Protocol):
    """Renders an order's page (with an error, after a refused move)."""

    def __call__(
        self, request: Request, caller: Caller, order_id: str, status: int = 200, **extra: Any
    ) -> HTMLResponse:
        """The page of ``order_id`` as ``caller`` sees it."""


def router(services: WebServices) -> APIRouter:
    """Order pages under ``/profile/orders``."""
    api = APIRouter(include_in_schema=False)
    auth = AccountAuth(services)
    book = services.orders

    def order_page(
        request: Request, caller: Caller, order_id: str, status: int = 200, **extra: Any
    ) -> HTMLResponse:
        actor = auth.actor(caller)
        order = order_view(services, actor, order_id)
        quote = book.quote(actor, order_id) if order["state"] == "draft" else None
        done = {step["finish"] for step in order["history"]}
        return render(
            request, "account_order.html", caller=caller, status=status, order=order,
            quote=quote, moves=moves_for(actor, order), steps=STEPS[Kind(order["kind"])],
            done=done, d=translate(DELIVERY_STRINGS, _lang(request)), **extra,
        )  # fmt: skip

    def new_page(request: Request, caller: Caller, status: int = 200, **extra: Any) -> HTMLResponse:
        return render(
            request, "account_order_new.html", caller=caller, status=status,
            entities=services.entities.of_user(caller.user.id), families=[f.value for f in Family],
            **{"form": {}, **extra},
        )  # fmt: skip

    @api.get("/profile/orders/new", response_model=None)
    async def new(request: Request, entity: str = "") -> Response:
        caller = await auth.optional(request)
        if caller is None:
            return to_login(request)
        return new_page(request, caller, form={"entity_id": entity})

    @api.post("/profile/orders", response_model=None)
    async def draft(request: Request) -> Response:
        caller = await auth.caller(request)
        form = await form_of(request)
        try:
            order = draft_order(services, caller, auth.actor(caller), new_order(form))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            return new_page(request, caller, status=400, form=form,
                            error=f"invalid {where}: {first['msg']}")  # fmt: skip
        except TerrapoleError as exc:
            return new_page(request, caller, status=status_of(exc), form=form, error=exc.message)
        return RedirectResponse(f"{request.base_url}profile/orders/{order.id}", 303)

    @api.get("/profile/orders/{order_id}", response_model=None)
    async def show(order_id: str, request: Request) -> Response:
        caller = await auth.optional(request)
        return to_login(request) if caller is None else order_page(request, caller, order_id)

    _move_routes(api, services, auth, order_page)
    return api


def _move_routes(
    api: APIRouter, services: WebServices, auth: AccountAuth, order_page: OrderPage
) -> None:
    """Submission and the other moves, posted from the order's page."""
    book = services.orders

    @api.post("/profile/orders/{order_id}/submit", response_model=None)
    async def submit(order_id: str, request: Request) -> Response:
        caller = await auth.caller(request)
        form = await form_of(request)
        try:
            price = float(form.get("accept_price_eur") or 0)
            submitted = book.submit(auth.actor(caller), order_id, accept_price_eur=price)
        except ValueError:
            return order_page(request, caller, order_id, status=400, error="the price is a number")
        except TerrapoleError as exc:
            return order_page(request, caller, order_id, status=status_of(exc), error=exc.message)
        notify(services, submitted, caller.user)
        return RedirectResponse(f"{request.base_url}profile/orders/{order_id}", 303)

    @api.post("/profile/orders/{order_id}/move", response_model=None)
    async def move(order_id: str, request: Request) -> Response:
        caller = await auth.caller(request)
        form = await form_of(request)
        verb = form.get("move", "")
        try:
            if verb not in MOVES:
                return order_page(request, caller, order_id, status=400,
                                  error=f"no move {verb!r}")  # fmt: skip
            body = move_body(form)
            moved = move_order(services, auth.actor(caller), order_id, verb, body)
        except TerrapoleError as exc:
            return order_page(request, caller, order_id, status=status_of(exc), error=exc.message)
        notify(services, moved, caller.user, body.note)
        return RedirectResponse(f"{request.base_url}profile/orders/{order_id}", 303)
