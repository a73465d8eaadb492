"""The query extension, numberMatched and case-free facets on both stores (real S2 items)."""

from __future__ import annotations

from typing import Any

import pytest

from terrapole.catalog.documents import prepare_item
from terrapole.catalog.query import search_query
from terrapole.catalog.store import Store
from terrapole.errors import InvalidInput

from ..conftest import s2_items

S2 = s2_items()


def _ids(store: Store, **params: Any) -> list[str]:
    query = search_query({**params, "limit": 500}, max_limit=500, hidden=frozenset())
    return sorted(item["id"] for item in store.search(query).items)


def _want(pred: Any) -> list[str]:
    return sorted(i["id"] for i in S2 if pred(i["properties"]))


@pytest.mark.parametrize(
    ("query", "pred"),
    [
        ({"eo:cloud_cover": {"lte": 10}}, lambda p: p["eo:cloud_cover"] <= 10),
        ({"eo:cloud_cover": {"gt": 50, "lt": 90}}, lambda p: 50 < p["eo:cloud_cover"] < 90),
        ({"eo:cloud_cover": {"gte": "20"}}, lambda p: p["eo:cloud_cover"] >= 20),
        ({"platform": {"eq": "Sentinel-2A"}}, lambda p: p["platform"] == "Sentinel-2A"),
        ({"platform": {"neq": "Sentinel-2A"}}, lambda p: p["platform"] != "Sentinel-2A"),
        ({"platform": {"in": ["Sentinel-2B"]}}, lambda p: p["platform"] == "Sentinel-2B"),
        ({"s2:product_uri": {"startsWith": "S2B_"}}, lambda p: p["s2:product_uri"][:4] == "S2B_"),
        (
            {"s2:product_uri": {"endsWith": "5.SAFE"}},
            lambda p: p["s2:product_uri"][-6:] == "5.SAFE",
        ),
        ({"s2:datatake_id": {"contains": "_0404"}}, lambda p: "_0404" in p["s2:datatake_id"]),
        (
            {"properties.datetime": {"gte": "2024-06-01T00:00:00Z"}},
            lambda p: p["datetime"] >= "2024-06-01",
        ),
    ],
)
def test_query_extension_matches_python(s2_store: Store, query: Any, pred: Any) -> None:
    want = _want(pred)
    assert 0 < len(want) < len(S2)
    assert _ids(s2_store, query=query) == want


def test_query_given_as_a_json_string_and_with_a_filter(s2_store: Store) -> None:
    got = _ids(s2_store, query='{"eo:cloud_cover": {"lt": 30}}', filter="platform = 'Sentinel-2B'")
    assert got == _want(lambda p: p["eo:cloud_cover"] < 30 and p["platform"] == "Sentinel-2B")


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ('{"eo:cloud_cover": {"lte": 10}', "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ({"eo:cloud_cover": 10}, "must map to an object"),
        ({"eo:cloud_cover": {"under": 10}}, "eo:cloud_cover.under: unknown operator"),
        ({"eo:cloud_cover": {"lte": "cloudy"}}, "compares a number"),
        ({"eo:cloud_cover": {"lte": "nan"}}, "compares a number"),
        ({"platform": {"in": "Sentinel-2A"}}, "non-empty array"),
        ({"platform": {"startsWith": 2}}, "takes a string"),
        ({"datetime": {"gte": "2024-13-01"}}, "2024-13-01"),
    ],
)
def test_malformed_query_is_refused_naming_it(query: Any, says: str) -> None:
    with pytest.raises(InvalidInput) as err:
        search_query({"query": query}, max_limit=10, hidden=frozenset())
    assert err.value.field == "query" and says in err.value.reason


def test_number_matched_is_exact_up_to_the_limit_then_an_estimate(s2_store: Store) -> None:
    under30 = len(_want(lambda p: p["eo:cloud_cover"] < 30))
    params = {"filter": "eo:cloud_cover < 30", "limit": 5}
    exact = s2_store.search(search_query(params, max_limit=10, hidden=frozenset(), count_limit=100))
    assert (exact.matched, exact.matched_exact, len(exact.items)) == (under30, True, 5)
    query = search_query(params, max_limit=10, hidden=frozenset(), count_limit=10)
    rough = s2_store.search(query)
    assert rough.matched_exact is False and rough.matched is not None and rough.matched > 10
    unasked = s2_store.search(search_query(params, max_limit=10, hidden=frozenset()))
    assert unasked.matched is None


def test_facets_group_spellings_and_filters_find_both(store: Store) -> None:
    from ..conftest import s2_collection

    store.create_collection(s2_collection())
    docs = [dict(d, properties=dict(d["properties"])) for d in S2[:6]]
    for doc in docs[:3]:
        doc["properties"]["platform"] = "sentinel-2a"
        doc["properties"]["instruments"] = ["MSI"]
    for doc in docs[3:]:
        doc["properties"]["platform"] = "Sentinel-2A"
    store.load_items([prepare_item(d) for d in docs])
    query = search_query({}, max_limit=1, hidden=frozenset())
    results = store.aggregate(query, ["platform_frequency", "instruments_frequency"])
    buckets = {a.name: {b.key: b.frequency for b in a.buckets or ()} for a in results}
    assert buckets == {
        "platform_frequency": {"sentinel-2a": 6},
        "instruments_frequency": {"msi": 6},
    }
    for flt in ("platform = 'sentinel-2a'", "platform IN ('SENTINEL-2A')"):
        assert len(_ids(store, filter=flt)) == 6
    assert len(_ids(store, query={"platform": {"eq": "Sentinel-2a"}})) == 6
    stored = store.get_item("sentinel-2-l2a", docs[3]["id"])
    assert stored["properties"]["platform"] == "Sentinel-2A"  # documents keep their spelling
