"""The ``/wms`` route: OGC WMS 1.3.0 (KVP GET) over ``terrapole.maps.wms``."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from terrapole.maps.wms import answer, exception_document
from terrapole.web.services import WebServices


def exception_report(code: str, message: str) -> Response:
    """The WMS 1.3.0 ServiceExceptionReport document, as a 400 response."""
    return Response(exception_document(code, message), status_code=400, media_type="text/xml")


def router(services: WebServices) -> APIRouter:
    """The /wms endpoint (KVP GET, parameter names case-insensitive)."""
    api = APIRouter(tags=["wms"])

    @api.get("/wms", summary="OGC WMS 1.3.0 (GetCapabilities, GetMap, GetFeatureInfo)")
    def wms(request: Request) -> Response:
        params = {k.lower(): v for k, v in request.query_params.items()}
        url = str(request.url).split("?")[0]
        hidden = partial(services.hidden, request)  # asked once the parameters before are valid
        done = answer(services.store, services.storage, params, url=url, hidden=hidden)
        if isinstance(done.content, dict):
            return JSONResponse(done.content)
        return Response(done.content, status_code=done.status, media_type=done.media_type)

    return api
