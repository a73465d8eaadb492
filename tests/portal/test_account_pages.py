"""The account, entity, licence and order pages: forms with CSRF tokens, errors shown with their
4xx, French and English; and the whole flow in Chromium (sign-up → mailed link → verify → log
in → create an entity → a second user asks to join → the referent approves → accept a licence
→ draw an order's AOI on the map → quote → submit)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page

from terrapole.access.mail import LogMailer
from terrapole.app import create_app
from terrapole.config import Settings

from ..conftest import needs_chromium
from ..stac_api.live import serve

PASSWORD = "a long passphrase 42"
SHOTS: str | None = None  # set to a folder to keep the screenshots when looking at the pages


@pytest.fixture
def app(tmp_path: Path) -> Any:
    return create_app(Settings(data_dir=tmp_path))


def _mailer(app: Any) -> LogMailer:
    mailer = app.state.services.accounts.mailer
    assert isinstance(mailer, LogMailer)
    return mailer


def _link(app: Any, page: str) -> str:
    found = re.search(rf"/account/{page}\?token=(\S+)", _mailer(app).sent[-1].body)
    assert found
    return found.group(1)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def _form(client: TestClient, page: str, **fields: str) -> dict[str, str]:
    """The fields of a form posted before a session exists, with the page's CSRF token (the
    page sets the cookie that goes with it)."""
    return {**fields, "csrf_token": _csrf(client.get(page).text)}


def _logged_in(app: Any, email: str) -> TestClient:
    client = TestClient(app)
    app.state.services.accounts.create_verified(email, PASSWORD, email.split("@")[0].title())
    form = _form(client, "/login", email=email, password=PASSWORD, next="/profile")
    done = client.post("/login", data=form)
    assert done.status_code == 200 and "tp_session" in client.cookies
    return client


def test_sign_up_form_shows_the_rule_a_weak_password_breaks(app: Any) -> None:
    with TestClient(app) as client:
        page = client.get("/signup")
        assert page.status_code == 200 and 'name="password"' in page.text
        weak = client.post("/signup", data=_form(client, "/signup", email="ana@lab.fr",
                                                 display_name="Ana", password="password1234"))  # fmt: skip
        assert weak.status_code == 400
        assert "most common passwords" in weak.text and 'value="ana@lab.fr"' in weak.text
        assert app.state.services.accounts.all() == []
        made = client.post("/signup", data=_form(client, "/signup", email="ana@lab.fr",
                                                 display_name="Ana", password=PASSWORD))  # fmt: skip
        assert made.status_code == 201 and "verify your address" in made.text


def test_the_verify_page_asks_before_using_the_link_and_refuses_a_replay(app: Any) -> None:
    with TestClient(app) as client:
        client.post("/signup", data=_form(client, "/signup", email="ana@lab.fr",
                                          display_name="Ana", password=PASSWORD))  # fmt: skip
        token = _link(app, "verify")
        landing = client.get(f"/verify?token={token}")
        assert landing.status_code == 200 and f'value="{token}"' in landing.text
        assert app.state.services.accounts.by_email("ana@lab.fr").verified is False
        assert client.post("/verify", data={"token": token}).status_code == 200
        replay = client.post("/verify", data={"token": token})
        assert replay.status_code == 400 and "already used" in replay.text


def test_login_page_errors_and_rate_limit(app: Any) -> None:
    app.state.services.accounts.create_verified("ana@lab.fr", PASSWORD, "Ana")
    with TestClient(app) as client:
        for _ in range(5):
            wrong = client.post(
                "/login",
                data=_form(client, "/login", email="ana@lab.fr", password="nope nope nope"),
            )
            assert wrong.status_code == 401
        limited = client.post(
            "/login", data=_form(client, "/login", email="ana@lab.fr", password=PASSWORD)
        )
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
        assert "tp_session" not in client.cookies


def test_login_sign_up_and_reset_forms_without_their_csrf_token_are_refused(app: Any) -> None:
    app.state.services.accounts.create_verified("ana@lab.fr", PASSWORD, "Ana")
    with TestClient(app) as forger:  # a page of another site posts: no token, no cookie
        for page, fields in (
            ("/login", {"email": "ana@lab.fr", "password": PASSWORD}),
            ("/signup", {"email": "ben@lab.fr", "display_name": "Ben", "password": PASSWORD}),
            ("/reset-request", {"email": "ana@lab.fr"}),
        ):
            refused = forger.post(page, data=fields)
            assert refused.status_code == 403, page
            assert "CSRF token or cookie is missing" in refused.text
            assert _csrf(refused.text)  # the page again, with a token to retry with
        assert "tp_session" not in forger.cookies
        assert [u.email for u in app.state.services.accounts.all()] == ["ana@lab.fr"]
        assert _mailer(app).sent == []  # no reset link was mailed
    with TestClient(app) as browser:  # a token from another browser's cookie does not do
        token = _csrf(TestClient(app).get("/login").text)
        browser.get("/login")
        wrong = browser.post(
            "/login", data={"email": "ana@lab.fr", "password": PASSWORD, "csrf_token": token}
        )
        assert wrong.status_code == 403 and "does not match" in wrong.text
        assert "tp_session" not in browser.cookies
        right = browser.post("/login", data=_form(browser, "/login", email="ana@lab.fr",
                                                  password=PASSWORD), follow_redirects=False)  # fmt: skip
        assert right.status_code == 303 and "tp_session" in browser.cookies


def test_profile_forms_need_the_csrf_token_and_profile_needs_a_session(app: Any) -> None:
    with TestClient(app) as visitor:
        away = visitor.get("/profile", follow_redirects=False)
        assert away.status_code == 303 and away.headers["location"].endswith("/login?next=/profile")
    client = _logged_in(app, "ana@lab.fr")
    page = client.get("/profile")
    csrf = _csrf(page.text)
    forged = client.post("/profile/tokens", data={"label": "laptop"})
    assert forged.status_code == 403
    assert app.state.services.accounts.tokens_of(
        app.state.services.accounts.by_email("ana@lab.fr").id
    ) == []  # fmt: skip
    made = client.post("/profile/tokens", data={"label": "laptop", "csrf_token": csrf})
    assert made.status_code == 201 and "shown only once" in made.text
    assert re.search(r"<code>tp_[\w-]{20,}</code>", made.text)
    bad_entity = client.post("/profile/entities", data={
        "csrf_token": csrf, "name": "Lab", "country": "FR", "kind": "lab",
        "profile": "french-scientist", "siren": "123456789",
    })  # fmt: skip
    assert bad_entity.status_code == 400 and "SIREN" in bad_entity.text
    assert app.state.services.entities.all() == []


def test_pages_speak_french(app: Any) -> None:
    client = _logged_in(app, "ana@lab.fr")
    client.cookies.set("lang", "fr")
    page = client.get("/profile")
    assert "Mon compte" in page.text and "Créer une entité" in page.text
    assert "Se connecter" in client.get("/login").text


def test_order_page_refuses_an_out_of_order_move_and_keeps_the_state(app: Any) -> None:
    client = _logged_in(app, "ana@lab.fr")
    csrf = _csrf(client.get("/profile").text)
    made = client.post("/profile/entities", data={
        "csrf_token": csrf, "name": "GET", "country": "FR", "kind": "lab",
        "profile": "french-scientist",
    }, follow_redirects=False)  # fmt: skip
    assert made.status_code == 303
    entity = made.headers["location"].rsplit("/", 1)[1]
    aoi = '{"type":"Polygon","coordinates":[[[1.3,43.5],[1.5,43.5],[1.5,43.7],[1.3,43.5]]]}'
    drafted = client.post("/profile/orders", data={
        "csrf_token": csrf, "entity_id": entity, "kind": "tasking", "family": "pleiades",
        "aoi": aoi, "start": "2027-03-01", "end": "2027-04-01", "mode": "mono",
        "max_cloud": "20", "priority": "standard",
    }, follow_redirects=False)  # fmt: skip
    assert drafted.status_code == 303, drafted.text
    order_url = drafted.headers["location"]
    page = client.get(order_url)
    assert page.status_code == 200 and 'id="quote"' in page.text and "draft" in page.text
    early = client.post(f"{order_url}/move", data={"csrf_token": csrf, "move": "deliver"})
    assert early.status_code == 409 and "cannot go from draft to delivered" in early.text
    assert app.state.services.orders.get(
        _actor(app, "ana@lab.fr"), order_url.rsplit("/", 1)[1]
    ).state == "draft"  # fmt: skip
    bad_aoi = client.post("/profile/orders", data={
        "csrf_token": csrf, "entity_id": entity, "kind": "tasking", "aoi": "{not json",
        "start": "2027-03-01", "end": "2027-04-01",
    })  # fmt: skip
    assert bad_aoi.status_code == 400 and "draw the area" in bad_aoi.text


def _actor(app: Any, email: str) -> Any:
    from terrapole.access.order_workflow import Actor

    return Actor(app.state.services.accounts.by_email(email).id, operator=True)


# -- the flow in a browser --------------------------------------------------------------------
@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Any, str]]:
    app = create_app(Settings(data_dir=tmp_path))
    services = app.state.services
    admin = services.accounts.create_verified(
        "root@hub.fr", PASSWORD, "Root", roles=frozenset({"admin"})
    )
    services.licences.create(admin, "pleiades-science", "Pléiades for science",
                             "Images for research and teaching only.\nCite CNES.")  # fmt: skip
    with serve(app) as url:
        yield app, url


def _sign_up_and_verify(page: Page, app: Any, url: str, email: str, name: str) -> None:
    page.goto(f"{url}/signup")
    page.fill("input[name=email]", email)
    page.fill("input[name=display_name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("#signup-form button")
    assert "verify your address" in page.inner_text("#message")
    page.goto(f"{url}/account/verify?token={_link(app, 'verify')}")  # the mailed link
    page.wait_for_url("**/verify?token=*")
    page.click("#verify-form button")
    assert "verified" in page.inner_text("#message")
    page.click("a.button")  # log in
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button")
    page.wait_for_url("**/profile")
    assert page.inner_text("#me-email") == email


@needs_chromium
def test_sign_up_verify_join_approve_accept_and_order_in_a_browser(
    browser: Browser, live: tuple[Any, str], tmp_path: Path
) -> None:
    app, url = live
    shots = Path(SHOTS) if SHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    ana = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    _sign_up_and_verify(ana, app, url, "ana@lab.fr", "Ana Lopez")
    ana.fill("#entity-form input[name=name]", "Géosciences Environnement Toulouse")
    ana.select_option("#entity-form select[name=kind]", "lab")
    ana.select_option("#entity-form select[name=profile]", "french-scientist")
    ana.click("#entity-form button")
    ana.wait_for_url("**/profile/entities/*")
    entity_url = ana.url
    assert "referent" in ana.inner_text("#standing")
    assert "5500" in ana.inner_text("#quotas")

    ben = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    _sign_up_and_verify(ben, app, url, "ben@lab.fr", "Ben Martin")
    ben.click("#other-entities button")  # ask to join
    ben.wait_for_url(entity_url)
    assert ben.inner_text("#standing").startswith("pending")
    assert ben.locator("#members").count() == 0  # not a member yet

    ana.reload()
    assert "ben@lab.fr" in ana.inner_text("#requests")
    ana.click("#requests button.approve")
    ana.wait_for_load_state()
    assert "Ben Martin" in ana.inner_text("#members")
    assert ana.locator("#requests tr").count() == 0
    assert ana.screenshot(path=str(shots / "entity.png"), full_page=True)

    ben.reload()
    assert ben.inner_text("#standing").startswith("member")
    ben.goto(f"{url}/profile/licences")
    assert "To accept" in ben.inner_text("#licence-pleiades-science")
    ben.click("#licence-pleiades-science button.accept")
    ben.wait_for_url("**/profile/licences")
    assert "Accepted" in ben.inner_text("#licence-pleiades-science")
    services = app.state.services  # the policy sees the membership and the acceptance
    _, secret = services.accounts.create_token(services.accounts.by_email("ben@lab.fr").id, "cli")
    principal = services.access.authenticate(f"Bearer {secret}")
    assert "pleiades-science" in principal.licences
    assert principal.entities == {entity_url.rsplit("/", 1)[1]}

    # Ben orders a new acquisition: the AOI drawn with four clicks and a double-click
    ben.goto(f"{entity_url.replace('/profile/entities/', '/profile/orders/new?entity=')}")
    ben.wait_for_selector("#aoi-map canvas")
    ben.wait_for_function("() => window.terrapoleAoiMap && window.terrapoleAoiMap.loaded()")
    ben.evaluate("() => window.terrapoleAoiMap.jumpTo({center: [1.44, 43.6], zoom: 9})")
    box = ben.locator("#aoi-map").bounding_box()
    assert box is not None
    for dx, dy in ((-60, -40), (60, -40), (60, 40)):
        ben.mouse.click(box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + dy)
    ben.mouse.dblclick(box["x"] + box["width"] / 2 - 60, box["y"] + box["height"] / 2 + 40)
    assert '"Polygon"' in ben.input_value("#aoi")
    ben.fill("input[name=start]", "2027-03-01")
    ben.fill("input[name=end]", "2027-04-30")
    ben.click("#order-form button[type=submit]")
    ben.wait_for_url("**/profile/orders/*")
    assert ben.inner_text("#order-state") == "draft"
    km2 = float(ben.inner_text("#order-km2"))
    assert 100 <= km2 < 5500
    assert ben.inner_text("#quote-price") == "0.00"  # within the lab's Pléiades quota
    ben.click("#submit-form button")
    ben.wait_for_load_state()
    assert ben.inner_text("#order-state") == "submitted"
    left = float(ben.inner_text("#quota-left").split("/")[0])
    assert left == pytest.approx(5500 - km2, abs=0.1)  # the quota went down
    ben.wait_for_function("() => window.terrapoleOrderMap && window.terrapoleOrderMap.loaded()")
    assert ben.screenshot(path=str(shots / "order.png"), full_page=True)
