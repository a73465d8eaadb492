"""Real clients against a live server: pystac-client searches and stac-api-validator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pystac_client import Client
from shapely.geometry import box, shape

from terrapole.app import create_app
from terrapole.catalog.loader import load_paths
from terrapole.config import Settings

from ..conftest import DEMO, s2_items
from .live import offline_schemas, serve

S2 = s2_items()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A live server over the demo catalogue and an admin token for it."""
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("live")))
    load_paths(app.state.services.store, [DEMO])
    token = app.state.services.access.create_token("validator", groups=[], admin=True)
    with serve(app) as url:
        yield url, token


@pytest.fixture(scope="module")
def live_url(live: tuple[str, str]) -> str:
    return live[0]


def test_pystac_client_searches_return_what_the_store_holds(live_url: str) -> None:
    client = Client.open(f"{live_url}/stac/")
    region = (-105.0, 39.9, -104.9, 40.0)
    search = client.search(
        collections=["sentinel-2-l2a"],
        bbox=region,
        datetime="2024-05-01/2024-09-30",
        filter="eo:cloud_cover < 30",
        sortby="-properties.eo:cloud_cover",
        max_items=500,
        limit=4,
    )
    got = [item.id for item in search.items()]
    want = {
        i["id"]
        for i in S2
        if shape(i["geometry"]).intersects(box(*region))
        and "2024-05-01" <= i["properties"]["datetime"][:10] <= "2024-09-30"
        and i["properties"]["eo:cloud_cover"] < 30
    }
    assert set(got) == want and len(got) == len(want) > 4
    clouds = {i["id"]: i["properties"]["eo:cloud_cover"] for i in S2}
    assert [clouds[i] for i in got] == sorted((clouds[i] for i in got), reverse=True)
    only = list(
        client.search(
            collections=["sentinel-2-l2a"], ids=[S2[4]["id"]], fields=["id"]
        ).items_as_dicts()
    )
    assert [i["id"] for i in only] == [S2[4]["id"]] and "properties" not in only[0]
    assert client.get_collection("sentinel-2-l2a").id == "sentinel-2-l2a"


def test_pystac_client_posts_a_cql2_text_filter(live_url: str) -> None:
    """POST with the filter as CQL2 text, as pystac-client sends a string filter: the same
    items as the JSON encoding of the same filter."""
    client = Client.open(f"{live_url}/stac/")
    text = client.search(collections=["sentinel-2-l2a"], method="POST", filter_lang="cql2-text",
                         filter="eo:cloud_cover < 30", max_items=500, limit=50)  # fmt: skip
    assert text.method == "POST" and text.get_parameters()["filter-lang"] == "cql2-text"
    json_filter = {"op": "<", "args": [{"property": "eo:cloud_cover"}, 30]}
    tree = client.search(collections=["sentinel-2-l2a"], method="POST", filter=json_filter,
                         max_items=500, limit=50)  # fmt: skip
    got = sorted(i.id for i in text.items())
    want = sorted(i["id"] for i in S2 if i["properties"]["eo:cloud_cover"] < 30)
    assert got == want == sorted(i.id for i in tree.items()) and len(want) > 10


# Every class the server declares that stac-api-validator 0.6 can check, except "transaction":
# its script expects DELETE of a missing item to answer 204 and PUTs eo:cloud_cover as the
# string "3.14", both of which terrapole refuses on purpose (404, 400); transactions are
# tested in test_api.py instead.
VALIDATED_CLASSES = [
    "core",
    "collections",
    "features",
    "item-search",
    "filter",
    "item-search#fields",
    "item-search#sort",
    "features#fields",
    "features#sort",
]


# The validator itself calls pystac APIs deprecated in pystac 1.x; that is not our warning.
@pytest.mark.filterwarnings("ignore:get_all_items is deprecated:DeprecationWarning")
def test_stac_api_validator_passes(live_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from stac_api_validator.validations import QueryConfig, validate_api

    missing = offline_schemas(monkeypatch)
    _, errors = validate_api(
        root_url=f"{live_url}/stac/",
        ccs_to_validate=VALIDATED_CLASSES,
        collection="sentinel-2-l2a",
        geometry=(
            '{"type": "Polygon", "coordinates": [[[-105.2, 39.8], [-105.0, 39.8], '
            "[-105.0, 40.0], [-105.2, 40.0], [-105.2, 39.8]]]}"
        ),
        auth_bearer_token=None,
        auth_query_parameter=None,
        fields_nested_property="properties.eo:cloud_cover",
        validate_pagination=True,
        query_config=QueryConfig(*([None] * 13)),
        transaction_collection=None,
        headers=None,
        open_assets_urls=False,
    )
    assert not missing, f"JSON Schemas not kept in tests/data/schemas: {missing}"
    assert list(errors) == [], "\n".join(str(e) for e in errors)


def test_pystac_client_query_extension_and_matched(live_url: str) -> None:
    """pystac-client's ``query=`` (GET and POST) filters; ``matched()`` is the exact count."""
    client = Client.open(f"{live_url}/stac/")
    assert client.conforms_to("QUERY")
    want = sorted(i["id"] for i in S2 if i["properties"]["eo:cloud_cover"] <= 10)
    for method in ("GET", "POST"):
        search = client.search(collections=["sentinel-2-l2a"], query=["eo:cloud_cover<=10"],
                               method=method, limit=7, max_items=500)  # fmt: skip
        assert sorted(i.id for i in search.items()) == want and len(want) > 7
        assert search.matched() == len(want)


# eodag builds its JSONPaths with jsonpath-ng calls that jsonpath-ng deprecates; that is
# eodag's own business, not the server's.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_eodag_cloud_cover_returns_only_clear_scenes(
    live_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """eodag, given the server as a STAC provider (offline: its own config in tmp_path), sends
    ``eo:cloud_cover`` as the query extension and gets only scenes at most 10 % cloudy."""
    monkeypatch.setenv("EODAG_CFG_DIR", str(tmp_path))
    monkeypatch.setenv("EODAG_CFG_FILE", str(tmp_path / "eodag.yml"))
    monkeypatch.setenv("EODAG_EXT_COLLECTIONS_CFG_URI", "")
    (tmp_path / "eodag.yml").write_text("")
    from eodag import EODataAccessGateway

    dag = EODataAccessGateway()
    dag.add_provider("terrapole", f"{live_url}/stac/search")
    found = dag.search(collection="sentinel-2-l2a", provider="terrapole", raise_errors=True,
                       limit=50, **{"eo:cloud_cover": 10})  # fmt: skip
    clouds = [p.properties["eo:cloud_cover"] for p in found]
    want = [i for i in S2 if i["properties"]["eo:cloud_cover"] <= 10]
    assert len(clouds) == len(want) > 10 and max(clouds) <= 10
    assert {c.id for c in dag.list_collections(provider="terrapole")} >= {"sentinel-2-l2a"}


# What stac-api-validator's transaction script expects and terrapole answers otherwise, on
# purpose: DELETE of a missing item is 404 (the transaction extension's own rule), PUT and PATCH
# answer 200 with the item (allowed next to 204), and eo:cloud_cover sent as "3.14" is stored as
# the number 3.14 (the eo extension's type). Everything else in the script must pass.
TRANSACTION_DEVIATIONS = [
    r"DELETE .* had unexpected status code 404 instead of 204",
    r"PUT .* had unexpected status code 200 instead of 204",
    r"PUT - eo:cloud_cover value did not match",
    r"PATCH .* had unexpected status code 200 instead of 204",
    r"PUT - eo:cloud_cover value did not match",
]


@pytest.mark.filterwarnings("ignore:get_all_items is deprecated:DeprecationWarning")
def test_stac_api_validator_transactions_run_through(
    live: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The validator creates an item without links, replaces, patches and deletes it."""
    import re

    from stac_api_validator.validations import QueryConfig, validate_api

    monkeypatch.setattr("time.sleep", lambda _s: None)  # the script waits 2 s between calls
    offline_schemas(monkeypatch)
    live_url, token = live
    _, errors = validate_api(
        root_url=f"{live_url}/stac/",
        ccs_to_validate=["transaction"],
        collection="sentinel-2-l2a",
        geometry=None,
        auth_bearer_token=token,
        auth_query_parameter=None,
        fields_nested_property=None,
        validate_pagination=False,
        query_config=QueryConfig(*([None] * 13)),
        transaction_collection="sentinel-2-l2a",
        headers=None,
        open_assets_urls=False,
    )
    got = [str(e) for e in errors]
    assert len(got) == len(TRANSACTION_DEVIATIONS), "\n".join(got)
    for line, pattern in zip(got, TRANSACTION_DEVIATIONS, strict=True):
        assert re.search(pattern, line), line
