"""openEO API 1.2 at /openeo/1.2 (and /.well-known/openeo): a thin adapter over the job runner.

Collections are the catalogue's (with ``cube:dimensions`` from a sample item); processes are
openeo-processes-dask's plus our load_collection and save_result; a synchronous ``/result`` and
every batch job run as jobs of the ``openeo-process-graph`` service, so credits, CPU·s, logs and
results behave as for any service. Authentication: HTTP Basic with the user name and an API
token as password gives that token back; clients then send ``Bearer basic//<token>``.
``/credentials/oidc`` lists the portal's OpenID Connect provider when one is configured (none
otherwise), and its access tokens are accepted as ``Bearer oidc/terrapole/<access token>``
(:mod:`terrapole.access.oidc_tokens`). Users store
process graphs as user-defined processes (``/process_graphs``). Costs and usage are in CPU·s
(``currency``: ``CPU·s``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
from collections.abc import Callable
from typing import Any

# The graph parser raises the recursion limit (to 16385) when first imported; importing it with
# the routes does that at start-up, not in the middle of the first request that needs it.
import openeo_pg_parser_networkx.graph  # noqa: F401
from fastapi import APIRouter, Body, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from terrapole import __version__
from terrapole.access.oidc_tokens import PROVIDER_ID
from terrapole.access.policy import Principal
from terrapole.catalog.model import CollectionQuery
from terrapole.errors import InvalidInput, NotFound, Unauthorized
from terrapole.jobs.openeo_batch import BatchJob, BatchJobs
from terrapole.jobs.runner import JobRunner
from terrapole.jobs.services.openeo_graph import ProcessGraph
from terrapole.jobs.states import State
from terrapole.jobs.store import Job
from terrapole.jsontypes import Json, utc_iso
from terrapole.openeo import graph
from terrapole.openeo.errors import CollectionNotFound, code_of
from terrapole.openeo.formats import FORMATS
from terrapole.openeo.metadata import collection_metadata
from terrapole.openeo.user_processes import UserProcesses
from terrapole.web.services import WebServices as Services

logger = logging.getLogger(__name__)
PREFIX = "/openeo/1.2"
API_VERSION = "1.2.0"
SYNC_TIMEOUT_S = 300.0
MAX_PROCESS_BYTES = 1_000_000  # the largest user-defined process PUT /process_graphs takes
ENDPOINTS = [
    ("/", ["GET"]), ("/conformance", ["GET"]), ("/file_formats", ["GET"]),
    ("/collections", ["GET"]), ("/collections/{collection_id}", ["GET"]),
    ("/processes", ["GET"]), ("/credentials/basic", ["GET"]),
    ("/me", ["GET"]), ("/service_types", ["GET"]), ("/udf_runtimes", ["GET"]),
    ("/process_graphs", ["GET"]), ("/process_graphs/{process_graph_id}", ["GET", "PUT", "DELETE"]),
    ("/validation", ["POST"]), ("/result", ["POST"]), ("/jobs", ["GET", "POST"]),
    ("/jobs/{job_id}", ["GET", "PATCH", "DELETE"]), ("/jobs/{job_id}/estimate", ["GET"]),
    ("/jobs/{job_id}/logs", ["GET"]), ("/jobs/{job_id}/results", ["GET", "POST", "DELETE"]),
]  # fmt: skip


def _process_graph(body: Any, wrapped: bool = True) -> Json:
    """The process of a request body; ``wrapped=False``: the body may be the process itself."""
    if isinstance(body, dict) and not wrapped and "process_graph" in body:
        body = {"process": body}
    if not isinstance(body, dict) or not isinstance(body.get("process"), dict):
        raise InvalidInput("body", 'give {"process": {"process_graph": {...}}}')
    process = body["process"]
    if not isinstance(process.get("process_graph"), dict):
        raise InvalidInput("process", "needs a process_graph object")
    return {"process_graph": process["process_graph"]}


async def _json_body(request: Request, limit: int) -> Any:
    """The request's JSON body, refused (400 naming the limit) past ``limit`` bytes before
    more is read."""
    too_big = InvalidInput("body", f"over {limit:,} bytes, the most this request takes")
    if int(request.headers.get("content-length") or 0) > limit:
        raise too_big
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise too_big
    try:
        return json.loads(data)
    except ValueError as exc:
        raise InvalidInput("body", f"is no JSON: {exc}") from exc


def _usage(job: Job | None) -> Json:
    cpu = round(job.cpu_s, 3) if job else 0.0
    return {"cpu": {"value": cpu, "unit": "cpu-seconds"}}


def batch_status(batch: BatchJob, base: str) -> Json:
    """An openEO batch job document."""
    job = batch.job
    texts = {k: v for k, v in (("title", batch.title), ("description", batch.description)) if v}
    return {
        "id": batch.id, **texts, "process": batch.process, "status": batch.status,
        "created": utc_iso(batch.created),
        "updated": utc_iso((job.finished or job.started or job.created) if job else batch.created),
        "progress": round(job.progress, 1) if job else 0.0,
        "costs": round(job.cpu_s, 3) if job else 0.0, "usage": _usage(job),
        "links": [{"rel": "self", "href": f"{base}/jobs/{batch.id}"}],
    }  # fmt: skip


class SlashesMiddleware:
    """Repeated slashes in an openEO request path collapsed (``/openeo/1.2//jobs`` is
    ``/openeo/1.2/jobs``): clients join the back-end URL and a path that both carry one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, its path tidied where it is an openEO one."""
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith("/openeo") and "//" in path:
            tidy = re.sub("/{2,}", "/", path)
            scope = {**scope, "path": tidy, "raw_path": tidy.encode()}
        await self.app(scope, receive, send)


def router(services: Services, runner: JobRunner) -> APIRouter:
    """The openEO routes (plus the well-known discovery document, mounted at the root)."""
    api = APIRouter(tags=["openEO"])
    batches = BatchJobs(runner.jobs)
    _discovery_routes(api, services, runner)
    _catalogue_routes(api, services, runner)
    _sync_routes(api, services, runner)
    _batch_routes(api, services, runner, batches)
    _batch_run_routes(api, services, runner, batches)
    _result_routes(api, services, runner, batches)
    _user_process_routes(api, services, UserProcesses(runner.jobs.engine))
    return api


def _inputs(runner: JobRunner, owner: str, process: Json) -> Json:
    """The process-graph service's inputs for ``process`` of ``owner`` (the caller, or a batch
    job's owner): the graph and the owner's user-defined processes it calls."""
    called = UserProcesses(runner.jobs.engine).called(owner, process["process_graph"])
    return {"process": process, "user_processes": called}


def _owner_check(services: Services, batches: BatchJobs) -> Callable[[str, Request], BatchJob]:
    """A lookup of a batch job that only its owner (or an admin) gets; NotFound otherwise."""

    def owned(job_id: str, request: Request) -> BatchJob:
        return batches.get(job_id, services.principal(request))

    return owned


def _stop(runner: JobRunner, services: Services, batch: BatchJob, request: Request) -> None:
    """Dismiss the job running a batch job, if it is queued or running."""
    if batch.job is not None and not batch.job.done:
        runner.dismiss(batch.job.id, services.principal(request))


def _user(services: Services, request: Request) -> Principal:
    principal = services.principal(request)
    if principal.anonymous:
        raise Unauthorized("log in (HTTP Basic with an API token) first")
    return principal


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + PREFIX


def _discovery_routes(api: APIRouter, services: Services, runner: JobRunner) -> None:
    @api.get("/.well-known/openeo", summary="openEO versions offered")
    @api.get(PREFIX + "/.well-known/openeo", summary="openEO versions (where clients look first)")
    def well_known(request: Request) -> Json:
        return {"versions": [{"url": _base(request) + "/", "api_version": API_VERSION,
                              "production": True}]}  # fmt: skip

    @api.get(PREFIX + "/", summary="openEO capabilities")
    def capabilities(request: Request) -> Json:
        base = _base(request)
        return {
            "api_version": API_VERSION, "backend_version": __version__, "stac_version": "1.0.0",
            "type": "Catalog", "id": "terrapole", "title": "terrapole openEO",
            "description": "openEO on the terrapole catalogue: process graphs run as jobs with "
                           "CPU credits (costs in CPU·s). Log in with HTTP Basic (your user "
                           "name and an API token); OpenID Connect is off.",
            "production": True,
            "endpoints": [{"path": p, "methods": m} for p, m in ENDPOINTS],
            "billing": {"currency": "CPU·s", "default_plan": "credit",
                        "plans": [{"name": "credit", "description": "CPU·s counted against "
                                   "each user's credit", "paid": False}]},
            "links": [
                {"rel": "self", "href": base + "/", "type": "application/json"},
                {"rel": "data", "href": base + "/collections", "type": "application/json"},
                {"rel": "conformance", "href": base + "/conformance", "type": "application/json"},
                {"rel": "version-history", "href": str(request.base_url) + ".well-known/openeo",
                 "type": "application/json"},
            ],
        }  # fmt: skip

    @api.get(PREFIX + "/conformance", summary="Conformance classes")
    def conformance() -> Json:
        return {"conformsTo": ["https://api.openeo.org/1.2.0",
                               "https://api.stacspec.org/v1.0.0/collections"]}  # fmt: skip

    @api.get(PREFIX + "/file_formats", summary="Output and input formats")
    def file_formats() -> Json:
        return {"output": FORMATS, "input": {}}

    @api.get(PREFIX + "/service_types", summary="Secondary web services (none)")
    def service_types() -> Json:
        return {}

    @api.get(PREFIX + "/udf_runtimes", summary="UDF runtimes (none)")
    def udf_runtimes() -> Json:
        return {}


def _catalogue_routes(api: APIRouter, services: Services, runner: JobRunner) -> None:
    @api.get(PREFIX + "/collections", summary="The catalogue's collections")
    def collections(request: Request) -> Json:
        query = CollectionQuery(limit=10_000, hidden_collections=services.hidden(request))
        docs, _ = services.store.list_collections(query)
        base = _base(request)
        return {"collections": [collection_metadata(services.store, d) for d in docs],
                "links": [{"rel": "self", "href": base + "/collections"}]}  # fmt: skip

    @api.get(PREFIX + "/collections/{collection_id}", summary="A collection with its cube")
    def collection(collection_id: str, request: Request) -> Json:
        doc = services.store.get_collection(collection_id, hidden=services.hidden(request))
        return collection_metadata(services.store, doc)

    @api.get(PREFIX + "/processes", summary="The processes a graph may use")
    def processes(request: Request) -> Json:
        return {"processes": list(graph.specs().values()),
                "links": [{"rel": "self", "href": _base(request) + "/processes"}]}  # fmt: skip

    @api.get(PREFIX + "/credentials/basic", summary="HTTP Basic (user, API token) -> token")
    def basic(request: Request) -> Json:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            raise Unauthorized("send HTTP Basic credentials: your user name and an API token")
        try:
            user, _, token = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise Unauthorized("malformed HTTP Basic credentials") from None
        principal = services.access.authenticate(f"Bearer {token}")
        if principal.name != user:
            raise Unauthorized(f"this API token is not {user!r}'s")
        return {"access_token": token}

    @api.get(PREFIX + "/credentials/oidc", summary="OpenID Connect providers (none: OIDC is off)")
    def oidc() -> Json:
        settings = services.settings
        if not settings.oidc_issuer:
            return {"providers": []}
        scopes = settings.oidc_scopes.split()
        provider = {"id": PROVIDER_ID, "issuer": settings.oidc_issuer,
                    "title": settings.oidc_title, "scopes": scopes}  # fmt: skip
        return {"providers": [provider]}

    @api.get(PREFIX + "/me", summary="Who you are and your CPU·s budget")
    def me(request: Request) -> Json:
        principal = _user(services, request)
        credit = runner.jobs.credit(principal.name)
        return {"user_id": principal.name, "name": principal.name,
                "budget": round(credit.left, 3), "default_plan": "credit"}  # fmt: skip


def _sync_routes(api: APIRouter, services: Services, runner: JobRunner) -> None:
    @api.post(PREFIX + "/validation", summary="Check a process graph (nothing runs)")
    def validation(request: Request, body: Any = Body(...)) -> Json:  # noqa: B008
        try:
            process = _process_graph(body, wrapped=False)
        except InvalidInput as exc:  # a JSON body that is no process: 200 with that error
            return {"errors": [{"code": "ProcessGraphMissing", "message": str(exc)}]}
        hidden = services.hidden(request)

        def known(collection_id: str) -> bool:
            try:
                services.store.get_collection(collection_id, hidden=hidden)
            except NotFound:
                return False
            return True

        try:
            principal = services.principal(request)
            inputs = _inputs(runner, principal.name, process)
            loads = graph.check(process["process_graph"], user=inputs["user_processes"])
            missing = graph.unknown_collections(loads, known)
            if missing:
                error = CollectionNotFound(missing[0])
                return {"errors": [{"code": error.code, "message": str(error)}]}
            runner.quote(ProcessGraph.id, inputs, principal)
        except (InvalidInput, NotFound) as exc:  # what is wrong with the graph; not 5xx causes
            return {"errors": [{"code": "ProcessGraphInvalid", "message": str(exc)}]}
        return {"errors": []}

    @api.post(PREFIX + "/result", summary="Run a small process graph and return its result")
    async def result(request: Request, body: Any = Body(...)) -> Response:  # noqa: B008
        principal = await run_in_threadpool(services.principal, request)
        process = _process_graph(body)
        inputs = await run_in_threadpool(_inputs, runner, principal.name, process)
        inputs |= {"mode": "sync"}
        job = await run_in_threadpool(runner.submit, ProcessGraph.id, principal, inputs)
        # awaited, not polled: no thread is held while the job runs; shielded, so that the
        # timeout cancels this wait and not the runner's future
        settled = asyncio.wrap_future(runner.settled(job.id))
        try:
            await asyncio.wait_for(asyncio.shield(settled), SYNC_TIMEOUT_S)
        except TimeoutError:
            await run_in_threadpool(runner.dismiss, job.id, principal)
            raise InvalidInput("process graph", f"took over {SYNC_TIMEOUT_S:.0f} s: "
                               "run it as a batch job") from None  # fmt: skip
        return await run_in_threadpool(_sync_answer, services, runner.jobs.get, job.id)


def _sync_answer(services: Services, read: Callable[[str], Job], job_id: str) -> Response:
    """The answer to a synchronous request once its job has ended: the first result file, or
    why there is none."""
    job = read(job_id)
    if job.state is State.CRASHED:  # the worker's own reason stays in the job's log
        logger.error("openEO result %s crashed: %s", job.id, job.reason)
        body_out = {"id": job.id, "code": "Internal", "links": [],
                    "message": f"the worker running it failed (job {job.id})"}  # fmt: skip
        return JSONResponse(body_out, status_code=500)
    if job.state is not State.SUCCESSFUL:
        reason = job.reason or job.state.value
        body_out = {"id": job.id, "code": code_of(reason) or "ProcessGraphFailed", "links": [],
                    "message": reason}  # fmt: skip
        return JSONResponse(body_out, status_code=400)
    path, media = _first_result(services, job)
    headers = {"OpenEO-Costs": f"{job.cpu_s:.3f}", "OpenEO-Identifier": job.id}
    return FileResponse(path, media_type=media, headers=headers)


def _result_item(services: Services, job: Job) -> Json:
    """The STAC item a job published (NotFound if it published none)."""
    outputs = job.outputs
    if outputs.collection is None or outputs.item is None:
        raise NotFound("result", job.id)
    return services.store.get_item(outputs.collection, outputs.item)


def _first_result(services: Services, job: Job) -> tuple[str, str]:
    item = _result_item(services, job)
    local = services.storage.localise(dict(item))
    for key, asset in sorted(local["assets"].items()):
        if key.startswith("result"):
            return asset["href"], asset.get("type", "application/octet-stream")
    raise NotFound("result", job.id)


def _batch_routes(
    api: APIRouter, services: Services, runner: JobRunner, batches: BatchJobs
) -> None:
    owned = _owner_check(services, batches)

    @api.get(PREFIX + "/jobs", summary="Your batch jobs")
    def jobs(request: Request) -> Json:
        principal = _user(services, request)
        base = _base(request)
        return {"jobs": [batch_status(b, base) for b in batches.list(principal)],
                "links": [{"rel": "self", "href": base + "/jobs"}]}  # fmt: skip

    @api.post(PREFIX + "/jobs", status_code=201, summary="Create a batch job (not started)")
    def create(request: Request, response: Response, body: Any = Body(...)) -> Response:  # noqa: B008
        principal = _user(services, request)
        process = _process_graph(body)
        runner.quote(ProcessGraph.id, _inputs(runner, principal.name, process), principal)  # 400
        job_id = batches.create(principal.name, process, body.get("title"), body.get("description"))
        base = _base(request)
        return Response(status_code=201, headers={"Location": f"{base}/jobs/{job_id}",
                                                  "OpenEO-Identifier": job_id})  # fmt: skip

    @api.get(PREFIX + "/jobs/{job_id}", summary="A batch job's status, progress and usage")
    def job(job_id: str, request: Request) -> Json:
        return batch_status(owned(job_id, request), _base(request))

    @api.patch(PREFIX + "/jobs/{job_id}", status_code=204, summary="Change a job not started")
    def patch(job_id: str, request: Request, body: Any = Body(...)) -> Response:  # noqa: B008
        batch = owned(job_id, request)
        if batch.job is not None:
            raise InvalidInput("job", f"{job_id} has been started: it can no longer change")
        if not isinstance(body, dict):
            raise InvalidInput("body", "must be a JSON object")
        values: Json = {k: body[k] for k in ("title", "description") if k in body}
        if "process" in body:
            values["process"] = _process_graph(body)
            principal = services.principal(request)
            inputs = _inputs(runner, batch.owner, values["process"])
            runner.quote(ProcessGraph.id, inputs, principal)
        if values:
            batches.update(job_id, **values)
        return Response(status_code=204)

    @api.delete(PREFIX + "/jobs/{job_id}", status_code=204, summary="Delete a job")
    def delete(job_id: str, request: Request) -> Response:
        batch = owned(job_id, request)
        _stop(runner, services, batch, request)
        batches.delete(batch.id)
        return Response(status_code=204)


def _batch_run_routes(
    api: APIRouter, services: Services, runner: JobRunner, batches: BatchJobs
) -> None:
    owned = _owner_check(services, batches)

    @api.get(PREFIX + "/jobs/{job_id}/estimate", summary="Estimated costs in CPU·s")
    def estimate(job_id: str, request: Request) -> Json:
        batch = owned(job_id, request)
        principal = services.principal(request)
        _, cost = runner.quote(
            ProcessGraph.id, _inputs(runner, batch.owner, batch.process), principal
        )
        # downloads_included left out: its default (null) is unlimited downloads
        return {"costs": round(cost, 3), "duration": "PT1M"}

    @api.post(PREFIX + "/jobs/{job_id}/results", status_code=202, summary="Start a job")
    def start(job_id: str, request: Request) -> Response:
        batch = owned(job_id, request)
        if batch.job is not None and not batch.job.done:
            return Response(status_code=202)  # already queued or running
        principal = services.principal(request)
        inputs = _inputs(runner, batch.owner, batch.process)
        job = runner.submit(ProcessGraph.id, principal, inputs)
        batches.started(batch.id, job.id)
        return Response(status_code=202)

    @api.delete(PREFIX + "/jobs/{job_id}/results", status_code=204, summary="Cancel a job")
    def cancel(job_id: str, request: Request) -> Response:
        _stop(runner, services, owned(job_id, request), request)
        return Response(status_code=204)

    @api.get(PREFIX + "/jobs/{job_id}/logs", summary="A job's log lines")
    def logs(job_id: str, request: Request) -> Json:
        batch = owned(job_id, request)
        lines = runner.jobs.logs(batch.job.id) if batch.job else []
        levels = ("error", "warning", "info", "debug")  # openEO's; the store writes INFO, ERROR
        entries: list[Json] = []
        for n, line in enumerate(lines):
            level = line.level.lower()
            entry = {"id": str(n), "level": level if level in levels else "info",
                     "message": line.message, "time": utc_iso(line.at)}  # fmt: skip
            if level == "error" and (code := code_of(line.message)):
                entry["code"] = code
            entries.append(entry)
        return {"logs": entries, "links": []}


def _result_routes(
    api: APIRouter, services: Services, runner: JobRunner, batches: BatchJobs
) -> None:
    owned = _owner_check(services, batches)

    @api.get(PREFIX + "/jobs/{job_id}/results", summary="A finished job's results (STAC item)")
    def results(job_id: str, request: Request) -> Json:
        batch = owned(job_id, request)
        job = batch.job
        if job is None or job.state is not State.SUCCESSFUL or job.purged:
            status = batch.status if not (job and job.purged) else "purged"
            raise InvalidInput("job", f"{job_id} has no results: it is {status}")
        item = _result_item(services, job)
        # assets served under the API root: openEO clients send their token only there
        own = f"{_base(request)}/jobs/{batch.id}/results/assets"
        # keyed by file name: clients save each asset under its key
        assets = {}
        for a in item["assets"].values():
            name = a["href"].rsplit("/", 1)[-1]
            assets[name] = {**a, "href": f"{own}/{name}"}
        return {**item, "assets": assets, "openeo:status": "finished",
                "usage": _usage(job), "links": item.get("links", [])}  # fmt: skip

    @api.get(PREFIX + "/jobs/{job_id}/results/assets/{name}", summary="One result file")
    def asset(job_id: str, name: str, request: Request) -> FileResponse:
        job = owned(job_id, request).job
        if job is None or job.state is not State.SUCCESSFUL or job.purged:
            raise NotFound("result", f"{job_id}/{name}")
        item = _result_item(services, job)
        for found in services.storage.localise(dict(item))["assets"].values():
            if found["href"].rsplit("/", 1)[-1] == name:
                return FileResponse(found["href"], media_type=found.get("type"))
        raise NotFound("result", f"{job_id}/{name}")


def _user_process_routes(api: APIRouter, services: Services, stored: UserProcesses) -> None:
    @api.get(PREFIX + "/process_graphs", summary="Your user-defined processes")
    def user_processes(request: Request) -> Json:
        principal = _user(services, request)
        return {"processes": stored.list(principal.name),
                "links": [{"rel": "self", "href": _base(request) + "/process_graphs"}]}  # fmt: skip

    @api.get(PREFIX + "/process_graphs/{process_graph_id}", summary="A user-defined process")
    def user_process(process_graph_id: str, request: Request) -> Json:
        return stored.get(_user(services, request).name, process_graph_id)

    @api.put(PREFIX + "/process_graphs/{process_graph_id}", summary="Store a user-defined process")
    async def store_user_process(process_graph_id: str, request: Request) -> Response:
        owner = (await run_in_threadpool(_user, services, request)).name
        body = await _json_body(request, MAX_PROCESS_BYTES)
        await run_in_threadpool(stored.put, owner, process_graph_id, body)
        return Response(status_code=200)

    @api.delete(PREFIX + "/process_graphs/{process_graph_id}", status_code=204,
                summary="Delete a user-defined process")  # fmt: skip
    def delete_user_process(process_graph_id: str, request: Request) -> Response:
        stored.delete(_user(services, request).name, process_graph_id)
        return Response(status_code=204)
