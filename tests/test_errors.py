"""Errors keep their message and attributes when pickled (raised in a Dask worker or a process
pool, they reach the caller whole)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.errors import (
    InvalidFilter,
    InvalidInput,
    InvalidProduct,
    NotFound,
    TerrapoleError,
)


@pytest.mark.parametrize(
    "error",
    [
        InvalidProduct("/data/S2A.tif", "has no band 2"),
        NotFound("item", "S2A_20180826"),
        InvalidInput("bbox", "west is greater than east"),
        InvalidFilter("unknown operator 'likes'"),
    ],
)
def test_errors_survive_pickling(error: TerrapoleError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error) and copy.message == error.message
    assert copy.__dict__ == error.__dict__


def test_routing_errors_and_bad_bodies_are_answered_in_each_apis_shape(tmp_path: Path) -> None:
    """No route, a wrong method, an unreadable body: FastAPI answered {"detail": ...}."""
    app = create_app(Settings(data_dir=tmp_path))
    with TestClient(app, raise_server_exceptions=False) as client:
        missing = client.get("/stac/nowhere")
        assert missing.status_code == 404 and missing.json()["code"] == "NotFound"
        method = client.delete("/stac/")
        assert method.status_code == 405 and method.json()["code"] == "MethodNotAllowed"
        assert "GET" in method.headers["allow"]
        openeo = client.get("/openeo/1.2/nowhere").json()
        assert openeo["code"] == "NotFound" and {"id", "message", "links"} <= set(openeo)
        body = client.post("/stac/search", content=b"{bad",
                           headers={"content-type": "application/json"})  # fmt: skip
        assert body.status_code == 400
        assert body.json()["description"] == "invalid body: JSON decode error"
        # tabs and line breaks are whitespace in CQL2 text; other control characters are not
        multiline = client.get("/stac/search", params={"filter": "id = 'a'\n\tAND id = 'b'"})
        assert multiline.status_code == 200
        bell = client.get("/stac/search", params={"filter": "id = 'a\x07'"})
        assert bell.status_code == 400 and "U+0007" in bell.text
