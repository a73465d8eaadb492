"""Schemathesis over the SensorThings paths (/sta/v1.1): the OpenAPI describes them, and no
generated request (anonymous, or as a producer with a real API token) makes a server error."""

from __future__ import annotations

import tempfile

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.insitu import Datastream, InsituStore, ObservedProperty, Sensor, Thing, Unit

from .test_store import camels

_DATA_DIR = tempfile.TemporaryDirectory(prefix="sta-fuzz-")
_APP = create_app(Settings(data_dir=_DATA_DIR.name))


def _seed() -> dict[str, str]:
    services = _APP.state.services
    store = InsituStore(services.access.engine)
    thing = store.create_thing(Thing("01022500"))
    sensor = store.create_sensor(Sensor("gauge"))
    prop = store.create_observed_property(ObservedProperty("discharge", "http://x/q"))
    ds = store.create_datastream(
        Datastream("Q", thing.id or 0, sensor.id or 0, prop.id or 0, Unit("cfs", "ft3/s"))
    )
    store.add_observations(ds.id or 0, camels()[:50])
    user = services.accounts.create_verified(
        "obs@ozcar.fr", "a long enough passphrase 42", "Obs", roles=frozenset({"producer"})
    )
    return {"producer": f"Bearer {services.accounts.create_token(user.id, 'fuzz')[1]}"}


AUTH = _seed()
schema = schemathesis.openapi.from_asgi("/stac/api", _APP).include(path_regex="^/sta/")


def test_the_openapi_describes_the_sensorthings_paths() -> None:
    paths = TestClient(_APP).get("/stac/api").json()["paths"]
    assert {"/sta/v1.1/{entity_set}", "/sta/v1.1/{entity_set}({ident})",
            "/sta/v1.1/CreateObservations"} <= set(paths)  # fmt: skip


@pytest.mark.parametrize("who", ["anonymous", "producer"])
@schema.parametrize()
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])  # fmt: skip
def test_no_input_makes_a_server_error(case: schemathesis.Case, who: str) -> None:
    headers = {"Authorization": AUTH[who]} if who in AUTH else {}
    case.call_and_validate(headers=headers, checks=[not_a_server_error])
