"""OGC API - Processes 1.0 over the job runner (/ogcapi: landing, conformance, processes, jobs).

A thin adapter: every rule (validation, credits, ownership, states) lives in terrapole.jobs.
Execution is asynchronous (201 + Location of the job), but for the small processes that declare
``sync_execute``: those answer in the request (200, the results with JSON outputs inline)
unless the client sends ``Prefer: respond-async``, as OGC API - Processes 1.0 has a server do
for a process offering both modes; one that outlasts ``SYNC_TIMEOUT_S`` goes on as a job (201).
Either way the request is a job, so credits, stages, logs and purge are the same. ``crashed``
is reported as ``failed``. Extensions: ``/processes/{id}/quote`` prices a request before it
is submitted, ``/jobs/{id}/logs`` gives the log, ``/credits`` the caller's credit; job status
documents carry ``stage``, ``cpu_s``, ``estimate_cpu_s`` and the purge date ``expires``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Body, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from terrapole.catalog.links import GEOJSON, item_href
from terrapole.errors import InvalidInput, NotFound
from terrapole.jobs.process import Process
from terrapole.jobs.runner import JobRunner
from terrapole.jobs.states import State
from terrapole.jobs.store import Job
from terrapole.jsontypes import Json, utc_iso
from terrapole.web.services import WebServices as Services

PREFIX = "/ogcapi"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/ogc-process-description",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/job-list",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/dismiss",
]
OGC_STATUS = {State.CRASHED: "failed"}


MAX_OFFSET = 2**31 - 1  # beyond a database integer: a 500 on PostgreSQL
SYNC_TIMEOUT_S = 120.0  # a synchronous execution past this is answered as a job (201)
INLINE_BYTES = 1_000_000  # JSON outputs up to this size are inlined in a synchronous answer


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + PREFIX


def _link(href: str, rel: str, title: str, media: str = "application/json") -> Json:
    return {"href": href, "rel": rel, "type": media, "title": title}


def summary(process: Process, base: str) -> Json:
    """A process summary (list entry)."""
    return {
        "id": process.id, "title": process.title, "description": process.description,
        "version": process.version, "keywords": list(process.keywords),
        "jobControlOptions": [*(["sync-execute"] if process.sync_execute else []),
                              "async-execute", "dismiss"],
        "outputTransmission": [*(["value"] if process.sync_execute else []), "reference"],
        "links": [_link(f"{base}/processes/{process.id}", "self", process.title)],
    }  # fmt: skip


def description(process: Process, base: str) -> Json:
    """The full process description: inputs (schema, basic/expert, default), outputs, stages."""
    inputs = {
        p.name: {
            "title": p.title, "description": p.description, "schema": p.schema,
            "minOccurs": 1 if p.required else 0, "maxOccurs": 1,
            "x-terrapole-expert": p.expert,
            **({"x-terrapole-default": p.default} if not p.required else {}),
        }
        for p in process.parameters
    }  # fmt: skip
    mode = "sync unless Prefer: respond-async" if process.sync_execute else "async"
    links = [
        _link(f"{base}/processes/{process.id}/execution",
              "http://www.opengis.net/def/rel/ogc/1.0/execute", f"execute ({mode})"),
    ]  # fmt: skip
    return {**summary(process, base), "inputs": inputs, "outputs": process.outputs,
            "x-terrapole-stages": list(process.stages), "links": links}  # fmt: skip


def status(job: Job, base: str) -> Json:
    """An OGC statusInfo document, with terrapole's stage, CPU and purge date."""
    state = OGC_STATUS.get(job.state, job.state.value)
    links = [
        _link(f"{base}/jobs/{job.id}", "self", "status"),
        _link(f"{base}/jobs/{job.id}/logs", "log", "log lines"),
    ]
    if job.state is State.SUCCESSFUL and not job.purged:
        rel = "http://www.opengis.net/def/rel/ogc/1.0/results"
        links.append(_link(f"{base}/jobs/{job.id}/results", rel, "results"))
    return {
        "type": "process", "jobID": job.id, "processID": job.process, "status": state,
        "message": job.reason or (f"{job.stage}" if job.stage else state),
        "created": utc_iso(job.created), "started": utc_iso(job.started),
        "finished": utc_iso(job.finished),
        "updated": utc_iso(job.finished or job.started or job.created),
        "progress": int(round(job.progress)), "stage": job.stage,
        "crashed": job.state is State.CRASHED,
        "cpu_s": round(job.cpu_s, 3), "estimate_cpu_s": round(job.estimate_cpu_s, 3),
        "expires": utc_iso(job.expires), "purged": job.purged, "owner": job.owner,
        "links": links,
    }  # fmt: skip


def router(services: Services, runner: JobRunner) -> APIRouter:
    """The OGC API - Processes routes."""
    api = APIRouter(prefix=PREFIX, tags=["processes"])
    _process_routes(api, services, runner)
    _job_routes(api, services, runner)
    return api


def _inputs(body: Any) -> Json:
    if not isinstance(body, dict):
        raise InvalidInput("body", 'must be a JSON object {"inputs": {...}}')
    inputs = body.get("inputs", {})
    if not isinstance(inputs, dict):
        raise InvalidInput("inputs", "must be a JSON object of input name -> value")
    return inputs


def _process_routes(api: APIRouter, services: Services, runner: JobRunner) -> None:

    @api.get("/", summary="OGC API - Processes landing page")
    def landing(request: Request) -> Json:
        base = _base(request)
        return {
            "title": "terrapole processing services",
            "description": "On-demand processing (OGC API - Processes 1.0)",
            "links": [
                _link(f"{base}/", "self", "this document"),
                _link(f"{base}/conformance", "http://www.opengis.net/def/rel/ogc/1.0/conformance",
                      "conformance"),
                _link(f"{base}/processes", "http://www.opengis.net/def/rel/ogc/1.0/processes",
                      "processes"),
                _link(f"{base}/jobs", "http://www.opengis.net/def/rel/ogc/1.0/job-list", "jobs"),
                _link(str(request.base_url).rstrip("/") + request.app.openapi_url, "service-desc",
                      "OpenAPI",
                      "application/vnd.oai.openapi+json;version=3.0"),
            ],
        }  # fmt: skip

    @api.get("/conformance", summary="Conformance classes")
    def conformance() -> Json:
        return {"conformsTo": CONFORMANCE}

    @api.get("/processes", summary="The services that can be run")
    def processes(request: Request) -> Json:
        base = _base(request)
        return {
            "processes": [summary(p, base) for p in runner.processes.values()],
            "links": [_link(f"{base}/processes", "self", "processes")],
        }

    @api.get("/processes/{process_id}", summary="A process: inputs, outputs, stages")
    def process(process_id: str, request: Request) -> Json:
        return description(runner.process(process_id), _base(request))

    @api.post("/processes/{process_id}/quote", summary="Price a request in CPU·s (extension)")
    def quote(process_id: str, request: Request, body: Any = Body(...)) -> Json:  # noqa: B008
        principal = services.principal(request)
        _, estimate = runner.quote(process_id, _inputs(body), principal)
        out: Json = {"processID": process_id, "estimate_cpu_s": round(estimate, 3)}
        if not principal.anonymous:
            credit = runner.jobs.credit(principal.name)
            out["credit"] = {"credit_cpu_s": credit.credit, "used_cpu_s": round(credit.used, 3),
                             "reserved_cpu_s": round(credit.reserved, 3),
                             "left_cpu_s": round(credit.left, 3)}  # fmt: skip
        return out

    @api.post("/processes/{process_id}/execution", status_code=201,
              summary="Run a process (201 and the job's Location; 200 and the results for "
                      "a sync-execute process not asked to be async)")  # fmt: skip
    async def execute(
        process_id: str,
        request: Request,
        body: Any = Body(...),  # noqa: B008
    ) -> Response:
        principal = await run_in_threadpool(services.principal, request)
        inputs = _inputs(body)
        job = await run_in_threadpool(runner.submit, process_id, principal, inputs)
        base = _base(request)
        headers = {"Location": f"{base}/jobs/{job.id}"}
        asked_async = "respond-async" in request.headers.get("prefer", "")
        if runner.process(process_id).sync_execute and not asked_async:
            # awaited, not polled; shielded so that the timeout cancels this wait only
            settled = asyncio.wrap_future(runner.settled(job.id))
            try:
                await asyncio.wait_for(asyncio.shield(settled), SYNC_TIMEOUT_S)
            except TimeoutError:
                pass  # still running: answered as a job
            else:
                return await run_in_threadpool(_sync_answer, services, runner, job.id, request)
        headers["Preference-Applied"] = "respond-async"
        found = await run_in_threadpool(runner.jobs.get, job.id)
        return JSONResponse(status(found, base), status_code=201, headers=headers)


def _sync_answer(services: Services, runner: JobRunner, job_id: str, request: Request) -> Response:
    """A synchronous execution once its job has ended: its results (JSON outputs inline), or
    the job's status when it did not succeed."""
    job = runner.jobs.get(job_id)
    base = _base(request)
    headers = {"Location": f"{base}/jobs/{job.id}", "Preference-Applied": "respond-sync"}
    if job.state is not State.SUCCESSFUL:
        code = 400 if job.state is State.FAILED else 500  # the process's fault, or the worker's
        failed = status(job, base)
        body = {"type": "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/"
                "no-such-result", "title": job.reason or failed["status"], "status": code,
                "job": failed}  # fmt: skip
        return JSONResponse(body, status_code=code, headers=headers)
    doc = _results(job, str(request.base_url).rstrip("/"))
    item = services.store.get_item(str(job.outputs.collection), str(job.outputs.item))
    local = services.storage.localise(dict(item))
    for key, asset in local["assets"].items():
        if key in doc and asset.get("type") == "application/json":
            with open(asset["href"], encoding="utf-8") as f:  # a stored file: local now
                text = f.read(INLINE_BYTES + 1)
            if len(text) <= INLINE_BYTES:
                doc[key] = {"value": json.loads(text), "href": doc[key]["href"]}
    return JSONResponse(doc, status_code=200, headers=headers)


def _results(job: Job, root: str) -> Json:
    """A successful job's results by reference: each asset, then the item (under ``root``)."""
    outputs = job.outputs
    if outputs.collection is None or outputs.item is None:
        raise NotFound("result", job.id)
    doc: Json = {key: {"href": root + href} for key, href in outputs.assets.items()}
    doc["item"] = {"href": root + item_href(outputs.collection, outputs.item), "type": GEOJSON}
    return doc


def _job_routes(api: APIRouter, services: Services, runner: JobRunner) -> None:
    @api.get("/jobs", summary="Your jobs (all jobs for admins)")
    def jobs(request: Request, limit: int = 100, offset: int = 0) -> Json:
        principal = services.principal(request)
        if not 1 <= limit <= 1000 or not 0 <= offset <= MAX_OFFSET:
            raise InvalidInput("limit/offset", f"limit must be 1-1000 and offset 0-{MAX_OFFSET}")
        if principal.anonymous:
            found: list[Job] = []
        else:
            owner = None if principal.admin else principal.name
            found = runner.jobs.find(owner, limit=limit, offset=offset)
        base = _base(request)
        return {"jobs": [status(j, base) for j in found],
                "links": [_link(f"{base}/jobs", "self", "jobs")]}  # fmt: skip

    @api.get("/jobs/{job_id}", summary="A job's status, stage, progress and CPU")
    def job(job_id: str, request: Request) -> Json:
        return status(runner.get(job_id, services.principal(request)), _base(request))

    @api.delete("/jobs/{job_id}", summary="Dismiss (cancel) a job")
    def dismiss(job_id: str, request: Request) -> Json:
        return status(runner.dismiss(job_id, services.principal(request)), _base(request))

    @api.get("/jobs/{job_id}/logs", summary="A job's log lines (extension)")
    def logs(job_id: str, request: Request) -> Json:
        found = runner.get(job_id, services.principal(request))
        lines = runner.jobs.logs(found.id)
        return {"jobID": found.id, "lines": [
            {"time": utc_iso(line.at), "level": line.level, "message": line.message}
            for line in lines]}  # fmt: skip

    @api.get("/jobs/{job_id}/results", summary="A successful job's results (by reference)")
    def results(job_id: str, request: Request) -> Response:
        found = runner.get(job_id, services.principal(request))
        if found.state is not State.SUCCESSFUL or found.purged:
            kind = "result-not-ready" if not found.done else "no-such-result"
            why = ("the results were purged" if found.purged else
                   f"the job is {OGC_STATUS.get(found.state, found.state.value)}")  # fmt: skip
            body = {"type": f"http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/{kind}",
                    "title": why, "status": 404}  # fmt: skip
            return JSONResponse(body, status_code=404)
        return JSONResponse(_results(found, str(request.base_url).rstrip("/")))

    @api.get("/statistics", summary="Per process: jobs, users, success rate, CPU·s (admins)")
    def statistics(request: Request) -> Json:
        services.admin(request)
        return {"processes": runner.jobs.statistics()}

    @api.get("/credits", summary="Your CPU credit: total, used, reserved, left (extension)")
    def credits(request: Request) -> Json:
        principal = services.principal(request)
        if principal.anonymous:
            raise NotFound("credit", "anonymous")
        credit = runner.jobs.credit(principal.name)
        return {"owner": credit.owner, "credit_cpu_s": credit.credit,
                "used_cpu_s": round(credit.used, 3), "reserved_cpu_s": round(credit.reserved, 3),
                "left_cpu_s": round(credit.left, 3)}  # fmt: skip
