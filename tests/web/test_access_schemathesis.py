"""Schemathesis over the access endpoints (accounts, sessions, API tokens, entities, licences,
orders, usage statistics): no input may cause a 5xx.

The caller is a real account with an API token: the referent of a French lab who accepted the
licence of a collection, holds a draft archive order and has a pending membership request to
decide, or an admin. Generated ids mostly name nothing (404s); so the same operations are also
run with the path's ids replaced by those of the seeded entity, member, order, licence and
token, so that the bodies reach the workflow's rules.
"""

from __future__ import annotations

import itertools
import tempfile

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from terrapole.app import create_app
from terrapole.catalog.documents import prepare_item
from terrapole.config import Settings
from terrapole.web.orders import MOVES

from ..conftest import s2_collection, s2_items

PASSWORD = "a long passphrase 42"
PATHS = r"^/(account|entities|licences|orders|admin/usage)"

# Built at import: schemathesis generates one test per operation at collection time.
_DATA_DIR = tempfile.TemporaryDirectory(prefix="terrapole-access-fuzz-")
_APP = create_app(Settings(data_dir=_DATA_DIR.name))
_SERVICES = _APP.state.services


def _seed() -> tuple[dict[str, str], dict[str, str]]:
    """A collection under a licence, a referent of a French lab who accepted it, drafted an
    archive order and has a request to join to decide, and an admin: the bearer header of each,
    and the ids of the seeded records by path parameter name."""
    services = _SERVICES
    collection, items = s2_collection(), s2_items()[:1]
    services.store.create_collection(collection)
    services.store.load_items([prepare_item(d) for d in items])
    admin = services.accounts.create_verified("root@hub.fr", PASSWORD, "Root",
                                              roles=frozenset({"admin"}))  # fmt: skip
    licence = services.licences.create(admin, "s2-terms", "S2 terms", "Read them.")
    services.licences.set_terms(admin, collection["id"], licence_ids=[licence.id],
                                profiles=["french-scientist"])  # fmt: skip
    ana = services.accounts.create_verified("ana@lab.fr", PASSWORD, "Ana")
    lab = services.entities.create(ana, name="A lab", country="FR", kind="lab",
                                   profile_name="french-scientist")  # fmt: skip
    services.licences.accept(ana, licence.id, licence.version)
    ben = services.accounts.create_verified("ben@lab.fr", PASSWORD, "Ben")
    services.entities.request(ben, lab.id)
    services.access.forget()
    headers = {}
    for name, user in (("referent", ana), ("admin", admin)):
        _, secret = services.accounts.create_token(user.id, "fuzz")
        headers[name] = f"Bearer {secret}"
    spare, _ = services.accounts.create_token(ana.id, "spare")
    west, south, east, north = items[0]["bbox"]
    lon, lat = (west + east) / 2, (south + north) / 2
    aoi = {"type": "Polygon", "coordinates": [[[lon - .05, lat - .05], [lon + .05, lat - .05],
           [lon + .05, lat + .05], [lon - .05, lat + .05], [lon - .05, lat - .05]]]}  # fmt: skip
    drafted = TestClient(_APP).post(
        "/orders", headers={"Authorization": headers["referent"]},
        json={"kind": "archive", "entity_id": lab.id, "collection": collection["id"],
              "items": [items[0]["id"]], "aoi": aoi},
    )  # fmt: skip
    assert drafted.status_code == 201, drafted.text
    known = {"entity_id": lab.id, "user_id": ben.id, "order_id": drafted.json()["id"],
             "licence_id": licence.id, "name": spare}  # fmt: skip
    return headers, known


AUTH, KNOWN = _seed()
_MOVES = itertools.cycle(sorted(MOVES))
schema = schemathesis.openapi.from_asgi("/stac/api", _APP).include(path_regex=PATHS)


@pytest.mark.parametrize(
    ("who", "ids"), [("referent", "generated"), ("referent", "seeded"), ("admin", "seeded")]
)
@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_input_makes_a_server_error(case: schemathesis.Case, who: str, ids: str) -> None:
    if ids == "seeded" and case.path_parameters:
        case.path_parameters = {
            key: next(_MOVES) if key == "move" else KNOWN.get(key, value)
            for key, value in case.path_parameters.items()
        }
    case.call_and_validate(headers={"Authorization": AUTH[who]}, checks=[not_a_server_error])
