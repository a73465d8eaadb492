"""Order mails: who hears of each move and in which words (pure), and their receipt through a
real local SMTP server (aiosmtpd) when the order moves over the app's HTTP API."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from terrapole.access.order_mails import AUDIENCES, Audience, Move, Recipient, order_mails
from terrapole.access.order_workflow import State
from terrapole.access.orders import Order
from terrapole.access.pricing import Family, Kind
from terrapole.access.profiles import Profile
from terrapole.app import create_app
from terrapole.config import Settings

from .conftest import Inbox

OWNER = Recipient("u-ana", "ana@lab.example", "Ana")
REFERENT = Recipient("u-rita", "rita@lab.example", "Rita", lang="fr")
OPERATORS = [Recipient("u-oscar", "oscar@hub.example", "Oscar"),
             Recipient("u-olga", "olga@hub.example", "Olga")]  # fmt: skip
PEOPLE = {Audience.OWNER: [OWNER], Audience.REFERENT: [REFERENT], Audience.OPERATORS: OPERATORS}
LINK = "https://hub.example/profile/orders/0123456789abcdef"


def _order(state: State) -> Order:
    return Order("0123456789abcdef", Kind.TASKING, state, "lab", OWNER.user_id,
                 Profile.FRENCH_SCIENTIST, Family.PLEIADES, "2027-Q1", {}, None, 345.67)  # fmt: skip


def _mails(state: State, by: Recipient, **extra: Any) -> dict[str, Any]:
    move = Move(_order(state), by, "Lab of Toulouse", LINK, **extra)
    return {m.to: m for m in order_mails(move, PEOPLE)}


def test_a_submitted_order_asks_the_referent_in_their_language() -> None:
    mails = _mails(State.SUBMITTED, OWNER)
    assert list(mails) == ["rita@lab.example"]
    mail = mails["rita@lab.example"]
    assert mail.subject == "terrapole : une commande attend votre approbation"
    assert "Soumise par Ana : la demande de programmation 0123456789abcdef" in mail.body
    assert "345.7 km², Lab of Toulouse" in mail.body and LINK in mail.body


def test_an_approved_order_goes_to_every_operator() -> None:
    mails = _mails(State.APPROVED, REFERENT)
    assert sorted(mails) == ["olga@hub.example", "oscar@hub.example"]
    mail = mails["oscar@hub.example"]
    assert mail.subject == "terrapole: order 01234567 approved, to accept"
    assert "The referent of Lab of Toulouse approved the tasking request" in mail.body


@pytest.mark.parametrize(
    "state", [State.ACCEPTED, State.PLANNED, State.DELIVERED, State.CLOSED]
)  # fmt: skip
def test_the_operators_moves_are_told_to_the_owner_only(state: State) -> None:
    mails = _mails(state, OPERATORS[0], note="on schedule")
    assert list(mails) == ["ana@lab.example"]
    assert mails["ana@lab.example"].subject == f"terrapole: order 01234567 is {state}"
    assert f"is now {state} (Oscar)" in mails["ana@lab.example"].body
    assert "Note: on schedule" in mails["ana@lab.example"].body


@pytest.mark.parametrize("state", [State.REFUSED, State.CANCELLED])
def test_a_refusal_or_cancellation_is_told_to_the_owner_and_the_referent(state: State) -> None:
    mails = _mails(state, OPERATORS[1])
    assert sorted(mails) == ["ana@lab.example", "rita@lab.example"]
    word = {State.REFUSED: "refusée", State.CANCELLED: "annulée"}[state]
    assert mails["rita@lab.example"].subject == (
        f"terrapole : la commande 01234567 de Lab of Toulouse est {word}"
    )


def test_nobody_is_mailed_about_their_own_move() -> None:
    assert _mails(State.CANCELLED, OWNER).keys() == {"rita@lab.example"}
    assert _mails(State.CLOSED, OWNER) == {}
    assert set(AUDIENCES) == set(State) - {State.DRAFT}


def test_the_delivery_mail_links_the_collection() -> None:
    where = "https://hub.example/collections/orders-lab"
    mail = _mails(State.DELIVERED, OPERATORS[0], delivered_to=where)["ana@lab.example"]
    assert f"Its products are in your entity's collection:\n{where}" in mail.body


# -- receipt through SMTP ------------------------------------------------------------------------


def _received(inbox: Inbox) -> list[tuple[str, str, str]]:
    out = []
    for message in inbox.messages:
        body = message.get_payload(decode=True)
        assert isinstance(body, bytes)
        out.append((str(message["To"]), str(message["Subject"]), body.decode()))
    inbox.messages.clear()
    return out


def test_order_moves_reach_the_referent_the_operator_and_the_owner_by_smtp(
    tmp_path: Path, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    app = create_app(Settings(data_dir=tmp_path, public_url="https://hub.example",
                              smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False))  # fmt: skip
    services = app.state.services
    accounts, entities = services.accounts, services.entities
    rita = accounts.create_verified("rita@lab.example", "a long passphrase 42", "Rita")
    ana = accounts.create_verified("ana@lab.example", "a long passphrase 42", "Ana")
    accounts.create_verified("op@hub.example", "a long passphrase 42", "Operator",
                             roles=frozenset({"admin"}))  # fmt: skip
    lab = entities.create(rita, name="Lab", country="FR", kind="lab",
                          profile_name="french-scientist")  # fmt: skip
    entities.request(ana, lab.id)
    entities.approve(rita, lab.id, ana.id)
    services.access.forget()
    token = {u.email: accounts.create_token(u.id, "t")[1] for u in accounts.all()}

    def post(email: str, url: str, **body: Any) -> Any:
        answer = client.post(url, json=body or None,
                             headers={"Authorization": f"Bearer {token[email]}"})  # fmt: skip
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    aoi = {"type": "Polygon", "coordinates": [[[1.3, 43.5], [1.5, 43.5], [1.5, 43.7],
                                               [1.3, 43.7], [1.3, 43.5]]]}  # fmt: skip
    with TestClient(app) as client:
        order = post("ana@lab.example", "/orders", kind="tasking", entity_id=lab.id, aoi=aoi,
                     start=str(date(2027, 1, 1)), end=str(date(2027, 2, 1)))  # fmt: skip
        link = f"https://hub.example/profile/orders/{order['id']}"
        post("ana@lab.example", f"/orders/{order['id']}/submit")
        ((to, subject, body),) = _received(inbox)
        assert (to, subject) == ("rita@lab.example", "terrapole: an order awaits your approval")
        assert "Submitted by Ana: the tasking request" in body and link in body

        post("rita@lab.example", f"/orders/{order['id']}/approve", note="fine")
        ((to, subject, body),) = _received(inbox)
        assert (to, subject) == ("op@hub.example", f"terrapole: order {order['id'][:8]} "
                                 "approved, to accept")  # fmt: skip
        assert "Note: fine" in body and link in body

        post("op@hub.example", f"/orders/{order['id']}/refuse", note="no satellite free")
        received = {to: (subject, body) for to, subject, body in _received(inbox)}
        assert set(received) == {"ana@lab.example", "rita@lab.example"}
        assert received["ana@lab.example"][0] == f"terrapole: order {order['id'][:8]} is refused"
        assert "Note: no satellite free" in received["ana@lab.example"][1]
