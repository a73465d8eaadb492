"""A real uvicorn server on loopback for client and validator tests, and offline JSON Schemas."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import uvicorn

SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "schemas"


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn in a thread; yield its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def offline_schemas(monkeypatch: Any) -> list[str]:
    """Serve schema URLs from tests/data/schemas; any other remote URL fails loudly.

    Returns the list of URLs that were asked for and are not kept in the repo.
    """
    missing: list[str] = []
    original = requests.adapters.HTTPAdapter.send

    def send(self: Any, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url or "")
        if parts.hostname in ("127.0.0.1", "localhost"):
            return original(self, request, **kwargs)
        path = SCHEMAS / f"{parts.hostname}{parts.path}"
        response = requests.Response()
        response.url = request.url or ""
        response.request = request
        if path.is_file():
            response.status_code = 200
            response._content = path.read_bytes()
            response.headers["Content-Type"] = "application/json"
        else:
            missing.append(request.url or "")
            response.status_code = 404
            response._content = b"{}"
        return response

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    return missing
