"""A synchronous ``/result`` waits on its job's end (the runner's settled future), not on a
clock: it answers once the job ends, and past the timeout it dismisses the job and says so.

The job is held at a gate the test opens, so what the request sees does not depend on timing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import httpx
import pytest
from rasterio.io import MemoryFile

from terrapole.jobs.process import JobContext, Result
from terrapole.jobs.services.openeo_graph import ProcessGraph
from terrapole.jobs.states import State
from terrapole.web import openeo as openeo_web

from ..jobs import gate
from .test_bad_graphs import LOAD, SAVE

GRAPH = {"process": {"process_graph": {"load": LOAD, "save": SAVE}}}


class GatedGraph(ProcessGraph):
    """The process-graph service, held at the gate ``name`` before it starts."""

    started: ClassVar[dict[str, str]] = {}  # gate name -> the id of the job that reached it

    def __init__(self, name: str) -> None:
        self.name = name

    def run(self, context: JobContext, inputs: Any) -> Result:
        GatedGraph.started[self.name] = context.job_id
        gate.hold(self.name)
        return super().run(context, inputs)


@pytest.fixture
def gated(
    openeo_app: Any, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[str]:
    """Sync jobs run the gated service during the test; the gate's name (opened at the end,
    whatever happened, so that no job stays held)."""
    name = request.node.name
    monkeypatch.setitem(openeo_app.state.jobs.processes, ProcessGraph.id, GatedGraph(name))
    yield name
    gate.release(name)


def _headers(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer basic//{tokens['ana']}"}


def test_a_sync_result_answers_once_its_job_ends(
    openeo_app: Any, url: str, tokens: dict[str, str], gated: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = openeo_app.state.jobs
    awaiting = threading.Event()
    settled = runner.settled

    def watched(job_id: str) -> Any:
        awaiting.set()  # the request is about to await the job's end
        return settled(job_id)

    monkeypatch.setattr(runner, "settled", watched)
    answers: list[httpx.Response] = []
    request = threading.Thread(target=lambda: answers.append(
        httpx.post(url + "/openeo/1.2/result", json=GRAPH, headers=_headers(tokens), timeout=120)))  # fmt: skip
    request.start()
    gate.reached(gated)
    assert awaiting.wait(gate.WAIT_S), "the request never awaited its job's end"
    job_id = GatedGraph.started[gated]
    assert answers == [] and runner.jobs.get(job_id).state is State.RUNNING
    gate.release(gated)
    request.join(timeout=gate.WAIT_S)
    (response,) = answers
    assert response.status_code == 200, response.text
    assert response.headers["OpenEO-Identifier"] == job_id
    job = runner.jobs.get(job_id)
    assert job.state is State.SUCCESSFUL
    assert response.headers["OpenEO-Costs"] == f"{job.cpu_s:.3f}"
    with MemoryFile(response.content) as memory, memory.open() as ds:
        assert ds.driver == "GTiff" and ds.count == 1


def test_a_sync_result_past_the_timeout_dismisses_its_job_and_says_so(
    openeo_app: Any, url: str, tokens: dict[str, str], gated: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(openeo_web, "SYNC_TIMEOUT_S", 1.0)
    runner = openeo_app.state.jobs
    before = {job.id for job in runner.jobs.find("ana", process=ProcessGraph.id)}
    # the job is held at its gate until after the answer: it cannot end within the timeout
    response = httpx.post(url + "/openeo/1.2/result", json=GRAPH, headers=_headers(tokens),
                          timeout=120)  # fmt: skip
    assert response.status_code == 400, response.text
    assert "took over 1 s: run it as a batch job" in response.json()["message"]
    (job_id,) = {job.id for job in runner.jobs.find("ana", process=ProcessGraph.id)} - before
    assert runner.jobs.get(job_id).state is State.DISMISSED
    gate.release(gated)  # held at the gate or dropped from the queue: either way it stops
    runner.settled(job_id).result(timeout=gate.WAIT_S)
    job = runner.jobs.get(job_id)
    assert job.state is State.DISMISSED and job.progress == 0 and not job.outputs.published


def test_repeated_slashes_in_an_openeo_path_reach_the_route(
    url: str, tokens: dict[str, str]
) -> None:
    """Clients that join the back-end URL and a path both ending/starting with / send ``//``."""
    graph = {
        "process": {
            "process_graph": {
                "a": {"process_id": "add", "arguments": {"x": 1, "y": None}, "result": True}
            }
        }
    }
    for path in ("/openeo/1.2//result", "/openeo//1.2///result"):
        response = httpx.post(url + path, json=graph, headers=_headers(tokens), timeout=120)
        assert response.status_code == 200, (path, response.text)
        assert response.json() is None  # add(1, null) is null
    eq = {
        "process": {
            "process_graph": {
                "e": {"process_id": "eq", "arguments": {"x": 2, "y": 2}, "result": True}
            }
        }
    }
    assert (
        httpx.post(
            url + "/openeo/1.2//result", json=eq, headers=_headers(tokens), timeout=120
        ).json()
        is True
    )
    jobs = httpx.get(url + "/openeo/1.2//jobs", headers=_headers(tokens), timeout=60)
    assert jobs.status_code == 200 and "jobs" in jobs.json()


def test_a_batch_job_estimate_has_costs_and_no_null_fields(
    url: str, tokens: dict[str, str]
) -> None:
    """openEO's estimate: costs and duration; downloads_included left to its default."""
    graph = {
        "process": {
            "process_graph": {
                "a": {"process_id": "add", "arguments": {"x": 1, "y": 2}, "result": True}
            }
        }
    }
    created = httpx.post(url + "/openeo/1.2/jobs", json=graph, headers=_headers(tokens), timeout=60)
    assert created.status_code == 201, created.text
    job = created.headers["OpenEO-Identifier"]
    estimate = httpx.get(
        url + f"/openeo/1.2/jobs/{job}/estimate", headers=_headers(tokens), timeout=60
    )
    assert estimate.status_code == 200, estimate.text
    body = estimate.json()
    assert body["costs"] > 0 and body["duration"] == "PT1M"
    assert None not in body.values()
