"""The setting ``mail_language`` picks the language of the order mails (accounts keep none):
French mails received by a real local SMTP server when an order moves over the HTTP API."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from terrapole.app import create_app
from terrapole.config import Settings

from ..access.conftest import Inbox, smtp
from ..access.test_order_mails import _received

__all__ = ["smtp"]  # the fixture, used by name below

PASSWORD = "a long passphrase 42"
AOI = {"type": "Polygon", "coordinates": [[[1.3, 43.5], [1.5, 43.5], [1.5, 43.7], [1.3, 43.7],
                                           [1.3, 43.5]]]}  # fmt: skip


def test_order_mails_are_in_the_configured_language(
    tmp_path: Path, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    app = create_app(Settings(data_dir=tmp_path, public_url="https://hub.example",
                              smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
                              mail_language="fr"))  # fmt: skip
    services = app.state.services
    accounts = services.accounts
    rita = accounts.create_verified("rita@lab.example", PASSWORD, "Rita")
    ana = accounts.create_verified("ana@lab.example", PASSWORD, "Ana")
    lab = services.entities.create(rita, name="Lab", country="FR", kind="lab",
                                   profile_name="french-scientist")  # fmt: skip
    services.entities.request(ana, lab.id)
    services.entities.approve(rita, lab.id, ana.id)
    services.access.forget()
    headers = {"Authorization": f"Bearer {accounts.create_token(ana.id, 't')[1]}"}

    def post(url: str, **body: Any) -> Any:
        answer = client.post(url, json=body or None, headers=headers)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    with TestClient(app) as client:
        order = post("/orders", kind="tasking", entity_id=lab.id, aoi=AOI,
                     start=str(date(2027, 1, 1)), end=str(date(2027, 2, 1)))  # fmt: skip
        post(f"/orders/{order['id']}/submit")
        ((to, subject, body),) = _received(inbox)
    assert (to, subject) == (
        "rita@lab.example",
        "terrapole : une commande attend votre approbation",
    )
    assert "la demande de programmation" in body and "attend votre approbation" in body


def test_the_mail_language_is_checked() -> None:
    assert Settings().mail_language == "en"
    with pytest.raises(ValueError, match="mail_language"):
        Settings(mail_language="de")
