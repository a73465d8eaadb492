"""Exploring in a real browser: the compare page's default pair and timeline, acquisition
timelines, a pixel's time series, legends, the basemap and the service forms' catalogue
inputs (Playwright driving Debian's Chromium on a live server)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from playwright.sync_api import Page, Response

from terrapole.app import create_app
from terrapole.config import Settings

from ..conftest import needs_chromium

COLLECTION = "theia-sentinel-2-l2a"
CLEAR = "SENTINEL2A_20180826-104155-257_L2A_T31UFQ_D_V1-8"
NEWEST = "SENTINEL2B_20190915-104723-867_L2A_T31UFQ_C_V2-2"
CLEAR_DATES = 3  # of the demo's 6 THEIA products, those with 0 % cloud cover


def _tiles(page: Page) -> list[Response]:
    seen: list[Response] = []
    page.on("response", lambda r: seen.append(r) if "/tiles/" in r.url else None)
    return seen


def _png(responses: list[Response], item: str) -> list[Response]:
    return [
        r for r in responses
        if f"/items/{item}/" in r.url and r.status == 200
        and r.headers.get("content-type") == "image/png" and len(r.body()) > 100
    ]  # fmt: skip


def _click_timeline(page: Page, index: int) -> None:
    """Click the timeline's dot number ``index`` (oldest first)."""
    x, y = page.evaluate(
        """(i) => { const t = window.terrapoleTimeline; const u = t.plot;
        const r = u.over.getBoundingClientRect(); const p = t.points[i];
        return [r.left + u.valToPos(p.t, 'x'), r.top + u.valToPos(t.y(p), 'y')]; }""",
        index,
    )
    page.mouse.move(x, y)
    page.mouse.click(x, y)


@needs_chromium
def test_compare_opens_on_two_dates_of_one_collection_in_true_colour(
    page: Page, maps_url: str
) -> None:
    tiles = _tiles(page)
    page.goto(f"{maps_url}/compare")
    page.wait_for_selector("#map-right canvas")
    page.wait_for_load_state("networkidle")
    left, right = page.input_value("select[name=a]"), page.input_value("select[name=b]")
    assert left == f"{COLLECTION}/{NEWEST}" and right == f"{COLLECTION}/{CLEAR}"
    assert page.input_value("select[name=preset]") == "truecolor"
    assert _png(tiles, NEWEST) and _png(tiles, CLEAR)  # two layers, both with pixels
    layers = page.evaluate(
        "() => [window.terrapoleCompare.left.getLayer('left') !== undefined,"
        " window.terrapoleCompare.right.getLayer('right') !== undefined]"
    )
    assert layers == [True, True]
    assert len(page.evaluate("() => window.terrapoleTimeline.points")) == 6


@needs_chromium
def test_a_date_clicked_on_the_compare_timeline_replaces_the_chosen_side(
    page: Page, maps_url: str
) -> None:
    page.goto(f"{maps_url}/compare")
    page.wait_for_selector("#timeline canvas")
    page.check("#pick input[value=b]")
    oldest = page.evaluate("() => window.terrapoleTimeline.points[0].id")
    _click_timeline(page, 0)
    page.wait_for_url(f"**b={COLLECTION}%2F{oldest}*")
    assert page.input_value("select[name=a]") == f"{COLLECTION}/{NEWEST}"
    assert page.input_value("select[name=b]") == f"{COLLECTION}/{oldest}"


@needs_chromium
def test_search_timeline_has_a_dot_per_match_and_opens_an_item(page: Page, maps_url: str) -> None:
    page.goto(f"{maps_url}/search?q=T31UFQ")
    page.wait_for_selector("#timeline canvas")
    points = page.evaluate("() => window.terrapoleTimeline.points")
    assert len(points) == int(page.inner_text("#matched")) == 6
    assert [p["t"] for p in points] == sorted(p["t"] for p in points)
    assert {p["cloud"] for p in points} >= {0.0, 100.0}
    _click_timeline(page, 1)
    page.wait_for_url(f"**/items/{points[1]['id']}")


@needs_chromium
def test_clicking_the_item_map_plots_the_pixels_series_with_cloudy_dates(
    page: Page, maps_url: str
) -> None:
    page.goto(f"{maps_url}/collections/{COLLECTION}/items/{CLEAR}")
    page.wait_for_selector("#item-map canvas")
    page.wait_for_load_state("networkidle")
    bounds = page.evaluate("() => window.terrapoleMap.getBounds().toArray()")
    bbox = page.evaluate("() => JSON.parse(document.getElementById('item-map').dataset.bounds)")
    assert bounds[0][0] <= bbox[0] and bounds[1][0] >= bbox[2]  # the whole item in view
    assert (bounds[1][0] - bounds[0][0]) < 3 * (bbox[2] - bbox[0])  # and fitted to it
    box = page.locator("#item-map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("() => window.terrapoleSeries && window.terrapoleSeries.points")
    series = page.evaluate("() => window.terrapoleSeries")
    assert series["preset"] == "ndvi" and len(series["points"]) == 6
    assert 0 < sum(p["cloudy"] for p in series["points"]) < 6
    assert page.locator("#series canvas").count() >= 1
    drawn = page.evaluate("() => window.terrapoleSeriesPlot.data[2]")  # the cloudy marks
    assert [v is not None for v in drawn] == [p["cloudy"] for p in series["points"]]
    assert "6" in page.inner_text("#series-help")
    assert len(page.evaluate("() => window.terrapoleTimeline.points")) == 6


@needs_chromium
def test_the_legend_follows_the_preset(page: Page, maps_url: str) -> None:
    page.goto(f"{maps_url}/collections/{COLLECTION}/items/{CLEAR}")
    page.wait_for_selector("#item-map canvas")
    assert not page.locator("#legends .legend").first.is_visible()  # true colour: none
    page.select_option("#preset", "ndvi")
    ndvi = page.locator("#legends .legend[data-preset=ndvi]")
    assert ndvi.is_visible()
    assert "linear-gradient" in (ndvi.locator(".ramp").get_attribute("style") or "")
    assert ndvi.locator(".ramp-ends").inner_text().split() == ["-0.2", "0.9"]


@needs_chromium
def test_class_palette_legend_on_a_classification(page: Page, maps_url: str) -> None:
    page.goto(f"{maps_url}/collections/landcover/items/BDForet_ZoneTest")
    legend = page.locator("#legends .legend[data-preset=classes]")
    assert legend.is_visible()
    assert legend.locator(".swatch").count() >= 2


@needs_chromium
def test_service_form_offers_collections_items_and_assets_from_the_catalogue(
    page: Page, maps_url: str
) -> None:
    page.goto(f"{maps_url}/services/zonal-statistics")
    page.wait_for_function("() => window.terrapoleFields.collections.length > 0")
    options = page.eval_on_selector_all(
        "fieldset[data-name=collection] datalist option", "os => os.map((o) => o.value)"
    )
    assert {COLLECTION, "dem", "landcover"} <= set(options)
    page.fill("fieldset[data-name=collection] .value", COLLECTION)
    page.dispatch_event("fieldset[data-name=collection] .value", "change")
    page.wait_for_function("() => window.terrapoleZoneMap.loaded()")
    page.evaluate(
        "() => window.terrapoleZoneMap.fitBounds([[5.34, 49.27], [5.36, 49.29]], {duration: 0})"
    )
    page.click("fieldset[data-name=item] summary")
    page.fill("fieldset[data-name=item] .pick-cloud", "10")
    page.click("fieldset[data-name=item] .pick-search")
    page.wait_for_function("() => window.terrapoleFields.found.length > 0")
    assert len(page.evaluate("() => window.terrapoleFields.found")) == CLEAR_DATES
    page.click("fieldset[data-name=item] .pick-results button >> nth=0")
    assert page.input_value("fieldset[data-name=item] .value") == NEWEST
    page.wait_for_function("() => window.terrapoleFields.assets.length > 0")
    assets = page.eval_on_selector_all(
        "fieldset[data-name=asset] datalist option", "os => os.map((o) => o.value)"
    )
    assert {"FRE_B4", "FRE_B8A", "CLM_R2"} <= set(assets) and "thumbnail" not in assets
    layers = page.evaluate("() => window.terrapoleZoneMap.getStyle().layers.map((l) => l.id)")
    assert {"land", "borders", "found", "zone-fill"} <= set(layers)  # over the basemap


@needs_chromium
def test_timeline_and_series_texts_in_french(page: Page, maps_url: str) -> None:
    page.context.add_cookies([{"name": "lang", "value": "fr", "url": maps_url}])
    page.goto(f"{maps_url}/collections/{COLLECTION}/items/{CLEAR}")
    assert "Acquisitions (date × nuages)" in page.inner_text("main")
    assert "Série temporelle d'un pixel" in page.inner_text("main")
    page.goto(f"{maps_url}/compare")
    assert "Une date cliquée sur la frise va à" in page.inner_text("main")


def test_basemap_is_bundled_by_default(maps_app: Any) -> None:
    client = TestClient(maps_app)
    page = client.get("/search").text
    conf = json.loads(page.split("data-basemap='", 1)[1].split("'", 1)[0])
    assert conf["attribution"] == "Natural Earth (public domain)"
    geojson = client.get(conf["geojson"].replace(str(client.base_url), ""))
    assert geojson.status_code == 200
    countries = geojson.json()["features"]
    assert len(countries) > 150
    assert any(c["properties"]["name"] == "France" for c in countries)


def test_a_configured_wmts_basemap_replaces_the_bundled_one(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        basemap_url="https://tiles.example/wmts/{TileMatrix}/{TileCol}/{TileRow}.png",
        basemap_attribution="© Example",
    )
    with TestClient(create_app(settings)) as client:
        page = client.get("/search").text
    conf = json.loads(page.split("data-basemap='", 1)[1].split("'", 1)[0])
    assert conf == {"tiles": "https://tiles.example/wmts/{z}/{x}/{y}.png",
                    "attribution": "© Example"}  # fmt: skip


@needs_chromium
def test_products_without_cloud_cover_are_drawn_apart_not_at_zero(
    page: Page, maps_url: str
) -> None:
    page.goto(f"{maps_url}/collections/dem/items/Copernicus_DSM_10_N45_00_E005_00_DEM")
    page.wait_for_selector("#timeline canvas")
    timeline = page.evaluate(
        "() => { const t = window.terrapoleTimeline; return {points: t.points,"
        " data: t.plot.data, ys: t.points.map(t.y)}; }"
    )
    assert timeline["points"] and all(p["cloud"] is None for p in timeline["points"])
    assert all(y < 0 for y in timeline["ys"])  # their own line, below 0 % (clear)
    covered_other, covered_selected, bare_other, bare_selected = timeline["data"][1:]
    assert all(v is None for v in covered_other + covered_selected)
    assert sum(v is not None for v in bare_other + bare_selected) == len(timeline["points"])
    assert sum(v is not None for v in bare_selected) == 1  # this item
    assert "without a cloud cover" in page.inner_text(".timeline-box")
    page.goto(f"{maps_url}/collections/{COLLECTION}/items/{CLEAR}")  # covers: the usual dots
    page.wait_for_selector("#timeline canvas")
    data = page.evaluate("() => window.terrapoleTimeline.plot.data")
    assert all(v is None for v in data[3] + data[4])
    assert sum(v is not None for v in data[1] + data[2]) == 6


def test_item_page_offers_only_presets_that_make_a_series(maps_app: Any) -> None:
    client = TestClient(maps_app)
    page = client.get("/collections/dem/items/Copernicus_DSM_10_N45_00_E005_00_DEM").text
    offered = page.split('id="series-preset">', 1)[1].split("</select>", 1)[0]
    assert 'value="elevation"' in offered and 'value="hillshade"' not in offered
    s2 = client.get(f"/collections/{COLLECTION}/items/{CLEAR}").text
    offered = s2.split('id="series-preset">', 1)[1].split("</select>", 1)[0]
    assert 'value="ndvi"' in offered
    assert 'value="truecolor"' not in offered and 'value="falsecolor"' not in offered
    landcover = client.get("/collections/landcover/items/BDForet_ZoneTest").text
    assert 'id="series-preset"' not in landcover  # classes only: no series
