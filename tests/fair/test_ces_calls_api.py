"""The CES directory and calls JSON APIs over the real app with API tokens owned by accounts:
curators write the directory (collection links checked in the catalogue), the application
workflow through its verbs with a 4xx naming each refusal, and the committee's CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from terrapole.app import create_app
from terrapole.config import Settings

from ..conftest import s2_collection
from .ces_fixtures import PASSWORD

CES = {"id": "imagerie-radiometrie", "name": "CES Imagerie & Radiométrie", "acronym": "IR",
       "themes": ["Imagerie optique HR", "Données 3D"],
       "members": [{"name": "Vincent Lonjou", "lead": True},
                   {"name": "Josiah Carberry", "orcid": "0000-0002-1825-0097",
                    "ror": "https://ror.org/02feahw73"}]}  # fmt: skip


@pytest.fixture
def app(tmp_path: Path) -> Any:
    app = create_app(Settings(data_dir=tmp_path))
    app.state.services.store.create_collection(s2_collection())
    return app


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def _token(app: Any, email: str, roles: frozenset[str] = frozenset()) -> tuple[str, dict[str, str]]:
    """A new account's id and the Authorization header of a token it owns."""
    accounts = app.state.services.accounts
    user = accounts.create_verified(email, PASSWORD, email.split("@")[0].title(), roles=roles)
    _, secret = accounts.create_token(user.id, "tests")
    return user.id, {"Authorization": f"Bearer {secret}"}


def test_curators_write_the_directory_and_anyone_reads_it(app: Any, client: TestClient) -> None:
    _, curator = _token(app, "cy@hub.example", frozenset({"curator"}))
    _, someone = _token(app, "ana@lab.example")
    assert client.post("/ces", json=CES).status_code == 401
    assert client.post("/ces", json=CES, headers=someone).status_code == 403
    made = client.post("/ces", json=CES, headers=curator)
    assert made.status_code == 201, made.text
    assert made.json()["members"][1]["ror"] == "https://ror.org/02feahw73"
    offer = {"id": "maja", "ces_id": "imagerie-radiometrie", "name": "MAJA", "kind": "service",
             "trl": 7, "collections": ["sentinel-2-l2a"]}  # fmt: skip
    assert client.post("/ces-offers", json=offer, headers=curator).status_code == 201
    shown = client.get("/ces/imagerie-radiometrie").json()
    assert [(o["id"], o["trl"], o["maturity"]) for o in shown["offers"]] == [
        ("maja", 7, "production")
    ]
    assert [c["id"] for c in client.get("/ces", params={"theme": "Données 3D"}).json()["consortia"]] == [
        "imagerie-radiometrie"]  # fmt: skip
    assert client.get("/ces-offers", params={"min_trl": 8}).json()["offers"] == []
    history = client.get("/ces/maja/history").json()["changes"]
    assert [c["action"] for c in history] == ["created"]


@pytest.mark.parametrize(
    ("change", "word"),
    [({"trl": 10}, "trl"), ({"trl": "7"}, "trl"), ({"collections": ["no-such"]}, "no-such"),
     ({"kind": "gadget"}, "kind"), ({"ces_id": "nowhere"}, "nowhere")],
)  # fmt: skip
def test_a_bad_offer_is_a_400_naming_the_field(
    app: Any, client: TestClient, change: dict[str, Any], word: str
) -> None:
    _, curator = _token(app, "cy@hub.example", frozenset({"curator"}))
    assert client.post("/ces", json=CES, headers=curator).status_code == 201
    offer = {"id": "maja", "ces_id": "imagerie-radiometrie", "name": "MAJA", "kind": "service",
             "trl": 7, **change}  # fmt: skip
    refused = client.post("/ces-offers", json=offer, headers=curator)
    assert refused.status_code == 400, refused.text
    assert word in refused.text
    assert client.get("/ces-offers").json()["offers"] == []


def test_an_application_through_the_api_and_the_committee_csv(app: Any, client: TestClient) -> None:
    _, admin = _token(app, "ada@hub.example", frozenset({"admin"}))
    _, applicant = _token(app, "ana@lab.example")
    reviewer_id, reviewer = _token(app, "rui@lab.example")
    assert client.post("/ces", json=CES, headers=admin).status_code == 201
    call = {"id": "aap-theia", "title": "AAP THEIA", "year": 2026, "types": ["computing", "storage"],
            "opens": "2025-01-01"}  # fmt: skip
    assert client.post("/calls", json=call, headers=applicant).status_code == 403
    assert client.post("/calls", json=call, headers=admin).status_code == 201
    body = {"project": "DSM of the Alps", "ces_id": "imagerie-radiometrie", "type": "computing",
            "resources": {"cpu_hours": 30000}}  # fmt: skip
    assert client.post("/calls/aap-theia/applications", json={**body, "type": "tasking"},
                       headers=applicant).status_code == 400  # fmt: skip
    drafted = client.post("/calls/aap-theia/applications", json=body, headers=applicant)
    assert drafted.status_code == 201, drafted.text
    app_id = drafted.json()["id"]
    assert client.post(f"/applications/{app_id}/accept", headers=admin).status_code == 409
    assert client.post(f"/applications/{app_id}/submit", headers=admin).status_code == 403
    assert client.post(f"/applications/{app_id}/submit", headers=applicant).status_code == 200
    assert client.post(f"/applications/{app_id}/teleport", headers=admin).status_code == 404
    assert client.post(f"/applications/{app_id}/reviewers", json={"reviewer": reviewer_id},
                       headers=admin).status_code == 201  # fmt: skip
    assert client.post(f"/applications/{app_id}/start_review", headers=admin).status_code == 200
    scored = client.post(f"/applications/{app_id}/review", json={"score": 5, "comment": "yes"},
                         headers=reviewer)  # fmt: skip
    assert scored.status_code == 200, scored.text
    decided = client.post(f"/applications/{app_id}/accept", json={"note": "granted"}, headers=admin)
    assert decided.json()["state"] == "accepted"
    seen = client.get(f"/applications/{app_id}", headers=applicant).json()
    assert seen["state"] == "accepted" and seen["history"][-1]["note"] == "granted"
    assert client.get(f"/applications/{app_id}/reviews", headers=applicant).status_code == 403
    export = client.get("/calls/aap-theia/export.csv", headers=admin)
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    (row,) = csv.DictReader(io.StringIO(export.text))
    assert (row["project"], row["state"], row["scores"], row["cpu_hours"]) == (
        "DSM of the Alps", "accepted", "Rui=5", "30000")  # fmt: skip
    assert client.get("/calls/aap-theia/export.csv", headers=applicant).status_code == 403
