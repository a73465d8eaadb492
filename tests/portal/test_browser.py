"""The portal in a real browser: Playwright driving Debian's Chromium on a live server."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, Response

from ..conftest import needs_chromium

pytestmark = needs_chromium
CLEAR = "SENTINEL2A_20180826-104155-257_L2A_T31UFQ_D_V1-8"


def test_search_by_text_then_facet_then_open_an_item_with_tiles(page: Page, maps_url: str) -> None:
    page.goto(f"{maps_url}/search")
    page.fill("#q", "T31UFQ")
    page.press("#q", "Enter")
    page.wait_for_url("**/search?*q=T31UFQ*")
    assert page.inner_text("#matched") == "6"
    page.check("input[name=platform][value=sentinel-2b]")
    page.wait_for_url("**platform=sentinel-2b*")
    assert page.inner_text("#matched") == "2"
    assert page.locator(".card").count() == 2
    tiles: list[Response] = []
    page.on("response", lambda r: tiles.append(r) if "/tiles/" in r.url else None)
    page.click(".item-link >> nth=0")
    page.wait_for_selector("#item-map canvas")
    page.wait_for_timeout(1500)
    good = [r for r in tiles if r.status == 200 and r.headers.get("content-type") == "image/png"]
    assert good and all(len(r.body()) > 100 for r in good)


def test_bbox_from_the_map_view_is_kept_in_the_url(page: Page, maps_url: str) -> None:
    page.goto(f"{maps_url}/search?collection=theia-sentinel-2-l2a")
    page.wait_for_selector("#map canvas")
    page.wait_for_timeout(500)
    page.click("#use-map-view")
    page.wait_for_url("**bbox=*")
    bbox = [float(v) for v in page.input_value("#bbox").split(",")]
    assert bbox[0] < 5.345 and bbox[2] > 5.355 and bbox[1] < 49.276 and bbox[3] > 49.282
    assert page.inner_text("#matched") == "6"
    shared = page.url
    page.goto(shared)  # a shared URL gives the same search
    assert page.inner_text("#matched") == "6"


def test_compare_swipe_and_opacity(page: Page, maps_url: str) -> None:
    other = "SENTINEL2A_20180905-104527-122_L2A_T31UFQ_D_V1-9"
    page.goto(f"{maps_url}/compare?a=theia-sentinel-2-l2a/{CLEAR}&b=theia-sentinel-2-l2a/{other}")
    page.wait_for_selector("#map-right canvas")
    assert "50%" in page.get_attribute("#map-right", "style")  # type: ignore[operator]
    page.fill("#swipe", "20")
    page.dispatch_event("#swipe", "input")
    assert "inset(0px 0px 0px 20%)" in page.eval_on_selector("#map-right", "e => e.style.clipPath")
    assert page.eval_on_selector("#swipe-line", "e => e.style.left") == "20%"
    page.wait_for_timeout(1000)
    page.fill("#opacity", "30")
    page.dispatch_event("#opacity", "input")
    opacity = page.evaluate(
        "() => window.terrapoleCompare.right.getPaintProperty('right', 'raster-opacity')"
    )
    assert opacity == 0.3


def test_language_switch_is_kept_in_a_cookie(page: Page, maps_url: str) -> None:
    page.goto(f"{maps_url}/collections/theia-sentinel-2-l2a")
    assert "Products per month" in page.content()
    page.click("#lang-switch")
    page.wait_for_load_state()
    assert "Produits par mois" in page.content()
    assert page.get_attribute("html", "lang") == "fr"
    page.goto(f"{maps_url}/search")
    assert "Rechercher" in page.inner_text("header")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies["lang"] == "fr"


def test_pages_stay_small(page: Page, maps_url: str) -> None:
    sizes: dict[str, int] = {}

    def record(response: Any) -> None:
        if response.url.endswith(".js"):
            sizes[response.url] = len(response.body())

    page.on("response", record)
    page.goto(f"{maps_url}/collections/theia-sentinel-2-l2a/items/{CLEAR}")
    page.wait_for_load_state("networkidle")
    assert 0 < sum(sizes.values()) < 1024 * 1024


def test_item_metadata_shows_lists_and_maps_as_such(page: Page, maps_url: str) -> None:
    """Nested values (provenance, instruments) read as lists and key/value pairs, not as
    Python reprs."""
    page.goto(f"{maps_url}/collections/theia-sentinel-2-l2a/items/{CLEAR}")
    row = page.locator("table.props tr", has=page.locator("th", has_text="processing:software"))
    assert row.locator("dl.nested dt").all_inner_texts() == ["MAJA", "terrapole"]
    instruments = page.locator("table.props tr", has=page.locator("th", has_text="instruments"))
    assert instruments.locator("td").inner_text() == "msi"
    assert "{'" not in page.locator("table.props").inner_text()
