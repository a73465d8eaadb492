"""Every processing entry point reads its inputs as the caller may see them, on both stores.

A collection restricted to the group ``partners`` must not be readable, nor even confirmed, by
a token outside that group through OGC API Processes (quote, execution), openEO (collections,
validation, synchronous results, batch jobs and their estimates) or a job already accepted
when the restriction came: each answers exactly as for a collection that does not exist, and
a member of the group gets the data.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.ingest.service import Ingestor
from terrapole.jobs.worker import execute

from ..conftest import ROOT
from ..stac_api.live import serve
from .conftest import load_graph

PRODUCTS = ROOT / "demo" / "products"
THEIA_PRODUCT = "SENTINEL2A_20180826-104155-257_L2A_T31UFQ_D_V1-8"
S2 = "theia-sentinel-2-l2a"
UNKNOWN = "no-such-collection"
ZONE = {"type": "Polygon", "coordinates": [[[5.345, 49.276], [5.355, 49.276], [5.355, 49.282],
                                            [5.345, 49.282], [5.345, 49.276]]]}  # fmt: skip


@pytest.fixture(scope="module", params=["sqlite", "pgstac"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str], Any]]:
    """A live server over a real THEIA product and the land-cover crop, both restricted."""
    data_dir = tmp_path_factory.mktemp("restricted")
    extra: dict[str, Any] = {}
    if request.param == "pgstac":
        extra["database_url"] = request.getfixturevalue("pg_dsn")
    app = create_app(Settings(data_dir=data_dir, dask_workers=1, dask_processes=False,
                              job_credit_cpu_s=1000.0, **extra))  # fmt: skip
    services = app.state.services
    ingestor = Ingestor(services.store, services.storage)
    assert not ingestor.run([str(PRODUCTS / "theia" / THEIA_PRODUCT)]).rejected
    assert not ingestor.run([str(PRODUCTS / "landcover")], collection="landcover").rejected
    for collection in (S2, "landcover"):
        services.access.restrict(collection, ["partners"])
    suffix = uuid.uuid4().hex[:8]  # the pgstac database is shared by the session's tests
    tokens = {
        "outsider": services.access.create_token(f"out-{suffix}", groups=["public"]),
        "member": services.access.create_token(f"in-{suffix}", groups=["partners"]),
    }
    with serve(app) as url:
        yield url, tokens, app


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _body(response: requests.Response, ident: str = "") -> Any:
    """A JSON answer without what differs between any two requests (the error's own id)."""
    doc = json.loads(response.text.replace(UNKNOWN, ident) if ident else response.text)
    if isinstance(doc, dict):
        doc.pop("id", None)
        doc.pop("request_id", None)
    return doc


def _same_answer(restricted: requests.Response, unknown: requests.Response, ident: str) -> None:
    """The answer about a restricted input equals the one about an unknown input."""
    assert restricted.status_code == unknown.status_code, (restricted.text, unknown.text)
    assert 400 <= restricted.status_code < 500
    assert _body(restricted) == _body(unknown, ident)


def _both(
    target: str, body_of: Callable[[str], dict[str, Any]], ident: str, headers: dict[str, str]
) -> tuple[requests.Response, requests.Response]:
    """The answers to the same request naming the restricted ``ident``, then an unknown one."""
    return tuple(  # type: ignore[return-value]
        requests.post(target, json=body_of(name), headers=headers, timeout=120)
        for name in (ident, UNKNOWN)
    )


def _zonal(collection: str, item: str = "BDForet_ZoneTest") -> dict[str, Any]:
    return {"inputs": {"collection": collection, "item": item, "asset": "data", "zones": ZONE}}


@pytest.mark.parametrize("endpoint", ["quote", "execution"])
def test_ogc_processes_refuse_a_restricted_item_as_an_unknown_one(
    server: tuple[str, dict[str, str], Any], endpoint: str
) -> None:
    url, tokens, _ = server
    target = f"{url}/ogcapi/processes/zonal-statistics/{endpoint}"
    restricted, unknown = _both(target, _zonal, "landcover", _auth(tokens["outsider"]))
    _same_answer(restricted, unknown, "landcover")
    assert restricted.status_code == 404
    member = requests.post(target, json=_zonal("landcover"), headers=_auth(tokens["member"]),
                           timeout=30)  # fmt: skip
    assert member.status_code in (200, 201), member.text


def test_ogc_job_of_a_member_runs_and_its_statistics_stay_private(
    server: tuple[str, dict[str, str], Any],
) -> None:
    url, tokens, _ = server
    member = _auth(tokens["member"])
    accepted = requests.post(f"{url}/ogcapi/processes/zonal-statistics/execution",
                             json=_zonal("landcover"), headers=member, timeout=30)  # fmt: skip
    job_url = f"{url}/ogcapi/jobs/{accepted.json()['jobID']}"
    deadline = time.monotonic() + 120
    while (doc := requests.get(job_url, headers=member, timeout=10).json())["status"] in (
        "accepted", "running"
    ):  # fmt: skip
        assert time.monotonic() < deadline, doc
        time.sleep(0.2)
    assert doc["status"] == "successful", doc
    outsider = _auth(tokens["outsider"])
    assert requests.get(job_url, headers=outsider, timeout=10).status_code == 404
    assert requests.get(f"{job_url}/results", headers=outsider, timeout=10).status_code == 404


def test_openeo_hides_restricted_collections_from_listing_and_description(
    server: tuple[str, dict[str, str], Any],
) -> None:
    url, tokens, _ = server
    base = f"{url}/openeo/1.2"
    for headers in ({}, _auth(tokens["outsider"])):
        ids = [c["id"] for c in requests.get(f"{base}/collections", headers=headers,
                                             timeout=30).json()["collections"]]  # fmt: skip
        assert S2 not in ids and "landcover" not in ids
        _same_answer(requests.get(f"{base}/collections/{S2}", headers=headers, timeout=30),
                     requests.get(f"{base}/collections/{UNKNOWN}", headers=headers, timeout=30),
                     S2)  # fmt: skip
    member = requests.get(f"{base}/collections", headers=_auth(tokens["member"]), timeout=30)
    assert S2 in [c["id"] for c in member.json()["collections"]]


@pytest.mark.parametrize("endpoint", ["result", "jobs", "validation"])
def test_openeo_graphs_cannot_load_a_restricted_collection(
    server: tuple[str, dict[str, str], Any], endpoint: str
) -> None:
    url, tokens, _ = server
    target = f"{url}/openeo/1.2/{endpoint}"
    restricted, unknown = _both(target, load_graph, S2, _auth(tokens["outsider"]))
    if endpoint == "validation":  # answers 200 with the errors it found
        assert restricted.json()["errors"] and _body(restricted) == _body(unknown, S2)
    elif endpoint == "jobs":  # both created; both fail with CollectionNotFound when they run
        assert restricted.status_code == unknown.status_code == 201
    else:
        _same_answer(restricted, unknown, S2)
    member = requests.post(
        target, json=load_graph(S2), headers=_auth(tokens["member"]), timeout=120
    )
    if endpoint == "validation":
        assert member.json()["errors"] == []
    else:
        assert member.status_code in (200, 201), member.text
    if endpoint == "result":
        assert member.headers["content-type"].startswith("image/tiff")
        assert len(member.content) > 1000


def test_a_job_accepted_before_a_restriction_cannot_read_when_it_runs(
    server: tuple[str, dict[str, str], Any], tmp_path: Path
) -> None:
    """The worker builds the owner's view again: a job queued while the data was public, run
    after the collection became restricted (or the token lost the group), reads nothing."""
    _, _, app = server
    runner = app.state.jobs
    owner = app.state.services.access.principal_named
    outsider = next(t["name"] for t in app.state.services.access.list_tokens()
                    if t["name"].startswith("out-"))  # fmt: skip
    assert "partners" not in owner(outsider).groups
    process = runner.process("zonal-statistics")
    inputs = process.validate(_zonal("landcover")["inputs"])
    job = runner.jobs.submit("zonal-statistics", outsider, inputs, 1.0)  # as if quoted earlier
    outcome = execute(job.id, process, inputs, runner.settings.model_dump_json(), str(tmp_path))
    assert outcome.result is None
    assert outcome.error == "item 'landcover/BDForet_ZoneTest' not found"


@pytest.mark.parametrize(
    ("process", "inputs"),
    [
        ("vegetation-indicators", {"zones": ZONE, "start": "2018-01-01", "end": "2018-12-31"}),
        ("ground-deformation", {"before": THEIA_PRODUCT, "after": THEIA_PRODUCT, "zone": ZONE}),
    ],
)
def test_other_services_refuse_restricted_inputs_as_unknown_ones(
    server: tuple[str, dict[str, str], Any], process: str, inputs: dict[str, Any]
) -> None:
    url, tokens, _ = server
    target = f"{url}/ogcapi/processes/{process}/quote"
    restricted, unknown = _both(target, lambda c: {"inputs": {**inputs, "collection": c}}, S2,
                                _auth(tokens["outsider"]))  # fmt: skip
    _same_answer(restricted, unknown, S2)


def test_an_openeo_batch_job_whose_owner_lost_access_cannot_be_estimated_changed_or_started(
    server: tuple[str, dict[str, str], Any],
) -> None:
    """The owner's access is checked again at every step after the job was created."""
    url, tokens, app = server
    base, member = f"{url}/openeo/1.2", _auth(tokens["member"])
    created = requests.post(f"{base}/jobs", json=load_graph(S2), headers=member, timeout=60)
    assert created.status_code == 201, created.text
    job = f"{base}/jobs/{created.headers['OpenEO-Identifier']}"
    assert requests.get(f"{job}/estimate", headers=member, timeout=60).status_code == 200
    access = app.state.services.access
    access.restrict(S2, ["another-group"])  # the member's group no longer reads it
    try:
        # as for an unknown collection: accepted, and the job fails when it runs, reading nothing
        assert requests.post(f"{job}/results", headers=member, timeout=60).status_code == 202
        deadline = time.monotonic() + 60
        done = ("error", "finished")
        while (
            status := requests.get(job, headers=member, timeout=30).json()["status"]
        ) not in done:
            assert time.monotonic() < deadline, status
            time.sleep(0.2)
        assert status == "error"
        logs = requests.get(f"{job}/logs", headers=member, timeout=30).json()["logs"]
        assert logs[-1]["code"] == "CollectionNotFound"
    finally:
        access.restrict(S2, ["partners"])
