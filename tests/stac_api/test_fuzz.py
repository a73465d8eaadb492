"""Schemathesis over the STAC API's own OpenAPI document: no input may cause a 5xx."""

from __future__ import annotations

import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from terrapole.app import create_app
from terrapole.catalog.loader import load_paths
from terrapole.config import Settings

from ..conftest import DEMO

# Built at import: schemathesis generates one test per operation at collection time.
# (Its pytest fixture loader does not work with this pytest version.)
_DATA_DIR = tempfile.TemporaryDirectory(prefix="terrapole-fuzz-")
_APP = create_app(Settings(data_dir=_DATA_DIR.name))
load_paths(_APP.state.services.store, [DEMO / "sentinel-2-l2a"])
schema = schemathesis.openapi.from_asgi("/stac/api", _APP)


@schema.parametrize()
# geojson-pydantic warns (does not fail) while parsing odd but valid bodies.
@pytest.mark.filterwarnings("ignore::UserWarning:geojson_pydantic")
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_input_makes_a_server_error(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=[not_a_server_error])


def test_a_date_overflowing_with_its_timezone_is_a_client_error() -> None:
    """Found by the fuzzer: year 1 at +00:01 overflows when made UTC inside stac-pydantic."""
    from fastapi.testclient import TestClient

    body = {
        "type": "Collection",
        "id": "overflow",
        "description": "d",
        "license": "CC-BY-4.0",
        "links": [],
        "extent": {
            "spatial": {"bbox": [[0, 0, 1, 1]]},
            "temporal": {"interval": [["0001-01-01T00:00:00+00:01", None]]},
        },
    }
    response = TestClient(_APP, raise_server_exceptions=False).post("/stac/collections", json=body)
    assert response.status_code == 400
    assert "date value out of range" in response.json()["description"]


def test_a_filter_number_beyond_64_bits_is_a_client_error() -> None:
    """Found by the fuzzer: orjson cannot write integers past 64 bits."""
    from fastapi.testclient import TestClient

    body = {"filter": {"op": "=", "args": [{"property": "x"}, -9223372036854775809]},
            "filter-lang": "cql2-json"}  # fmt: skip
    client = TestClient(_APP, raise_server_exceptions=False)
    response = client.post("/stac/search", json=body)
    assert response.status_code == 400
    assert "64-bit" in response.json()["description"]
