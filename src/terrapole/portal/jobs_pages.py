"""Portal pages of on-demand processing: the service catalogue, a service's submit form, the
user's jobs (live) and the admins' statistics. The pages are served to anyone; what they show
comes from /ogcapi in the browser with the API token the user gives once (kept in the browser's
local storage), so every rule (ownership, credits) stays the API's."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from terrapole.cube.zones import ZONES_SCHEMA
from terrapole.jobs.process import Process
from terrapole.jobs.runner import JobRunner
from terrapole.jsontypes import Json
from terrapole.portal.routes import _page
from terrapole.services import Services

ITEM_INPUTS = ("item", "before", "after", "left", "right")  # item ids of the "collection" input
ASSET_INPUTS = ("asset", "image_asset")  # asset keys of those items


def _catalogue_widget(name: str) -> str | None:
    """The catalogue picker of a string input of a process that takes a ``collection``."""
    if name == "collection":
        return "collection"
    if name in ITEM_INPUTS:
        return "item"
    if name in ASSET_INPUTS:
        return "asset"
    return None


def field(parameter: Any, catalogue: bool = False) -> Json:
    """How the form shows one input: its widget and what it needs.

    With ``catalogue`` (the process takes a ``collection``), its collection, item and asset
    inputs are offered from the catalogue: a collection list, an item search on the map, the
    item's raster assets.
    """
    schema = parameter.schema
    picker = _catalogue_widget(parameter.name) if catalogue else None
    if schema == ZONES_SCHEMA:
        widget = "zone"
    elif picker and schema.get("type") == "string":
        widget = picker
    elif "enum" in schema:
        widget = "enum"
    elif schema.get("type") in ("number", "integer"):
        widget = "number"
    elif schema.get("type") == "boolean":
        widget = "boolean"
    elif schema.get("type") == "string" and schema.get("maxLength", 0) > 10_000:
        widget = "file"
    elif schema.get("type") == "string":
        widget = "text"
    else:
        widget = "json"
    return {"name": parameter.name, "title": parameter.title, "description": parameter.description,
            "widget": widget, "schema": schema, "required": parameter.required,
            "default": parameter.default, "expert": parameter.expert}  # fmt: skip


def card(process: Process) -> Json:
    """A service as the catalogue lists it."""
    return {"id": process.id, "title": process.title, "description": process.description,
            "keywords": list(process.keywords), "stages": list(process.stages),
            "basic": sum(1 for p in process.parameters if not p.expert),
            "expert": sum(1 for p in process.parameters if p.expert)}  # fmt: skip


def router(services: Services, runner: JobRunner) -> APIRouter:
    """The pages."""
    api = APIRouter(tags=["portal"], include_in_schema=False)

    @api.get("/services", response_class=HTMLResponse)
    def catalogue(request: Request) -> HTMLResponse:
        cards = [card(p) for p in runner.processes.values()]
        return _page(request, "services.html", services=cards)

    @api.get("/services/{process_id}", response_class=HTMLResponse)
    def service(process_id: str, request: Request) -> HTMLResponse:
        process = runner.process(process_id)
        catalogue = any(p.name == "collection" for p in process.parameters)
        fields = [field(p, catalogue) for p in process.parameters]
        return _page(request, "service.html", service=card(process), fields=fields)

    @api.get("/jobs", response_class=HTMLResponse)
    def my_jobs(request: Request) -> HTMLResponse:
        return _page(request, "jobs.html")

    @api.get("/admin/jobs", response_class=HTMLResponse)
    def statistics(request: Request) -> HTMLResponse:
        return _page(request, "admin_jobs.html")

    return api
