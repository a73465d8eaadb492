"""The CES directory and calls-for-projects pages over the demo seed: the directory and a
consortium (TRL gauges, links), French, the curators' forms, the Apply form (CSRF), the
admin pages closed to others, a reviewer's score and the applicant's state; and the whole
flow in Chromium (apply → assign a reviewer → review → score → accept → the applicant sees
"accepted"). The JSON API keeps its paths: only browsers get the pages."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page

from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.fair.ces_demo import APPLICATION, CALL, seed_demo_ces

from ..conftest import needs_chromium
from ..stac_api.live import serve

PASSWORD = "a long passphrase 42"
HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
SHOTS: str | None = None  # set to a folder to keep the screenshots when looking at the pages


@pytest.fixture
def app(tmp_path: Path) -> Any:
    """The app with four accounts and the demo's directory, call and one submitted
    application by Ana."""
    built = create_app(Settings(data_dir=tmp_path))
    services = built.state.services
    accounts = services.accounts
    ana = accounts.create_verified("ana@lab.fr", PASSWORD, "Ana Applicant")
    accounts.create_verified("rui@lab.fr", PASSWORD, "Rui Reviewer")
    accounts.create_verified("cy@hub.fr", PASSWORD, "Cy Curator", roles=frozenset({"curator"}))
    accounts.create_verified("ada@hub.fr", PASSWORD, "Ada Admin", roles=frozenset({"admin"}))
    seed_demo_ces(services.access.engine, applicant=services.principal_of_user(ana.id))
    return built


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def _login(app: Any, email: str) -> TestClient:
    client = TestClient(app, headers=HTML)
    token = _csrf(client.get("/login").text)
    done = client.post("/login", data={"email": email, "password": PASSWORD,
                                       "next": "/profile", "csrf_token": token})  # fmt: skip
    assert done.status_code == 200 and "tp_session" in client.cookies
    return client


class _Element(HTMLParser):
    """The text of the element with an id (nested elements of its tag counted)."""

    def __init__(self, element_id: str) -> None:
        super().__init__()
        self.element_id, self.tag, self.depth, self.parts = element_id, "", 0, list[str]()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth and tag == self.tag:
            self.depth += 1
        elif not self.depth and not self.tag and ("id", self.element_id) in attrs:
            self.tag, self.depth = tag, 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag == self.tag:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)


def _text(html: str, element_id: str) -> str:
    found = _Element(element_id)
    found.feed(html)
    assert found.tag, f"no element {element_id}"
    return re.sub(r"\s+", " ", " ".join(found.parts)).strip()


def _application_id(app: Any) -> str:
    engine = app.state.services.access.engine
    from terrapole.fair.calls import CallBook

    admin = app.state.services.principal_of_user(
        app.state.services.accounts.by_email("ada@hub.fr").id
    )
    (found,) = CallBook(engine).find(admin, call_id=CALL.id)
    return found.id


# -- the directory ---------------------------------------------------------------------------
def test_the_directory_lists_the_demo_consortia_and_filters_them(app: Any) -> None:
    with TestClient(app, headers=HTML) as browser:
        page = browser.get("/ces")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert page.text.count('class="ces-card"') == 5
        assert "I&amp;R" in page.text and "CES Cryosphère" in page.text
        assert "3 products and services" in _text(page.text, "ces-imagerie-radiometrie")
        snow = browser.get("/ces", params={"theme": "Neige"}).text
        assert snow.count('class="ces-card"') == 1 and 'id="ces-cryosphere"' in snow
        wet = browser.get("/ces", params={"q": "WETLANDS"}).text
        assert wet.count('class="ces-card"') == 1 and 'id="ces-occupation-terres"' in wet
        assert 'id="no-ces"' in browser.get("/ces", params={"q": "volcano"}).text
    with TestClient(app) as api:  # no text/html asked: the JSON API, as before
        listed = api.get("/ces").json()["consortia"]
        assert len(listed) == 5
        assert api.get("/calls/aap-theia").json()["id"] == "aap-theia"


def test_a_consortium_shows_its_offers_with_trl_gauges_and_links(app: Any) -> None:
    with TestClient(app, headers=HTML) as browser:
        page = browser.get("/ces/imagerie-radiometrie")
        assert page.status_code == 200
        wasp = _text(page.text, "offer-wasp")
        assert "TRL 7" in wasp and "production" in wasp
        thermo = page.text.split('id="offer-thermocity"')[1].split("</tr>")[0]
        assert thermo.count('class="on"') == 5 and "prototyping" in thermo
        assert 'href="http://testserver/collections/theia-l3a-wasp"' in page.text
        assert 'id="curation"' not in page.text  # visitors get no forms
        service = browser.get("/ces/eaux-continentales").text
        assert 'href="https://hydroweb.next.theia-land.fr/"' in service
        assert browser.get("/ces/atlantis").status_code == 404


def test_the_pages_speak_french(app: Any) -> None:
    with TestClient(app, headers=HTML, cookies={"lang": "fr"}) as browser:
        directory = unescape(browser.get("/ces").text)
        assert (
            "Consortiums d'expertise scientifique" in directory and "Appels à projets" in directory
        )
        one = unescape(browser.get("/ces/cryosphere").text)
        assert "Produits et services" in one and "Produit" in one and "Maturité (TRL)" in one
        calls = unescape(browser.get("/calls").text)
        assert "Appels ouverts" in calls and "au fil de l'eau" in calls
        call = unescape(browser.get("/calls/aap-theia").text)
        assert "Connectez-vous pour candidater." in call and "Ressources de calcul" in call


# -- the curators' forms ---------------------------------------------------------------------
def test_a_curator_adds_a_member_and_changes_a_trl_with_errors_shown(app: Any) -> None:
    cy = _login(app, "cy@hub.fr")
    page = cy.get("/ces/cryosphere").text
    assert 'id="curation"' in page
    token = _csrf(page)
    bad = cy.post("/ces/cryosphere/members", data={"name": "Josiah Carberry",
                  "orcid": "0000-0002-1825-0098", "csrf_token": token})  # fmt: skip
    assert bad.status_code == 400 and "check digit" in bad.text
    assert 'value="Josiah Carberry"' in bad.text  # the form is kept
    made = cy.post("/ces/cryosphere/members", data={"name": "Josiah Carberry",
                   "orcid": "https://orcid.org/0000-0002-1825-0097", "lead": "on",
                   "csrf_token": token}, follow_redirects=False)  # fmt: skip
    assert made.status_code == 303
    members = _text(cy.get("/ces/cryosphere").text, "members")
    assert "Josiah Carberry" in members and "0000-0002-1825-0097" in members
    assert 'href="https://orcid.org/0000-0002-1825-0097"' in cy.get("/ces/cryosphere").text

    offer = {"name": "Let It Snow (snow cover)", "kind": "product", "trl": "12",
             "collections": "", "urls": "", "description": "", "csrf_token": token}  # fmt: skip
    refused = cy.post("/ces/cryosphere/offers/let-it-snow", data=offer)
    assert refused.status_code == 400 and "outside 1–9" in refused.text
    moved = cy.post("/ces/cryosphere/offers/let-it-snow", data={**offer, "trl": "8"})
    assert moved.status_code == 200  # followed the 303 to the page
    assert "TRL 8" in _text(moved.text, "offer-let-it-snow")
    missing = cy.post("/ces/cryosphere/offers", data={**offer, "id": "snow-depth", "trl": "3",
                      "collections": "no-such-collection"})  # fmt: skip
    assert missing.status_code == 400 and "no-such-collection" in missing.text


def test_members_who_are_not_curators_cannot_change_the_directory(app: Any) -> None:
    ana = _login(app, "ana@lab.fr")
    page = ana.get("/ces/cryosphere").text
    assert 'id="curation"' not in page
    form = {"name": "Intruder", "csrf_token": _csrf(ana.get("/calls/aap-theia").text)}
    refused = ana.post("/ces/cryosphere/members", data=form)
    assert refused.status_code == 403 and "neither a curator nor an admin" in refused.text
    assert "Intruder" not in ana.get("/ces/cryosphere").text


# -- applying --------------------------------------------------------------------------------
def test_the_apply_form_needs_the_csrf_token_and_says_what_is_wrong(app: Any) -> None:
    ana = _login(app, "ana@lab.fr")
    page = ana.get("/calls/aap-theia").text
    assert 'id="apply-form"' in page and 'name="gpu_hours"' in page
    form = {"project": "Snow depth from Sentinel-1", "ces_id": "cryosphere",
            "type": "computing", "description": "Wet snow maps.", "cpu_hours": "1 500",
            "gpu_hours": "200", "action": "submit"}  # fmt: skip
    assert ana.post("/calls/aap-theia/apply", data=form).status_code == 403  # no CSRF token
    token = _csrf(page)
    bad = ana.post("/calls/aap-theia/apply", data={**form, "csrf_token": token})
    assert bad.status_code == 400 and "resources.cpu_hours" in bad.text
    assert 'value="Snow depth from Sentinel-1"' in bad.text
    negative = ana.post("/calls/aap-theia/apply",
                        data={**form, "cpu_hours": "-3", "csrf_token": token})  # fmt: skip
    assert negative.status_code == 400 and "not between 0 and 1e9" in negative.text
    done = ana.post("/calls/aap-theia/apply", data={**form, "cpu_hours": "1500",
                    "csrf_token": token}, follow_redirects=False)  # fmt: skip
    assert done.status_code == 303 and done.headers["location"].endswith("/profile/applications")
    mine = ana.get("/profile/applications").text
    assert mine.count('class="application"') == 2  # the demo's and this one
    assert "Snow depth from Sentinel-1" in mine and "CPU hours : 1500" in mine
    assert "GPU hours : 200" in mine and "submitted" in mine
    with TestClient(app, headers=HTML) as visitor:
        assert "Log in to apply." in visitor.get("/calls/aap-theia").text
        away = visitor.get("/profile/applications", follow_redirects=False)
        assert away.status_code == 303 and "/login?next=/profile/applications" in away.headers[
            "location"]  # fmt: skip


def test_admin_pages_of_the_calls_are_closed_to_others(app: Any) -> None:
    with TestClient(app, headers=HTML) as visitor:
        away = visitor.get("/admin/calls/aap-theia", follow_redirects=False)
        assert away.status_code == 303 and "/login?next=" in away.headers["location"]
    rui = _login(app, "rui@lab.fr")
    for path in ("/admin/calls", "/admin/calls/aap-theia"):
        page = rui.get(path)
        assert page.status_code == 403 and "This page is for admins." in page.text
    token = _csrf(rui.get("/calls/aap-theia").text)
    application = _application_id(app)
    me = app.state.services.accounts.by_email("rui@lab.fr").id
    assign = rui.post(f"/admin/calls/aap-theia/applications/{application}/reviewers",
                      data={"reviewer": me, "csrf_token": token})  # fmt: skip
    assert assign.status_code == 403
    assert "Rui" not in _login(app, "ada@hub.fr").get("/admin/calls/aap-theia").text.split(
        'id="applications"')[1].split('class="assign-form"')[0]  # fmt: skip
    assert rui.get("/calls/aap-theia/export.csv").status_code == 403


# -- reviewing and deciding ------------------------------------------------------------------
def test_a_reviewer_scores_and_the_applicant_sees_the_decision(app: Any) -> None:
    application = _application_id(app)
    rui_id = app.state.services.accounts.by_email("rui@lab.fr").id
    ada = _login(app, "ada@hub.fr")
    index = ada.get("/admin").text
    assert 'href="http://testserver/admin/calls"' in index and "Calls for projects" in index
    assert "aap-theia" in ada.get("/admin/calls").text
    page = ada.get("/admin/calls/aap-theia").text
    assert APPLICATION.project in page and 'id="export-csv"' in page
    token = _csrf(page)
    base = f"/admin/calls/aap-theia/applications/{application}"
    early = ada.post(f"{base}/move", data={"to": "under_review", "csrf_token": token})
    assert early.status_code == 400 and "assign at least one reviewer first" in early.text
    assert ada.post(f"{base}/reviewers", data={"reviewer": rui_id, "csrf_token": token},
                    follow_redirects=False).status_code == 303  # fmt: skip
    ada.post(f"{base}/move", data={"to": "under_review", "note": "", "csrf_token": token})
    unscored = ada.post(f"{base}/move", data={"to": "accepted", "csrf_token": token})
    assert unscored.status_code == 400 and "no reviewer has given a score yet" in unscored.text

    rui = _login(app, "rui@lab.fr")
    reviews = rui.get("/reviews").text
    assert APPLICATION.project in reviews and "not scored yet" in reviews
    rui_token = _csrf(reviews)
    wrong = rui.post(f"/reviews/{application}", data={"score": "7", "csrf_token": rui_token})
    assert wrong.status_code == 400 and "not a whole number from 1 to 5" in wrong.text
    scored = rui.post(f"/reviews/{application}", data={"score": "4", "csrf_token": rui_token,
                      "comment": "Sound plan; ask for fewer CPU hours."})  # fmt: skip
    assert scored.status_code == 200 and "<strong>4</strong>" in scored.text

    assert "4.00" in _text(ada.get("/admin/calls/aap-theia").text, f"row-{application}")
    ada.post(f"{base}/move", data={"to": "accepted", "note": "Funded for 2026.",
                                   "csrf_token": token})  # fmt: skip
    exported = list(csv.DictReader(io.StringIO(ada.get("/calls/aap-theia/export.csv").text)))
    assert [(r["state"], r["mean_score"]) for r in exported] == [("accepted", "4.00")]

    ana = _login(app, "ana@lab.fr")
    mine = _text(ana.get("/profile/applications").text, f"application-{application}")
    assert "accepted" in mine and "Funded for 2026." in mine and "under review" in mine
    assert "fewer CPU hours" not in mine  # the reviews are for the committee
    assert "Withdraw" not in mine  # a decided application has no move left


# -- the flow in a browser -------------------------------------------------------------------
@pytest.fixture
def live(app: Any) -> Iterator[tuple[Any, str]]:
    with serve(app) as url:
        yield app, url


def _sign_in(page: Page, url: str, email: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button")
    page.wait_for_url("**/profile")


@needs_chromium
def test_apply_review_score_accept_in_a_browser(
    browser: Browser, live: tuple[Any, str], tmp_path: Path
) -> None:
    app, url = live
    shots = Path(SHOTS) if SHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    viewport = {"width": 1280, "height": 1000}
    ana = browser.new_context(viewport=viewport).new_page()  # type: ignore[arg-type]
    _sign_in(ana, url, "ana@lab.fr")
    ana.click("header nav a[href$='/calls']")
    ana.click("#open-calls a")
    ana.fill("#apply-form input[name=project]", "Glacier outlines of the Pyrenees")
    ana.select_option("#apply-form select[name=ces_id]", "cryosphere")
    ana.select_option("#apply-form select[name=type]", "storage")
    ana.fill("#apply-form textarea[name=description]", "Yearly outlines from Pléiades.")
    ana.fill("#apply-form input[name=storage_tb]", "3.5")
    ana.fill("#apply-form input[name=person_months]", "2")
    ana.click("#apply-form button[value=submit]")
    ana.wait_for_url("**/profile/applications")
    mine = ana.locator("section.application", has_text="Glacier outlines")
    assert mine.locator(".app-state").inner_text() == "submitted"
    assert "Storage (TB) : 3.5" in mine.inner_text()

    ada = browser.new_context(viewport=viewport).new_page()  # type: ignore[arg-type]
    _sign_in(ada, url, "ada@hub.fr")
    ada.goto(f"{url}/admin")
    ada.click("#admin-pages a[href$='/admin/calls']")
    ada.click("#admin-calls a")
    row = ada.locator("#applications tr", has_text="Glacier outlines")
    row.locator("select[name=reviewer]").select_option(label="Rui Reviewer <rui@lab.fr>")
    row.locator(".assign-form button").click()
    ada.wait_for_load_state()
    assert "Rui Reviewer" in row.locator(".reviewers").inner_text()
    row.locator("button.move-under_review").click()
    ada.wait_for_load_state()
    assert row.locator(".app-state").inner_text() == "under review"

    rui = browser.new_context(viewport=viewport).new_page()  # type: ignore[arg-type]
    _sign_in(rui, url, "rui@lab.fr")
    rui.goto(f"{url}/reviews")
    review = rui.locator("section.review", has_text="Glacier outlines")
    review.locator("select[name=score]").select_option("5")
    review.locator("textarea[name=comment]").fill("Clear need, modest storage.")
    review.locator("button").click()
    rui.wait_for_load_state()
    assert "5" in review.locator(".my-score").inner_text()

    ada.reload()
    assert row.locator(".mean").inner_text() == "5.00"
    accept = row.locator("form.move-form", has=ada.locator("button.move-accepted"))
    accept.locator("input[name=note]").fill("Granted.")
    accept.locator("button").click()
    ada.wait_for_load_state()
    assert row.locator(".app-state").inner_text() == "accepted"
    assert ada.screenshot(path=str(shots / "committee.png"), full_page=True)

    ana.reload()
    mine = ana.locator("section.application", has_text="Glacier outlines")
    assert mine.locator(".app-state").inner_text() == "accepted"
    assert "Granted." in mine.locator(".history").inner_text()
    assert ana.screenshot(path=str(shots / "applicant.png"), full_page=True)
    ana.goto(f"{url}/ces/cryosphere")
    assert "TRL 7" in ana.inner_text("#offer-let-it-snow")
    assert ana.screenshot(path=str(shots / "ces.png"), full_page=True)
