"""The records workflow as JSON over the real app with API tokens owned by accounts: an owner
drafts and submits, a curator comments, sends back, approves; the owner publishes; a new
version; each refusal a 4xx that names it (a bad move 409, a failed identifier service 502)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from terrapole.fair.identifiers import IdentifierFailed
from terrapole.fair.model import Record

from .conftest import token
from .records_fixtures import complete_record


def test_draft_review_publish_and_new_version(app: Any, client: TestClient) -> None:
    owner = token(app, "ana@lab.example")
    curator = token(app, "cy@hub.example", frozenset({"curator"}))
    stranger = token(app, "eve@else.example")
    body = complete_record().to_json()
    assert client.post("/records", json=body).status_code == 401
    made = client.post("/records", json=body, headers=owner)
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    assert made.json()["state"] == "draft"
    assert client.post(f"/records/{rid}/submit", headers=stranger).status_code == 404
    assert client.post(f"/records/{rid}/approve", headers=curator).status_code == 409
    assert client.post(f"/records/{rid}/submit", headers=owner).json()["state"] == "submitted"
    said = client.post(
        f"/records/{rid}/comments", json={"text": "ORCID?", "field": "creators[0]"}, headers=curator
    )
    assert said.status_code == 201
    back = client.post(f"/records/{rid}/request-changes", json={"note": "add a version"},
                       headers=curator)  # fmt: skip
    assert back.json()["state"] == "draft"
    changed = {**body, "version": "1.0"}
    assert (
        client.put(f"/records/{rid}", json=changed, headers=owner).json()["record"]["version"]
        == "1.0"
    )
    client.post(f"/records/{rid}/submit", headers=owner)
    assert client.post(f"/records/{rid}/approve", headers=owner).status_code == 403
    assert client.post(f"/records/{rid}/approve", headers=curator).json()["state"] == "approved"
    published = client.post(f"/records/{rid}/publish", headers=owner).json()
    assert published["state"] == "published"
    assert published["identifier"] == f"terrapole:local/{rid}"
    texts = [c["text"] for c in client.get(f"/records/{rid}/comments", headers=owner).json()[
        "comments"]]  # fmt: skip
    assert texts == ["ORCID?", "add a version"]
    moves = client.get(f"/records/{rid}/history", headers=owner).json()["history"]
    assert [m["to"] for m in moves][-2:] == ["approved", "published"]
    listed = client.get("/records", params={"state": "published"}).json()["records"]
    assert [r["id"] for r in listed] == [rid]
    assert client.put(f"/records/{rid}", json=changed, headers=owner).status_code == 409
    nxt = client.post(f"/records/{rid}/versions", headers=owner)
    assert nxt.status_code == 201
    relations = {
        (r["relationType"], r["relatedIdentifier"])
        for r in nxt.json()["record"]["relatedIdentifiers"]
    }
    assert ("IsNewVersionOf", f"http://127.0.0.1:8000/records/{rid}") in relations
    assert client.post(f"/records/{rid}/withdraw", json={"reason": ""}, headers=curator
                       ).status_code == 400  # fmt: skip
    gone = client.post(f"/records/{rid}/withdraw", json={"reason": "duplicate"}, headers=curator)
    assert gone.json()["state"] == "withdrawn"


def test_a_bad_record_is_a_400_naming_the_property(app: Any, client: TestClient) -> None:
    owner = token(app, "ana@lab.example")
    bad = client.post("/records", json={"titles": "not a list"}, headers=owner)
    assert bad.status_code == 400
    assert "titles" in bad.json()["description"]
    empty = client.post("/records", json={}, headers=owner).json()["id"]
    refused = client.post(f"/records/{empty}/submit", headers=owner)
    assert refused.status_code == 400
    assert "creators" in refused.json()["description"]


class FailingDataCite:
    """An identifier service that refuses everything, as DataCite does when its password is
    wrong."""

    mints_dois = True

    def register(self, record_id: str, record: Record) -> str:
        raise IdentifierFailed("DataCite", "401 Unauthorized: bad credentials")

    def publish(self, record_id: str, identifier: str, record: Record) -> None:
        raise IdentifierFailed("DataCite", "unreachable")


def test_a_failed_identifier_service_is_a_502_saying_why(app: Any, client: TestClient) -> None:
    owner = token(app, "ana@lab.example")
    curator = token(app, "cy@hub.example", frozenset({"curator"}))
    rid = client.post("/records", json=complete_record().to_json(), headers=owner).json()["id"]
    client.post(f"/records/{rid}/submit", headers=owner)
    client.post(f"/records/{rid}/approve", headers=curator)
    app.state.services.records.identifiers = FailingDataCite()
    failed = client.post(f"/records/{rid}/publish", headers=owner)
    assert failed.status_code == 502
    assert "bad credentials" in failed.json()["description"]
    assert client.get("/records", headers=owner).json()["records"][0]["state"] == "approved"
