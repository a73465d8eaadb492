"""The processing pages in Chromium: catalogue, a form with a zone drawn on the map, the cost
estimate, submission, the job followed live to its results, and the admins' statistics."""

from __future__ import annotations

from playwright.sync_api import Page

from ..conftest import needs_chromium
from .conftest import THEIA_PRODUCT

pytestmark = needs_chromium
SHOTS = None  # set to a folder to keep screenshots when looking at the pages by hand


def _sign_in(page: Page, url: str, token: str) -> None:
    page.goto(f"{url}/jobs")
    page.evaluate("document.getElementById('token-box').open = true")
    page.fill("#token", token)
    page.dispatch_event("#token", "change")


def test_submit_a_zonal_statistics_job_from_the_portal_and_follow_it(
    page: Page, jobs_url: str, tokens: dict[str, str]
) -> None:
    _sign_in(page, jobs_url, tokens["ana"])
    page.goto(f"{jobs_url}/services")
    assert page.locator(".service-card").count() >= 3
    page.click("text=Zonal statistics")
    page.wait_for_selector("#zone-map canvas")
    page.fill('fieldset[data-name="collection"] .value', "theia-sentinel-2-l2a")
    page.fill('fieldset[data-name="item"] .value', THEIA_PRODUCT)
    page.fill('fieldset[data-name="asset"] .value', "FRE_B4")
    assert page.locator('fieldset[data-name="all_touched"]').is_hidden()  # expert tab
    page.click('.tab[data-tab="expert"]')
    assert page.locator('fieldset[data-name="all_touched"]').is_visible()
    page.click('.tab[data-tab="basic"]')
    page.wait_for_timeout(1500)  # the map fits the products' footprints
    box = page.locator("#zone-map canvas").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in ((-40, -30), (40, -30), (40, 30)):
        page.mouse.click(cx + dx, cy + dy)
    page.mouse.dblclick(cx - 40, cy + 30)
    zone = page.input_value('fieldset[data-name="zones"] .value')
    assert '"Polygon"' in zone
    page.click("#estimate")
    page.wait_for_function("document.getElementById('quote').textContent.includes('CPU·s')")
    assert "left of 500" in page.inner_text("#quote")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/service.png", full_page=True)
    page.click("#submit")
    page.wait_for_url("**/jobs#*")
    page.wait_for_selector("tr.job.successful", timeout=60_000)
    page.click("tr.job.successful >> nth=0")
    page.wait_for_function("document.querySelectorAll('.result-link').length >= 3")
    assert {"table", "zones", "item"} <= set(page.locator(".result-link").all_inner_texts())
    assert "stage PUBLICATION" in page.inner_text("#job-logs")
    page.wait_for_selector(".result-map canvas")  # the zones with their statistics, on a map
    assert "CPU·s used of 500" in page.inner_text("#credit")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/jobs.png", full_page=True)


def test_a_refused_request_shows_the_reason_and_creates_no_job(
    page: Page, jobs_url: str, tokens: dict[str, str]
) -> None:
    _sign_in(page, jobs_url, tokens["bob"])
    page.goto(f"{jobs_url}/services/zonal-statistics")
    page.fill('fieldset[data-name="collection"] .value', "nowhere")
    page.fill('fieldset[data-name="item"] .value', "x")
    page.fill('fieldset[data-name="asset"] .value', "y")
    page.fill('fieldset[data-name="zones"] .value', '{"type": "Polygon", "coordinates": []}')
    page.click("#submit")
    page.wait_for_selector(".quote.error")
    assert "zones" in page.inner_text("#quote")
    assert page.url.endswith("/services/zonal-statistics")


def test_admins_see_statistics_per_service(
    page: Page, jobs_url: str, tokens: dict[str, str]
) -> None:
    _sign_in(page, jobs_url, tokens["admin"])
    page.goto(f"{jobs_url}/admin/jobs")
    page.wait_for_selector("#stats-table tbody tr td")
    text = page.inner_text("#stats-table")
    assert "zonal-statistics" in text and "%" in text
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/admin.png", full_page=True)
    _sign_in(page, jobs_url, tokens["bob"])
    page.goto(f"{jobs_url}/admin/jobs")
    page.wait_for_selector("#stats-table tbody tr td")
    assert "admin" in page.inner_text("#stats-table")
