"""The deposits JSON API over the whole app: a chunked upload of a real COG with a chunk sent
twice, a checksum mismatch (400, nothing kept), a chunk at the wrong offset (409), publish
after the curator's approval, the map tiles and the CSV table, and the restriction's 403."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.fair.deposits import MAX_CHUNK_BYTES
from terrapole.web.deposits import deposits_of

from ..stac_api.live import serve
from .records_fixtures import complete_record
from .test_deposits import CAMELS_CSV, COG, CURATOR


@pytest.fixture
def app(tmp_path: Path) -> Any:
    return create_app(Settings(data_dir=tmp_path))


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as opened:
        yield opened


def _token(app: Any, name: str, groups: list[str] | None = None) -> dict[str, str]:
    secret = app.state.services.access.create_token(name, groups=groups or [])
    return {"Authorization": f"Bearer {secret}"}


def _send(client: TestClient, auth: dict[str, str], did: str, path: Path, chunk: int) -> Any:
    data = path.read_bytes()
    started = client.post(f"/deposits/{did}/uploads", headers=auth, json={
        "name": path.name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})  # fmt: skip
    assert started.status_code == 201, started.text
    url = started.json()["url"]
    for offset in range(0, len(data), chunk):
        sent = client.put(url, headers={**auth, "Upload-Offset": str(offset)},
                          content=data[offset : offset + chunk])  # fmt: skip
        assert sent.status_code == 200, sent.text
    return client.post(f"{url}/complete", headers=auth)


def test_upload_publish_and_preview_through_the_api(app: Any, client: TestClient) -> None:
    ana = _token(app, "ana")
    made = client.post("/deposits", headers=ana, json={"title": "Verdun forest, red band"})
    assert made.status_code == 201, made.text
    did = made.json()["id"]
    data = COG.read_bytes()
    url = client.post(f"/deposits/{did}/uploads", headers=ana, json={
        "name": COG.name, "size": len(data), "md5": hashlib.md5(data).hexdigest()}).json()["url"]  # fmt: skip
    first = {**ana, "Upload-Offset": "0"}
    assert client.put(url, headers=first, content=data[:8000]).json()["received"] == 8000
    assert client.put(url, headers=first, content=data[:8000]).json()["received"] == 8000
    wrong = client.put(url, headers={**ana, "Upload-Offset": "9000"}, content=data[9000:])
    assert wrong.status_code == 409 and "starting at byte 8000" in wrong.text
    assert client.get(url, headers=ana).json()["offset"] == 8000
    client.put(url, headers={**ana, "Upload-Offset": "8000"}, content=data[8000:])
    added = client.post(f"{url}/complete", headers=ana)
    assert added.status_code == 201 and added.json()["size"] == len(data), added.text
    assert _send(client, ana, did, CAMELS_CSV, 10_000).status_code == 201

    bad = CAMELS_CSV.read_bytes()
    started = client.post(f"/deposits/{did}/uploads", headers=ana, json={
        "name": "other.csv", "size": len(bad), "sha256": "0" * 64}).json()  # fmt: skip
    client.put(started["url"], headers={**ana, "Upload-Offset": "0"}, content=bad)
    refused = client.post(f"{started['url']}/complete", headers=ana)
    assert refused.status_code == 400 and "nothing was kept" in refused.text
    names = [f["name"] for f in client.get(f"/deposits/{did}", headers=ana).json()["files"]]
    assert names == [CAMELS_CSV.name, COG.name]

    assert client.get(f"/deposits/{did}").status_code == 404  # a draft is private
    record = client.get(f"/deposits/{did}", headers=ana).json()["record_id"]
    full = replace(complete_record(), titles=complete_record("Verdun forest").titles)
    described = client.put(f"/deposits/{did}/record", headers=ana, json=full.to_json())
    assert described.status_code == 200, described.text
    assert client.post(f"/deposits/{did}/submit", headers=ana).json()["state"] == "submitted"
    early = client.post(f"/deposits/{did}/publish", headers=ana)
    assert early.status_code == 409 and "approves" in early.text
    deposits_of(app.state.services).book.approve(CURATOR, record)
    done = client.post(f"/deposits/{did}/publish", headers=ana)
    assert done.status_code == 200 and done.json()["state"] == "published", done.text

    base = f"/deposits/{did}/files/{COG.name}"
    assert client.get(base).content == data  # open: anyone downloads
    tilejson = client.get(f"{base}/map/WebMercatorQuad/tilejson.json").json()
    assert tilejson["bounds"] == pytest.approx([5.3447, 49.2750, 5.3560, 49.2824], abs=1e-3)
    assert f"{base}/map/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}" in tilejson["tiles"][0]
    tile = client.get(f"{base}/map/tiles/WebMercatorQuad/14/8435/5607.png",
                      params={"rescale": "0,2000"})  # fmt: skip
    assert tile.status_code == 200 and tile.content[:4] == b"\x89PNG", tile.text
    table = client.get(f"/deposits/{did}/files/{CAMELS_CSV.name}/table").json()
    assert len(table["rows"]) == 200 and table["columns"][5] == {"name": "value", "type": "number"}
    assert client.post(f"/deposits/{did}/uploads", headers=ana, json={
        "name": "late.csv", "size": 3, "md5": "0" * 32}).status_code == 409  # fmt: skip
    again = client.post(f"/deposits/{did}/versions", headers=ana)
    assert again.status_code == 201 and again.json()["version"] == 2


def test_restricted_files_are_refused_to_others(app: Any, client: TestClient) -> None:
    ana = _token(app, "ana")
    made = client.post("/deposits", headers=ana, json={
        "title": "Restricted discharge", "access": "restricted", "groups": ["hydro"]}).json()  # fmt: skip
    did = made["id"]
    _send(client, ana, did, CAMELS_CSV, 50_000)
    deposits = deposits_of(app.state.services)
    owner = app.state.services.access.authenticate(ana["Authorization"])
    record = deposits.record(owner, did).record
    deposits.describe(owner, did, replace(complete_record(), titles=record.titles))
    deposits.submit(owner, did)
    deposits.book.approve(CURATOR, made["record_id"])
    deposits.publish(owner, did)
    url = f"/deposits/{did}/files/{CAMELS_CSV.name}"
    assert client.get(f"/deposits/{did}").json()["title"] == "Restricted discharge"
    assert client.get(url).status_code == 403
    assert client.get(url, headers=_token(app, "bob", ["hydro"])).status_code == 200
    assert client.get(url, headers=_token(app, "eve")).status_code == 403
    bad = client.post("/deposits", headers=ana, json={"title": "x", "access": "embargoed"})
    assert bad.status_code == 400 and "embargo_until" in bad.text


def test_a_withdrawn_records_files_are_refused_on_every_path(app: Any, client: TestClient) -> None:
    ana = _token(app, "ana")
    made = client.post("/deposits", headers=ana, json={"title": "Withdrawn forest"}).json()
    did, record = made["id"], made["record_id"]
    assert _send(client, ana, did, COG, 50_000).status_code == 201
    assert _send(client, ana, did, CAMELS_CSV, 50_000).status_code == 201
    deposits = deposits_of(app.state.services)
    owner = app.state.services.access.authenticate(ana["Authorization"])
    titles = deposits.record(owner, did).record.titles
    deposits.describe(owner, did, replace(complete_record(), titles=titles))
    deposits.submit(owner, did)
    deposits.book.approve(CURATOR, record)
    deposits.publish(owner, did)
    cog, csv = f"/deposits/{did}/files/{COG.name}", f"/deposits/{did}/files/{CAMELS_CSV.name}"
    assert client.get(cog).status_code == 200
    deposits.book.withdraw(CURATOR, record, "wrong licence")

    shown = client.get(f"/deposits/{did}").json()
    assert shown["state"] == "withdrawn" and shown["withdrawn_reason"] == "wrong licence"
    for path in (cog, f"{csv}/table", f"{cog}/map/WebMercatorQuad/tilejson.json",
                 f"{cog}/map/tiles/WebMercatorQuad/14/8435/5607.png"):  # fmt: skip
        refused = client.get(path)
        assert refused.status_code == 403 and "withdrawn" in refused.text, path
    via_record = client.get(f"/records/{record}/files/0", follow_redirects=True)
    assert via_record.status_code == 403 and "withdrawn" in via_record.text
    assert client.get(cog, headers=ana).content == COG.read_bytes()  # the owner still reads


def _started(client: TestClient, auth: dict[str, str]) -> tuple[str, str]:
    """A draft deposit of ``auth``'s and an upload of a file larger than a chunk: their URLs."""
    did = client.post("/deposits", headers=auth, json={"title": "Big chunks"}).json()["id"]
    started = client.post(f"/deposits/{did}/uploads", headers=auth, json={
        "name": "big.bin", "size": 2 * MAX_CHUNK_BYTES, "md5": "0" * 32})  # fmt: skip
    assert started.status_code == 201, started.text
    return did, started.json()["url"]


def test_a_chunk_is_read_only_for_its_uploader_and_up_to_the_limit(
    app: Any, client: TestClient
) -> None:
    ana = _token(app, "ana")
    _, url = _started(client, ana)
    oversize = bytes(MAX_CHUNK_BYTES + 1)
    typed = {"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    # a stranger learns nothing about the upload, whatever the body: it is not read
    for other in ({}, _token(app, "bob")):
        refused = client.put(url, headers={**other, **typed}, content=oversize)
        assert refused.status_code == 404 and "not found" in refused.text, refused.text
    too_big = client.put(url, headers={**ana, **typed}, content=oversize)
    assert too_big.status_code == 413 and str(MAX_CHUNK_BYTES) in too_big.text
    assert client.get(url, headers=ana).json()["received"] == 0


def _chunked_put(base: str, path: str, headers: dict[str, str], size: int) -> tuple[int, bytes]:
    """PUT ``size`` zero bytes with ``Transfer-Encoding: chunked`` (no Content-Length) over a
    raw socket, without the closing empty chunk: the server must answer from what it read.
    The body is typed as bytes (an untyped body is read whole by the guard's JSON check)."""
    host, port = urlsplit(base).hostname or "", urlsplit(base).port or 80
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(f"PUT {path} HTTP/1.1\r\nHost: {host}\r\n{head}"
                     "Content-Type: application/offset+octet-stream\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n".encode())  # fmt: skip
        piece = bytes(1 << 20)
        sent = 0
        while sent < size:
            part = piece[: min(len(piece), size - sent)]
            sock.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            sent += len(part)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer) < answer.index(b"\r\n\r\n") + 60:
            got = sock.recv(65536)
            if not got:
                break
            answer += got
    status = int(answer.split(b" ", 2)[1])
    return status, answer


def test_a_chunked_transfer_past_the_limit_is_413_before_its_end(app: Any) -> None:
    ana = _token(app, "ana")
    with TestClient(app) as client:
        _, url = _started(client, ana)
    with serve(app) as base:
        status, answer = _chunked_put(base, url, {**ana, "Upload-Offset": "0"}, MAX_CHUNK_BYTES + 1)
        assert status == 413 and str(MAX_CHUNK_BYTES).encode() in answer, answer[:300]
        with TestClient(app) as client:
            assert client.get(url, headers=ana).json()["received"] == 0


def test_listing_bounds_are_checked(app: Any, client: TestClient) -> None:
    ana = _token(app, "ana")
    for query in ("offset=100000000000000000000", "offset=-1", "limit=0", "limit=1001",
                  "limit=100000000000000000000"):  # fmt: skip
        refused = client.get(f"/deposits?{query}", headers=ana)
        assert refused.status_code == 400, (query, refused.text)
        assert f"invalid {query.split('=')[0]}:" in refused.text, refused.text
    assert client.get("/deposits?limit=1000&offset=10000000", headers=ana).json() == {
        "deposits": []
    }
