"""``GET|POST /oai``: the OAI-PMH 2.0 endpoint (``terrapole.fair.oai`` does the work).

The harvester is anonymous: records describing collections hidden from anonymous readers are
left out. Protocol errors are answered in the protocol (HTTP 200 with ``<error code=...>``),
as OAI-PMH asks; the list verbs stream their records.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from terrapole.access.policy import ANONYMOUS
from terrapole.fair.ces import CesDirectory
from terrapole.fair.harvest import Harvest
from terrapole.fair.oai import OaiRepository
from terrapole.web.services import WebServices

MEDIA_TYPE = "text/xml; charset=utf-8"
_MAX_BODY = 64 * 1024
EMAIL = re.compile(r"\S+@(\S+\.)+\S+")  # OAI-PMH.xsd's pattern of adminEmail


def harvest_of(services: WebServices) -> Harvest:
    """The harvestable records of the platform, as an anonymous reader sees them."""
    directory = CesDirectory(services.access.engine)

    def ces() -> dict[str, tuple[str, frozenset[str]]]:
        offers: dict[str, set[str]] = {}
        for offer in directory.offers():
            offers.setdefault(offer.ces_id, set()).update(offer.collections)
        return {c.id: (c.name, frozenset(offers.get(c.id, ()))) for c in directory.consortia()}

    return Harvest(
        services.access.engine, hidden=lambda: services.access.hidden_for(ANONYMOUS), ces=ces
    )


def public_base(services: WebServices, request: Request) -> str:
    """The platform's public URL (setting ``public_url``, else the request's)."""
    return (services.settings.public_url or str(request.base_url)).rstrip("/")


def admin_email(services: WebServices) -> str:
    """The address Identify gives: the mails' sender when it is a full address (OAI-PMH asks
    for a domain with a dot; the default ``terrapole@localhost`` has none)."""
    sender = services.settings.smtp_from
    return sender if EMAIL.fullmatch(sender) else "terrapole@localhost.localdomain"


def records_url(services: WebServices, base: str) -> str:
    """Where landing pages are: a record id appended gives its page."""
    return services.settings.doi_landing_base or f"{base}/records/"


def router(services: WebServices, *, page_size: int = 500) -> APIRouter:
    """The OAI-PMH endpoint; list responses hold ``page_size`` records at most."""
    api = APIRouter(tags=["harvesting"])
    harvest = harvest_of(services)

    def answer(request: Request, arguments: dict[str, list[str]]) -> StreamingResponse:
        base = public_base(services, request)
        repository = OaiRepository(
            harvest,
            base_url=f"{base}/oai",
            records_url=records_url(services, base),
            admin_email=admin_email(services),
            datacentre=services.settings.datacite_repository_id or "TERRAPOLE",
            page_size=page_size,
        )
        return StreamingResponse(iter(repository.respond(arguments)), media_type=MEDIA_TYPE)

    @api.get(
        "/oai", response_class=StreamingResponse, responses={200: {"content": {"text/xml": {}}}}
    )
    def oai_get(request: Request) -> StreamingResponse:
        """An OAI-PMH request in the query string (verb=Identify, ListRecords...)."""
        arguments: dict[str, list[str]] = {}
        for name, value in request.query_params.multi_items():
            arguments.setdefault(name, []).append(value)
        return answer(request, arguments)

    @api.post(
        "/oai", response_class=StreamingResponse, responses={200: {"content": {"text/xml": {}}}}
    )
    async def oai_post(request: Request) -> StreamingResponse:
        """An OAI-PMH request as an ``application/x-www-form-urlencoded`` body."""
        body = (await request.body())[:_MAX_BODY].decode("utf-8", errors="replace")
        return answer(request, parse_qs(body, keep_blank_values=True))

    return api
