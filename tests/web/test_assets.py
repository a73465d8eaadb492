"""Asset downloads over HTTP: Range, checksums, access policy, zip of an item, GDAL /vsicurl/."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.ingest.service import Ingestor

from ..ingest.conftest import CLEAR, COLLECTION, THEIA
from ..stac_api.live import serve

RIO = Path(sys.executable).parent / "rio"
ITEM_URL = f"/stac/collections/{COLLECTION}/items/{CLEAR.name}"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("web")
    settings = Settings(data_dir=root / "data", ingest_roots=[THEIA])
    application = create_app(settings)
    services = application.state.services
    report = Ingestor(services.store, services.storage).run([str(CLEAR)])
    assert report.ingested == [CLEAR.name]
    return application


@pytest.fixture(scope="module")
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def test_served_item_has_absolute_asset_urls_that_download_with_matching_checksums(
    client: TestClient,
) -> None:
    item = client.get(ITEM_URL).json()
    for key, asset in item["assets"].items():
        assert asset["href"].startswith("http://testserver/assets/"), key
        response = client.get(asset["href"])
        assert response.status_code == 200, key
        assert response.headers["content-type"].startswith(asset["type"].split(";")[0])
        digest = "1220" + hashlib.sha256(response.content).hexdigest()
        assert digest == asset["file:checksum"], key


def test_range_requests_return_the_asked_bytes(client: TestClient) -> None:
    href = client.get(ITEM_URL).json()["assets"]["FRE_B4"]["href"]
    whole = client.get(href).content
    part = client.get(href, headers={"Range": "bytes=100-299"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-299/{len(whole)}"
    assert part.content == whole[100:300]
    assert client.head(href).headers["accept-ranges"] == "bytes"


def test_unknown_asset_is_a_404(client: TestClient) -> None:
    assert client.get(f"/assets/{COLLECTION}/{CLEAR.name}/nope.tif").status_code == 404
    assert client.get(f"/assets/{COLLECTION}/..%2F..%2Fetc/passwd").status_code in (400, 404)


def test_item_zip_holds_every_asset(client: TestClient) -> None:
    item = client.get(ITEM_URL).json()
    response = client.get(f"{ITEM_URL}/download")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.testzip() is None
        names = set(archive.namelist())
        assert names == {a["href"].rsplit("/", 1)[1] for a in item["assets"].values()}
        data = archive.read("FRE_B2.tif")
    assert "1220" + hashlib.sha256(data).hexdigest() == item["assets"]["FRE_B2"]["file:checksum"]


def test_restricted_collection_assets_are_missing_without_a_token_of_the_group(app: Any) -> None:
    access = app.state.services.access
    href = f"/assets/{COLLECTION}/{CLEAR.name}/FRE_B2.tif"
    with TestClient(app) as client:
        access.restrict(COLLECTION, ["partners"])
        try:
            outsider = access.create_token("outsider", groups=["public"])
            partner = access.create_token("partner", groups=["partners"])
            missing = href.replace(CLEAR.name, "no-such-item")
            bearer = {"Authorization": f"Bearer {outsider}"}
            for headers in ({}, bearer):  # answered as a missing file, whoever asks
                for url, unknown in ((href, missing), (f"{ITEM_URL}/download",
                                                       ITEM_URL.replace(CLEAR.name, "no-such-item")
                                                       + "/download")):  # fmt: skip
                    refused = client.get(url, headers=headers)
                    assert refused.status_code == 404
                    expected = client.get(unknown, headers=headers).json()["description"]
                    assert refused.json()["description"] == expected.replace(
                        "no-such-item", CLEAR.name
                    )
            assert client.head(href, headers=bearer).status_code == 404
            assert (
                client.get(href, headers={"Authorization": f"Bearer {partner}"}).status_code == 200
            )
        finally:
            access.restrict(COLLECTION, [])


def test_gdal_reads_a_remote_cog_over_http_like_qgis(app: Any) -> None:
    with serve(app) as url:
        href = f"{url}/assets/{COLLECTION}/{CLEAR.name}/FRE_B2.tif"
        result = subprocess.run(
            [str(RIO), "info", f"/vsicurl/{href}"],
            capture_output=True,
            text=True,
            check=False,
            env={"GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR", "PATH": ""},
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert (info["width"], info["height"]) == (80, 80)
    assert info["crs"] == "EPSG:32631" and info["nodata"] == -10000


def test_api_ingest_needs_admin_and_an_allowed_path(app: Any) -> None:
    access = app.state.services.access
    admin = {"Authorization": f"Bearer {access.create_token('ops', groups=[], admin=True)}"}
    other = THEIA / "SENTINEL2B_20190915-104723-867_L2A_T31UFQ_C_V2-2"
    with TestClient(app) as client:
        assert client.post("/ingest", json={"paths": [str(other)]}).status_code == 401
        outside = client.post("/ingest", json={"paths": ["/etc"]}, headers=admin)
        assert outside.status_code == 200
        assert "outside the allowed ingest roots" in outside.json()["rejected"][0]["reason"]
        relative = client.post("/ingest", json={"paths": ["x"]}, headers=admin)
        assert relative.status_code == 400
        done = client.post("/ingest", json={"paths": [str(other)]}, headers=admin)
        assert done.status_code == 200 and done.json()["ingested"] == [other.name]
        assert client.get(f"/stac/collections/{COLLECTION}/items/{other.name}").status_code == 200
