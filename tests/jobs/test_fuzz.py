"""Schemathesis over the job APIs (OGC API - Processes at /ogcapi, openEO at /openeo/1.2), as a
logged-in user with a real product in the catalogue: no input may cause a 5xx."""

from __future__ import annotations

import tempfile

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.ingest.service import Ingestor
from terrapole.openeo import graph

from .conftest import PRODUCTS, THEIA_PRODUCT

# Built at import: schemathesis generates one test per operation at collection time.
_DATA_DIR = tempfile.TemporaryDirectory(prefix="terrapole-jobs-fuzz-")
_APP = create_app(Settings(data_dir=_DATA_DIR.name, dask_workers=1, dask_processes=False))
_SERVICES = _APP.state.services
assert (
    not Ingestor(_SERVICES.store, _SERVICES.storage)
    .run([str(PRODUCTS / "theia" / THEIA_PRODUCT)])
    .rejected
)
TOKEN = _SERVICES.access.create_token("fuzzer", groups=[])
# openeo-processes-dask's imports raise the recursion limit: import them before hypothesis runs
graph.library()
schema = schemathesis.openapi.from_asgi("/stac/api", _APP).include(path_regex="^/(ogcapi|openeo)")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_input_makes_a_server_error(case: schemathesis.Case) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKEN}"}, checks=[not_a_server_error]
    )
