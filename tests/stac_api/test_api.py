"""The STAC API over the embedded store: search, transactions, access policy, bad input."""

from __future__ import annotations

import copy

import pytest
from fastapi.testclient import TestClient

from terrapole.app import create_app
from terrapole.config import Settings

from ..conftest import s2_items

S2 = s2_items()


def test_landing_and_conformance(client: TestClient) -> None:
    landing = client.get("/stac/").json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "root", "search", "data", "conformance", "service-desc", "aggregate"} <= rels
    conforms = client.get("/stac/conformance").json()["conformsTo"]
    assert "https://api.stacspec.org/v1.0.0/item-search" in conforms
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text" in conforms


def test_get_and_post_search_agree_and_page(client: TestClient) -> None:
    params = {"collections": "sentinel-2-l2a", "filter": "eo:cloud_cover < 10", "limit": 5}
    got = client.get("/stac/search", params=params).json()
    body = {
        "collections": ["sentinel-2-l2a"],
        "filter": {"op": "<", "args": [{"property": "eo:cloud_cover"}, 10]},
        "filter-lang": "cql2-json",
        "limit": 5,
    }
    posted = client.post("/stac/search", json=body).json()
    assert [f["id"] for f in got["features"]] == [f["id"] for f in posted["features"]]
    ids = []
    page = got
    while True:
        ids += [f["id"] for f in page["features"]]
        nxt = [link for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            break
        page = client.get(nxt[0]["href"]).json()
    assert sorted(ids) == sorted(i["id"] for i in S2 if i["properties"]["eo:cloud_cover"] < 10)


def test_item_links_and_features_routes(client: TestClient) -> None:
    item_id = S2[0]["id"]
    item = client.get(f"/stac/collections/sentinel-2-l2a/items/{item_id}").json()
    self_link = next(link["href"] for link in item["links"] if link["rel"] == "self")
    assert self_link == f"http://testserver/stac/collections/sentinel-2-l2a/items/{item_id}"
    items = client.get("/stac/collections/sentinel-2-l2a/items", params={"limit": 3}).json()
    assert len(items["features"]) == 3
    assert client.get("/stac/collections/nope/items").status_code == 404
    assert client.get("/stac/collections/sentinel-2-l2a/items/nope").status_code == 404


def test_public_url_drives_links(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = create_app(Settings(data_dir=tmp_path, public_url="https://eo.example.org/hub"))
    with TestClient(app) as c:
        landing = c.get("/stac/").json()
    hrefs = {link["rel"]: link["href"] for link in landing["links"]}
    assert hrefs["self"].startswith("https://eo.example.org/hub/stac")


def test_aggregate_endpoint(client: TestClient) -> None:
    agg = client.get(
        "/stac/aggregate",
        params={"collections": "sentinel-2-l2a", "aggregations": "total_count,platform_frequency"},
    ).json()
    by = {a["name"]: a for a in agg["aggregations"]}
    assert by["total_count"]["value"] == 100
    assert {b["key"]: b["frequency"] for b in by["platform_frequency"]["buckets"]} == {
        "sentinel-2a": 50,
        "sentinel-2b": 50,
    }


def test_collection_aggregate_counts_that_collection_only(
    client: TestClient, admin: dict[str, str]
) -> None:
    url = "/stac/collections/sentinel-2-l2a/aggregate"
    names = {"aggregations": "total_count,collection_frequency"}
    for answer in (client.get(url, params=names),
                   client.post(url, json={"aggregations": names["aggregations"].split(",")})):  # fmt: skip
        by = {a["name"]: a for a in answer.json()["aggregations"]}
        assert by["total_count"]["value"] == 100
        assert [b["key"] for b in by["collection_frequency"]["buckets"]] == ["sentinel-2-l2a"]
    # another collection asked in the parameters does not widen it
    other = client.get(url, params={**names, "collections": "naip"}).json()["aggregations"]
    assert {a["name"]: a for a in other}["total_count"]["value"] == 100
    assert client.get("/stac/collections/nope/aggregate", params=names).status_code == 404
    assert client.get("/stac/collections/nope/aggregations").status_code == 404
    access = client.app.state.services.access  # type: ignore[attr-defined]
    access.restrict("sentinel-2-l2a", ["partners"])
    assert client.get(url, params=names).status_code == 404  # as unknown
    assert client.get(url, params=names, headers=admin).status_code == 200


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "5,60,10,50"}, "bbox"),  # south of north (west > east crosses 180°: valid)
        ({"datetime": "2024-13-45"}, "datetime"),
        ({"filter": "eo:cloud_cover <<< 3"}, "filter"),
        ({"filter": "frob(a)"}, "filter"),
        ({"intersects": "{not json"}, "intersects"),
        (
            {"intersects": '{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}'},
            "intersects",
        ),
        ({"token": "garbage!!"}, "token"),
        ({"limit": "-1"}, "limit"),
        ({"sortby": "-"}, "sortby"),
        ({"sortby": "eo:cloud\x00cover"}, "control character"),  # found by schemathesis
        ({"q": ",".join(["a"] * 21)}, "invalid q: 21 terms"),
        ({"intersects": '{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0]]]}'}, "4 positions"),
    ],
)
def test_bad_search_input_is_a_400_naming_the_problem(
    client: TestClient, params: dict[str, str], needle: str
) -> None:
    response = client.get("/stac/search", params=params)
    assert response.status_code == 400, response.text
    assert needle in response.text.lower()


def test_bad_search_bodies_and_collection_search_are_400s(client: TestClient) -> None:
    for body in ({"limit": 1e400}, {"limit": "NaN"}, {"q": ["a"] * 21}):
        response = client.post("/stac/search", content=str(body).replace("'", '"').replace(
            "inf", "1e400"), headers={"content-type": "application/json"})  # fmt: skip
        assert response.status_code == 400, (body, response.text)
    many = client.get("/stac/collections", params={"q": ",".join(["a"] * 21)})
    assert many.status_code == 400 and "invalid q" in many.text


def test_oversized_limit_is_capped_not_an_error(client: TestClient) -> None:
    response = client.get("/stac/search", params={"limit": 1_000_000})
    assert response.status_code == 200
    assert len(response.json()["features"]) == 1100  # every item: 1,100 < max_limit


def test_transactions_need_an_admin_token(client: TestClient, admin: dict[str, str]) -> None:
    item = copy.deepcopy(S2[0]) | {"id": "tx-item"}
    url = "/stac/collections/sentinel-2-l2a/items"
    assert client.post(url, json=item).status_code == 401
    reader = client.app.state.services.access.create_token("reader", groups=["x"])  # type: ignore[attr-defined]
    assert (
        client.post(url, json=item, headers={"Authorization": f"Bearer {reader}"}).status_code
        == 403
    )
    assert client.post(url, json=item, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.post(url, json=item, headers=admin).status_code in (200, 201)
    assert client.post(url, json=item, headers=admin).status_code == 409
    item["properties"]["eo:cloud_cover"] = 1.5
    assert client.put(f"{url}/tx-item", json=item, headers=admin).status_code == 200
    assert client.get(f"{url}/tx-item").json()["properties"]["eo:cloud_cover"] == 1.5
    patched = client.patch(
        f"{url}/tx-item", json={"properties": {"eo:cloud_cover": 2.5}}, headers=admin
    )
    assert patched.status_code == 200 and patched.json()["properties"]["eo:cloud_cover"] == 2.5
    assert client.delete(f"{url}/tx-item", headers=admin).status_code in (200, 204)
    assert client.get(f"{url}/tx-item").status_code == 404


def test_bad_documents_are_refused_and_nothing_written(
    client: TestClient, admin: dict[str, str]
) -> None:
    url = "/stac/collections/sentinel-2-l2a/items"
    bad = copy.deepcopy(S2[1]) | {"id": "bad-geom"}
    bad["geometry"] = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    response = client.post(url, json=bad, headers=admin)
    assert response.status_code == 400 and "geometry" in response.text
    cloudy = copy.deepcopy(S2[1]) | {"id": "bad-cloud"}
    cloudy["properties"]["eo:cloud_cover"] = "cloudy"
    response = client.post(url, json=cloudy, headers=admin)
    assert response.status_code == 400 and "eo:cloud_cover" in response.text
    assert client.get(f"{url}/bad-cloud").status_code == 404
    # a numeric string (stac-api-validator sends "3.14") is read as the number it spells
    cloudy["properties"]["eo:cloud_cover"] = "3.14"
    assert client.post(url, json=cloudy, headers=admin).status_code == 201
    assert client.get(f"{url}/bad-cloud").json()["properties"]["eo:cloud_cover"] == 3.14
    wrong = copy.deepcopy(S2[1]) | {"id": "elsewhere", "collection": "naip"}
    assert client.post(url, json=wrong, headers=admin).status_code == 400
    broken = client.post(
        url, content=b'{"type": "Feature", ', headers={**admin, "content-type": "application/json"}
    )
    assert broken.status_code == 400
    good = copy.deepcopy(S2[2]) | {"id": "bulk-good"}
    dup = copy.deepcopy(S2[3])
    bulk = client.post(
        "/stac/collections/sentinel-2-l2a/bulk_items",
        json={"items": {"bulk-good": good, dup["id"]: dup}, "method": "insert"},
        headers=admin,
    )
    assert bulk.status_code == 409
    assert client.get(f"{url}/bulk-good").status_code == 404
    bulk = client.post(
        "/stac/collections/sentinel-2-l2a/bulk_items",
        json={"items": {"bulk-good": good}, "method": "insert"},
        headers=admin,
    )
    assert bulk.status_code == 200, bulk.text
    assert bulk.json() == {"received": 1, "success": 1, "skipped": 0, "errors": []}
    assert client.get(f"{url}/bulk-good").status_code == 200
    assert client.get("/stac/search", params={"limit": 1}).status_code == 200


def test_restricted_collection_is_filtered_everywhere(client: TestClient) -> None:
    access = client.app.state.services.access  # type: ignore[attr-defined]
    access.restrict("sentinel-2-l2a", ["theia-partners"])
    member = {"Authorization": "Bearer " + access.create_token("lab", groups=["theia-partners"])}
    other = {"Authorization": "Bearer " + access.create_token("visitor", groups=["public"])}
    item_url = f"/stac/collections/sentinel-2-l2a/items/{S2[0]['id']}"
    for headers in ({}, other):
        assert client.get(item_url, headers=headers).status_code == 404
        assert client.get("/stac/collections/sentinel-2-l2a", headers=headers).status_code == 404
        ids = [
            c["id"] for c in client.get("/stac/collections", headers=headers).json()["collections"]
        ]
        assert "sentinel-2-l2a" not in ids
        search = client.get(
            "/stac/search", params={"collections": "sentinel-2-l2a"}, headers=headers
        )
        assert search.json()["features"] == []
        agg = client.get(
            "/stac/aggregate", params={"aggregations": "collection_frequency"}, headers=headers
        )
        keys = {b["key"] for b in agg.json()["aggregations"][0]["buckets"]}
        assert "sentinel-2-l2a" not in keys
    assert client.get(item_url, headers=member).status_code == 200
    found = client.get(
        "/stac/search", params={"collections": "sentinel-2-l2a", "limit": 200}, headers=member
    )
    assert len(found.json()["features"]) == 100
