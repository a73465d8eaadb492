"""The thesaurus pages: the imported schemes, a scheme (its hierarchy or collections, and a
label search), and a concept (labels by language, definition, broader/narrower/related links,
URI). Thin: ``terrapole.fair.thesauri`` reads; schemes and concepts are named by their URI in
``?uri=`` as in the JSON of ``terrapole.web.thesauri``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from terrapole.fair.thesauri import ConceptRef
from terrapole.portal.fair_strings import THESAURUS_STRINGS
from terrapole.portal.i18n import translate
from terrapole.portal.routes import _lang, _page
from terrapole.web.services import WebServices
from terrapole.web.thesauri import thesauri_of

UriParam = Annotated[str, Query(min_length=1, max_length=1000)]
SHOWN_HITS = 50


def router(services: WebServices) -> APIRouter:
    """The pages ``/thesaurus``, ``/thesaurus/scheme?uri=`` and ``/thesaurus/concept?uri=``."""
    api = APIRouter(tags=["portal"], include_in_schema=False)
    thesauri = thesauri_of(services)

    def strings(request: Request) -> dict[str, str]:
        return translate(THESAURUS_STRINGS, _lang(request))

    @api.get("/thesaurus", response_class=HTMLResponse)
    def schemes_page(request: Request) -> HTMLResponse:
        return _page(request, "thesaurus_list.html", u=strings(request), schemes=thesauri.schemes())

    @api.get("/thesaurus/scheme", response_class=HTMLResponse)
    def scheme_page(
        request: Request,
        uri: UriParam,
        q: Annotated[str, Query(max_length=200)] = "",
    ) -> HTMLResponse:
        lang = _lang(request)
        scheme = thesauri.scheme(uri)
        roots, children = thesauri.hierarchy(uri)
        hits = thesauri.search(q, lang=lang, scheme=uri, limit=SHOWN_HITS) if q.strip() else []
        return _page(
            request, "thesaurus_scheme.html", u=strings(request), scheme=scheme, q=q,
            hits=hits, roots=roots, children=children, collections=thesauri.collections(uri),
        )  # fmt: skip

    @api.get("/thesaurus/concept", response_class=HTMLResponse)
    def concept_page(request: Request, uri: UriParam) -> HTMLResponse:
        concept = thesauri.concept(uri)
        scheme = thesauri.scheme(concept.scheme)
        return _page(
            request, "thesaurus_concept.html", u=strings(request), concept=concept,
            scheme=scheme, relations=_relations(concept.broader, concept.narrower,
                                                concept.related),
        )  # fmt: skip

    return api


def _relations(
    broader: tuple[ConceptRef, ...],
    narrower: tuple[ConceptRef, ...],
    related: tuple[ConceptRef, ...],
) -> list[tuple[str, tuple[ConceptRef, ...]]]:
    """The concept page's relation sections, by string key, those with links only."""
    named = (("broader", broader), ("narrower", narrower), ("related", related))
    return [(key, refs) for key, refs in named if refs]
