"""Schemathesis over the map routes (item tiles, previews, points, statistics, mosaic, WMS) of a
catalogue holding a real product: no input may cause a 5xx."""

from __future__ import annotations

import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.ingest.service import Ingestor

from ..ingest.conftest import CLEAR, COLLECTION

# Built at import: schemathesis generates one test per operation at collection time.
_DATA_DIR = tempfile.TemporaryDirectory(prefix="terrapole-maps-fuzz-")
_APP = create_app(Settings(data_dir=_DATA_DIR.name))
_SERVICES = _APP.state.services
assert not Ingestor(_SERVICES.store, _SERVICES.storage).run([str(CLEAR)]).rejected
schema = schemathesis.openapi.from_asgi("/stac/api", _APP).include(path_regex="^/(maps|wms)")
REAL_ITEM = {"collection_id": COLLECTION, "item_id": CLEAR.name}


@schema.parametrize()
# Warnings, not failures, outside pytest: a GeometryCollection of one shape (geojson-pydantic),
# the item's corners projected onto a polar grid it is not on (morecantile).
@pytest.mark.filterwarnings("ignore::UserWarning:geojson_pydantic")
@pytest.mark.filterwarnings("ignore::morecantile.errors.PointOutsideTMSBounds")
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_input_makes_a_server_error(case: schemathesis.Case) -> None:
    if case.path_parameters and "item_id" in case.path_parameters:
        case.path_parameters.update(REAL_ITEM)  # random ids would only ever meet a 404
    case.call_and_validate(checks=[not_a_server_error])
