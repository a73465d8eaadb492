"""create_app(settings) -> FastAPI: builds the services and mounts each pillar's API.

The one table mapping terrapole errors to HTTP statuses lives here.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from morecantile.errors import InvalidZoomError
from rio_tiler.errors import PointOutsideBounds
from stac_fastapi.api.errors import DEFAULT_STATUS_CODES
from stac_fastapi.api.middleware import ProxyHeaderMiddleware
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send
from titiler.core.errors import DEFAULT_STATUS_CODES as TILER_STATUS_CODES

from terrapole.access import AccessService
from terrapole.access.accounts import TooManyAttempts
from terrapole.access.order_workflow import InvalidOrderTransition
from terrapole.access.quotas import QuotaExceeded
from terrapole.catalog.store import open_store
from terrapole.config import Settings
from terrapole.errors import (
    AlreadyExists,
    ConfigError,
    Forbidden,
    InvalidInput,
    NotFound,
    SourceUnavailable,
    StoreUnavailable,
    TerrapoleError,
    Unauthorized,
)
from terrapole.fair.call_workflow import InvalidApplicationTransition
from terrapole.fair.deposits import DepositFrozen, OffsetMismatch
from terrapole.fair.identifiers import IdentifierFailed
from terrapole.fair.record_workflow import InvalidRecordTransition
from terrapole.jobs import CreditExceeded, JobRunner
from terrapole.jobs.registry import default_processes
from terrapole.jobs.states import InvalidTransition
from terrapole.maps.cache import TileCache
from terrapole.portal import (
    access_pages,
    account_pages,
    admin_pages,
    calls_pages,
    ces_pages,
    deposit_pages,
    entity_pages,
    insitu_pages,
    my_orders_pages,
    order_pages,
    record_editor_pages,
    thesaurus_pages,
    usage_pages,
)
from terrapole.portal import jobs_pages as job_pages
from terrapole.portal import routes as portal
from terrapole.stac_api import create_stac_api
from terrapole.storage import open_storage
from terrapole.web import accounts as accounts_api
from terrapole.web import (
    assets,
    housekeeping,
    insitu_eo,
    pixel_series,
    record_checks,
    records,
    records_api,
    search_tiles,
    tiles,
    usage,
    wms,
)
from terrapole.web import calls as calls_api
from terrapole.web import ces as ces_api
from terrapole.web import dcat as dcat_api
from terrapole.web import deposits as deposits_api
from terrapole.web import entities as entities_api
from terrapole.web import ingest as ingest_api
from terrapole.web import insitu as insitu_api
from terrapole.web import insitu_admin as insitu_admin_api
from terrapole.web import oai as oai_api
from terrapole.web import oidc as oidc_api
from terrapole.web import openeo as openeo_api
from terrapole.web import orders as orders_api
from terrapole.web import processes as processes_api
from terrapole.web import sta as sta_api
from terrapole.web import thesauri as thesauri_api
from terrapole.web.guard import GuardMiddleware, error_response, internal_error, request_id
from terrapole.web.services import WebServices
from terrapole.web.tile_cache import TileCacheMiddleware

logger = logging.getLogger(__name__)

STATUS_CODES: dict[type[Exception], int] = {
    **DEFAULT_STATUS_CODES,
    InvalidInput: 400,
    # Request bodies whose dates overflow (year 1 shifted by a timezone) raise this from
    # stac-pydantic's validators rather than a validation error.
    OverflowError: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    AlreadyExists: 409,
    InvalidTransition: 409,
    InvalidOrderTransition: 409,
    InvalidApplicationTransition: 409,
    DepositFrozen: 409,
    OffsetMismatch: 409,
    InvalidRecordTransition: 409,
    QuotaExceeded: 409,
    TooManyAttempts: 429,  # answered with Retry-After
    CreditExceeded: 402,
    StoreUnavailable: 503,
    SourceUnavailable: 502,
    IdentifierFailed: 502,  # DataCite refused or was unreachable: nothing was published
    ConfigError: 500,
    TerrapoleError: 500,
    # map requests (rio-tiler, titiler, morecantile): a place without data, a bad parameter
    **{kind: status for kind, status in TILER_STATUS_CODES.items() if status < 500},
    PointOutsideBounds: 404,
    InvalidZoomError: 400,
}

SAID_AS_IS: tuple[type[Exception], ...] = (IdentifierFailed,)
"""Server-side failures whose message is for the user (another service's answer, nothing
internal): answered with it rather than with the request id alone."""


class PublicUrlMiddleware:
    """Make every generated link use the configured public URL (behind a reverse proxy)."""

    def __init__(self, app: ASGIApp, public_url: str) -> None:
        self.app = app
        scheme, rest = public_url.split("://", 1)
        host, _, path = rest.partition("/")
        self.scheme, self.host, self.prefix = scheme, host, ("/" + path if path else "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Rewrite scheme, host and root path, then pass the request on."""
        if scope["type"] in ("http", "websocket"):
            scope = dict(scope)
            scope["scheme"] = self.scheme
            headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
            scope["headers"] = [*headers, (b"host", self.host.encode())]
            scope["root_path"] = self.prefix + scope.get("root_path", "")
            scope["path"] = self.prefix + scope["path"]
        await self.app(scope, receive, send)


def _error_handler(status: int) -> Callable[[Request, Exception], Response]:
    """Answer in the API's error shape; log client errors quietly, server errors with traces.

    A 5xx answer carries the request id, never the exception's text (SQL, paths). Replaces
    stac-fastapi's handlers, which log every 4xx at ERROR level with a traceback.
    """

    def handle(request: Request, exc: Exception) -> Response:
        rid = request_id(request.scope)
        path = request.url.path
        if status >= 500 and not isinstance(exc, SAID_AS_IS):
            logger.error("request %s: %s %s failed", rid, request.method, path, exc_info=exc)
            code = "InternalError" if status == 500 else type(exc).__name__
            return internal_error(path, status, code, rid)
        logger.info("request %s: %s %s -> %d: %s", rid, request.method, path, status, exc)
        response = error_response(path, status, type(exc).__name__, str(exc), rid)
        if isinstance(exc, TooManyAttempts):
            response.headers["Retry-After"] = str(exc.retry_after_s)
        return response

    return handle


def _location(loc: Any) -> str:
    """``("body", "items", 0, "id")`` as ``items[0].id``."""
    where = ""
    for part in loc:
        if part in ("body", "query", "path", "header"):
            continue
        where += f"[{part}]" if isinstance(part, int) else f".{part}" if where else str(part)
    return where


def _http_handler(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (no such route, method not allowed...) in the API's shape."""
    status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
    detail = exc.detail if isinstance(exc, StarletteHTTPException) else "internal error"
    try:
        code = HTTPStatus(status).phrase.replace(" ", "")  # NotFound, MethodNotAllowed...
    except ValueError:  # a status HTTP does not name
        code = "Error"
    rid = request_id(request.scope)
    response = error_response(request.url.path, status, code, str(detail), rid)
    for name, value in (getattr(exc, "headers", None) or {}).items():
        response.headers[name] = value
    return response


def _validation_handler(request: Request, exc: Exception) -> Response:
    """A request FastAPI could not validate: 400 naming the first bad field, in the API's
    shape. The input is not echoed (stac-fastapi's handler did, and a body with ``1e400``
    could not be written as JSON: a 500)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    first = errors[0] if errors else {}
    where = "body" if first.get("type") == "json_invalid" else _location(first.get("loc", ()))
    message = f"invalid {where or 'request'}: {first.get('msg', 'malformed request')}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more)"
    rid = request_id(request.scope)
    logger.info("request %s: %s %s -> 400: %s", rid, request.method, request.url.path, message)
    return error_response(request.url.path, 400, "InvalidInput", message, rid)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the terrapole web application for ``settings``."""
    settings = settings or Settings()
    store = open_store(settings)
    access = AccessService(settings.database_url)
    storage = open_storage(settings)
    services = WebServices(store=store, access=access, settings=settings, storage=storage)

    scheduler = None
    if settings.production_chains:
        from terrapole.production.scheduler import Scheduler

        scheduler = Scheduler(settings, settings.production_chains)  # names checked here
        services.after_ingest = scheduler.wake.set

    runner = JobRunner(settings, store, storage, access, default_processes(settings.cars_command))
    pruner = housekeeping.pruner(settings, access.engine)  # None: turned off

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        storage.clean_stale_staging()  # what servers, ingests and chains killed mid-work left
        recovered = runner.recover()  # running jobs of a previous server: crashed; queued: again
        if recovered:
            logger.info("queued again %d job(s) accepted before the restart", len(recovered))
        if scheduler is not None:
            scheduler.start()
        if pruner is not None:
            pruner.start()
        yield
        if pruner is not None:
            pruner.stop()
        if scheduler is not None:
            scheduler.stop()
        runner.close()
        store.close()
        access.close()

    app = create_stac_api(services, STATUS_CODES, prefix="/stac", lifespan=lifespan)
    for exc_class, status in STATUS_CODES.items():
        app.add_exception_handler(exc_class, _error_handler(status))
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.state.services = services
    app.state.jobs = runner
    app.state.pruner = pruner
    app.include_router(assets.router(services))
    app.include_router(ingest_api.router(services))
    app.include_router(tiles.tiler(services).router, prefix=tiles.PREFIX, tags=["maps"])
    app.include_router(wms.router(services))
    app.include_router(search_tiles.router(services))
    app.include_router(pixel_series.router(services))
    app.include_router(processes_api.router(services, runner))
    app.include_router(openeo_api.router(services, runner))
    app.include_router(portal.router(services))
    app.include_router(accounts_api.router(services))
    app.include_router(entities_api.router(services))
    app.include_router(orders_api.router(services))
    app.include_router(account_pages.router(services))
    app.include_router(oidc_api.router(services, refuse=account_pages.login_refused))
    app.include_router(entity_pages.router(services))
    app.include_router(order_pages.router(services))
    app.include_router(sta_api.router(services))
    app.include_router(job_pages.router(services, runner))
    app.include_router(usage_pages.router(services))
    app.include_router(access_pages.router(services))
    app.include_router(my_orders_pages.router(services))
    app.include_router(admin_pages.router(services))
    app.include_router(insitu_api.router(services))
    app.include_router(insitu_admin_api.router(services))
    app.include_router(insitu_eo.router(services))
    app.include_router(insitu_pages.router(services))
    app.include_router(ces_pages.router(services))  # before the JSON: shared paths
    app.include_router(calls_pages.router(services))
    app.include_router(ces_api.router(services))
    app.include_router(calls_api.router(services))
    # the editor's /records/new|mine|review and /records/check before /records/{id}
    app.include_router(record_checks.router(services))
    app.include_router(record_editor_pages.router(services))
    app.include_router(records.router(services))
    app.include_router(records_api.router(services))
    app.include_router(deposit_pages.router(services))  # before the JSON: shared paths
    app.include_router(deposits_api.router(services))
    app.include_router(thesauri_api.router(services))
    app.include_router(thesaurus_pages.router(services))
    app.include_router(oai_api.router(services))
    app.include_router(dcat_api.router(services))
    app.mount("/static", portal.STATIC, name="static")
    app.add_middleware(TileCacheMiddleware, services=services, cache=TileCache())
    app.add_middleware(tiles.PresetMiddleware, services=services)
    app.add_middleware(openeo_api.SlashesMiddleware)
    usage.install(app, services)  # counts searches, downloads, tiles; serves /admin/usage

    @app.get("/healthz", tags=["health"])
    def health() -> dict[str, object]:
        """Liveness: the store answers."""
        return {"status": "ok", "items": store.count_items(), "backend": settings.backend}

    if settings.public_url:
        app.add_middleware(PublicUrlMiddleware, public_url=settings.public_url)
    else:
        app.add_middleware(ProxyHeaderMiddleware)
    app.add_middleware(GuardMiddleware)  # outermost: sees every request and every failure
    return app
