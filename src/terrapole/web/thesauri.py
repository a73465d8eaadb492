"""The thesauri as JSON: the imported schemes, a scheme with its top concepts, a concept, and
the label autocomplete the editor's keyword pickers call (``terrapole.fair.thesauri`` does the
work). Schemes and concepts are named by their URI in the ``uri`` query parameter: SKOS URIs
are whole URLs, which a path segment cannot carry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from terrapole.fair.thesauri import Concept, ConceptRef, Hit, Scheme, Thesauri
from terrapole.fair.thesauri.store import SEARCH_LIMIT
from terrapole.web.services import WebServices

Lang = Annotated[
    str,
    Query(
        description="language of the labels returned (falls back to English, then any)",
        pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$",
    ),
]
UriParam = Annotated[str, Query(min_length=1, max_length=1000, description="the SKOS URI")]


class ConceptLink(BaseModel):
    """A concept as lists give it: URI, preferred label in the asked language, page path."""

    uri: str
    prefLabel: str
    known: bool


class SearchHit(BaseModel):
    """One autocomplete suggestion."""

    uri: str
    prefLabel: str
    matched: str
    scheme: str
    broader: list[str]
    rank: int


class SearchAnswer(BaseModel):
    """The autocomplete answer: the query as understood and the hits, best first."""

    q: str
    lang: str
    hits: list[SearchHit]


class SchemeOut(BaseModel):
    """An imported scheme."""

    uri: str
    title: str
    titles: dict[str, str]
    languages: list[str]
    concepts: int
    source: str
    checksum: str
    imported: datetime


class SchemeDetail(SchemeOut):
    """A scheme with its top concepts."""

    topConcepts: list[ConceptLink]


class ConceptOut(BaseModel):
    """A concept with its labels, definition and relations."""

    uri: str
    scheme: str
    notation: str | None
    prefLabel: str
    labels: dict[str, dict[str, list[str]]]
    definitions: dict[str, str]
    broader: list[ConceptLink]
    narrower: list[ConceptLink]
    related: list[ConceptLink]
    collections: list[ConceptLink]
    topConcept: bool


def link(ref: ConceptRef, lang: str) -> ConceptLink:
    """A reference as JSON."""
    return ConceptLink(uri=ref.uri, prefLabel=ref.label(lang), known=ref.known)


def scheme_out(scheme: Scheme, lang: str) -> SchemeOut:
    """A scheme as JSON."""
    return SchemeOut(
        uri=scheme.uri, title=scheme.title(lang), titles=dict(scheme.titles),
        languages=list(scheme.languages), concepts=scheme.concepts, source=scheme.source,
        checksum=scheme.checksum, imported=scheme.imported,
    )  # fmt: skip


def concept_out(concept: Concept, lang: str) -> ConceptOut:
    """A concept as JSON."""
    return ConceptOut(
        uri=concept.uri, scheme=concept.scheme, notation=concept.notation,
        prefLabel=concept.label(lang),
        labels={k: {kind: v for kind, v in kinds.items()}
                for k, kinds in concept.labels_by_language().items()},
        definitions=dict(concept.definitions),
        broader=[link(r, lang) for r in concept.broader],
        narrower=[link(r, lang) for r in concept.narrower],
        related=[link(r, lang) for r in concept.related],
        collections=[link(r, lang) for r in concept.collections],
        topConcept=concept.top,
    )  # fmt: skip


def hit_out(hit: Hit, lang: str) -> SearchHit:
    """A search hit as JSON."""
    return SearchHit(
        uri=hit.concept.uri, prefLabel=hit.concept.label(lang), matched=hit.matched,
        scheme=hit.scheme, broader=[b.label(lang) for b in hit.broader], rank=hit.rank,
    )  # fmt: skip


def thesauri_of(services: WebServices) -> Thesauri:
    """The thesauri on the project database (the access service's engine)."""
    return Thesauri(services.access.engine)


def router(services: WebServices) -> APIRouter:
    """``/thesauri``, ``/thesauri/search``, ``/thesauri/scheme`` and ``/thesauri/concept``."""
    api = APIRouter(tags=["thesauri"])
    thesauri = thesauri_of(services)

    @api.get("/thesauri", summary="The imported SKOS schemes")
    def schemes(lang: Lang = "en") -> list[SchemeOut]:
        """Every imported scheme with its title in ``lang``, languages and concept count."""
        return [scheme_out(s, lang) for s in thesauri.schemes()]

    @api.get("/thesauri/search", summary="Concepts by label (autocomplete)")
    def search(
        q: Annotated[str, Query(min_length=1, max_length=200, description="part of a label")],
        lang: Lang = "en",
        scheme: Annotated[str | None, Query(max_length=1000, description="a scheme URI")] = None,
        limit: Annotated[int, Query(ge=1, le=SEARCH_LIMIT)] = 10,
    ) -> SearchAnswer:
        """Concepts whose preferred, alternative or hidden labels contain ``q`` (accents and
        case ignored), whole-label matches first, then label and word prefixes; each with
        its preferred label in ``lang`` and its broader concepts' labels. An unknown
        ``scheme`` is a 404."""
        if scheme:
            thesauri.scheme(scheme)
        hits = thesauri.search(q, lang=lang, scheme=scheme or None, limit=limit)
        return SearchAnswer(q=q, lang=lang, hits=[hit_out(h, lang) for h in hits])

    @api.get("/thesauri/scheme", summary="A scheme and its top concepts")
    def scheme(uri: UriParam, lang: Lang = "en") -> SchemeDetail:
        """The scheme ``uri`` (404 when not imported) with its top concepts."""
        found = thesauri.scheme(uri)
        roots, _ = thesauri.hierarchy(uri)
        return SchemeDetail(
            **scheme_out(found, lang).model_dump(), topConcepts=[link(r, lang) for r in roots]
        )

    @api.get("/thesauri/concept", summary="A concept")
    def concept(uri: UriParam, lang: Lang = "en") -> ConceptOut:
        """The concept ``uri`` (404 when no imported scheme has it)."""
        return concept_out(thesauri.concept(uri), lang)

    return api
