"""Delivering orders into the entity's collection, over the real app's store, storage and
access database: a real THEIA Sentinel-2 product (ingested with its files) is ordered from the
archive and delivered; a tasking request is delivered with the acquisition's items; bad
deliveries are refused by name and write nothing; a move lost to another one takes the copies
back."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from terrapole.access.accounts import User
from terrapole.access.delivery import ORDER_PROPERTY, Delivery, collection_id_for
from terrapole.access.order_workflow import Actor, InvalidOrderTransition, State
from terrapole.access.orders import Order, OrderBook, TaskingRequest
from terrapole.access.policy import Principal
from terrapole.access.pricing import Family
from terrapole.access.profiles import Profile
from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.errors import Forbidden, InvalidInput, NotFound
from terrapole.ingest.service import Ingestor

from ..conftest import ROOT

PRODUCT = ROOT / "demo" / "products" / "theia"
ITEM = "SENTINEL2A_20180826-104155-257_L2A_T31UFQ_D_V1-8"
S2 = "theia-sentinel-2-l2a"
PASSWORD = "a long passphrase 42"
AOI = {"type": "Polygon", "coordinates": [[[1.3, 43.5], [1.5, 43.5], [1.5, 43.7], [1.3, 43.7],
                                           [1.3, 43.5]]]}  # fmt: skip


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The app's services with the real S2 product ingested (its files in storage)."""
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("delivery")))
    services = app.state.services
    assert not Ingestor(services.store, services.storage).run([str(PRODUCT / ITEM)]).rejected
    return app


class People:
    """A lab whose referent orders, a member of another entity, and an operator."""

    def __init__(self, services: Any, tag: str) -> None:
        accounts = services.accounts
        self.ana = accounts.create_verified(f"ana-{tag}@lab.example", PASSWORD, "Ana")
        self.chloe = accounts.create_verified(f"chloe-{tag}@body.example", PASSWORD, "Chloé")
        self.op = accounts.create_verified(f"op-{tag}@hub.example", PASSWORD, "Operator",
                                           roles=frozenset({"admin"}))  # fmt: skip
        self.lab = services.entities.create(self.ana, name=f"Lab {tag}", country="FR",
                                            kind="lab", profile_name="french-scientist")  # fmt: skip
        self.body = services.entities.create(self.chloe, name=f"Body {tag}", country="FR",
                                             kind="public-body",
                                             profile_name="french-public-actor")  # fmt: skip
        self.owner = Actor(self.ana.id, referent_of=frozenset({self.lab.id}))
        self.operator = Actor(self.op.id, operator=True)


def _delivery(services: Any, orders: OrderBook | None = None) -> Delivery:
    return Delivery(services.store, services.storage, orders or services.orders,
                    services.entities, services.access)  # fmt: skip


def _accepted_archive(services: Any, people: People) -> Order:
    item = services.store.get_item(S2, ITEM)
    book = services.orders
    order = book.draft_archive(people.owner, entity_id=people.lab.id,
                               profile=Profile.FRENCH_SCIENTIST, family=Family.PLEIADES,
                               collection_id=S2, footprints={ITEM: item["geometry"]})  # fmt: skip
    book.submit(people.owner, order.id)
    book.move(people.owner, order.id, State.APPROVED)
    return book.move(people.operator, order.id, State.ACCEPTED)


def _planned_tasking(services: Any, people: People) -> Order:
    book = services.orders
    request = TaskingRequest(AOI, date(2027, 1, 1), date(2027, 2, 1), Family.PLEIADES)
    order = book.draft_tasking(people.owner, entity_id=people.lab.id,
                               profile=Profile.FRENCH_SCIENTIST, request=request)  # fmt: skip
    book.submit(people.owner, order.id)
    book.move(people.owner, order.id, State.APPROVED)
    book.move(people.operator, order.id, State.ACCEPTED)
    return book.move(people.operator, order.id, State.PLANNED)


def _principal(services: Any, user: User) -> Principal:
    held = services.access.standing(user.id)
    return Principal(name=f"user:{user.id}", user_id=user.id, admin="admin" in held.roles,
                     entities=held.entities, profiles=held.profiles)  # fmt: skip


def test_an_archive_order_is_delivered_into_a_collection_only_its_entity_reads(hub: Any) -> None:
    services = hub.state.services
    people = People(services, "archive")
    order = _accepted_archive(services, people)
    done = _delivery(services).deliver(people.operator, order.id)

    target = collection_id_for(people.lab.id)
    assert (done.order.state, done.collection_id, done.items) == (State.DELIVERED, target, (ITEM,))
    collection = services.store.get_collection(target)
    assert collection["title"] == f"Deliveries to {people.lab.name}"
    source = services.store.get_item(S2, ITEM)
    assert collection["extent"]["spatial"]["bbox"] == [source["bbox"]]
    when = source["properties"]["datetime"]
    assert collection["extent"]["temporal"]["interval"] == [[when, when]]
    assert collection["license"] == services.store.get_collection(S2)["license"]

    copy = services.store.get_item(target, ITEM)
    assert copy["properties"][ORDER_PROPERTY] == order.id
    assert copy["geometry"] == source["geometry"]
    assert {"rel": "derived_from", "href": f"/stac/collections/{S2}/items/{ITEM}",
            "type": "application/geo+json", "title": ITEM} in copy["links"]  # fmt: skip
    href = copy["assets"]["FRE_B4"]["href"]
    assert href == f"/assets/{target}/{ITEM}/FRE_B4.tif"
    delivered = services.storage.local_path(href.removeprefix("/assets/"))
    original = services.storage.local_path(f"{S2}/{ITEM}/FRE_B4.tif")
    assert delivered.read_bytes() == original.read_bytes()

    assert services.licences.terms(target).entities == (people.lab.id,)
    assert target not in services.access.hidden_for(_principal(services, people.ana))
    assert target not in services.access.hidden_for(_principal(services, people.op))
    assert target in services.access.hidden_for(_principal(services, people.chloe))
    history = services.orders.history(people.owner, order.id)
    assert history[-1].note == f"1 item(s) delivered into {target}"


def test_a_tasking_request_is_delivered_with_the_named_items_and_nothing_before(
    hub: Any,
) -> None:
    services = hub.state.services
    people = People(services, "tasking")
    order = _planned_tasking(services, people)
    target = collection_id_for(people.lab.id)
    delivery = _delivery(services)

    with pytest.raises(InvalidInput, match="ids of the acquisition's items") as missing:
        delivery.deliver(people.operator, order.id)
    assert missing.value.field == "items"
    with pytest.raises(NotFound, match="no-such-item"):
        delivery.deliver(people.operator, order.id, items=["no-such-item"])
    with pytest.raises(NotFound, match="no-such-item"):
        delivery.deliver(people.operator, order.id, items=[f"{S2}/no-such-item"])
    with pytest.raises(Forbidden, match="operator"):
        delivery.deliver(people.owner, order.id, items=[ITEM])
    assert services.orders.get(people.owner, order.id).state is State.PLANNED
    with pytest.raises(NotFound):
        services.store.get_collection(target)
    assert services.licences.terms(target).entities == ()
    assert services.storage.list(target) == []

    done = delivery.deliver(people.operator, order.id, items=[ITEM], note="acquired 2027-01-12")
    assert done.order.state is State.DELIVERED and done.items == (ITEM,)
    assert services.store.get_item(target, ITEM)["properties"][ORDER_PROPERTY] == order.id
    assert services.orders.history(people.owner, order.id)[-1].note == "acquired 2027-01-12"
    with pytest.raises(InvalidOrderTransition):  # delivered once
        delivery.deliver(people.operator, order.id, items=[ITEM])


def test_an_archive_delivery_names_no_items(hub: Any) -> None:
    services = hub.state.services
    people = People(services, "extra")
    order = _accepted_archive(services, people)
    with pytest.raises(InvalidInput, match="delivers the items it ordered"):
        _delivery(services).deliver(people.operator, order.id, items=[ITEM])
    assert services.orders.get(people.owner, order.id).state is State.ACCEPTED


class _Raced(OrderBook):
    """An order book where another operator cancels the order just before the delivery's
    move (the race the move's state check settles)."""

    def __init__(self, book: OrderBook, rival: Actor) -> None:
        super().__init__(book.engine, book.table)
        self.rival = rival

    def _mark_delivered(self, actor: Actor, order_id: str, note: str = "") -> Order:
        super().move(self.rival, order_id, State.CANCELLED, "the satellite failed")
        return super()._mark_delivered(actor, order_id, note)


def test_a_delivery_that_loses_its_move_takes_the_copies_and_files_back(hub: Any) -> None:
    services = hub.state.services
    people = People(services, "race")
    order = _planned_tasking(services, people)
    target = collection_id_for(people.lab.id)
    raced = _delivery(services, _Raced(services.orders, people.operator))
    with pytest.raises(InvalidOrderTransition, match="cancelled to delivered"):
        raced.deliver(people.operator, order.id, items=[f"{S2}/{ITEM}"])
    assert services.orders.get(people.owner, order.id).state is State.CANCELLED
    with pytest.raises(NotFound):
        services.store.get_collection(target)
    assert services.storage.list(target) == []


def test_the_http_deliver_move_takes_the_items_and_the_order_links_its_collection(
    hub: Any,
) -> None:
    services = hub.state.services
    people = People(services, "http")
    order = _planned_tasking(services, people)
    _, op_token = services.accounts.create_token(people.op.id, "ops")
    _, ana_token = services.accounts.create_token(people.ana.id, "mine")
    _, chloe_token = services.accounts.create_token(people.chloe.id, "other")
    target = collection_id_for(people.lab.id)
    with TestClient(hub) as client:
        op = {"Authorization": f"Bearer {op_token}"}
        bare = client.post(f"/orders/{order.id}/deliver", headers=op)
        assert bare.status_code == 400 and "items" in bare.json()["description"]
        unknown = client.post(f"/orders/{order.id}/deliver", json={"items": ["nope"]}, headers=op)
        assert unknown.status_code == 404 and "nope" in unknown.json()["description"]
        moved = client.post(f"/orders/{order.id}/deliver", json={"items": [ITEM]}, headers=op)
        assert moved.status_code == 200, moved.text
        assert (moved.json()["state"], moved.json()["delivery_collection"]) == ("delivered", target)
        url = f"/stac/collections/{target}/items/{ITEM}"
        assert client.get(url, headers={"Authorization": f"Bearer {ana_token}"}).status_code == 200
        assert (
            client.get(url, headers={"Authorization": f"Bearer {chloe_token}"}).status_code == 404
        )
        assert client.get(url).status_code == 404
        asset = f"/assets/{target}/{ITEM}/FRE_B4.tif"
        assert (
            client.get(asset, headers={"Authorization": f"Bearer {ana_token}"}).status_code == 200
        )
        assert client.get(asset).status_code == 404
        access_page = client.get("/access").text
        assert target not in access_page and people.lab.name not in access_page


def test_the_portal_deliver_form_takes_the_items_and_the_page_links_the_collection(
    hub: Any,
) -> None:
    services = hub.state.services
    people = People(services, "portal")
    order = _planned_tasking(services, people)
    target = collection_id_for(people.lab.id)
    with TestClient(hub) as browser:
        login = browser.post("/account/login", json={"email": people.op.email,
                                                      "password": PASSWORD})  # fmt: skip
        csrf = login.json()["csrf_token"]
        page = browser.get(f"/profile/orders/{order.id}")
        assert 'name="items"' in page.text  # the deliver form asks for the acquisition
        url = f"/profile/orders/{order.id}/move"
        bare = browser.post(url, data={"csrf_token": csrf, "move": "deliver"})
        assert bare.status_code == 400 and "ids of the acquisition" in bare.text
        done = browser.post(url, data={"csrf_token": csrf, "move": "deliver",
                                       "items": f"\n{S2}/{ITEM}\n"})  # fmt: skip
        assert done.status_code == 200 and 'id="delivery-collection"' in done.text
        assert f"collections/{target}" in done.text
    assert services.orders.get(people.owner, order.id).state is State.DELIVERED
