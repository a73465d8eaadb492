"""The observatory portal over real CAMELS series: the map page and its GeoJSON filters, a
station page, the decimated series and its CSV, dataset and producer pages, a hidden dataset,
French; and in Chromium: open the map, click a station, see the chart, zoom, download CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser

from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.insitu import InsituStore, access_key
from terrapole.insitu.stations import MAX_STATIONS
from terrapole.insitu.tables import things

from ..conftest import needs_chromium
from ..insitu.camels import METEOROLOGY, Camels, discharge, load, precipitation
from ..stac_api.live import serve

SHOTS: str | None = None  # set to a folder to keep the screenshots when looking at the pages


@pytest.fixture
def portal(tmp_path: Path) -> tuple[Any, Camels]:
    app = create_app(Settings(data_dir=tmp_path))
    return app, load(InsituStore(app.state.services.access.engine))


@pytest.fixture
def client(portal: tuple[Any, Camels]) -> Iterator[TestClient]:
    with TestClient(portal[0]) as opened:
        yield opened


def _features(client: TestClient, **query: object) -> list[str]:
    answer = client.get("/insitu/stations", params=query)
    assert answer.status_code == 200, answer.text
    return sorted(f["properties"]["identifier"] for f in answer.json()["features"])


def test_the_map_page_lists_the_stations_the_filters_keep(
    portal: tuple[Any, Camels], client: TestClient
) -> None:
    _, ids = portal
    page = client.get("/insitu")
    assert page.status_code == 200
    assert "Narraguagus River at Cherryfield, ME" in page.text and "Marsh Creek" in page.text
    assert f'<option value="{ids.rain_property}">Precipitation</option>' in page.text
    assert 'href="http://testserver/insitu"' in page.text  # the main navigation
    only = client.get("/insitu", params={"q": "marsh"}).text
    assert "Marsh Creek" in only and "Narraguagus River at Cherryfield" not in only
    assert 'data-geojson="http://testserver/insitu/stations?q=marsh"' in only
    rain = client.get("/insitu", params={"observed_property": str(ids.rain_property)}).text
    assert "Marsh Creek" not in rain.split('id="station-list"')[1]


def test_the_stations_geojson_applies_every_filter(
    portal: tuple[Any, Camels], client: TestClient
) -> None:
    _, ids = portal
    assert _features(client) == ["01022500", "01547700"]
    assert _features(client, observed_property=ids.rain_property) == ["01022500"]
    assert _features(client, category=METEOROLOGY) == ["01022500"]
    assert _features(client, producer=ids.producer) == ["01022500", "01547700"]
    assert _features(client, start="2003-01-01") == ["01022500"]
    assert _features(client, start="2001-01-01", end="2001-01-31") == ["01022500", "01547700"]
    assert _features(client, bbox="-80,40,-77,42") == ["01547700"]
    assert _features(client, q="CHERRYFIELD") == ["01022500"]
    feature = client.get("/insitu/stations", params={"q": "marsh"}).json()["features"][0]
    assert feature["geometry"]["coordinates"] == pytest.approx([-77.60583, 41.05951])
    assert feature["properties"]["observed_properties"] == ["Discharge"]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"observed_property": "discharge"}, "observed_property"),
        ({"start": "2001-13-01"}, "start"),
        ({"start": "2001-01-01T00:00:00"}, "start"),  # no zone
        ({"start": "2002-01-01", "end": "2001-01-01"}, "end"),
    ],
)
def test_bad_filters_are_a_400_naming_the_field(
    client: TestClient, query: dict[str, str], named: str
) -> None:
    answer = client.get("/insitu/stations", params=query)
    assert answer.status_code == 400 and named in answer.json()["description"]


def test_the_station_page_shows_metadata_datastreams_and_the_chart_set_up(
    portal: tuple[Any, Camels], client: TestClient
) -> None:
    _, ids = portal
    page = client.get(f"/insitu/stations/{ids.narraguagus}")
    assert page.status_code == 200
    text = page.text
    assert "44.60797° N, -67.93524° E" in text
    assert f'href="http://testserver/insitu/datasets/{ids.maine}"' in text
    assert f'href="http://testserver/insitu/producers/{ids.producer}"' in text
    assert "Daymet gridded forcing, USGS stream gauge" in text  # sensors
    assert "2000-01-01 – 2003-12-31" in text
    assert text.count('class="plot-toggle"') == 2
    # rain as bars on the right axis, over discharge on the left one
    assert '"bars": true' in text.replace("&#34;", '"') or "&#34;bars&#34;: true" in text
    listed = client.get(f"/insitu/stations/{ids.narraguagus}/datastreams").json()
    assert [d["name"] for d in listed] == ["Discharge 01022500", "Precipitation, basin 01022500"]
    assert listed[1]["unit"]["symbol"] == "mm/d"


def test_the_station_page_finds_its_station_in_a_crowded_dataset(
    portal: tuple[Any, Camels], client: TestClient
) -> None:
    app, ids = portal
    crowd = [
        {"dataset_id": ids.maine, "name": f"A gauge {n:05d}", "description": "", "properties": {}}
        for n in range(MAX_STATIONS)
    ]  # more stations than one query lists, all before the Narraguagus by name
    with app.state.services.access.engine.begin() as con:
        con.execute(things.insert(), crowd)
    page = client.get(f"/insitu/stations/{ids.narraguagus}")
    assert page.status_code == 200
    assert "44.60797° N, -67.93524° E" in page.text and "2000-01-01 – 2003-12-31" in page.text


def test_the_rain_series_is_drawn_as_bars_on_the_right_axis() -> None:
    from terrapole.insitu import Datastream, Unit
    from terrapole.portal.insitu_pages import chart_series

    q = Datastream("Q", 1, 1, 1, Unit("cubic metre per second", "m³/s"), id=1)
    rain = Datastream("P", 1, 2, 2, Unit("millimetre per day", "mm/d"), id=2)
    drawn = chart_series([rain, q], {1: "Discharge", 2: "Precipitation"})
    assert [(s["axis"], s["bars"]) for s in drawn] == [("right", True), ("left", False)]


def test_a_long_series_is_decimated_to_the_min_and_max_of_each_pixel(
    portal: tuple[Any, Camels], client: TestClient
) -> None:
    _, ids = portal
    width = 40
    body = client.get(f"/insitu/datastreams/{ids.discharge_me}/series", params={"width": width})
    assert body.status_code == 200
    found = body.json()
    assert found["decimated"] is True and 0 < found["count"] <= 2 * width
    rows = discharge("01022500")
    micros = np.array([int(t.timestamp()) * 1_000_000 for t, *_ in rows])
    values = np.array([q for _, q, *_ in rows])
    lo, hi = micros[0], micros[-1] + 1  # the whole series: its last day included
    assert found["start"] == "2000-01-01T00:00:00Z"
    step = -(-(hi - lo) // width)
    bucket = (micros - lo) // step
    got = np.round(np.array(found["t"]) * 1_000_000).astype(np.int64)
    got_bucket = (got - lo) // step
    for n in np.unique(bucket):
        inside = values[bucket == n]
        drawn = sorted(np.array(found["v"])[got_bucket == n])
        assert drawn == sorted({inside.min(), inside.max()}), n
    # each drawn point is a real observation at its own time
    by_time = dict(zip(micros.tolist(), values.tolist(), strict=True))
    assert all(by_time[t] == v for t, v in zip(got.tolist(), found["v"], strict=True))


def test_a_short_period_is_drawn_with_every_observation(
    portal: tuple[Any, Camels], client: TestClient
) -> None:
    _, ids = portal
    found = client.get(
        f"/insitu/datastreams/{ids.rain_me}/series",
        params={"start": "2001-03-01", "end": "2001-04-01", "width": 400},
    ).json()
    expected = [p for t, p in precipitation("01022500") if datetime(2001, 3, 1, tzinfo=UTC) <= t
                < datetime(2001, 4, 1, tzinfo=UTC)]  # fmt: skip
    assert found["decimated"] is False and found["v"] == expected and len(expected) == 31
    assert found["t"][0] == datetime(2001, 3, 1, tzinfo=UTC).timestamp()


@pytest.mark.parametrize("width", ["0", "100000", "wide"])
def test_a_bad_width_is_a_400(portal: tuple[Any, Camels], client: TestClient, width: str) -> None:
    _, ids = portal
    answer = client.get(f"/insitu/datastreams/{ids.rain_me}/series", params={"width": width})
    assert answer.status_code == 400 and "width" in answer.json()["description"]


def test_the_csv_of_a_period_holds_its_observations(
    portal: tuple[Any, Camels], client: TestClient
) -> None:
    _, ids = portal
    answer = client.get(
        f"/insitu/datastreams/{ids.discharge_pa}/csv",
        params={"start": "2001-01-01T00:00:00Z", "end": "2001-02-01T00:00:00Z"},
    )
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    header, *rows = list(csv.reader(io.StringIO(answer.text)))
    assert header == ["phenomenonTime", "result (ft³/s)", "resultQuality"]
    start = datetime(2001, 1, 1, tzinfo=UTC)
    expected = [(t, q) for t, q, *_ in discharge("01547700") if start <= t < start + timedelta(31)]
    assert [(r[0], float(r[1])) for r in rows] == [
        (t.strftime("%Y-%m-%dT%H:%M:%SZ"), q) for t, q in expected
    ]
    whole = client.get(f"/insitu/datastreams/{ids.discharge_pa}/csv").text
    assert len(whole.splitlines()) == 1 + 1096


def test_dataset_and_producer_pages_show_licence_doi_and_stations(
    portal: tuple[Any, Camels], client: TestClient
) -> None:
    _, ids = portal
    dataset = client.get(f"/insitu/datasets/{ids.maine}").text
    assert 'href="https://doi.org/10.5065/D6MW2F4D"' in dataset
    assert "US public domain (USGS); CAMELS: cite Newman et al. 2015" in dataset
    assert "Narraguagus River" in dataset and "Marsh Creek" not in dataset
    other = client.get(f"/insitu/datasets/{ids.pennsylvania}").text
    assert 'id="dataset-doi"' not in other and "Marsh Creek" in other
    producer = client.get(f"/insitu/producers/{ids.producer}").text
    assert (
        "Narraguagus River streamflow and forcing" in producer
        and "Marsh Creek streamflow" in producer
    )
    assert 'href="https://ral.ucar.edu/solutions/products/camels"' in producer
    assert client.get("/insitu/producers/999").status_code == 404


def test_a_hidden_dataset_is_a_404_everywhere_and_absent_from_the_map(
    portal: tuple[Any, Camels], client: TestClient
) -> None:
    app, ids = portal
    access = app.state.services.access
    access.restrict(access_key(ids.maine), ["hydro-lab"])
    access.forget()
    for path in (
        f"/insitu/stations/{ids.narraguagus}",
        f"/insitu/stations/{ids.narraguagus}/datastreams",
        f"/insitu/datasets/{ids.maine}",
        f"/insitu/datastreams/{ids.discharge_me}/series",
        f"/insitu/datastreams/{ids.rain_me}/csv",
    ):
        assert client.get(path).status_code == 404, path
    assert _features(client) == ["01547700"]
    assert "Narraguagus" not in client.get("/insitu").text
    assert "Precipitation" not in client.get("/insitu").text  # not offered as a filter either
    token = access.create_token("hydro", groups=["hydro-lab"])
    member = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/insitu/stations/{ids.narraguagus}", headers=member).status_code == 200
    assert _features(client) == ["01547700"]
    seen = client.get("/insitu/stations", headers=member).json()["features"]
    assert len(seen) == 2


def test_the_pages_speak_french(portal: tuple[Any, Camels], client: TestClient) -> None:
    _, ids = portal
    client.cookies.set("lang", "fr")
    page = client.get("/insitu").text
    assert "Observatoires in situ" in page and "Variable observée" in page and ">In situ<" in page
    station = client.get(f"/insitu/stations/{ids.narraguagus}").text
    assert "Séries temporelles" in station and "Télécharger en CSV" in station
    assert "Observation de la Terre à cette station" in station and ">Indice <" in station
    assert "<dt>Producteur</dt>" in client.get(f"/insitu/datasets/{ids.maine}").text


# -- in a browser -----------------------------------------------------------------------------
@needs_chromium
def test_open_the_map_click_a_station_see_the_chart_zoom_and_download_csv(
    browser: Browser, portal: tuple[Any, Camels], tmp_path: Path
) -> None:
    app, ids = portal
    shots = Path(SHOTS) if SHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    with serve(app) as url:
        page.goto(f"{url}/insitu")
        page.wait_for_selector("#insitu-map[data-ready=true]")
        page.wait_for_function("window.terrapoleInsituMap.loaded()")
        page.wait_for_timeout(300)  # let the fitted view settle before projecting the point
        page.screenshot(path=str(shots / "insitu-map.png"), full_page=True)
        point = page.evaluate(
            "() => { const m = window.terrapoleInsituMap; const p = m.project([-67.93524, 44.60797]);"
            " const r = m.getCanvas().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }"
        )
        page.mouse.click(point[0], point[1])
        page.wait_for_url(f"**/insitu/stations/{ids.narraguagus}")
        page.wait_for_selector("#station-chart[data-points] canvas")
        # the whole period holds fewer than 2 × the chart's width: every observation drawn
        assert page.get_attribute("#station-chart", "data-decimated") == "false"
        drawn = len(discharge("01022500")) + len(precipitation("01022500"))
        assert page.get_attribute("#station-chart", "data-points") == str(drawn)
        whole = page.get_attribute("#station-chart", "data-period")
        assert whole == "2000-01-01T00:00:00.000Z/2003-12-31T00:00:00.001Z"
        assert page.locator(".u-legend").inner_text().count("Precipitation (mm/d)") == 1
        page.screenshot(path=str(shots / "insitu-station.png"), full_page=True)

        box = page.locator("#station-chart .u-over").bounding_box()
        assert box is not None
        y = box["y"] + box["height"] / 2
        page.mouse.move(box["x"] + box["width"] * 0.30, y)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.33, y, steps=5)
        page.mouse.up()
        page.wait_for_function(
            f"document.querySelector('#station-chart').dataset.period !== '{whole}'"
        )
        zoomed = page.get_attribute("#station-chart", "data-period") or ""
        lo, hi = (datetime.fromisoformat(p) for p in zoomed.split("/"))
        assert timedelta(days=20) < hi - lo < timedelta(days=90)
        page.screenshot(path=str(shots / "insitu-zoomed.png"), full_page=True)

        with page.expect_download() as caught:
            page.click(f".csv-link[data-id='{ids.discharge_me}']")
        saved = tmp_path / "shown.csv"
        caught.value.save_as(saved)
        header, *rows = list(csv.reader(saved.open()))
        assert header[0] == "phenomenonTime" and 20 <= len(rows) <= 90
        days = [datetime.fromisoformat(r[0]) for r in rows]
        assert lo <= days[0] and days[-1] < hi
    context.close()


def test_ids_beyond_64_bits_are_a_400_not_a_database_error(client: TestClient) -> None:
    for page in ("/insitu/stations/", "/insitu/datasets/", "/insitu/producers/"):
        response = client.get(f"{page}99999999999999999999")
        assert response.status_code in (400, 422), page
        assert "OverflowError" not in response.text, page
