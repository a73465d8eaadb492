"""Usage statistics over HTTP: the middleware that counts searches, downloads and tiles, and the
admin routes that give the aggregates (``GET /admin/usage``, ``GET /admin/usage.csv``).

The middleware only classifies the path, counts the body bytes it passes on and hands one
event to the :class:`~terrapole.access.usage.UsageRecorder` (a dict update); the recorder
writes in batches from its own thread. Whatever goes wrong in counting is logged and swallowed:
a request is never slowed by a write nor failed by a statistic.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import Response
from shapely.geometry import shape
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from terrapole.access.areas import geodesic_km2
from terrapole.access.usage import (
    Event,
    UsageRecorder,
    aggregate,
    dimensions,
    period,
    to_csv,
)
from terrapole.jobs.usage import job_facts
from terrapole.web.services import WebServices

logger = logging.getLogger(__name__)

Classified = tuple[str, str, str, str]  # kind, service, collection, item
_ITEMS = re.compile(r"^/stac/collections/(?P<c>[^/]+)/items/?$")
_ZIP = re.compile(r"^/stac/collections/(?P<c>[^/]+)/items/(?P<i>[^/]+)/download$")
_ASSET = re.compile(r"^/assets/(?P<c>[^/]+)/(?P<i>[^/]+)/[^/]+$")
_TILE = re.compile(r"^/maps/collections/(?P<c>[^/]+)/items/[^/]+/tiles/")
_MOSAIC = re.compile(r"^/maps/mosaic/tiles/")


def _query(scope: Scope) -> dict[str, str]:
    raw = scope.get("query_string", b"").decode("latin-1")
    return {k.lower(): v for k, v in parse_qsl(raw)}


def _one(collections: str) -> str:
    """The collection when a request names exactly one ('' otherwise)."""
    names = [c for c in collections.split(",") if c]
    return names[0] if len(names) == 1 else ""


def classify(scope: Scope) -> Classified | None:
    """What a request is for the statistics, or None when it is not counted.

    >>> classify({"type": "http", "method": "GET", "path": "/assets/s2/x/B04.tif"})
    ('download', 'assets', 's2', 'x')
    """
    if scope["type"] != "http" or scope["method"] not in ("GET", "POST"):
        return None
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    if path == "/stac/search":
        return "search", "stac", _one(_query(scope).get("collections", "")), ""
    if match := _ITEMS.match(path):
        return "search", "stac", match["c"], ""
    if match := _ZIP.match(path):
        return "download", "zip", match["c"], match["i"]
    if (match := _ASSET.match(path)) and scope["method"] == "GET":
        return "download", "assets", match["c"], match["i"]
    if match := _TILE.match(path):
        return "tile", "xyz", match["c"], ""
    if _MOSAIC.match(path):
        return "tile", "mosaic", _one(_query(scope).get("collections", "")), ""
    if path == "/wms" and _query(scope).get("request", "").lower() == "getmap":
        layer = _query(scope).get("layers", "")
        return "tile", "wms", layer.split(":", 1)[0] if "," not in layer else "", ""
    return None


class UsageMiddleware:
    """Count the requests :func:`classify` knows, with their status and body bytes."""

    def __init__(self, app: ASGIApp, services: WebServices, recorder: UsageRecorder) -> None:
        self.app = app
        self.services = services
        self.recorder = recorder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; count it once its answer is sent."""
        if scope["type"] == "lifespan":
            await self.app(scope, self._closing(receive), send)
            return
        try:
            what = classify(scope)
        except Exception:  # a statistic never fails a request
            logger.debug("usage: request not classified", exc_info=True)
            what = None
        if what is None:
            await self.app(scope, receive, send)
            return
        seen: dict[str, int] = {"status": 500, "bytes": 0}

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            elif message["type"] == "http.response.body":
                seen["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting)
        finally:
            self._count(scope, what, seen)

    def _closing(self, receive: Receive) -> Receive:
        """``receive`` that writes the pending statistics when the server shuts down."""

        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                self.recorder.close()
            return message

        return wrapped

    def _count(self, scope: Scope, what: Classified, seen: dict[str, int]) -> None:
        try:
            kind, service, collection, item = what
            failed = seen["status"] >= 400
            download = kind == "download" and not failed
            # a 401 is a caller the route could not authenticate: not looked up a second time
            who = "" if seen["status"] == 401 else self._who(scope)
            event = Event(kind, service, principal=who, collection=collection,
                          item=item if download else "", files=int(download),
                          bytes=seen["bytes"] if download else 0, failed=failed)  # fmt: skip
            self.recorder.record(event)
        except Exception:
            logger.debug("usage: request not counted", exc_info=True)

    def _who(self, scope: Scope) -> str:
        """The principal's name as the route resolved it; resolved here only if it did not."""
        cached = scope.get("state", {}).get("principal")
        if cached is not None:
            return str(cached.name)
        headers = dict(scope.get("headers") or [])
        if b"authorization" not in headers:
            return ""
        try:
            return self.services.principal(Request(scope)).name
        except Exception:  # a bad token: the route answered 401 already
            return ""


def footprint_km2(services: WebServices) -> Callable[[str, str], float | None]:
    """``(collection, item) -> km²`` of the item's footprint (cached), for downloads."""

    @lru_cache(maxsize=4096)
    def area(collection: str, item: str) -> float | None:
        doc: dict[str, Any] = services.store.get_item(collection, item, hidden=frozenset())
        geometry = doc.get("geometry")
        return geodesic_km2(shape(geometry)) if geometry else None

    return area


def router(services: WebServices, recorder: UsageRecorder) -> APIRouter:
    """``/admin/usage`` (JSON) and ``/admin/usage.csv``: aggregates only, admins only."""
    api = APIRouter(tags=["admin"])
    engine = services.access.engine

    def rows(request: Request, start: str | None, end: str | None, by: str) -> Any:
        services.admin(request)
        span = period(start, end)
        chosen = dimensions(by)
        recorder.flush()  # what was counted until now is in the answer
        return span, chosen, aggregate(engine, span, chosen, extra=job_facts(engine, span))

    start_q = Query(None, description="first day, YYYY-MM-DD (default: 29 days before end)")
    end_q = Query(None, description="last day, YYYY-MM-DD (default: today, UTC)")
    by_q = Query("day", description="comma-separated: day, kind, service, collection, "
                 "profile, entity (kind is always added)")  # fmt: skip

    @api.get("/admin/usage", summary="Usage statistics (aggregates per day x ...)")
    def usage(
        request: Request, start: str | None = start_q, end: str | None = end_q, by: str = by_q
    ) -> dict[str, Any]:
        span, chosen, found = rows(request, start, end, by)
        return {"start": span.start.isoformat(), "end": span.end.isoformat(), "by": list(chosen),
                "rows": [row.as_dict() for row in found]}  # fmt: skip

    @api.get("/admin/usage.csv", summary="Usage statistics as CSV")
    def usage_csv(
        request: Request, start: str | None = start_q, end: str | None = end_q, by: str = by_q
    ) -> Response:
        span, chosen, found = rows(request, start, end, by)
        name = f"usage-{span.start}-{span.end}.csv"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(to_csv(found, chosen), media_type="text/csv", headers=headers)

    return api


def install(app: FastAPI, services: WebServices) -> UsageRecorder:
    """Count usage on ``app`` and serve its aggregates (one call in ``create_app``)."""
    recorder = UsageRecorder(services.access.engine, area=footprint_km2(services))
    app.state.usage = recorder
    app.include_router(router(services, recorder))
    app.add_middleware(UsageMiddleware, services=services, recorder=recorder)
    return recorder
