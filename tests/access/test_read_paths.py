"""One access policy over every read path, proved by a table: read paths × principals.

Two collections (a real THEIA Sentinel-2 product and the land-cover crop) declare terms: the
licence ``dinamis-licence`` and the eligible profile ``french-scientist``. Five principals ask
through every read path of the live app: anonymous, a member of a French lab who accepted the
licence, a member of the same lab who did not, a member of a public body (profile not eligible)
who accepted it, and an admin. Only the eligible member and the admin see the data; every other
answer is exactly the one given for a collection that does not exist.

The eligible member also ran two jobs that read the restricted data (an OGC zonal-statistics
job, an openEO batch job): their listings, status and results are read paths too, and for
anybody but the owner (and an admin) a job is answered exactly as a job that does not exist.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import morecantile
import pytest
from fastapi.testclient import TestClient
from httpx import Response
from pyproj import Transformer

from terrapole.access.delivery import Delivery, collection_id_for
from terrapole.access.eligibility import Declared
from terrapole.access.order_workflow import Actor, State
from terrapole.access.policy import Principal, can_download, can_order, hidden_collections
from terrapole.access.pricing import Family
from terrapole.access.profiles import Profile
from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.fair.model import Source, SourceKind
from terrapole.ingest.service import Ingestor

from ..conftest import ROOT
from ..fair.records_fixtures import complete_record
from .conftest import load_graph

PRODUCTS = ROOT / "demo" / "products"
ITEM = "SENTINEL2A_20180826-104155-257_L2A_T31UFQ_D_V1-8"
S2 = "theia-sentinel-2-l2a"
LANDCOVER, ZONE_ITEM = "landcover", "BDForet_ZoneTest"
UNKNOWN = "no-such-collection"
TILE = morecantile.tms.get("WebMercatorQuad").tile(5.35, 49.278, 15)
TO_3857 = Transformer.from_crs("OGC:CRS84", "EPSG:3857", always_xy=True)
CROP_3857 = ",".join(
    str(v) for v in (*TO_3857.transform(5.3447, 49.2750), *TO_3857.transform(5.3560, 49.2824))
)
ZONE = {"type": "Polygon", "coordinates": [[[5.345, 49.276], [5.355, 49.276], [5.355, 49.282],
                                            [5.345, 49.282], [5.345, 49.276]]]}  # fmt: skip
PASSWORD = "a long passphrase 42"
PRINCIPALS = ["anonymous", "eligible", "no-licence", "other-entity", "admin"]
SEES = frozenset({"eligible", "admin"})
UNKNOWN_JOB = "0" * 32
# the eligible member's jobs over the restricted collections, filled by the ``hub`` fixture:
# "ogc" and "openeo" job ids, and "openeo-file", the name of the openEO job's result file
JOBS: dict[str, str] = {}
# the published FAIR record describing the restricted S2 collection, filled by ``hub``; the
# unknown collection's "record" is an id no record has
RECORD_TITLE = "Sentinel-2 L2A over the restricted test crop"
RECORDS: dict[str, str] = {UNKNOWN: "0" * 32}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> tuple[TestClient, dict[str, dict[str, str]]]:
    """The app over two collections under terms, and a token for each principal."""
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("terms"), dask_workers=1,
                              dask_processes=False, job_credit_cpu_s=1000.0))  # fmt: skip
    services = app.state.services
    ingestor = Ingestor(services.store, services.storage)
    assert not ingestor.run([str(PRODUCTS / "theia" / ITEM)]).rejected
    assert not ingestor.run([str(PRODUCTS / "landcover")], collection=LANDCOVER).rejected
    accounts, entities, licences = services.accounts, services.entities, services.licences

    def user(name: str, **roles: Any) -> Any:
        return accounts.create_verified(f"{name}@lab.example", PASSWORD, name, **roles)

    admin = user("admin", roles=frozenset({"admin"}))
    eligible, no_licence, other = user("ana"), user("bruno"), user("chloe")
    lab = entities.create(eligible, name="A lab", country="FR", kind="lab",
                          profile_name="french-scientist")  # fmt: skip
    entities.request(no_licence, lab.id)
    entities.approve(eligible, lab.id, no_licence.id)
    body = entities.create(other, name="A public body", country="FR", kind="public-body",
                           profile_name="french-public-actor")  # fmt: skip
    licence = licences.create(admin, "dinamis-licence", "DINAMIS licence", "You shall cite.")
    for collection in (S2, LANDCOVER):
        licences.set_terms(admin, collection, licence_ids=[licence.id],
                           profiles=["french-scientist"])  # fmt: skip
    licences.accept(eligible, licence.id, licence.version)
    licences.accept(other, licence.id, licence.version, entity=(body.id, other.id))
    services.access.forget()
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for name, who in (("eligible", eligible), ("no-licence", no_licence),
                      ("other-entity", other), ("admin", admin)):  # fmt: skip
        _, secret = accounts.create_token(who.id, "tests")
        headers[name] = {"Authorization": f"Bearer {secret}"}
    client = TestClient(app)
    JOBS.update(_run_jobs(client, headers["eligible"]))
    RECORDS[S2] = _publish_record(services, headers["admin"])
    return client, headers


def _publish_record(services: Any, admin: dict[str, str]) -> str:
    """Publish, as the admin (a curator), a record whose source is the restricted S2 collection."""
    curator = services.access.authenticate(admin["Authorization"])
    record = complete_record(RECORD_TITLE)
    record = replace(
        record, extras=replace(record.extras, source=Source(SourceKind.COLLECTION, S2))
    )
    book = services.records
    rid = str(book.create(curator, record).id)
    book.submit(curator, rid)
    book.approve(curator, rid)
    book.publish(curator, rid)
    return rid


def _run_jobs(client: TestClient, owner: dict[str, str]) -> dict[str, str]:
    """Run, as ``owner``, an OGC job and an openEO batch job that read the restricted
    collections; return their ids and the openEO job's result file name."""
    ogc = client.post("/ogcapi/processes/zonal-statistics/execution", headers=owner,
                      json={"inputs": {"collection": LANDCOVER, "item": ZONE_ITEM,
                                       "asset": "data", "zones": ZONE}})  # fmt: skip
    assert ogc.status_code == 201, ogc.text
    batch = client.post("/openeo/1.2/jobs", json=load_graph(S2), headers=owner)
    assert batch.status_code == 201, batch.text
    openeo = batch.headers["OpenEO-Identifier"]
    assert client.post(f"/openeo/1.2/jobs/{openeo}/results", headers=owner).status_code == 202
    runner = client.app.state.jobs  # type: ignore[attr-defined]
    for job in runner.jobs.find(None, limit=10, offset=0):
        runner.settled(job.id).result(timeout=300)
    assert client.get(f"/ogcapi/jobs/{ogc.json()['jobID']}", headers=owner).json()[
        "status"] == "successful"  # fmt: skip
    results = client.get(f"/openeo/1.2/jobs/{openeo}/results", headers=owner)
    assert results.status_code == 200, results.text
    return {"ogc": ogc.json()["jobID"], "openeo": openeo,
            "openeo-file": next(iter(results.json()["assets"]))}  # fmt: skip


@dataclass(frozen=True)
class Path:
    """A read path: the request naming a collection, and what a visible answer holds."""

    ask: Callable[[TestClient, str, dict[str, str]], Response]
    shows: Callable[[Response], bool]
    collection: str = S2
    seen_by: frozenset[str] = SEES


def _get(url: str, **params: Any) -> Callable[[TestClient, str, dict[str, str]], Response]:
    def ask(client: TestClient, collection: str, headers: dict[str, str]) -> Response:
        query = {k: v.format(c=collection) if isinstance(v, str) else v for k, v in params.items()}
        return client.get(url.format(c=collection), params=query, headers=headers)

    return ask


def _post(
    url: str, body: Callable[[str], Any]
) -> Callable[[TestClient, str, dict[str, str]], Response]:
    def ask(client: TestClient, collection: str, headers: dict[str, str]) -> Response:
        return client.post(url, json=body(collection), headers=headers)

    return ask


def _job(url: str) -> Callable[[TestClient, str, dict[str, str]], Response]:
    """Ask about the eligible member's job (``{ogc}``, ``{openeo}``, ``{openeo-file}`` in
    ``url``), or, when asked about the unknown collection, about a job that does not exist."""

    def ask(client: TestClient, collection: str, headers: dict[str, str]) -> Response:
        names = dict(JOBS) if collection != UNKNOWN else dict.fromkeys(JOBS, UNKNOWN_JOB)
        return client.get(url.format_map(names), headers=headers)

    return ask


def _record(url: str, **params: Any) -> Callable[[TestClient, str, dict[str, str]], Response]:
    """A request naming the FAIR record that describes the collection."""

    def ask(client: TestClient, collection: str, headers: dict[str, str]) -> Response:
        return client.get(url.format(r=RECORDS[collection]), params=params, headers=headers)

    return ask


def _json_has(key: str) -> Callable[[Response], bool]:
    return lambda r: r.status_code == 200 and key in r.json()


def _has(text: str) -> Callable[[Response], bool]:
    return lambda r: r.status_code == 200 and text in r.text


def _image(r: Response) -> bool:
    return r.status_code == 200 and r.headers["content-type"].startswith("image/")


TILE_PATH = f"/tiles/WebMercatorQuad/{TILE.z}/{TILE.x}/{TILE.y}.png"
WMS_MAP = {"SERVICE": "WMS", "VERSION": "1.3.0", "LAYERS": "{c}:truecolor", "STYLES": "",
           "CRS": "EPSG:3857", "BBOX": CROP_3857, "WIDTH": 64, "HEIGHT": 64,
           "FORMAT": "image/png", "TIME": "2018-08-26"}  # fmt: skip
WMS_INFO = {**WMS_MAP, "REQUEST": "GetFeatureInfo", "QUERY_LAYERS": "{c}:truecolor", "I": 32,
            "J": 32, "INFO_FORMAT": "application/json"}  # fmt: skip

PATHS: dict[str, Path] = {
    "stac search": Path(_get("/stac/search", collections="{c}"), _has(ITEM)),
    "stac item": Path(_get(f"/stac/collections/{{c}}/items/{ITEM}"), _has(ITEM)),
    "stac collection": Path(_get("/stac/collections/{c}"), _has(S2)),
    "stac collections list": Path(_get("/stac/collections"), _has(f'"id":"{S2}"')),
    "stac aggregation": Path(
        _get("/stac/aggregate", collections="{c}", aggregations="total_count"),
        lambda r: r.status_code == 200 and '"value":1' in r.text.replace(" ", ""),
    ),
    "asset download": Path(
        _get(f"/assets/{{c}}/{ITEM}/FRE_B4.tif"),
        lambda r: r.status_code == 200 and r.content[:2] in (b"II", b"MM"),
    ),
    "item zip": Path(
        _get(f"/stac/collections/{{c}}/items/{ITEM}/download"),
        lambda r: r.status_code == 200 and r.content[:2] == b"PK",
    ),
    "xyz tile": Path(
        _get(f"/maps/collections/{{c}}/items/{ITEM}{TILE_PATH}", preset="truecolor"), _image
    ),  # fmt: skip
    "mosaic tile": Path(
        _get(
            f"/maps/mosaic/tiles/{TILE.z}/{TILE.x}/{TILE.y}.png",
            collections="{c}",
            preset="truecolor",
        ),  # fmt: skip
        lambda r: _image(r) and len(r.content) > 2000,  # an empty tile is a few hundred bytes
    ),
    "wms capabilities": Path(
        _get("/wms", SERVICE="WMS", REQUEST="GetCapabilities", VERSION="1.3.0"),
        _has(f"{S2}:truecolor"),
    ),
    "wms getmap": Path(_get("/wms", REQUEST="GetMap", **WMS_MAP), _image),
    "wms getfeatureinfo": Path(_get("/wms", **WMS_INFO), _has(ITEM)),
    "portal item page": Path(_get(f"/collections/{{c}}/items/{ITEM}"), _has(ITEM)),
    "portal collection page": Path(_get("/collections/{c}"), _has(S2)),
    "openeo collections": Path(_get("/openeo/1.2/collections"), _has(f'"id":"{S2}"')),
    "openeo collection": Path(_get("/openeo/1.2/collections/{c}"), _has(S2)),
    "openeo load_collection (validation)": Path(
        _post("/openeo/1.2/validation", load_graph),
        lambda r: r.status_code == 200 and r.json()["errors"] == [],
    ),
    "ogc processes input (quote)": Path(
        _post(
            "/ogcapi/processes/zonal-statistics/quote",
            lambda c: {
                "inputs": {"collection": c, "item": ZONE_ITEM, "asset": "data", "zones": ZONE}
            },
        ),  # fmt: skip
        lambda r: r.status_code == 200,
        collection=LANDCOVER,
    ),
    "openeo sync result (load_collection)": Path(
        _post("/openeo/1.2/result", load_graph),
        lambda r: (
            r.status_code == 200
            and r.headers["content-type"].startswith("image/tiff")
            and r.content[:2] in (b"II", b"MM")
        ),
    ),  # fmt: skip
    "ogc job list": Path(
        _job("/ogcapi/jobs"), lambda r: _has(JOBS["ogc"])(r), collection=LANDCOVER
    ),  # fmt: skip
    "ogc job status": Path(_job("/ogcapi/jobs/{ogc}"), _json_has("status"), collection=LANDCOVER),
    "ogc job results": Path(
        _job("/ogcapi/jobs/{ogc}/results"), _json_has("item"), collection=LANDCOVER
    ),
    # openEO lists the caller's own batch jobs, an admin's too
    "openeo job list": Path(
        _job("/openeo/1.2/jobs"), lambda r: _has(JOBS["openeo"])(r), seen_by=frozenset({"eligible"})
    ),
    "openeo job status": Path(_job("/openeo/1.2/jobs/{openeo}"), _has('"finished"')),
    "openeo job results": Path(_job("/openeo/1.2/jobs/{openeo}/results"), _json_has("assets")),
    "fair record landing page": Path(_record("/records/{r}"), _has(RECORD_TITLE)),
    "fair record datacite xml": Path(
        _record("/records/{r}", format="datacite-xml"), _has(RECORD_TITLE)
    ),
    "fair record linkset": Path(_record("/records/{r}/linkset"), _has("cite-as")),
    "fair record versions": Path(_record("/records/{r}/versions"), _has("terrapole:local/")),
    "fair records list": Path(_get("/records"), _has(RECORD_TITLE)),
    "openeo job result file": Path(
        _job("/openeo/1.2/jobs/{openeo}/results/assets/{openeo-file}"),
        lambda r: r.status_code == 200 and r.content[:2] in (b"II", b"MM"),
    ),
}

_VOLATILE = re.compile(r"[0-9a-f]{32}")  # request ids in error bodies and pages


def _normal(response: Response, collection: str) -> tuple[int, str, bytes]:
    """An answer as compared: the collection's id named as the unknown one, request ids out."""
    if response.headers.get("content-type", "").startswith("image/"):
        return response.status_code, "image", response.content
    text = _VOLATILE.sub("<id>", response.text.replace(collection, UNKNOWN))
    try:
        doc = json.loads(text)
    except ValueError:
        return response.status_code, text, b""
    if isinstance(doc, dict):
        doc.pop("id", None)
        doc.pop("request_id", None)
    return response.status_code, json.dumps(doc, sort_keys=True), b""


@pytest.mark.parametrize("who", PRINCIPALS)
@pytest.mark.parametrize("path", list(PATHS), ids=list(PATHS))
def test_a_collection_under_terms_is_seen_only_by_eligible_members_and_admins(
    hub: tuple[TestClient, dict[str, dict[str, str]]], path: str, who: str
) -> None:
    client, headers = hub
    read = PATHS[path]
    answer = read.ask(client, read.collection, headers[who])
    assert answer.status_code < 500, answer.text
    if who in read.seen_by:
        assert read.shows(answer), (answer.status_code, answer.text[:500])
        return
    assert not read.shows(answer), answer.text[:500]
    unknown = read.ask(client, UNKNOWN, headers[who])
    assert _normal(answer, read.collection) == _normal(unknown, UNKNOWN)


def test_accepting_a_new_licence_version_is_asked_again_before_the_data_shows(
    hub: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, headers = hub
    services = client.app.state.services  # type: ignore[attr-defined]
    admin = services.accounts.by_email("admin@lab.example")
    ana = services.accounts.by_email("ana@lab.example")
    item = f"/stac/collections/{S2}/items/{ITEM}"
    assert client.get(item, headers=headers["eligible"]).status_code == 200
    v2 = services.licences.publish(admin, "dinamis-licence", "You shall cite, version 2.")
    services.access.forget()
    try:
        assert client.get(item, headers=headers["eligible"]).status_code == 404
        assert client.get(item, headers=headers["admin"]).status_code == 200
    finally:
        services.licences.accept(ana, "dinamis-licence", v2.version)
        other = services.accounts.by_email("chloe@lab.example")
        body = services.entities.of_user(other.id)[0]
        services.licences.accept(other, "dinamis-licence", v2.version, entity=(body.id, other.id))
        services.access.forget()
    assert client.get(item, headers=headers["eligible"]).status_code == 200


def test_ordering_needs_an_entity_besides_eligibility_and_the_licences() -> None:
    terms = {S2: Declared(("dinamis-licence",), (Profile.FRENCH_SCIENTIST,))}
    member = Principal(name="t", user_id="u", entities=frozenset({"lab"}),
                       profiles=frozenset({Profile.FRENCH_SCIENTIST}),
                       licences=frozenset({"dinamis-licence"}))  # fmt: skip
    alone = replace(member, entities=frozenset())
    unlicensed = replace(member, licences=frozenset())
    assert can_order(member, S2, {}, terms) and can_download(member, S2, {}, terms)
    assert can_download(alone, S2, {}, terms) and not can_order(alone, S2, {}, terms)
    assert not can_download(unlicensed, S2, {}, terms)
    assert not can_order(unlicensed, S2, {}, terms)
    deployment = Principal(name="ci", groups=frozenset({"partners"}))  # tokens before accounts
    assert not can_order(deployment, S2, {}, terms)
    assert hidden_collections(deployment, {LANDCOVER: frozenset({"partners"})}, terms) == {S2}
    assert hidden_collections(Principal(name="root", admin=True), {}, terms) == frozenset()


# -- a delivery collection: kept to the ordering entity's members (and admins) -------------------
DELIVERY_PATHS: dict[str, Path] = {
    "stac search": Path(_get("/stac/search", collections="{c}"), _has(ITEM)),
    "stac item": Path(_get(f"/stac/collections/{{c}}/items/{ITEM}"), _has(ITEM)),
    "stac collection": Path(_get("/stac/collections/{c}"), _has("Deliveries to A lab")),
    "stac collections list": Path(_get("/stac/collections"), _has("Deliveries to A lab")),
    "asset download": PATHS["asset download"],
    "item zip": PATHS["item zip"],
    "portal item page": PATHS["portal item page"],
    "portal collection page": Path(_get("/collections/{c}"), _has("Deliveries to A lab")),
    "openeo collection": Path(_get("/openeo/1.2/collections/{c}"), _has("Deliveries to A lab")),
}
DELIVERY_SEES = {"eligible", "no-licence", "admin"}  # the lab's two members, and the admin


@pytest.fixture(scope="module")
def delivered(hub: tuple[TestClient, dict[str, dict[str, str]]]) -> str:
    """The S2 product ordered by the lab (from the archive) and delivered by the admin."""
    client, _ = hub
    services = client.app.state.services  # type: ignore[attr-defined]
    ana = services.accounts.by_email("ana@lab.example")
    admin = services.accounts.by_email("admin@lab.example")
    lab = services.entities.of_user(ana.id)[0]
    owner, operator = Actor(ana.id, referent_of=frozenset({lab.id})), Actor(admin.id, operator=True)
    item = services.store.get_item(S2, ITEM)
    order = services.orders.draft_archive(owner, entity_id=lab.id, profile=Profile.FRENCH_SCIENTIST,
                                          family=Family.PLEIADES, collection_id=S2,
                                          footprints={ITEM: item["geometry"]})  # fmt: skip
    services.orders.submit(owner, order.id)
    services.orders.move(owner, order.id, State.APPROVED)
    services.orders.move(operator, order.id, State.ACCEPTED)
    Delivery(services.store, services.storage, services.orders, services.entities,
             services.access).deliver(operator, order.id)  # fmt: skip
    return collection_id_for(lab.id)


@pytest.mark.parametrize("who", PRINCIPALS)
@pytest.mark.parametrize("path", list(DELIVERY_PATHS), ids=list(DELIVERY_PATHS))
def test_a_delivery_collection_is_seen_only_by_its_entity_and_admins(
    hub: tuple[TestClient, dict[str, dict[str, str]]], delivered: str, path: str, who: str
) -> None:
    client, headers = hub
    read = DELIVERY_PATHS[path]
    answer = read.ask(client, delivered, headers[who])
    assert answer.status_code < 500, answer.text
    if who in DELIVERY_SEES:
        assert read.shows(answer), (answer.status_code, answer.text[:500])
        return
    assert not read.shows(answer), answer.text[:500]
    unknown = read.ask(client, UNKNOWN, headers[who])
    assert _normal(answer, delivered) == _normal(unknown, UNKNOWN)
