"""The tile cache in front of the map routes, with ETag and Cache-Control.

The key holds the request URL and the set of collections the caller may not see, so a cached
tile is only ever served to callers with the same visibility; the route behind still applies
the access policy on every miss. Public collections' tiles are ``public``, restricted ones
``private`` for shared HTTP caches.
"""

from __future__ import annotations

import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from terrapole.errors import TerrapoleError
from terrapole.maps.cache import Entry, TileCache
from terrapole.web.asgi import answer_error, principal
from terrapole.web.services import WebServices

CACHED = re.compile(r"^/maps/collections/(?P<c>[^/]+)/items/[^/]+/(tiles|preview)")


class TileCacheMiddleware:
    """Serve repeated map tile/preview requests from a TileCache; answer If-None-Match."""

    def __init__(self, app: ASGIApp, services: WebServices, cache: TileCache) -> None:
        self.app = app
        self.services = services
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Cache GET responses of tile and preview routes."""
        match = CACHED.match(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        try:
            hidden = self.services.access.hidden_for(principal(self.services, scope))
        except TerrapoleError as exc:  # a bad token: 401, as the app's table says
            await answer_error(exc, scope, receive, send)
            return
        restricted = self.services.access.is_restricted(match["c"])
        control = b"private, max-age=600" if restricted else b"public, max-age=3600"
        encoding = headers.get(b"accept-encoding", b"")  # bodies may be compressed per client
        key = (scope["path"], scope.get("query_string", b""), encoding, hidden)
        entry = self.cache.get(key)
        if entry is not None:
            await self._answer(send, entry, control, headers.get(b"if-none-match"), b"HIT")
            return
        await self._fill(scope, receive, send, key, control)

    async def _answer(
        self, send: Send, entry: Entry, control: bytes, if_none_match: bytes | None, state: bytes
    ) -> None:
        common = [(b"etag", entry.etag), (b"cache-control", control), (b"x-cache", state)]
        if if_none_match == entry.etag:
            await send({"type": "http.response.start", "status": 304, "headers": common})
            await send({"type": "http.response.body", "body": b""})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    *entry.headers,
                    (b"content-length", str(len(entry.body)).encode()),
                    *common,
                ],
            }
        )
        await send({"type": "http.response.body", "body": entry.body})

    async def _fill(
        self, scope: Scope, receive: Receive, send: Send, key: tuple[object, ...], control: bytes
    ) -> None:
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        status = start.get("status", 500)
        if status != 200:
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        kept = tuple(
            (k, v)
            for k, v in start.get("headers") or []
            if k.lower() in (b"content-type", b"content-encoding", b"vary")
        )
        etag = b'"' + hashlib.sha1(body, usedforsecurity=False).hexdigest().encode() + b'"'
        entry = Entry(body, kept, etag)
        self.cache.put(key, entry)
        await self._answer(send, entry, control, None, b"MISS")
