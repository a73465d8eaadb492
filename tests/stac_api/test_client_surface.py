"""What clients meet at the edge: refused parameters, counts, collection pages, link-free writes."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from ..conftest import S2_ITEMS, s2_collection


def test_unknown_search_parameters_are_refused_by_name(client: TestClient) -> None:
    for response in (
        client.get("/stac/search", params={"cloudCover": "10"}),
        client.post("/stac/search", json={"cloudCover": 10}),
        client.get("/stac/collections/sentinel-2-l2a/items", params={"cloudCover": "10"}),
    ):
        assert response.status_code == 400
        assert "cloudCover" in response.json()["description"]
    bad = client.get("/stac/search", params={"query": '{"eo:cloud_cover": {"under": 3}}'})
    assert bad.status_code == 400 and "eo:cloud_cover.under" in bad.json()["description"]


def test_search_and_items_say_how_many_match(client: TestClient) -> None:
    lines = [json.loads(x) for x in S2_ITEMS.read_text().splitlines() if x.strip()]
    clear = sum(1 for i in lines if i["properties"]["eo:cloud_cover"] <= 10)
    query = json.dumps({"eo:cloud_cover": {"lte": 10}})
    for url in ("/stac/search", "/stac/collections/sentinel-2-l2a/items"):
        body = client.get(url, params={"query": query, "limit": 3}).json()
        assert (body["numberMatched"], body["numberMatchedExact"]) == (clear, True)
        assert body["numberReturned"] == 3


def test_collections_first_page_holds_every_collection(
    client: TestClient, admin: dict[str, str]
) -> None:
    base = s2_collection()
    base.pop("links", None)  # the server writes its own
    for n in range(12):
        created = client.post(
            "/stac/collections", json=dict(base, id=f"extra-{n:02d}"), headers=admin
        )
        assert created.status_code == 201, created.text
        assert {"self", "items", "root"} <= {link["rel"] for link in created.json()["links"]}
    page = client.get("/stac/collections").json()
    assert page["numberMatched"] == len(page["collections"]) == 14
    assert not [link for link in page["links"] if link["rel"] == "next"]
    small = client.get("/stac/collections", params={"limit": 5}).json()
    assert len(small["collections"]) == 5 and any(link["rel"] == "next" for link in small["links"])


def test_items_without_links_are_created_and_replaced(
    client: TestClient, admin: dict[str, str]
) -> None:
    item = json.loads(S2_ITEMS.read_text().splitlines()[0])
    item.pop("links")
    item["id"] = "posted-without-links"
    url = "/stac/collections/sentinel-2-l2a/items"
    created = client.post(url, json=item, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["links"][0]["href"].endswith(f"{url}/{item['id']}")
    replaced = client.put(f"{url}/{item['id']}", json=item, headers=admin)
    assert replaced.status_code == 200, replaced.text
    many = {"type": "FeatureCollection", "features": [dict(item, id="fc-without-links")]}
    assert client.post(url, json=many, headers=admin).status_code < 300
    assert client.get(f"{url}/fc-without-links").status_code == 200
