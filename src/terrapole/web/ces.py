"""The CES directory's JSON API: consortia, their members and the products and services they
back with their TRL; anyone reads, curators and admins write (:mod:`terrapole.fair.ces`).

``GET /ces`` (``theme``, ``q``), ``GET /ces/{id}`` (with its offers), ``GET /ces-offers``
(``ces``, ``kind``, ``min_trl``), ``GET /ces-offers/{id}``, ``GET /ces/{id}/history``;
``POST``/``PUT``/``DELETE`` on the same paths for curators. Offer links to collections are
checked against the catalogue.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from terrapole.errors import InvalidInput, NotFound
from terrapole.fair.ces import CesDirectory, Consortium, Kind, Member, Offer, as_record
from terrapole.web.services import WebServices


class MemberBody(BaseModel):
    """A member: ORCID iD and the affiliation's ROR id are optional."""

    name: str = Field(max_length=200)
    orcid: str | None = Field(default=None, max_length=64)
    affiliation: str | None = Field(default=None, max_length=300)
    ror: str | None = Field(default=None, max_length=64)
    lead: bool = False


class ConsortiumBody(BaseModel):
    """A consortium's fields (its id comes from the path on PUT)."""

    id: str = Field(max_length=64)
    name: str = Field(max_length=300)
    acronym: str = Field(default="", max_length=32)
    themes: list[str] = Field(default_factory=list, max_length=50)
    description: str = Field(default="", max_length=20_000)
    url: str | None = Field(default=None, max_length=2000)
    members: list[MemberBody] = Field(default_factory=list, max_length=500)

    def consortium(self) -> Consortium:
        """As the core's record."""
        return Consortium(
            id=self.id, name=self.name, acronym=self.acronym, themes=tuple(self.themes),
            description=self.description, url=self.url,
            members=tuple(Member(**m.model_dump()) for m in self.members),
        )  # fmt: skip


class OfferBody(BaseModel):
    """A product's or service's fields."""

    id: str = Field(max_length=64)
    ces_id: str = Field(max_length=64)
    name: str = Field(max_length=300)
    kind: Kind
    trl: int = Field(strict=True)  # a JSON 7.0 or "7" is no TRL
    description: str = Field(default="", max_length=20_000)
    collections: list[str] = Field(default_factory=list, max_length=100)
    urls: list[str] = Field(default_factory=list, max_length=50)

    def offer(self) -> Offer:
        """As the core's record."""
        return Offer(
            id=self.id, ces_id=self.ces_id, name=self.name, kind=self.kind, trl=self.trl,
            description=self.description, collections=tuple(self.collections),
            urls=tuple(self.urls),
        )  # fmt: skip


def ces_directory(services: WebServices) -> CesDirectory:
    """The directory on the project database, its collection links checked in the store."""

    def exists(collection_id: str) -> bool:
        try:
            services.store.get_collection(collection_id)
        except NotFound:
            return False
        return True

    return CesDirectory(services.access.engine, collection_exists=exists)


def consortium_json(ces: Consortium) -> dict[str, Any]:
    """A consortium as the API shows it."""
    return {**as_record(ces), "updated": ces.updated.isoformat() if ces.updated else None}


def offer_json(offer: Offer) -> dict[str, Any]:
    """A product or service as the API shows it, with its maturity stage."""
    return {
        **as_record(offer), "maturity": offer.maturity.value,
        "updated": offer.updated.isoformat() if offer.updated else None,
    }  # fmt: skip


def _same(path_id: str, body_id: str) -> None:
    if path_id != body_id:
        raise InvalidInput("id", f"the body's id {body_id!r} is not the path's {path_id!r}")


def router(services: WebServices) -> APIRouter:
    """The directory's routes."""
    api = APIRouter(tags=["fair"])
    directory = ces_directory(services)

    @api.get("/ces", summary="The Scientific Expertise Consortia")
    def list_consortia(theme: str = "", q: str = "") -> dict[str, Any]:
        found = directory.consortia(theme=theme, text=q)
        return {"consortia": [consortium_json(c) for c in found]}

    @api.get("/ces-offers", summary="Products and services of the CES, highest TRL first")
    def list_offers(
        ces: str = "", kind: Kind | None = None,
        min_trl: Annotated[int | None, Query(ge=1, le=9)] = None,
    ) -> dict[str, Any]:  # fmt: skip
        found = directory.offers(ces_id=ces or None, kind=kind, min_trl=min_trl)
        return {"offers": [offer_json(o) for o in found]}

    @api.get("/ces/{ces_id}", summary="One consortium with its products and services")
    def show(ces_id: str) -> dict[str, Any]:
        ces = directory.consortium(ces_id)
        offers = [offer_json(o) for o in directory.offers(ces_id=ces_id)]
        return {**consortium_json(ces), "offers": offers}

    @api.get("/ces/{ces_id}/history", summary="The changes of a consortium or offer")
    def history(ces_id: str) -> dict[str, Any]:
        changes = directory.history(ces_id)
        return {"changes": [{**c.__dict__, "at": c.at.isoformat()} for c in changes]}

    @api.get("/ces-offers/{offer_id}", summary="One product or service")
    def show_offer(offer_id: str) -> dict[str, Any]:
        return offer_json(directory.offer(offer_id))

    @api.post("/ces", status_code=201, summary="Add a consortium (curators)")
    def create(body: ConsortiumBody, request: Request) -> dict[str, Any]:
        return consortium_json(directory.create(services.principal(request), body.consortium()))

    @api.put("/ces/{ces_id}", summary="Replace a consortium's fields (curators)")
    def update(ces_id: str, body: ConsortiumBody, request: Request) -> dict[str, Any]:
        _same(ces_id, body.id)
        return consortium_json(directory.update(services.principal(request), body.consortium()))

    @api.delete("/ces/{ces_id}", status_code=204, summary="Remove a consortium (curators)")
    def delete(ces_id: str, request: Request) -> Response:
        directory.delete(services.principal(request), ces_id)
        return Response(status_code=204)

    @api.post("/ces-offers", status_code=201, summary="Add a product or service (curators)")
    def create_offer(body: OfferBody, request: Request) -> dict[str, Any]:
        return offer_json(directory.add_offer(services.principal(request), body.offer()))

    @api.put("/ces-offers/{offer_id}", summary="Replace a product's or service's fields")
    def update_offer(offer_id: str, body: OfferBody, request: Request) -> dict[str, Any]:
        _same(offer_id, body.id)
        return offer_json(directory.update_offer(services.principal(request), body.offer()))

    @api.delete("/ces-offers/{offer_id}", status_code=204, summary="Remove a product or service")
    def delete_offer(offer_id: str, request: Request) -> Response:
        directory.delete_offer(services.principal(request), offer_id)
        return Response(status_code=204)

    return api
