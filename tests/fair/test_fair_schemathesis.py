"""Schemathesis over the FAIR endpoints (records, thesauri, deposits, CES, calls and
applications, OAI-PMH, DCAT): no input may cause a 5xx.

The app holds what the demo publishes (``fair.demo.publish_demo`` over the land-cover crop and
one THEIA L2A product, the demo's thesauri, CES directory, call and application) and a draft
deposit with an upload under way. Callers: anonymous, and the demo's admin (a curator) with a
real API token. Generated ids mostly name nothing (404s), so the operations also run with the
path's ids replaced by the seeded ones, so that the bodies reach the workflows' rules.
"""

from __future__ import annotations

import itertools
import tempfile

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from terrapole.access.demo_accounts import ADMIN, COLLECTION, LAB, principal_of, seed
from terrapole.access.policy import Principal
from terrapole.app import create_app
from terrapole.cli_fair import import_demo_thesauri
from terrapole.config import Settings
from terrapole.fair.calls import CallBook
from terrapole.fair.ces import CesDirectory
from terrapole.fair.ces_demo import seed_demo_ces
from terrapole.fair.demo import DEPOSITS, publish_demo
from terrapole.fair.deposits import Deposits
from terrapole.ingest.service import Ingestor
from terrapole.web.calls import MOVES

from ..conftest import ROOT

PATHS = r"^/(records|thesauri|deposits|ces|calls|applications|oai|dcat)"
DEMO = ROOT / "demo"
L2A = DEMO / "products" / "theia" / "SENTINEL2B_20190915-104723-867_L2A_T31UFQ_C_V2-2"

# Built at import: schemathesis generates one test per operation at collection time.
_DATA_DIR = tempfile.TemporaryDirectory(prefix="terrapole-fair-fuzz-")
_APP = create_app(Settings(data_dir=_DATA_DIR.name))
_SERVICES = _APP.state.services


def _seed() -> tuple[str, dict[str, str]]:
    """The demo's FAIR content and a draft deposit with an upload: the admin's bearer header
    and the seeded ids by path parameter name."""
    services = _SERVICES
    ingest = Ingestor(services.store, services.storage)
    assert not ingest.run([str(DEMO / "products" / "landcover")], collection=COLLECTION).rejected
    assert not ingest.run([str(L2A)]).rejected
    seed(services)
    report = publish_demo(services, DEMO)
    import_demo_thesauri(services)
    admin = services.accounts.by_email(ADMIN[0])
    member = services.accounts.by_email(LAB.member[0])
    engine = services.access.engine
    seed_demo_ces(engine, applicant=Principal(name=f"user:{member.id}", user_id=member.id),
                  collection_exists=lambda cid: cid in {COLLECTION, "theia-sentinel-2-l2a"})  # fmt: skip
    curator = principal_of(services.access, admin)
    deposits = Deposits(services.records, services.storage, services.access)
    published = deposits.get(curator, report.deposits[-1])  # the GeoTIFF
    draft = deposits.create(curator, "A draft deposit")
    upload = deposits.start_upload(curator, draft.id, "notes.csv", 10, sha256="0" * 64)
    directory, calls = CesDirectory(engine), CallBook(engine)
    ces = directory.consortia()[0]
    call = calls.calls()[0]
    application = calls.find(curator, call_id=call.id)[0]
    record = services.records.get(curator, report.published[0])
    _, secret = services.accounts.create_token(admin.id, "fuzz")
    known = {
        "record_id": record.id, "concept_id": record.concept_id, "n": "0",
        "deposit_id": published.id, "name": published.files[0].name, "upload_id": upload.id,
        "ces_id": ces.id, "offer_id": directory.offers()[0].id, "call_id": call.id,
        "application_id": application.id,
    }  # fmt: skip
    assert len(report.deposits) == len(DEPOSITS)
    return f"Bearer {secret}", known


ADMIN_AUTH, KNOWN = _seed()
_VERBS = itertools.cycle(sorted(MOVES))
schema = schemathesis.openapi.from_asgi("/stac/api", _APP).include(path_regex=PATHS)
fair = schema.exclude(path_regex="/map")
# The deposit's map routes are titiler's (tests/maps/test_fuzz.py covers them on items): run
# on the seeded GeoTIFF only, GET only (POST statistics spends minutes generating GeoJSON).
maps = schemathesis.openapi.from_asgi("/stac/api", _APP).include(
    path_regex=r"^/deposits/.+/map", method="GET"
)
LIMITS = settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _seeded(case: schemathesis.Case) -> None:
    """The path's ids replaced by the seeded ones (the verb taken in turn)."""
    if case.path_parameters:
        case.path_parameters = {
            key: next(_VERBS) if key == "verb" else KNOWN.get(key, value)
            for key, value in case.path_parameters.items()
        }


@pytest.mark.parametrize(("who", "ids"), [("anonymous", "generated"), ("admin", "seeded")])
@fair.parametrize()
@LIMITS
def test_no_input_makes_a_server_error(case: schemathesis.Case, who: str, ids: str) -> None:
    if ids == "seeded":
        _seeded(case)
    headers = {"Authorization": ADMIN_AUTH} if who == "admin" else {}
    case.call_and_validate(headers=headers, checks=[not_a_server_error])


@maps.parametrize()
# Warnings, not failures, outside pytest: int16/float32 data rescaled for PNG/JPEG or converted
# for a colormap, an expression given with band indexes (rio-tiler), a GeometryCollection of
# one shape (geojson-pydantic), the file's corners projected onto a polar grid (morecantile).
@pytest.mark.filterwarnings("ignore::rio_tiler.errors.InvalidDatatypeWarning")
@pytest.mark.filterwarnings("ignore::rio_tiler.errors.ExpressionMixingWarning")
@pytest.mark.filterwarnings("ignore:Input array is of type:UserWarning")
@pytest.mark.filterwarnings("ignore::UserWarning:geojson_pydantic")
@pytest.mark.filterwarnings("ignore::morecantile.errors.PointOutsideTMSBounds")
@LIMITS
def test_no_map_input_makes_a_server_error(case: schemathesis.Case) -> None:
    _seeded(case)
    case.call_and_validate(headers={"Authorization": ADMIN_AUTH}, checks=[not_a_server_error])


@pytest.mark.parametrize(
    ("route", "query", "named"),
    [
        ("preview.png", "expression=b1/b2", "bands"),  # the crop has one band
        ("point/5.35,49.28", "expression=by", "expression"),
        ("statistics", "bidx=3", "bands"),
        ("statistics", "histogram_bins=0", "histogram_bins"),
    ],
)
def test_a_deposit_map_refuses_bands_and_bins_it_cannot_use_with_a_400(
    route: str, query: str, named: str
) -> None:
    with TestClient(_APP) as client:
        found = client.get(
            f"/deposits/{KNOWN['deposit_id']}/files/{KNOWN['name']}/map/{route}?{query}"
        )
    assert found.status_code == 400, found.text
    assert named in found.text
