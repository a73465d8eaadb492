"""Control characters are a 400 naming where they are, on every API and both stores; an
unexpected failure is a 500 with a request id and nothing internal (SQL, paths, traceback)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from terrapole.app import create_app
from terrapole.catalog.documents import prepare_item
from terrapole.config import Settings
from terrapole.errors import ConfigError
from terrapole.web.guard import GuardMiddleware

from ..conftest import _empty_pgstac, s2_collection, s2_items

S2 = s2_items()
ITEM = S2[0]["id"]
LEAKS = (
    "SELECT",
    "select ",
    "psycopg",
    "Traceback",
    "sqlite3",
    "CONTEXT",
    "/tmp",
    "/srv",
    "/home",
    str(Path(__file__).resolve().parents[2]),  # the checkout, wherever it is
)


@pytest.fixture(scope="module", params=["sqlite", "pgstac"])
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The whole app on each store, holding the real Sentinel-2 collection and 100 items."""
    dsn = request.getfixturevalue("pg_dsn") if request.param == "pgstac" else None
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("guard"), database_url=dsn or ""))
    if dsn is not None:
        _empty_pgstac(dsn)
    store = app.state.services.store
    store.create_collection(s2_collection())
    store.load_items([prepare_item(doc) for doc in S2])
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
    store.close()


@pytest.fixture
def admin(client: TestClient) -> dict[str, str]:
    token = client.app.state.services.access.create_token("ops", groups=[], admin=True)  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {token}"}


def _assert_clean(response: Any) -> None:
    """No internals in the answer, and the request id in its header."""
    assert len(response.headers["x-request-id"]) == 32
    for leak in LEAKS:
        assert leak not in response.text, (leak, response.text)


# Every example of issue 17 item 2 (GET), with the parameter the answer must name.
GET_CASES = [
    ("/stac/search?q=%00", "q"),
    ("/stac/collections/sentinel-2-l2a/items?q=%00", "q"),
    ("/stac/aggregate?q=%00", "q"),
    ("/stac/search?ids=%00", "ids"),
    ("/stac/search?collections=%00", "collections"),
    ("/stac/search?filter=platform%3D%27a%00%27", "filter"),
    ("/stac/search?filter-lang=cql2-text&filter=platform%20%3D%20%27%1F%27", "filter"),
    ("/stac/search?bbox=1,2,3,4%7F", "bbox"),
    ("/stac/search?q%00=a", "query parameter name"),
    ("/stac/collections/%00", "path"),
    ("/stac/collections/sentinel-2-l2a/items/%00", "path"),
    (f"/stac/collections/sentinel-2-l2a/items/{ITEM}%0A", "path"),
    ("/?q=a%00", "q"),
    ("/collections/sentinel-2-l2a%00", "path"),
    ("/maps/mosaic/tiles/10/200/380.png?collections=sentinel-2-l2a%00", "collections"),
    ("/maps/collections/sentinel-2-l2a/items/%00/info", "path"),
    ("/assets/sentinel-2-l2a/%00/B02.tif", "path"),
    ("/ogcapi/processes/%00", "path"),
    ("/ogcapi/jobs?status=%09", "status"),
]


@pytest.mark.parametrize(("url", "named"), GET_CASES)
def test_control_characters_in_the_request_target_are_a_400_naming_where(
    client: TestClient, url: str, named: str
) -> None:
    response = client.get(url)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "InvalidInput"
    assert f"invalid {named}" in body["description"] and "control character" in body["description"]
    _assert_clean(response)


def test_openeo_and_wms_answer_in_their_own_error_shape(client: TestClient) -> None:
    response = client.get("/openeo/1.2/collections/%00")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"id", "code", "message", "links"}
    assert body["id"] == response.headers["x-request-id"] and "invalid path" in body["message"]

    response = client.get("/wms?SERVICE=WMS&REQUEST=GetMap&LAYERS=sentinel-2-l2a%00:truecolor")
    assert response.status_code == 400 and response.headers["content-type"].startswith("text/xml")
    assert "<ServiceExceptionReport" in response.text and "invalid LAYERS" in response.text
    _assert_clean(response)


# JSON bodies: (method, url, body, where the answer says the NUL is)
BODY_CASES = [
    ("POST", "/stac/search", {"q": ["\u0000"]}, "q[0]"),
    ("POST", "/stac/search", {"ids": ["a", "b\u0000"]}, "ids[1]"),
    ("POST", "/stac/search", {"collections": ["\u0000"]}, "collections[0]"),
    (
        "POST",
        "/stac/search",
        {"filter": {"op": "=", "args": [{"property": "platform"}, "a\u0000"]}},
        "filter.args[1]",
    ),
    ("POST", "/stac/aggregate", {"q": ["x\u0000y"]}, "q[0]"),
    ("POST", "/stac/search", {"fields": {"include": ["\u0000"]}}, "fields.include[0]"),
    ("POST", "/stac/search", {"q\u0000": ["a"]}, "key 'q\\x00'"),
    ("POST", "/openeo/1.2/validation", {"process_graph": {"\u0000": {}}}, "key"),
    (
        "POST",
        "/ogcapi/processes/zonal-statistics/execution",
        {"inputs": {"x": "\u0000"}},
        "inputs.x",
    ),
]


@pytest.mark.parametrize(("method", "url", "body", "where"), BODY_CASES)
def test_a_nul_in_a_json_body_is_a_400_naming_where(
    client: TestClient, method: str, url: str, body: dict[str, Any], where: str
) -> None:
    response = client.request(method, url, json=body)
    assert response.status_code == 400, response.text
    payload = response.json()
    message = payload.get("description") or payload["message"]
    assert f"invalid {where}" in message and "NUL" in message
    _assert_clean(response)


def test_a_nul_in_a_transaction_body_is_refused_before_anything_is_written(
    client: TestClient, admin: dict[str, str]
) -> None:
    item = {**S2[1], "id": "nul-in-title"}
    item["properties"] = {**item["properties"], "title": "a\u0000b"}
    response = client.post("/stac/collections/sentinel-2-l2a/items", json=item, headers=admin)
    assert response.status_code == 400 and "invalid properties.title" in response.text
    _assert_clean(response)
    assert client.get("/stac/collections/sentinel-2-l2a/items/nul-in-title").status_code == 404


def test_text_that_only_looks_like_a_nul_and_newlines_in_json_are_accepted(
    client: TestClient,
) -> None:
    # An escaped backslash followed by "u0000" is six ordinary characters, not a NUL.
    raw = b'{"q": ["\\\\u0000"], "limit": 1}'
    assert json.loads(raw)["q"] == ["\\u0000"]
    response = client.post(
        "/stac/search", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    response = client.post("/stac/search", json={"q": ["Sentinel\n2"], "limit": 1})
    assert response.status_code == 200, response.text


def test_every_answer_carries_a_request_id(client: TestClient) -> None:
    ids = set()
    for url in ("/stac/", "/stac/search?limit=1", "/stac/collections/nothing", "/healthz"):
        response = client.get(url)
        ids.add(response.headers["x-request-id"])
    assert len(ids) == 4


def test_an_unexpected_error_is_a_500_with_a_request_id_and_nothing_internal(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store = client.app.state.services.store  # type: ignore[attr-defined]

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("SELECT secret FROM items -- /srv/terrapole/data/terrapole.db")

    monkeypatch.setattr(store, "search", broken)
    with caplog.at_level(logging.ERROR):
        for url, shape in (("/stac/search", "description"), ("/openeo/1.2/collections", "message")):
            response = client.get(url)
            assert response.status_code == 500, response.text
            rid = response.headers["x-request-id"]
            body = response.json()
            assert body["code"] == "InternalError"
            assert body[shape] == f"internal error, request id {rid}"
            _assert_clean(response)
            logged = [r for r in caplog.records if rid in r.getMessage()]
            assert logged and logged[0].exc_info is not None  # the trace is in the log only


def test_terrapole_server_errors_do_not_show_their_text(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = client.app.state.services.store  # type: ignore[attr-defined]

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ConfigError("TERRAPOLE_DATABASE_URL", "/srv/secret/catalog.db is not writable")

    monkeypatch.setattr(store, "get_collection", broken)
    response = client.get("/stac/collections/sentinel-2-l2a")
    assert response.status_code == 500 and "secret" not in response.text
    assert response.json()["description"].startswith("internal error, request id")


# -- the guard alone, around small ASGI apps that fail at each moment of a response ------


def _failing_stream(fail_after: int) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        def chunks() -> Iterator[bytes]:
            for index in range(3):
                if index == fail_after:
                    raise OSError("/srv/data/assets/x.tif: no such file")
                yield b"chunk"

        await StreamingResponse(chunks(), media_type="application/zip")(scope, receive, send)

    return app


async def _broken_middleware(scope: Scope, receive: Receive, send: Send) -> None:
    raise KeyError("a middleware's bug")


@pytest.mark.parametrize("app", [_failing_stream(0), _broken_middleware])
def test_a_failure_before_the_first_byte_is_a_clean_500(app: Any) -> None:
    test_client = TestClient(GuardMiddleware(app), raise_server_exceptions=True)
    response = test_client.get("/stac/collections/x/items/y/download")
    assert response.status_code == 500
    assert response.json()["code"] == "InternalError" and "/srv" not in response.text
    assert response.headers["x-request-id"] in response.json()["description"]


def test_a_failure_after_bytes_went_out_leaves_the_body_unfinished(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sent: list[Message] = []

    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> Message:
        if requests:
            return requests.pop()
        await asyncio.Event().wait()  # the client stays connected
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "GET", "path": "/download", "query_string": b"",
                    "headers": []}  # fmt: skip
    with caplog.at_level(logging.ERROR):
        # on a thread of its own: the session's Playwright browser keeps a loop running here
        with ThreadPoolExecutor(1) as thread:
            call = GuardMiddleware(_failing_stream(1))(scope, receive, send)
            thread.submit(asyncio.run, call).result()
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert [m["status"] for m in starts] == [200]  # no second start, no fake success
    assert not any(m["type"] == "http.response.body" and not m.get("more_body") for m in sent)
    rid = dict(starts[0]["headers"])[b"x-request-id"].decode()
    assert any(rid in r.getMessage() for r in caplog.records)


def test_an_untyped_body_longer_than_the_inspected_size_streams_through_unbuffered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A body without a Content-Type (a browser's Blob slice) is buffered for the NUL check only
    while it stays under MAX_INSPECTED_BODY; a longer one is handed on unchecked as it comes, so
    the guard never holds a stranger's unbounded body, and the app gets every byte in order."""
    monkeypatch.setattr("terrapole.web.guard.MAX_INSPECTED_BODY", 8)
    parts = [b"0123456", b"789abc\x00", b"def"]  # a NUL past the cap is the route's business
    requests = [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]
    received: list[bytes] = []

    async def receive() -> Message:
        return requests.pop(0)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            received.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "PUT", "path": "/deposits/x/uploads/y",
                    "query_string": b"", "headers": []}  # fmt: skip
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, GuardMiddleware(app)(scope, receive, send)).result()
    assert b"".join(received) == b"".join(parts)
    assert received[0] == b"0123456789abc\x00"  # the guard read two chunks, then stopped
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [204]
