"""``POST /records/check`` with hostile bodies: whatever is posted, the answer is a 4xx naming
the body or a 200 naming the field, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from terrapole.app import create_app
from terrapole.config import Settings

JSON = {"content-type": "application/json"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=tmp_path))) as opened:
        yield opened


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 50_000 + b"]" * 50_000,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b'{"titles":' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    ],
    ids=["arrays", "objects", "inside-a-field"],
)
def test_deeply_nested_json_is_a_400_naming_the_body(client: TestClient, body: bytes) -> None:
    for headers in (JSON, {}):  # typed, and untyped (read as JSON too)
        answer = client.post("/records/check", content=body, headers=headers)
        assert answer.status_code == 400, answer.text[:300]
        assert "invalid body: the JSON is nested too deeply" in answer.text


def test_nesting_the_decoder_accepts_is_answered_by_field(client: TestClient) -> None:
    body = b'{"titles":' + b"[" * 500 + b"]" * 500 + b"}"
    answer = client.post("/records/check", content=body, headers=JSON)
    assert answer.status_code == 200, answer.text[:300]
    assert answer.json()["problems"][0]["field"].startswith("titles")
