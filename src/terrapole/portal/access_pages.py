"""The page ``/access``: "Which access for my profile?", the seeds' profile simulator.

The offer is :func:`terrapole.access.simulator.offer`'s; this module only picks the profile
from the query, lists the collections the caller's view holds (a collection ruled only by
declared terms is listed, its terms being the offer itself; one restricted to groups stays
hidden) and words the result.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from terrapole.access.pricing import quarter
from terrapole.access.profiles import Profile, profile
from terrapole.access.simulator import offer
from terrapole.catalog.model import CollectionQuery
from terrapole.portal.access_strings import CONDITIONS, PROFILES, STRINGS
from terrapole.portal.i18n import translate
from terrapole.portal.routes import _lang, _page
from terrapole.web.services import WebServices


def router(services: WebServices) -> APIRouter:
    """The page ``/access``."""
    api = APIRouter(tags=["portal"], include_in_schema=False)

    @api.get("/access", response_class=HTMLResponse)
    def access(
        request: Request,
        chosen: Annotated[str, Query(alias="profile")] = Profile.FRENCH_SCIENTIST.value,
    ) -> HTMLResponse:
        picked = profile(chosen)
        lang = _lang(request)
        terms = services.access.terms()
        hidden = services.access.hidden_for(services.principal(request))
        # collections under terms are listed to show what they ask, but never those kept to
        # some entities (orders' deliveries): their existence is their members' business
        open_terms = {c for c, t in terms.items() if not t.entities}
        only_terms = open_terms - services.access.restrictions().keys()
        query = CollectionQuery(limit=10_000, hidden_collections=hidden - only_terms)
        docs, _ = services.store.list_collections(query)
        titles = {str(d["id"]): str(d.get("title") or d["id"]) for d in docs}
        found = offer(
            picked,
            terms,
            services.orders.table,
            titles,
            period=quarter(datetime.now(UTC)),
        )
        conditions = [
            CONDITIONS[c][lang].format(min=f"{found.tasking_min_km2:g}") for c in found.conditions
        ]
        return _page(
            request,
            "access.html",
            u=translate(STRINGS, lang),
            profiles=[(p.value, PROFILES[p][lang]) for p in Profile],
            offer=found,
            conditions=conditions,
        )

    return api
