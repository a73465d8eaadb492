"""The admin pages (entities, orders, licences and terms), "my orders", and the "Order these
images" link of a restricted collection: who may see them, the forms' effects on the access
core and the policy at once, fr/en; and the archive-order flow in Chromium, from sign-up to the
operator's acceptance."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page
from shapely.geometry import shape

from terrapole.access.order_workflow import Actor
from terrapole.app import create_app
from terrapole.catalog.documents import prepare_item
from terrapole.config import Settings
from terrapole.errors import NotFound

from ..conftest import needs_chromium, s2_collection, s2_items
from ..stac_api.live import serve
from .test_account_pages import PASSWORD, SHOTS, _sign_up_and_verify

ADMIN = "root@hub.fr"
LICENCE = "pleiades-science"


def _full_tiles(count: int) -> list[dict[str, Any]]:
    """Sentinel-2 items of tile 13TDE whose footprint covers the whole tile (the same square),
    filed in the collection 'pleiades'."""
    full = [d for d in s2_items() if shape(d["geometry"]).area > 1.2][:count]
    return [{**d, "collection": "pleiades"} for d in full]


CENTRE = (-105.53, 40.15)  # inside every full footprint of tile 13TDE


@pytest.fixture
def app(tmp_path: Path) -> Any:
    """An app with an admin, the licence 'pleiades-science' and a collection 'pleiades' (three
    real products) that requires it of French scientists; 'sentinel-2-l2a' stays open."""
    app = create_app(Settings(data_dir=tmp_path))
    services = app.state.services
    services.store.create_collection(s2_collection())
    services.store.create_collection(
        {**s2_collection(), "id": "pleiades", "title": "Pléiades archive"}
    )
    services.store.load_items([prepare_item(d) for d in _full_tiles(3)])
    admin = services.accounts.create_verified(ADMIN, PASSWORD, "Root", roles=frozenset({"admin"}))
    services.licences.create(admin, LICENCE, "Pléiades for science", "Research only.")
    services.licences.set_terms(
        admin, "pleiades", licence_ids=[LICENCE], profiles=["french-scientist"]
    )
    services.access.forget()
    return app


def _login(app: Any, email: str) -> TestClient:
    client = TestClient(app)
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert found  # the login form's pre-session token (its cookie was set with the page)
    form = {"email": email, "password": PASSWORD, "next": "/profile", "csrf_token": found[1]}
    done = client.post("/login", data=form)
    assert done.status_code == 200 and "tp_session" in client.cookies, re.findall(
        r"id=\"error\">[^<]*", done.text
    )
    return client


def _csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/profile").text)
    assert found
    return found.group(1)


def _lab(app: Any, *, name: str = "GET Toulouse", referent: str = "ana@lab.fr") -> str:
    """An entity of French scientists whose referent is ``referent`` (made if missing)."""
    services = app.state.services
    try:
        user = services.accounts.by_email(referent)
    except NotFound:
        user = services.accounts.create_verified(referent, PASSWORD, referent.split("@")[0])
    entity = services.entities.create(
        user, name=name, country="FR", kind="lab", profile_name="french-scientist"
    )
    services.access.forget()
    return str(entity.id)


def _member(app: Any, entity_id: str, email: str) -> None:
    """``email`` joins the entity (its referent approves) and accepts the licence."""
    services = app.state.services
    user = services.accounts.create_verified(email, PASSWORD, email.split("@")[0])
    services.entities.request(user, entity_id)
    referent = services.accounts.get(services.entities.get(entity_id).referent_id)
    services.entities.approve(referent, entity_id, user.id)
    services.licences.accept(user, LICENCE, 1)
    services.access.forget()


def _archive_order(client: TestClient, entity_id: str, item_id: str, *, submit: bool) -> str:
    aoi = {"type": "Polygon", "coordinates": [[
        [CENTRE[0] - 0.1, CENTRE[1] - 0.1], [CENTRE[0] + 0.1, CENTRE[1] - 0.1],
        [CENTRE[0] + 0.1, CENTRE[1] + 0.1], [CENTRE[0] - 0.1, CENTRE[1] - 0.1]]]}  # fmt: skip
    csrf = _csrf(client)
    drafted = client.post("/profile/orders", data={
        "csrf_token": csrf, "entity_id": entity_id, "kind": "archive", "family": "pleiades",
        "collection": "pleiades", "items": item_id, "aoi": str(aoi).replace("'", '"'),
    }, follow_redirects=False)  # fmt: skip
    assert drafted.status_code == 303, drafted.text
    order_id = drafted.headers["location"].rsplit("/", 1)[1]
    if submit:
        done = client.post(f"/profile/orders/{order_id}/submit", data={"csrf_token": csrf})
        assert done.status_code == 200 and "submitted" in done.text
    return order_id


def _row(html: str, attr: str, key: str) -> str:
    found = re.search(rf'<tr {attr}="{re.escape(key)}">(.*?)</tr>', html, re.S)
    assert found, f"no row {key}"
    return re.sub(r"\s+", " ", found.group(1))


ADMIN_PAGES = ["/admin", "/admin/entities", "/admin/orders", "/admin/licences"]


def test_admin_pages_send_visitors_to_log_in_and_refuse_members_with_a_403(app: Any) -> None:
    with TestClient(app) as visitor:
        for path in ADMIN_PAGES:
            away = visitor.get(path, follow_redirects=False)
            assert away.status_code == 303
            assert away.headers["location"].endswith(f"/login?next={path}")
    _lab(app)
    ana = _login(app, "ana@lab.fr")
    for path in ADMIN_PAGES:
        page = ana.get(path)
        assert page.status_code == 403 and "This page is for admins." in page.text
    csrf = _csrf(ana)
    form = {"id": "mine", "title": "Mine", "text": "Mine.", "kind": "licence"}
    assert ana.post("/admin/licences", data=form).status_code == 403  # no CSRF token
    assert ana.post("/admin/licences", data={**form, "csrf_token": csrf}).status_code == 403
    assert [lic.id for lic in app.state.services.licences.all()] == [LICENCE]
    index = _login(app, ADMIN).get("/admin")
    assert index.status_code == 200
    for target in ("entities", "orders", "licences", "statistics", "jobs"):
        assert f'/admin/{target}"' in index.text


def test_the_admin_lists_entities_filtered_by_text_with_members_and_quota(app: Any) -> None:
    toulouse = _lab(app)
    _member(app, toulouse, "ben@lab.fr")
    _lab(app, name="IGN Saint-Mandé", referent="eve@ign.fr")
    admin = _login(app, ADMIN)
    every = admin.get("/admin/entities")
    assert every.status_code == 200
    row = _row(every.text, "data-entity", toulouse)
    assert "GET Toulouse" in row and "ana@lab.fr" in row
    assert '<td class="members-count">2</td>' in row and "pleiades 5500 / 5500" in row
    found = admin.get("/admin/entities", params={"q": "saint-mandé"}).text
    assert "IGN Saint-Mandé" in found and toulouse not in found


def test_the_admin_changes_an_entitys_profile_the_history_keeps_it_and_the_policy_applies_it(
    app: Any,
) -> None:
    entity = _lab(app)
    _member(app, entity, "ben@lab.fr")
    ben = _login(app, "ben@lab.fr")
    assert ben.get("/collections/pleiades").status_code == 200  # a French scientist
    admin = _login(app, ADMIN)
    csrf = _csrf(admin)
    bad = admin.post(f"/admin/entities/{entity}/profile",
                     data={"csrf_token": csrf, "profile": "astronaut"})  # fmt: skip
    assert bad.status_code == 400 and "astronaut" in bad.text and "french-scientist" in bad.text
    moved = admin.post(f"/admin/entities/{entity}/profile",
                       data={"csrf_token": csrf, "profile": "foreign-scientist"},
                       follow_redirects=False)  # fmt: skip
    assert moved.status_code == 303
    services = app.state.services
    assert services.entities.get(entity).profile == "foreign-scientist"
    ben_id = services.accounts.by_email("ben@lab.fr").id
    assert services.entities.membership(entity, ben_id).profile == "foreign-scientist"
    (last,) = [e for e in services.entities.history(entity) if e.action.startswith("entity-")]
    assert last.detail == {"from": "french-scientist", "to": "foreign-scientist", "members": 2}
    page = admin.get(f"/admin/entities/{entity}").text
    assert '<dd id="entity-profile">foreign-scientist</dd>' in page
    assert "entity-profile-changed" in page and "root@hub.fr" in page
    assert ben.get("/collections/pleiades").status_code == 404  # at once: no longer eligible


def test_the_admin_filters_every_order_by_state_kind_and_entity(app: Any) -> None:
    entity = _lab(app)
    other = _lab(app, name="IGN", referent="eve@ign.fr")
    _member(app, entity, "ben@lab.fr")
    item = _full_tiles(1)[0]["id"]
    submitted = _archive_order(_login(app, "ben@lab.fr"), entity, item, submit=True)
    services = app.state.services
    services.licences.accept(services.accounts.by_email("eve@ign.fr"), LICENCE, 1)
    services.access.forget()
    draft = _archive_order(_login(app, "eve@ign.fr"), other, item, submit=False)
    admin = _login(app, ADMIN)
    every = admin.get("/admin/orders").text
    assert submitted in every and draft in every
    row = _row(every, "data-order", submitted)
    assert f'href="http://testserver/profile/orders/{submitted}"' in row
    assert "submitted" in row and "GET Toulouse" in row and "0.00" in row
    only = admin.get("/admin/orders", params={"state": "draft", "kind": "archive"}).text
    assert draft in only and submitted not in only
    by_entity = admin.get("/admin/orders", params={"entity": entity}).text
    assert submitted in by_entity and draft not in by_entity
    assert "No order." in admin.get("/admin/orders", params={"kind": "tasking"}).text
    bad = admin.get("/admin/orders", params={"state": "lost"})
    assert bad.status_code == 400 and "lost&#39; is none of draft" in bad.text


def test_licences_page_counts_acceptances_publishes_creates_and_sets_terms_at_once(
    app: Any,
) -> None:
    entity = _lab(app)
    _member(app, entity, "ben@lab.fr")
    ben = _login(app, "ben@lab.fr")
    assert ben.get("/collections/pleiades").status_code == 200
    admin = _login(app, ADMIN)
    csrf = _csrf(admin)
    page = admin.get("/admin/licences").text
    section = page.split(f'id="licence-{LICENCE}"')[1].split("</section>")[0]
    assert '<b class="acceptances">1</b> (1)' in section
    published = admin.post(
        f"/admin/licences/{LICENCE}/publish",
        data={"csrf_token": csrf, "text": "Research only. Cite CNES."},
    )
    assert published.status_code == 200  # after the redirect
    section = published.text.split(f'id="licence-{LICENCE}"')[1].split("</section>")[0]
    assert '<span class="licence-version">2</span>' in section
    assert '<b class="acceptances">0</b> (1)' in section
    assert ben.get("/collections/pleiades").status_code == 404  # asks again, at once

    bad = admin.post("/admin/licences", data={"csrf_token": csrf, "id": "Bad Id",
                                              "title": "T", "text": "x"})  # fmt: skip
    assert bad.status_code == 400 and "use a-z" in bad.text and 'value="Bad Id"' in bad.text
    made = admin.post("/admin/licences", data={"csrf_token": csrf, "id": "charter",
                                               "title": "Charter", "kind": "charter",
                                               "text": "Be fair."})  # fmt: skip
    assert made.status_code == 200 and 'id="licence-charter"' in made.text
    assert app.state.services.licences.get("charter").kind == "charter"

    opened = admin.post("/admin/terms/pleiades", data={"csrf_token": csrf})  # nothing ticked
    assert opened.status_code == 200
    with TestClient(app) as visitor:
        assert visitor.get("/collections/pleiades").status_code == 200
    admin.post("/admin/terms/sentinel-2-l2a", data={
        "csrf_token": csrf, "licence:charter": "on", "profile:teaching": "on",
    })  # fmt: skip
    terms = app.state.services.licences.terms("sentinel-2-l2a")
    assert terms.licences == ("charter",) and terms.profiles == ("teaching",)
    with TestClient(app) as visitor:
        assert visitor.get("/collections/sentinel-2-l2a").status_code == 404
    unknown = admin.post("/admin/terms/nowhere", data={"csrf_token": csrf})
    assert unknown.status_code == 404 and "nowhere" in unknown.text


def test_my_orders_lists_the_callers_and_for_the_referent_those_awaiting_approval(
    app: Any,
) -> None:
    with TestClient(app) as visitor:
        away = visitor.get("/profile/orders", follow_redirects=False)
        assert away.status_code == 303 and "/login?next=/profile/orders" in away.headers["location"]
    entity = _lab(app)
    _member(app, entity, "ben@lab.fr")
    ben = _login(app, "ben@lab.fr")
    order = _archive_order(ben, entity, _full_tiles(1)[0]["id"], submit=True)
    mine = ben.get("/profile/orders")
    assert mine.status_code == 200 and 'id="to-approve"' not in mine.text
    assert "submitted" in _row(mine.text, "data-order", order)
    assert 'href="http://testserver/profile/orders"' in ben.get("/profile").text
    ana = _login(app, "ana@lab.fr")
    page = ana.get("/profile/orders").text
    waiting = page.split('id="to-approve"')[1].split("</table>")[0]
    assert order in waiting
    assert "No order." in page.split('id="my-orders"')[1]  # Ana ordered nothing herself
    app.state.services.orders.move(
        Actor(app.state.services.accounts.by_email("ana@lab.fr").id, frozenset({entity})),
        order, "approved",
    )  # fmt: skip
    waiting = ana.get("/profile/orders").text.split('id="to-approve"')[1].split("</table>")[0]
    assert order not in waiting


def test_the_order_link_shows_to_eligible_members_of_restricted_collections_and_fills_the_form(
    app: Any,
) -> None:
    entity = _lab(app)
    services = app.state.services
    ana = _login(app, "ana@lab.fr")
    assert ana.get("/collections/pleiades").status_code == 404  # no licence yet
    services.licences.accept(services.accounts.by_email("ana@lab.fr"), LICENCE, 1)
    services.access.forget()
    page = ana.get("/collections/pleiades")
    assert page.status_code == 200
    found = re.search(r'id="order-images" href="([^"]+)">Order these images<', page.text)
    assert found
    asked = parse_qs(urlsplit(found.group(1).replace("&amp;", "&")).query)
    ids = sorted(d["id"] for d in _full_tiles(3))
    assert asked["kind"] == ["archive"] and asked["collection"] == ["pleiades"]
    assert asked["entity"] == [entity] and sorted(asked["items"]) == ids
    form = ana.get(found.group(1).replace("&amp;", "&")).text
    assert '<option value="archive" selected>' in form
    assert 'name="collection" value="pleiades"' in form
    filled = form.split('name="items"')[1].split("</textarea>")[0]
    assert all(i in filled for i in ids), filled
    item = ana.get(f"/collections/pleiades/items/{ids[0]}").text
    assert ">Order this image<" in item
    assert 'id="order-images"' not in ana.get("/collections/sentinel-2-l2a").text  # open
    admin = _login(app, ADMIN)  # sees every collection, but has no entity to order for
    assert 'id="order-images"' not in admin.get("/collections/pleiades").text


def test_admin_and_my_orders_pages_speak_french(app: Any) -> None:
    _lab(app)
    admin = _login(app, ADMIN)
    admin.cookies.set("lang", "fr")
    index = admin.get("/admin").text
    assert "Administration" in index and "Toutes les commandes" in index
    assert "Licences et chartes" in index and "Statistiques d&#39;usage" in index
    assert "Conditions des collections" in admin.get("/admin/licences").text
    assert "Aucune commande." in admin.get("/admin/orders").text
    ana = _login(app, "ana@lab.fr")
    ana.cookies.set("lang", "fr")
    assert "Mes commandes" in ana.get("/profile/orders").text
    assert "réservée aux administrateurs" in ana.get("/admin").text


# -- the flow in a browser --------------------------------------------------------------------
def _log_in(page: Page, url: str, email: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button")
    page.wait_for_url("**/profile")


@needs_chromium
def test_join_accept_see_a_restricted_collection_order_from_it_and_the_operator_accepts(
    browser: Browser, app: Any, tmp_path: Path
) -> None:
    shots = Path(SHOTS) if SHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    with serve(app) as url:
        ana = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
        _sign_up_and_verify(ana, app, url, "ana@lab.fr", "Ana Lopez")
        ana.fill("#entity-form input[name=name]", "Géosciences Environnement Toulouse")
        ana.select_option("#entity-form select[name=profile]", "french-scientist")
        ana.click("#entity-form button")
        ana.wait_for_url("**/profile/entities/*")
        entity_url = ana.url

        ben = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
        _sign_up_and_verify(ben, app, url, "ben@lab.fr", "Ben Martin")
        ben.click("#other-entities button")  # ask to join
        ben.wait_for_url(entity_url)
        ana.reload()
        ana.click("#requests button.approve")  # the referent approves
        ana.wait_for_load_state()
        assert "Ben Martin" in ana.inner_text("#members")

        hidden = ben.goto(f"{url}/collections/pleiades")
        assert hidden is not None and hidden.status == 404  # a member, but no licence yet
        ben.goto(f"{url}/profile/licences")
        ben.click(f"#licence-{LICENCE} button.accept")
        ben.wait_for_url("**/profile/licences")
        seen = ben.goto(f"{url}/collections/pleiades")
        assert seen is not None and seen.status == 200
        assert ben.inner_text("h1") == "Pléiades archive"
        assert ben.screenshot(path=str(shots / "restricted-collection.png"), full_page=True)

        ben.click("#order-images")  # "Order these images": the form comes filled
        ben.wait_for_url("**/profile/orders/new?*")
        assert ben.input_value("#order-kind") == "archive"
        assert ben.input_value("input[name=collection]") == "pleiades"
        assert len(ben.input_value("textarea[name=items]").split()) == 3
        ben.wait_for_function("() => window.terrapoleAoiMap && window.terrapoleAoiMap.loaded()")
        ben.evaluate(
            f"() => window.terrapoleAoiMap.jumpTo({{center: [{CENTRE[0]}, {CENTRE[1]}], zoom: 10}})"
        )
        box = ben.locator("#aoi-map").bounding_box()
        assert box is not None
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        for dx, dy in ((-60, -40), (60, -40), (60, 40)):
            ben.mouse.click(x + dx, y + dy)
        ben.mouse.dblclick(x - 60, y + 40)
        assert '"Polygon"' in ben.input_value("#aoi")
        assert ben.screenshot(path=str(shots / "archive-order-form.png"), full_page=True)
        ben.click("#order-form button[type=submit]")
        ben.wait_for_url("**/profile/orders/*")
        assert ben.inner_text("#order-state") == "draft"
        km2 = float(ben.inner_text("#order-km2"))
        assert 0 < km2 < 5500
        assert ben.inner_text("#quote-price") == "0.00"
        ben.click("#submit-form button")
        ben.wait_for_load_state()
        assert ben.inner_text("#order-state") == "submitted"
        left = float(ben.inner_text("#quota-left").split("/")[0])
        assert left == pytest.approx(5500 - km2, abs=0.1)  # the quota went down
        order_id = ben.url.rsplit("/", 1)[1]

        ana.goto(f"{url}/profile/orders")  # the referent's orders awaiting approval
        ana.click(f"#to-approve tr[data-order='{order_id}'] a")
        ana.wait_for_url(f"**/profile/orders/{order_id}")
        ana.click("#move-form button[value=approve]")
        ana.wait_for_load_state()
        assert ana.inner_text("#order-state") == "approved"
        ana.goto(entity_url)
        assert f"{5500 - km2:.0f} / 5500" in ana.inner_text("#quotas")

        root = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
        _log_in(root, url, ADMIN)
        root.click("#admin-link")
        root.click("#admin-pages a[href$='/admin/orders']")
        root.wait_for_url("**/admin/orders")
        row = f"#orders tr[data-order='{order_id}']"
        assert root.inner_text(f"{row} .order-state") == "approved"
        root.click(f"{row} a")
        root.wait_for_url(f"**/profile/orders/{order_id}")
        root.click("#move-form button[value=accept]")
        root.wait_for_load_state()
        assert root.inner_text("#order-state") == "accepted"
        root.goto(f"{url}/admin/orders")
        assert root.inner_text(f"{row} .order-state") == "accepted"
        assert root.screenshot(path=str(shots / "admin-orders.png"), full_page=True)
        root.goto(f"{url}/admin/entities")
        assert root.screenshot(path=str(shots / "admin-entities.png"), full_page=True)
        root.goto(f"{url}/admin/licences")
        assert root.screenshot(path=str(shots / "admin-licences.png"), full_page=True)
