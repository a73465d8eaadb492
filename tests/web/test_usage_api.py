"""Usage statistics over HTTP: the middleware counts searches, downloads (bytes, files, km² of
the footprint) and tiles of a real ingested Theia product, a statistic never fails a request,
and /admin/usage (JSON, CSV) and the portal page are for admins only."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import morecantile
import pytest
from fastapi.testclient import TestClient
from pyproj import Geod
from shapely.geometry import shape

from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.ingest.service import Ingestor
from terrapole.web.usage import classify

from ..ingest.conftest import CLEAR, COLLECTION, THEIA

ITEM = CLEAR.name
TILE = morecantile.tms.get("WebMercatorQuad").tile(5.35, 49.278, 15)
TILE_URL = f"/maps/collections/{COLLECTION}/items/{ITEM}/tiles/WebMercatorQuad/{TILE.z}/{TILE.x}/{TILE.y}.png"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("usage")
    application = create_app(Settings(data_dir=root / "data", ingest_roots=[THEIA]))
    services = application.state.services
    assert Ingestor(services.store, services.storage).run([str(CLEAR)]).ingested == [ITEM]
    return application


@pytest.fixture(scope="module")
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def tokens(app: Any) -> dict[str, dict[str, str]]:
    access = app.state.services.access
    admin = access.create_token("usage-admin", groups=[], admin=True)
    user = access.create_token("usage-user", groups=[])
    return {"admin": {"Authorization": f"Bearer {admin}"},
            "user": {"Authorization": f"Bearer {user}"}}  # fmt: skip


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def _usage(client: TestClient, headers: dict[str, str], by: str) -> dict[tuple[str, ...], Any]:
    response = client.get("/admin/usage", params={"by": by, "start": _today()}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    return {tuple(row[d] for d in body["by"]): row for row in body["rows"]}


@pytest.mark.parametrize(
    ("method", "path", "query", "expected"),
    [
        ("GET", "/stac/search", b"collections=s2&limit=1", ("search", "stac", "s2", "")),
        ("GET", "/stac/search", b"collections=a,b", ("search", "stac", "", "")),
        ("POST", "/stac/search", b"", ("search", "stac", "", "")),
        ("GET", "/stac/collections/s2/items", b"", ("search", "stac", "s2", "")),
        ("GET", "/stac/collections/s2/items/x", b"", None),  # one item: not a search
        ("GET", "/stac/collections/s2/items/x/download", b"", ("download", "zip", "s2", "x")),
        ("GET", "/assets/s2/x/B04.tif", b"", ("download", "assets", "s2", "x")),
        ("HEAD", "/assets/s2/x/B04.tif", b"", None),
        ("GET", "/maps/collections/s2/items/x/tiles/WebMercatorQuad/3/1/1.png", b"",
         ("tile", "xyz", "s2", "")),
        ("GET", "/maps/collections/s2/items/x/preview.png", b"", None),
        ("GET", "/maps/mosaic/tiles/3/1/1.png", b"collections=s2", ("tile", "mosaic", "s2", "")),
        ("GET", "/wms", b"SERVICE=WMS&REQUEST=GetMap&LAYERS=s2:truecolor", ("tile", "wms", "s2", "")),
        ("GET", "/wms", b"SERVICE=WMS&REQUEST=GetCapabilities", None),
        ("GET", "/healthz", b"", None),
    ],
)  # fmt: skip
def test_classify_names_what_a_request_is(method, path, query, expected) -> None:
    scope = {"type": "http", "method": method, "path": path, "query_string": query}
    assert classify(scope) == expected


def test_classify_strips_the_public_url_prefix() -> None:
    scope = {"type": "http", "method": "GET", "path": "/hub/stac/search", "root_path": "/hub"}
    assert classify(scope) == ("search", "stac", "", "")


def test_searches_downloads_and_tiles_are_counted(client: TestClient, tokens) -> None:
    user = tokens["user"]
    assert client.get("/stac/search", params={"collections": COLLECTION}).status_code == 200
    assert client.get(f"/stac/collections/{COLLECTION}/items", headers=user).status_code == 200
    bad = client.get("/stac/search", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401  # counted as a failed search of an anonymous caller
    item = client.get(f"/stac/collections/{COLLECTION}/items/{ITEM}").json()
    href = next(a["href"] for a in item["assets"].values() if "/assets/" in a["href"])
    asset = client.get(href[href.index("/assets/") :], headers=user)
    assert asset.status_code == 200
    zipped = client.get(f"/stac/collections/{COLLECTION}/items/{ITEM}/download", headers=user)
    assert zipped.status_code == 200
    tile = client.get(TILE_URL, params={"preset": "truecolor"})
    assert tile.status_code == 200

    rows = _usage(client, tokens["admin"], "collection,service")
    search = rows[("search", "stac", COLLECTION)]
    assert (search["count"], search["failed"], search["users"]) == (2, 0, 1)
    assert rows[("search", "stac", "")]["failed"] == 1
    files = rows[("download", "assets", COLLECTION)]
    assert (files["files"], files["bytes"]) == (1, asset.num_bytes_downloaded)
    footprint = abs(Geod(ellps="WGS84").geometry_area_perimeter(shape(item["geometry"]))[0])
    assert files["km2"] == pytest.approx(footprint / 1e6, abs=1e-3) and files["km2"] > 0.1
    archive = rows[("download", "zip", COLLECTION)]
    sent = zipped.num_bytes_downloaded  # the bytes as sent (compressed), not as unpacked
    assert (archive["files"], archive["bytes"]) == (1, sent)
    tiles = rows[("tile", "xyz", COLLECTION)]
    assert (tiles["count"], tiles["failed"]) == (1, 0)
    assert client.get(TILE_URL, params={"preset": "nope"}).status_code == 400
    assert _usage(client, tokens["admin"], "service")[("tile", "xyz")]["failed"] == 1


def test_the_csv_gives_the_same_aggregates(client: TestClient, tokens) -> None:
    client.get("/stac/search", params={"collections": COLLECTION})
    response = client.get("/admin/usage.csv", params={"by": "day", "start": _today()},
                          headers=tokens["admin"])  # fmt: skip
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(response.text)))
    assert lines and set(lines[0]) >= {"day", "kind", "count", "users", "bytes", "km2"}
    searches = [line for line in lines if line["kind"] == "search"]
    assert searches and int(searches[0]["count"]) >= 1
    assert "usage-admin" not in response.text  # aggregates: no principal named


def test_a_failing_recorder_never_fails_a_request(app: Any, client: TestClient) -> None:
    recorder = app.state.usage

    def broken(event: Any) -> None:
        raise RuntimeError("statistics down")

    original, recorder.record = recorder.record, broken
    try:
        assert client.get("/stac/search", params={"collections": COLLECTION}).status_code == 200
    finally:
        recorder.record = original


@pytest.mark.parametrize(
    ("who", "params", "status"),
    [
        (None, {}, 401),
        ("user", {}, 403),
        ("admin", {"by": "day,user"}, 400),
        ("admin", {"start": "yesterday"}, 400),
        ("admin", {"start": "2026-03-05", "end": "2026-03-01"}, 400),
        ("admin", {"by": "profile,entity"}, 200),
    ],
)
def test_the_statistics_are_for_admins_and_check_their_parameters(
    client: TestClient, tokens, who, params, status
) -> None:
    headers = tokens[who] if who else {}
    for path in ("/admin/usage", "/admin/usage.csv"):
        response = client.get(path, params=params, headers=headers)
        assert response.status_code == status, response.text
        if status == 400:
            assert next(iter(params)) in response.json()["description"]


def test_the_portal_page_is_refused_to_non_admins(client: TestClient, tokens) -> None:
    shell = client.get("/admin/statistics")  # the browser's token is given on the page
    assert shell.status_code == 200 and 'id="usage-form"' in shell.text
    assert "usage.js" in shell.text and "uPlot" in shell.text
    assert client.get("/admin/statistics", headers=tokens["user"]).status_code == 403
    assert client.get("/admin/statistics", headers=tokens["admin"]).status_code == 200
    script = client.get("/static/usage.js")
    assert script.status_code == 200 and "new uPlot" in script.text
