"""The accounts, entities, licences and orders JSON API over the real app: sessions with
HttpOnly/SameSite cookies and CSRF tokens, API tokens without CSRF, the referent's decisions,
licence versions, and the order workflow with its quota (clear 4xx, nothing half-written)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from terrapole.access.mail import LogMailer
from terrapole.app import create_app
from terrapole.catalog.documents import prepare_item
from terrapole.config import Settings

from ..conftest import s2_collection, s2_items

PASSWORD = "a long passphrase 42"
# a 0.2° × 0.2° square near Toulouse: about 22 km × 16 km, well over the 100 km² of tasking
AOI = {
    "type": "Polygon",
    "coordinates": [[[1.3, 43.5], [1.5, 43.5], [1.5, 43.7], [1.3, 43.7], [1.3, 43.5]]],
}


@pytest.fixture
def app(tmp_path: Path) -> Any:
    return create_app(Settings(data_dir=tmp_path))


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def _mailer(app: Any) -> LogMailer:
    mailer = app.state.services.accounts.mailer
    assert isinstance(mailer, LogMailer)  # no SMTP server configured: mails are logged
    return mailer


def _link(app: Any, page: str) -> str:
    body = _mailer(app).sent[-1].body
    found = re.search(rf"/account/{page}\?token=(\S+)", body)
    assert found, body
    return found.group(1)


def _signed_in(app: Any, email: str, name: str) -> tuple[TestClient, str]:
    """A new client with a verified account signed in: the client and its CSRF token."""
    browser = TestClient(app)
    assert browser.post("/account/signup", json={"email": email, "password": PASSWORD,
                                                  "display_name": name}).status_code == 201  # fmt: skip
    assert browser.get("/account/verify", params={"token": _link(app, "verify")}).status_code == 200
    login = browser.post("/account/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return browser, login.json()["csrf_token"]


def test_sign_up_refuses_weak_passwords_by_rule_and_writes_nothing(
    app: Any, client: TestClient
) -> None:
    weak = client.post("/account/signup", json={"email": "ana@lab.fr", "password": "short",
                                                        "display_name": "Ana"})  # fmt: skip
    assert weak.status_code == 400
    assert "at least 12 characters" in weak.json()["description"]
    assert _mailer(app).sent == []
    assert app.state.services.accounts.all() == []


def test_verification_link_works_once_then_login_sets_a_lax_http_only_cookie(
    app: Any, client: TestClient
) -> None:
    signed = client.post(
        "/account/signup", json={"email": "Ana@Lab.fr", "password": PASSWORD, "display_name": "Ana"}
    )
    assert signed.status_code == 201 and signed.json()["verified"] is False
    unverified = client.post("/account/login", json={"email": "ana@lab.fr", "password": PASSWORD})
    assert unverified.status_code == 403
    token = _link(app, "verify")
    assert client.get("/account/verify", params={"token": token}).json()["verified"] is True
    replay = client.get("/account/verify", params={"token": token})
    assert replay.status_code == 400 and "already used" in replay.json()["description"]

    login = client.post("/account/login", json={"email": "ana@lab.fr", "password": PASSWORD})
    assert login.status_code == 200
    cookie = login.headers["set-cookie"]
    assert cookie.startswith("tp_session=") and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie and "Secure" not in cookie  # served over http here
    me = client.get("/account/me").json()
    assert (me["email"], me["csrf_token"]) == ("Ana@Lab.fr", login.json()["csrf_token"])


def test_a_browser_following_the_mailed_link_lands_on_the_portal_page(
    app: Any, client: TestClient
) -> None:
    client.post("/account/signup", json={"email": "ana@lab.fr", "password": PASSWORD,
                                         "display_name": "Ana"})  # fmt: skip
    token = _link(app, "verify")
    html = client.get(
        "/account/verify", params={"token": token}, headers={"accept": "text/html"},
        follow_redirects=False,
    )  # fmt: skip
    assert html.status_code == 303 and html.headers["location"].endswith(f"/verify?token={token}")
    assert app.state.services.accounts.by_email("ana@lab.fr").verified is False  # not yet used


def test_the_cookie_is_secure_behind_an_https_public_url(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, public_url="https://hub.example"))
    accounts = app.state.services.accounts
    accounts.create_verified("ana@lab.fr", PASSWORD, "Ana")
    with TestClient(app, base_url="https://hub.example") as client:
        login = client.post("/account/login", json={"email": "ana@lab.fr", "password": PASSWORD})
    assert login.status_code == 200 and "Secure" in login.headers["set-cookie"]


def test_posts_with_the_cookie_need_the_csrf_token_bearer_tokens_do_not(app: Any) -> None:
    browser, csrf = _signed_in(app, "ana@lab.fr", "Ana")
    missing = browser.post("/account/tokens", json={"label": "laptop"})
    assert missing.status_code == 403 and "X-CSRF-Token" in missing.json()["description"]
    wrong = browser.post("/account/tokens", json={"label": "laptop"},
                         headers={"X-CSRF-Token": "forged"})  # fmt: skip
    assert wrong.status_code == 403
    assert browser.get("/account/tokens").json() == {"tokens": []}  # nothing was made

    made = browser.post("/account/tokens", json={"label": "laptop"}, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201
    name, secret = made.json()["name"], made.json()["token"]
    with TestClient(app) as script:  # no cookie: the API token alone, and no CSRF
        bearer = {"Authorization": f"Bearer {secret}"}
        assert script.get("/account/me", headers=bearer).json()["email"] == "ana@lab.fr"
        second = script.post("/account/tokens", json={"label": "ci"}, headers=bearer)
        assert second.status_code == 201
        gone = script.delete(f"/account/tokens/{name}", headers=bearer)
        assert gone.status_code == 204
        assert script.get("/account/me", headers=bearer).status_code == 401  # revoked itself


def test_logout_needs_csrf_and_ends_the_session(app: Any) -> None:
    browser, csrf = _signed_in(app, "ana@lab.fr", "Ana")
    assert browser.post("/account/logout").status_code == 403
    assert browser.get("/account/me").status_code == 200
    assert browser.post("/account/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert browser.get("/account/me").status_code == 401


def test_login_is_rate_limited_with_retry_after(app: Any, client: TestClient) -> None:
    app.state.services.accounts.create_verified("ana@lab.fr", PASSWORD, "Ana")
    bad = {"email": "ana@lab.fr", "password": "not the passphrase"}
    codes = [client.post("/account/login", json=bad).status_code for _ in range(5)]
    assert codes == [401] * 5
    limited = client.post("/account/login", json={"email": "ana@lab.fr", "password": PASSWORD})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert "too many failed logins" in limited.json()["description"]
    assert "set-cookie" not in limited.headers


def test_password_reset_by_mail_ends_every_session(app: Any, client: TestClient) -> None:
    browser, _ = _signed_in(app, "ana@lab.fr", "Ana")
    asked = client.post("/account/reset-request", json={"email": "ANA@lab.fr"})
    assert asked.status_code == 202
    unknown = client.post("/account/reset-request", json={"email": "nobody@lab.fr"})
    assert unknown.status_code == 202 and unknown.json() == asked.json()  # says nothing
    token = _link(app, "reset")
    weak = client.post("/account/reset", json={"token": token, "password": "password"})
    assert weak.status_code == 400
    done = client.post("/account/reset", json={"token": token, "password": "another passphrase 7"})
    assert done.status_code == 200
    assert client.post("/account/reset", json={"token": token, "password": "yet another 77 x"}
                       ).status_code == 400  # fmt: skip
    assert browser.get("/account/me").status_code == 401


def test_entity_requests_are_decided_by_its_referent_only(app: Any) -> None:
    ana, ana_csrf = _signed_in(app, "ana@lab.fr", "Ana")
    ben, ben_csrf = _signed_in(app, "ben@lab.fr", "Ben")
    cho, cho_csrf = _signed_in(app, "cho@other.fr", "Cho")
    bad = ana.post("/entities", json={"name": "Lab", "country": "FR", "kind": "lab",
                                      "profile": "french-scientist", "siren": "123456789"},
                   headers={"X-CSRF-Token": ana_csrf})  # fmt: skip
    assert bad.status_code == 400 and "SIREN" in bad.json()["description"]
    made = ana.post("/entities", json={"name": "GET Lab", "country": "FR", "kind": "lab",
                                       "profile": "french-scientist"},
                    headers={"X-CSRF-Token": ana_csrf})  # fmt: skip
    assert made.status_code == 201, made.text
    entity = made.json()["id"]

    assert ben.post(f"/entities/{entity}/join").status_code == 403  # no CSRF
    joined = ben.post(f"/entities/{entity}/join", headers={"X-CSRF-Token": ben_csrf})
    assert joined.status_code == 201 and joined.json()["status"] == "pending"
    ben_id = joined.json()["user_id"]
    assert "members" not in ben.get(f"/entities/{entity}").json()  # not a member yet

    other = cho.post(f"/entities/{entity}/requests/{ben_id}/approve",
                     headers={"X-CSRF-Token": cho_csrf})  # fmt: skip
    assert other.status_code == 403
    view = ana.get(f"/entities/{entity}").json()
    assert [r["email"] for r in view["requests"]] == ["ben@lab.fr"]
    approved = ana.post(f"/entities/{entity}/requests/{ben_id}/approve",
                        headers={"X-CSRF-Token": ana_csrf})  # fmt: skip
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["profile"]) == ("member", "french-scientist")
    members = ben.get(f"/entities/{entity}/members").json()
    assert sorted(m["email"] for m in members["members"]) == ["ana@lab.fr", "ben@lab.fr"]
    assert members["requests"] == []  # requests are the referent's business
    assert cho.get(f"/entities/{entity}/members").status_code == 404


def test_licences_are_accepted_at_their_current_version(app: Any) -> None:
    services = app.state.services
    admin = services.accounts.create_verified(
        "root@hub.fr", PASSWORD, "Root", roles=frozenset({"admin"})
    )
    services.licences.create(admin, "pleiades-science", "Pléiades science", "Use it for science.")
    services.licences.publish(admin, "pleiades-science", "Use it for science only.")
    ana, csrf = _signed_in(app, "ana@lab.fr", "Ana")
    (listed,) = ana.get("/licences").json()["licences"]
    assert (listed["id"], listed["version"], listed["needs_acceptance"]) == (
        "pleiades-science", 2, True,
    )  # fmt: skip
    stale = ana.post("/licences/pleiades-science/accept", json={"version": 1},
                     headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert stale.status_code == 400 and "not the current 2" in stale.json()["description"]
    ok = ana.post("/licences/pleiades-science/accept", json={"version": 2},
                  headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert ok.status_code == 201 and ok.json()["holder"] == "user"
    assert ana.get("/licences").json()["licences"][0]["needs_acceptance"] is False


def test_tasking_order_moves_by_role_and_order_and_debits_its_quota(app: Any) -> None:
    services = app.state.services
    services.accounts.create_verified("op@hub.fr", PASSWORD, "Operator",
                                      roles=frozenset({"admin"}))  # fmt: skip
    ana, a_csrf = _signed_in(app, "ana@lab.fr", "Ana")
    entity = ana.post("/entities", json={"name": "Lab", "country": "FR", "kind": "lab",
                                         "profile": "french-scientist"},
                      headers={"X-CSRF-Token": a_csrf}).json()["id"]  # fmt: skip
    small = dict(AOI, coordinates=[[[1.3, 43.5], [1.31, 43.5], [1.31, 43.51], [1.3, 43.5]]])
    tiny = ana.post("/orders", json={"kind": "tasking", "entity_id": entity, "aoi": small,
                                     "start": "2027-01-01", "end": "2027-02-01"},
                    headers={"X-CSRF-Token": a_csrf})  # fmt: skip
    assert tiny.status_code == 400 and "100 km²" in tiny.json()["description"]
    drafted = ana.post("/orders", json={"kind": "tasking", "entity_id": entity, "aoi": AOI,
                                        "start": "2027-01-01", "end": "2027-02-01",
                                        "mode": "stereo"},
                       headers={"X-CSRF-Token": a_csrf})  # fmt: skip
    assert drafted.status_code == 201, drafted.text
    order = drafted.json()
    assert order["state"] == "draft" and 300 < order["km2"] < 400
    assert order["quota"]["remaining_km2"] == 5500.0

    quote = ana.post(f"/orders/{order['id']}/quote", headers={"X-CSRF-Token": a_csrf}).json()
    assert quote["quota_used"] == pytest.approx(order["km2"]) and quote["price_eur"] == 0
    early = ana.post(f"/orders/{order['id']}/deliver", headers={"X-CSRF-Token": a_csrf})
    assert early.status_code == 409 and "cannot go from draft to delivered" in early.text
    submitted = ana.post(f"/orders/{order['id']}/submit", json={"accept_price_eur": 0},
                         headers={"X-CSRF-Token": a_csrf}).json()  # fmt: skip
    assert submitted["state"] == "submitted"
    assert submitted["quota"]["remaining_km2"] == pytest.approx(5500 - order["km2"])

    with TestClient(app) as op:
        login = op.post("/account/login", json={"email": "op@hub.fr", "password": PASSWORD})
        o_csrf = login.json()["csrf_token"]
        too_soon = op.post(f"/orders/{order['id']}/accept", headers={"X-CSRF-Token": o_csrf})
        assert too_soon.status_code == 409  # the referent approves first
        assert op.get(f"/orders/{order['id']}").json()["state"] == "submitted"  # unchanged
        # Ana is the referent too: she approves, then the operator accepts and plans
        approved = ana.post(f"/orders/{order['id']}/approve", json={"note": "fine"},
                            headers={"X-CSRF-Token": a_csrf})  # fmt: skip
        assert approved.json()["state"] == "approved"
        owner_accepts = ana.post(f"/orders/{order['id']}/accept", headers={"X-CSRF-Token": a_csrf})
        assert owner_accepts.status_code == 403  # an operator's move
        for move in ("accept", "plan"):
            moved = op.post(f"/orders/{order['id']}/{move}", headers={"X-CSRF-Token": o_csrf})
            assert moved.status_code == 200, moved.text
        # the acquisition, ingested somewhere, is delivered into the entity's collection
        acquired = s2_items()[0]
        services.store.create_collection(s2_collection())
        services.store.load_items([prepare_item(acquired)])
        moved = op.post(f"/orders/{order['id']}/deliver", json={"items": [acquired["id"]]},
                        headers={"X-CSRF-Token": o_csrf})  # fmt: skip
        assert moved.status_code == 200, moved.text
    final = ana.get(f"/orders/{order['id']}").json()
    assert [s["finish"] for s in final["history"]] == [
        "draft", "submitted", "approved", "accepted", "planned", "delivered",
    ]  # fmt: skip
    assert final["history"][2]["note"] == "fine"
    mails = [m.subject for m in _mailer(app).sent if m.to == "ana@lab.fr"]
    assert mails[-1].endswith("is delivered")
    unknown = ana.post(f"/orders/{order['id']}/teleport", headers={"X-CSRF-Token": a_csrf})
    assert unknown.status_code == 400 and "teleport" in unknown.json()["description"]


def test_only_members_order_for_an_entity(app: Any) -> None:
    ana, a_csrf = _signed_in(app, "ana@lab.fr", "Ana")
    ben, b_csrf = _signed_in(app, "ben@lab.fr", "Ben")
    entity = ana.post("/entities", json={"name": "Lab", "country": "FR", "kind": "lab",
                                         "profile": "french-scientist"},
                      headers={"X-CSRF-Token": a_csrf}).json()["id"]  # fmt: skip
    refused = ben.post("/orders", json={"kind": "tasking", "entity_id": entity, "aoi": AOI,
                                        "start": "2027-01-01", "end": "2027-02-01"},
                       headers={"X-CSRF-Token": b_csrf})  # fmt: skip
    assert refused.status_code == 403 and "not a member" in refused.json()["description"]
    drafted = ana.post("/orders", json={"kind": "tasking", "entity_id": entity, "aoi": AOI,
                                        "start": "2027-01-01", "end": "2027-02-01"},
                       headers={"X-CSRF-Token": a_csrf}).json()  # fmt: skip
    assert ben.get(f"/orders/{drafted['id']}").status_code == 404  # not his to see


def test_a_session_reads_a_collection_once_its_licence_is_accepted_and_orders_from_it(
    app: Any,
) -> None:
    services = app.state.services
    collection = s2_collection()
    items = s2_items()[:3]
    services.store.create_collection(collection)
    services.store.load_items([prepare_item(d) for d in items])
    admin = services.accounts.create_verified("root@hub.fr", PASSWORD, "Root",
                                              roles=frozenset({"admin"}))  # fmt: skip
    services.licences.create(admin, "s2-terms", "S2 terms", "Read them.")
    services.licences.set_terms(admin, collection["id"], licence_ids=["s2-terms"],
                                profiles=["french-scientist"])  # fmt: skip
    services.access.forget()
    ana, csrf = _signed_in(app, "ana@lab.fr", "Ana")
    entity = ana.post("/entities", json={"name": "Lab", "country": "FR", "kind": "lab",
                                         "profile": "french-scientist"},
                      headers={"X-CSRF-Token": csrf}).json()["id"]  # fmt: skip
    item = items[0]
    lon, lat = (item["bbox"][0] + item["bbox"][2]) / 2, (item["bbox"][1] + item["bbox"][3]) / 2
    aoi = {"type": "Polygon", "coordinates": [[[lon - .05, lat - .05], [lon + .05, lat - .05],
           [lon + .05, lat + .05], [lon - .05, lat + .05], [lon - .05, lat - .05]]]}  # fmt: skip
    order = {"kind": "archive", "entity_id": entity, "family": "pleiades",
             "collection": collection["id"], "items": [item["id"]], "aoi": aoi}  # fmt: skip
    path = f"/stac/collections/{collection['id']}"
    assert ana.get(path).status_code == 404  # the licence is not accepted yet
    assert ana.post("/orders", json=order, headers={"X-CSRF-Token": csrf}).status_code == 404

    accepted = ana.post("/licences/s2-terms/accept", json={"version": 1},
                        headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert accepted.status_code == 201
    assert ana.get(path).status_code == 200  # the session now reads it
    search = ana.post("/stac/search", json={"collections": [collection["id"]]})
    assert search.json()["features"] == []  # a cookie alone never counts on a post
    drafted = ana.post("/orders", json=order, headers={"X-CSRF-Token": csrf})
    assert drafted.status_code == 201, drafted.text
    assert 50 < drafted.json()["km2"] < 150  # the AOI's ~0.1° square, inside the footprint
    assert drafted.json()["request"]["items"] == [item["id"]]


def test_malformed_orders_and_forms_are_400_naming_the_field(app: Any) -> None:
    ana, csrf = _signed_in(app, "ana@lab.fr", "Ana")
    entity = ana.post("/entities", json={"name": "Lab", "country": "FR", "kind": "lab",
                                         "profile": "french-scientist"},
                      headers={"X-CSRF-Token": csrf}).json()["id"]  # fmt: skip
    base = {"kind": "tasking", "entity_id": entity, "start": "2027-01-01", "end": "2027-02-01"}
    bow_tie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    cases = [
        ({"aoi": bow_tie}, "Self-intersection"),
        ({"aoi": AOI, "max_cloud": True}, "max_cloud"),
        ({"aoi": AOI, "family": "landsat"}, "family"),
        ({"aoi": AOI, "start": "2027-03-01"}, "ends (2027-02-01) before it starts"),
    ]
    for extra, message in cases:
        refused = ana.post("/orders", json={**base, **extra}, headers={"X-CSRF-Token": csrf})
        assert refused.status_code == 400 and message in refused.json()["description"], extra
    many = "&".join(f"f{i}=1" for i in range(101))
    flood = ana.post("/profile/tokens", content=many,
                     headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert flood.status_code == 400 and "more than 100 fields" in flood.json()["description"]
    assert ana.get("/account/tokens").json() == {"tokens": []}
