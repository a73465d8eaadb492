"""The deposit pages: my deposits, a new deposit, a deposit's page (files with checksums, the
upload box, the workflow's forms) and the previews; forms need the session's CSRF token,
another user sees 404 for a draft, refusals come back with the core's message and their 4xx;
and the whole deposit in Chromium (create → upload a real COG and a real CSV in chunks, one
chunk lost and resumed → checksums equal hashlib's → submit → a curator approves → publish →
the map draws tiles from the tilejson, the table shows the CSV's rows)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, Request, Route

from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.web.deposits import deposits_of

from ..conftest import needs_chromium
from ..stac_api.live import serve
from .records_fixtures import complete_record
from .test_deposits import CAMELS_CSV, COG, CURATOR

PASSWORD = "a long passphrase 42"
HTML = {"Accept": "text/html,application/xhtml+xml"}
SHOTS: str | None = None  # set to a folder to keep the screenshots when looking at the pages


@pytest.fixture
def app(tmp_path: Path) -> Any:
    return create_app(Settings(data_dir=tmp_path))


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def _logged_in(app: Any, email: str) -> TestClient:
    client = TestClient(app)
    app.state.services.accounts.create_verified(email, PASSWORD, email.split("@")[0].title())
    page = client.get("/login")
    done = client.post("/login", data={"email": email, "password": PASSWORD, "next": "/profile",
                                       "csrf_token": _csrf(page.text)})  # fmt: skip
    assert done.status_code == 200 and "tp_session" in client.cookies
    return client


def _create(client: TestClient, title: str, **fields: str) -> str:
    """A deposit made through the form; its id."""
    token = _csrf(client.get("/deposits/new", headers=HTML).text)
    made = client.post("/deposits/new", data={"title": title, "csrf_token": token, **fields},
                       follow_redirects=False)  # fmt: skip
    assert made.status_code == 303, made.text
    return str(made.headers["location"]).rsplit("/", 1)[1]


def _owner(app: Any, email: str) -> Any:
    services = app.state.services
    return services.principal_of_user(services.accounts.by_email(email).id)


def test_my_deposits_new_deposit_and_its_page(app: Any) -> None:
    ana = _logged_in(app, "ana@lab.fr")
    empty = ana.get("/deposits", headers=HTML)
    assert empty.status_code == 200 and 'id="no-deposits"' in empty.text
    assert 'href="http://testserver/deposits/new"' in empty.text
    did = _create(ana, "Verdun forest, red band", access="embargoed", embargo_until="2031-01-01")
    page = ana.get(f"/deposits/{did}", headers=HTML)
    assert page.status_code == 200
    assert "Verdun forest, red band" in page.text and "Embargo until 2031-01-01" in page.text
    assert f'data-deposit="{did}"' in page.text and 'data-csrf="' in page.text  # the upload box
    record = ana.get(f"/deposits/{did}").json()["record_id"]  # the JSON API, same path
    assert f'href="http://testserver/records/{record}/edit"' in page.text
    listed = ana.get("/deposits", headers=HTML).text
    assert f'href="http://testserver/deposits/{did}"' in listed and "draft" in listed
    assert "my-deposits-link" in ana.get("/profile").text
    ana.cookies.set("lang", "fr")
    assert "Mes dépôts" in ana.get("/deposits", headers=HTML).text
    assert "Soumettre aux curateurs" in ana.get(f"/deposits/{did}", headers=HTML).text


def test_forms_need_the_csrf_token(app: Any) -> None:
    ana = _logged_in(app, "ana@lab.fr")
    forged = ana.post("/deposits/new", data={"title": "Forged"}, follow_redirects=False)
    assert forged.status_code == 403
    assert ana.get("/deposits").json()["deposits"] == []  # nothing was made
    did = _create(ana, "Discharge")
    refused = ana.post(f"/deposits/{did}/act", data={"action": "submit"})
    assert refused.status_code == 403
    chunked = ana.post(f"/deposits/{did}/uploads", json={"name": "a.csv", "size": 3,
                                                         "md5": "0" * 32})  # fmt: skip
    assert chunked.status_code == 403  # the JSON API wants the X-CSRF-Token header


def test_a_draft_is_not_found_for_others_and_visitors_log_in_first(app: Any) -> None:
    ana = _logged_in(app, "ana@lab.fr")
    did = _create(ana, "Private draft")
    bob = _logged_in(app, "bob@lab.fr")
    assert bob.get(f"/deposits/{did}", headers=HTML).status_code == 404
    assert did not in bob.get("/deposits", headers=HTML).text
    visitor = TestClient(app)
    assert visitor.get(f"/deposits/{did}", headers=HTML).status_code == 404
    redirected = visitor.get("/deposits", headers=HTML, follow_redirects=False)
    assert (
        redirected.status_code == 303 and "/login?next=/deposits" in redirected.headers["location"]
    )


def test_refusals_show_the_form_again_with_the_reason(app: Any) -> None:
    ana = _logged_in(app, "ana@lab.fr")
    token = _csrf(ana.get("/deposits/new", headers=HTML).text)
    no_date = ana.post("/deposits/new", data={"title": "Snow", "access": "embargoed",
                                              "csrf_token": token})  # fmt: skip
    assert no_date.status_code == 400 and "an embargo needs the date it ends" in no_date.text
    assert 'value="Snow"' in no_date.text  # what was typed is kept
    no_groups = ana.post("/deposits/new", data={"title": "Snow", "access": "restricted",
                                                "csrf_token": token})  # fmt: skip
    assert no_groups.status_code == 400 and "names the groups" in no_groups.text
    did = _create(ana, "Empty")
    page_token = _csrf(ana.get(f"/deposits/{did}", headers=HTML).text)
    empty = ana.post(f"/deposits/{did}/act", data={"action": "submit", "csrf_token": page_token})
    assert empty.status_code == 400 and "has no file to publish" in empty.text
    early = ana.post(f"/deposits/{did}/act", data={"action": "publish", "csrf_token": page_token})
    assert early.status_code == 409 and "a curator approves it" in early.text
    odd = ana.post(f"/deposits/{did}/act", data={"action": "delete", "csrf_token": page_token})
    assert odd.status_code == 400 and "is not one of submit, publish, new_version" in odd.text


def test_submit_publish_version_and_previews_through_the_forms(app: Any) -> None:
    ana = _logged_in(app, "ana@lab.fr")
    did = _create(ana, "Discharge of the Narraguagus")
    token = _csrf(ana.get(f"/deposits/{did}", headers=HTML).text)
    data = CAMELS_CSV.read_bytes()
    api = {"X-CSRF-Token": token}  # what deposit.js sends
    url = ana.post(f"/deposits/{did}/uploads", headers=api, json={
        "name": CAMELS_CSV.name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()
    }).json()["url"]  # fmt: skip
    ana.put(url, headers={**api, "Upload-Offset": "0"}, content=data)
    assert ana.post(f"{url}/complete", headers=api).status_code == 201
    page = ana.get(f"/deposits/{did}", headers=HTML).text
    assert hashlib.sha256(data).hexdigest() in page and 'class="preview-table"' in page

    owner = _owner(app, "ana@lab.fr")
    deposits = deposits_of(app.state.services)
    deposits.describe(owner, did, replace(complete_record(), titles=complete_record(
        "Discharge of the Narraguagus").titles))  # fmt: skip
    act = {"csrf_token": token}
    submitted = ana.post(f"/deposits/{did}/act", data={**act, "action": "submit"}, headers=HTML)
    assert submitted.status_code == 200 and 'id="awaiting"' in submitted.text
    deposits.book.approve(CURATOR, deposits.get(owner, did).record_id)
    published = ana.post(f"/deposits/{did}/act", data={**act, "action": "publish"}, headers=HTML)
    assert published.status_code == 200 and 'id="version-form"' in published.text
    visitor = TestClient(app)
    public = visitor.get(f"/deposits/{did}", headers=HTML)
    assert public.status_code == 200 and 'id="landing"' in public.text
    assert 'id="upload-box"' not in public.text and 'id="actions"' not in public.text
    table = visitor.get(f"/deposits/{did}/files/{CAMELS_CSV.name}/preview")
    assert table.status_code == 200 and table.text.count("<tr>") == 201  # header + 200 rows
    assert 'id="more-rows"' in table.text

    version = ana.post(f"/deposits/{did}/act", data={**act, "action": "new_version"},
                       follow_redirects=False)  # fmt: skip
    assert version.status_code == 303
    second = ana.get(version.headers["location"], headers=HTML).text
    assert 'id="deposit-version">2<' in second and 'id="versions"' in second


# -- the deposit in a browser -----------------------------------------------------------------
@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Any, str]]:
    app = create_app(Settings(data_dir=tmp_path))
    app.state.services.accounts.create_verified("ana@lab.fr", PASSWORD, "Ana Lopez")
    with serve(app) as url:
        yield app, url


def _log_in(page: Page, url: str) -> None:
    page.goto(f"{url}/login?next=/deposits")
    page.fill("input[name=email]", "ana@lab.fr")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button")
    page.wait_for_url("**/deposits")


def _upload(page: Page, path: Path) -> str:
    """Upload ``path`` through the box; the SHA-256 the finished row reports."""
    page.set_input_files("#upload-files", str(path))
    page.click("#upload-start")
    named = f'[data-name="{path.name}"]'
    page.wait_for_selector(f"#uploads li.done{named}, #uploads li.failed{named}")
    return page.locator(f"#uploads li{named}").get_attribute("data-sha256") or ""


@needs_chromium
def test_a_deposit_in_a_browser(browser: Browser, live: tuple[Any, str], tmp_path: Path) -> None:
    app, url = live
    shots = Path(SHOTS) if SHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    _log_in(page, url)
    page.click("#new-deposit")
    page.fill("input[name=title]", "Verdun forest and the Narraguagus")
    page.click("#deposit-form button")
    page.wait_for_url(re.compile(r".*/deposits/[0-9a-f]{32}$"))
    did = page.url.rsplit("/", 1)[1]
    page.wait_for_function("() => window.terrapoleDeposit !== undefined")

    # the incremental SHA-256 (used past 256 MiB or without Web Crypto) equals hashlib's
    blob = bytes(range(256)) * 700 + b"tail"
    incremental = page.evaluate(
        "async (n) => window.terrapoleDeposit.sha256Incremental(new Blob([new Uint8Array(n)]))",
        list(blob),
    )
    assert incremental == hashlib.sha256(blob).hexdigest()

    # 4 KiB chunks; the third PUT of the COG is lost: the row offers to resume
    page.evaluate("() => { window.terrapoleDeposit.chunkBytes = 4096; }")
    puts: list[str] = []

    def lose_third_put(route: Route, request: Request) -> None:
        if request.method == "PUT":
            puts.append(request.headers.get("upload-offset", ""))
            if len(puts) == 3:
                route.abort()
                return
        route.continue_()

    page.route(f"**/deposits/{did}/uploads/*", lose_third_put)
    assert _upload(page, COG) == ""
    row = page.locator(f'#uploads li[data-name="{COG.name}"]')
    assert "interrupted" in row.locator(".upload-status").inner_text()
    assert row.locator(".retry").is_visible()
    assert page.screenshot(path=str(shots / "deposit_interrupted.png"), full_page=True)
    row.locator(".retry").click()
    page.wait_for_selector(f'#uploads li.done[data-name="{COG.name}"]')
    assert puts[2] == puts[3] == "8192"  # resumed at the server's offset, the lost chunk again
    assert row.locator(".pct").inner_text() == "100 %"
    assert row.locator("progress").evaluate("(p) => p.value === p.max")
    assert row.get_attribute("data-sha256") == hashlib.sha256(COG.read_bytes()).hexdigest()
    page.unroute(f"**/deposits/{did}/uploads/*")

    page.evaluate("() => { window.terrapoleDeposit.chunkBytes = 32 * 1024; }")
    assert _upload(page, CAMELS_CSV) == hashlib.sha256(CAMELS_CSV.read_bytes()).hexdigest()
    assert page.locator(f'#uploads li[data-name="{CAMELS_CSV.name}"] .pct').inner_text() == "100 %"
    page.reload()
    shown = {
        page.locator(f'#files tr[data-name="{p.name}"] .sha256').inner_text(): p
        for p in (COG, CAMELS_CSV)
    }
    assert shown == {hashlib.sha256(p.read_bytes()).hexdigest(): p for p in (COG, CAMELS_CSV)}
    assert page.screenshot(path=str(shots / "deposit_files.png"), full_page=True)

    services = app.state.services
    owner = services.principal_of_user(services.accounts.by_email("ana@lab.fr").id)
    deposits = deposits_of(services)
    title = complete_record("Verdun forest and the Narraguagus").titles
    deposits.describe(owner, did, replace(complete_record(), titles=title))
    page.click("#submit-form button")
    page.wait_for_selector("#awaiting")
    deposits.book.approve(CURATOR, deposits.get(owner, did).record_id)  # the curator
    page.reload()
    page.click("#publish-form button")
    page.wait_for_selector("#version-form")
    assert page.inner_text("#deposit-state") == "published"

    tiles: list[tuple[int, str]] = []
    page.on("response", lambda r: tiles.append((r.status, r.headers.get("content-type", "")))
            if "/map/tiles/WebMercatorQuad/" in r.url else None)  # fmt: skip
    page.click(f'#files tr[data-name="{COG.name}"] a.preview-map')
    page.wait_for_function(
        "() => window.terrapoleDepositMap && window.terrapoleDepositMap.loaded()"
        " && window.terrapoleDepositMap.areTilesLoaded()"
    )
    assert tiles and all(status == 200 and kind == "image/png" for status, kind in tiles)
    assert page.screenshot(path=str(shots / "deposit_map.png"), full_page=True)
    page.click("#back")
    page.click(f'#files tr[data-name="{CAMELS_CSV.name}"] a.preview-table')
    assert page.locator("#preview-table tbody tr").count() == 200
    cells = page.locator("#preview-table tbody tr").first.locator("td").all_inner_texts()
    assert cells == CAMELS_CSV.read_text().splitlines()[1].split(";")  # the file's first row
    assert page.screenshot(path=str(shots / "deposit_table.png"), full_page=True)


def test_the_page_of_a_withdrawn_deposit_says_so_and_offers_no_file(app: Any) -> None:
    ana = _logged_in(app, "ana@lab.fr")
    did = _create(ana, "Discharge, withdrawn")
    token = _csrf(ana.get(f"/deposits/{did}", headers=HTML).text)
    data = CAMELS_CSV.read_bytes()
    api = {"X-CSRF-Token": token}
    url = ana.post(f"/deposits/{did}/uploads", headers=api, json={
        "name": CAMELS_CSV.name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()
    }).json()["url"]  # fmt: skip
    ana.put(url, headers={**api, "Upload-Offset": "0"}, content=data)
    assert ana.post(f"{url}/complete", headers=api).status_code == 201
    owner = _owner(app, "ana@lab.fr")
    deposits = deposits_of(app.state.services)
    deposits.describe(owner, did, replace(complete_record(), titles=complete_record(
        "Discharge, withdrawn").titles))  # fmt: skip
    deposits.submit(owner, did)
    record = deposits.get(owner, did).record_id
    deposits.book.approve(CURATOR, record)
    deposits.publish(owner, did)
    deposits.book.withdraw(CURATOR, record, "duplicate of another deposit")

    page = TestClient(app).get(f"/deposits/{did}", headers=HTML)
    assert page.status_code == 200
    assert 'id="deposit-state">withdrawn<' in page.text
    assert 'id="files-hidden"' in page.text and 'class="preview-table"' not in page.text
    assert f"/deposits/{did}/files/{CAMELS_CSV.name}" not in page.text
    preview = TestClient(app).get(f"/deposits/{did}/files/{CAMELS_CSV.name}/preview")
    assert preview.status_code == 403
