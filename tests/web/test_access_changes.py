"""A change to what the access policy reads applies to the very next request.

The access service caches each account's standing (roles, entities, profiles, licences) and the
collections' terms. Here its clock is frozen, so a cached standing never expires by itself:
each HTTP or portal path that changes a standing (licence accepted by a user or for an entity,
an entity created, a membership approved, left or removed, a token revoked) must drop the cache
itself, or the next request would still be answered from the old standing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from terrapole.access.accounts import User
from terrapole.app import create_app
from terrapole.catalog.documents import prepare_item
from terrapole.config import Settings

from ..conftest import s2_collection, s2_items

PASSWORD = "a long passphrase 42"
LICENCE = "s2-terms"
LAB = {"name": "A lab", "country": "FR", "kind": "lab", "profile": "french-scientist"}


@dataclass
class Hub:
    """The app over a collection under terms (``LICENCE``, profile french-scientist)."""

    client: TestClient
    app: Any
    collection: str

    @property
    def services(self) -> Any:
        return self.app.state.services

    def user(self, name: str) -> tuple[User, dict[str, str]]:
        """A verified account and the header of one of its API tokens."""
        user = self.services.accounts.create_verified(f"{name}@lab.fr", PASSWORD, name.title())
        _, secret = self.services.accounts.create_token(user.id, "tests")
        return user, {"Authorization": f"Bearer {secret}"}

    def sees(self, headers: dict[str, str]) -> bool:
        """Whether these headers read the collection (200) or get it as unknown (404)."""
        status = self.client.get(f"/stac/collections/{self.collection}", headers=headers)
        assert status.status_code in (200, 404), status.text
        return status.status_code == 200


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Hub:
    app = create_app(Settings(data_dir=tmp_path))
    services = app.state.services
    # a frozen clock: what the access service cached stays cached until it is told to forget
    monkeypatch.setattr(services.access, "_clock", lambda: 0.0)
    collection = s2_collection()
    services.store.create_collection(collection)
    services.store.load_items([prepare_item(d) for d in s2_items()[:1]])
    admin = services.accounts.create_verified("root@hub.fr", PASSWORD, "Root",
                                              roles=frozenset({"admin"}))  # fmt: skip
    services.licences.create(admin, LICENCE, "S2 terms", "Read them.")
    services.licences.set_terms(admin, collection["id"], licence_ids=[LICENCE],
                                profiles=["french-scientist"])  # fmt: skip
    services.access.forget()
    return Hub(TestClient(app), app, collection["id"])


def _lab(hub: Hub, headers: dict[str, str]) -> str:
    made = hub.client.post("/entities", json=LAB, headers=headers)
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _accept(hub: Hub, headers: dict[str, str], entity: str | None = None) -> None:
    body: dict[str, Any] = {"version": 1, "entity_id": entity}
    done = hub.client.post(f"/licences/{LICENCE}/accept", json=body, headers=headers)
    assert done.status_code == 201, done.text


def _member(hub: Hub, referent: dict[str, str], entity: str, name: str) -> dict[str, str]:
    """A new account that joined ``entity`` (approved by its referent) and accepted the licence."""
    user, headers = hub.user(name)
    assert hub.client.post(f"/entities/{entity}/join", headers=headers).status_code == 201
    approved = hub.client.post(f"/entities/{entity}/requests/{user.id}/approve", headers=referent)
    assert approved.status_code == 200, approved.text
    _accept(hub, headers)
    return headers


# -- the JSON API ---------------------------------------------------------------------------


def test_accepting_the_licence_shows_the_collection_at_once(hub: Hub) -> None:
    _, ana = hub.user("ana")
    _lab(hub, ana)
    assert not hub.sees(ana)  # cached: a member without the licence
    _accept(hub, ana)
    assert hub.sees(ana)


def test_a_referent_accepting_for_the_entity_opens_it_to_every_member_at_once(hub: Hub) -> None:
    _, ana = hub.user("ana")
    lab = _lab(hub, ana)
    ben, ben_headers = hub.user("ben")
    hub.client.post(f"/entities/{lab}/join", headers=ben_headers)
    hub.client.post(f"/entities/{lab}/requests/{ben.id}/approve", headers=ana)
    assert not hub.sees(ben_headers)
    _accept(hub, ana, entity=lab)
    assert hub.sees(ben_headers)


def test_creating_an_eligible_entity_gives_its_profile_at_once(hub: Hub) -> None:
    _, ana = hub.user("ana")
    _accept(hub, ana)  # the licence, but no entity: no profile yet
    assert not hub.sees(ana)
    _lab(hub, ana)
    assert hub.sees(ana)


def test_an_approved_membership_gives_the_entitys_profile_at_once(hub: Hub) -> None:
    _, ana = hub.user("ana")
    lab = _lab(hub, ana)
    ben, ben_headers = hub.user("ben")
    _accept(hub, ben_headers)
    assert hub.client.post(f"/entities/{lab}/join", headers=ben_headers).status_code == 201
    assert not hub.sees(ben_headers)  # a pending request gives nothing
    hub.client.post(f"/entities/{lab}/requests/{ben.id}/approve", headers=ana)
    assert hub.sees(ben_headers)


def test_leaving_the_entity_takes_its_profile_away_at_once(hub: Hub) -> None:
    _, ana = hub.user("ana")
    lab = _lab(hub, ana)
    ben = _member(hub, ana, lab, "ben")
    assert hub.sees(ben)
    assert hub.client.post(f"/entities/{lab}/leave", headers=ben).status_code == 200
    assert not hub.sees(ben)


def test_a_member_removed_by_the_referent_loses_the_collection_at_once(hub: Hub) -> None:
    _, ana = hub.user("ana")
    lab = _lab(hub, ana)
    ben = _member(hub, ana, lab, "ben")
    ben_id = hub.client.get("/account/me", headers=ben).json()["id"]
    assert hub.sees(ben)
    removed = hub.client.post(f"/entities/{lab}/members/{ben_id}/remove", headers=ana)
    assert removed.status_code == 200, removed.text
    assert not hub.sees(ben)


def test_a_revoked_token_is_refused_at_once(hub: Hub) -> None:
    ana, headers = hub.user("ana")
    _lab(hub, headers)
    _accept(hub, headers)
    assert hub.sees(headers)
    name, secret = hub.services.accounts.create_token(ana.id, "spare")
    spare = {"Authorization": f"Bearer {secret}"}
    assert hub.sees(spare)
    assert hub.client.delete(f"/account/tokens/{name}", headers=headers).status_code == 204
    assert hub.client.get(f"/stac/collections/{hub.collection}", headers=spare).status_code == 401
    assert hub.sees(headers)  # the other token is untouched


# -- the portal's forms ---------------------------------------------------------------------


def _signed_in(hub: Hub, name: str) -> tuple[TestClient, str]:
    """A browser signed in to a new account, and its session's CSRF token."""
    hub.services.accounts.create_verified(f"{name}@lab.fr", PASSWORD, name.title())
    browser = TestClient(hub.app)
    done = browser.post("/login", data={"email": f"{name}@lab.fr", "password": PASSWORD,
                                        "next": "/profile",
                                        "csrf_token": _csrf(browser.get("/login").text)})  # fmt: skip
    assert done.status_code == 200 and "tp_session" in browser.cookies
    return browser, _csrf(browser.get("/profile").text)


def _csrf(page: str) -> str:
    """The CSRF token of a page's form."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF field on the page"
    return found.group(1)


def _browser_sees(hub: Hub, browser: TestClient) -> bool:
    status = browser.get(f"/stac/collections/{hub.collection}").status_code
    assert status in (200, 404)
    return status == 200


def _form(browser: TestClient, path: str, csrf: str, **fields: str) -> None:
    done = browser.post(path, data={"csrf_token": csrf, **fields}, follow_redirects=False)
    assert done.status_code == 303, done.text


def test_the_portal_creating_an_entity_and_accepting_the_licence_apply_at_once(hub: Hub) -> None:
    browser, csrf = _signed_in(hub, "ana")
    _form(browser, "/profile/entities", csrf, **LAB)
    assert not _browser_sees(hub, browser)  # cached: a member without the licence
    _form(browser, f"/profile/licences/{LICENCE}/accept", csrf, version="1")
    assert _browser_sees(hub, browser)


def test_the_portal_approving_a_member_and_accepting_for_the_entity_apply_at_once(
    hub: Hub,
) -> None:
    ana, ana_csrf = _signed_in(hub, "ana")
    _form(ana, "/profile/entities", ana_csrf, **LAB)
    (lab,) = hub.services.entities.all()
    ben, ben_csrf = _signed_in(hub, "ben")
    _form(ben, f"/profile/entities/{lab.id}/join", ben_csrf)
    assert not _browser_sees(hub, ben)
    ben_id = hub.services.accounts.by_email("ben@lab.fr").id
    _form(ana, f"/profile/entities/{lab.id}/requests/{ben_id}/approve", ana_csrf)
    assert not _browser_sees(hub, ben)  # a member now, still without the licence: cached again
    _form(ana, f"/profile/licences/{LICENCE}/accept", ana_csrf, version="1", entity_id=lab.id)
    assert _browser_sees(hub, ben)


def test_the_portal_revoking_a_token_refuses_it_at_once(hub: Hub) -> None:
    browser, csrf = _signed_in(hub, "ana")
    ana = hub.services.accounts.by_email("ana@lab.fr")
    name, secret = hub.services.accounts.create_token(ana.id, "laptop")
    token = {"Authorization": f"Bearer {secret}"}
    assert hub.client.get("/account/me", headers=token).status_code == 200
    _form(browser, "/profile/tokens/revoke", csrf, name=name)
    assert hub.client.get("/account/me", headers=token).status_code == 401
