"""Ingest as an admin API operation: POST /ingest with server-side paths under allowed roots."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from terrapole.errors import InvalidInput
from terrapole.ingest.service import Ingestor
from terrapole.web.services import WebServices


class IngestRequest(BaseModel):
    """Paths (files, folders, globs) on the server, and the collection for generic rasters."""

    paths: list[str] = Field(min_length=1, max_length=1000)
    collection: str | None = None


class IngestResult(BaseModel):
    """The ingest report."""

    ingested: list[str]
    unchanged: list[str]
    rejected: list[dict[str, str]]


def router(services: WebServices) -> APIRouter:
    """The /ingest route (admin token; paths must lie under TERRAPOLE_INGEST_ROOTS)."""
    api = APIRouter(tags=["ingest"])

    @api.post("/ingest", summary="Ingest products already on the server (admin)")
    def ingest(body: IngestRequest, request: Request) -> IngestResult:
        services.admin(request)
        roots = services.settings.ingest_roots
        if not roots:
            raise InvalidInput("paths", "API ingest is off: set TERRAPOLE_INGEST_ROOTS")
        for raw in body.paths:
            if not Path(raw).is_absolute():
                raise InvalidInput("paths", f"{raw!r} must be an absolute server path")
        ingestor = Ingestor(services.store, services.storage, roots=roots)
        report = ingestor.run(body.paths, collection=body.collection, workers=1)
        if report.ingested:
            services.after_ingest()  # the chains these products feed run now, not next interval
        return IngestResult(
            ingested=report.ingested,
            unchanged=report.unchanged,
            rejected=[{"path": p, "reason": r} for p, r in report.rejected],
        )

    return api
