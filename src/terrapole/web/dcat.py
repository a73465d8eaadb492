"""``GET /dcat``: the DCAT-AP 3 catalogue of the published records (``terrapole.fair.dcat``),
in Turtle or JSON-LD chosen by ``?format=ttl|jsonld`` or else by the Accept header."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from terrapole.errors import InvalidInput
from terrapole.fair.dcat import CatalogueInfo, Format, serialize
from terrapole.web.oai import harvest_of, public_base, records_url
from terrapole.web.services import WebServices

MEDIA_TYPES: dict[str, tuple[Format, str]] = {
    "ttl": ("turtle", "text/turtle; charset=utf-8"),
    "jsonld": ("json-ld", "application/ld+json"),
}


def chosen(format_: str | None, accept: str) -> str:
    """The format asked: the parameter wins, then the Accept header; Turtle by default."""
    if format_ is not None:
        if format_ not in MEDIA_TYPES:
            raise InvalidInput("format", f"{format_!r} is not one of {', '.join(MEDIA_TYPES)}")
        return format_
    return "jsonld" if "application/ld+json" in accept or "application/json" in accept else "ttl"


def router(services: WebServices) -> APIRouter:
    """The DCAT catalogue endpoint."""
    api = APIRouter(tags=["harvesting"])
    harvest = harvest_of(services)

    @api.get("/dcat", response_class=StreamingResponse)
    def dcat(
        request: Request,
        format: Annotated[str | None, Query(description="ttl or jsonld")] = None,
    ) -> StreamingResponse:
        """The catalogue (every published record, once)."""
        name = chosen(format, request.headers.get("accept", ""))
        fmt, media_type = MEDIA_TYPES[name]
        base = public_base(services, request)
        info = CatalogueInfo(f"{base}/dcat", f"{base}/", records_url(services, base))
        return StreamingResponse(serialize(harvest, info, fmt), media_type=media_type)

    return api
