"""An item across 180° is cut there and found on either side, a search bbox may cross 180°
(RFC 7946 5.2, STAC API), on both stores; the bbox helpers on their own."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from terrapole.catalog.antimeridian import bbox_parts, intersect_bboxes
from terrapole.catalog.collections import filter_collections
from terrapole.catalog.documents import parse_bbox, prepare_collection, prepare_item
from terrapole.catalog.model import CollectionQuery, SearchQuery
from terrapole.catalog.store import Store
from terrapole.errors import InvalidInput

from ..conftest import s2_collection, s2_items

S2 = s2_items()
# the footprint: a valid RFC 7946 polygon given with longitudes 179.x and -179.x
RING = [[179.2, 10.0], [-179.6, 10.0], [-179.6, 11.0], [179.2, 11.0], [179.2, 10.0]]


def _crossing() -> dict[str, Any]:
    doc = copy.deepcopy(S2[0]) | {"id": "fiji-crossing"}
    doc["geometry"] = {"type": "Polygon", "coordinates": [RING]}
    doc["bbox"] = [-179.6, 10.0, 179.2, 11.0]  # what a naive min/max gives
    return doc


@pytest.fixture
def am_store(store: Store) -> Store:
    store.create_collection(s2_collection())
    store.load_items([prepare_item(d) for d in [_crossing(), *S2[:5]]])
    return store


def _ids(store: Store, **query: Any) -> set[str]:
    return {item["id"] for item in store.search(SearchQuery(limit=50, **query)).items}


def test_the_item_is_stored_cut_in_two_with_a_crossing_bbox(am_store: Store) -> None:
    stored = am_store.get_item("sentinel-2-l2a", "fiji-crossing")
    assert stored["bbox"] == [179.2, 10.0, -179.6, 11.0]
    assert stored["geometry"]["type"] == "MultiPolygon"
    xs = sorted({x for part in stored["geometry"]["coordinates"] for x, _ in part[0]})
    assert xs == [-180.0, -179.6, 179.2, 180.0]
    assert stored["properties"]["terrapole:repaired"] == [
        "geometry cut at the antimeridian (RFC 7946 3.1.9)",
        "bbox replaced by that of the geometry cut at 180°",  # the naive bbox given
    ]


@pytest.mark.parametrize(
    ("bbox", "found"),
    [
        ((179.5, 10.2, 179.9, 10.8), True),  # inside, east of 180°
        ((-179.9, 10.2, -179.7, 10.8), True),  # inside, west of 180°
        ((0.0, 10.0, 1.0, 11.0), False),  # half a world away
        ((-179.5, 10.0, 179.1, 11.0), False),  # everything but the item's two slivers
        ((179.0, 10.0, -179.0, 11.0), True),  # a search bbox across 180°
        ((179.0, 12.0, -179.0, 13.0), False),  # across 180°, further north
    ],
)
def test_bbox_searches_find_it_where_it_lies(
    am_store: Store, bbox: tuple[float, float, float, float], found: bool
) -> None:
    assert ("fiji-crossing" in _ids(am_store, bbox=bbox)) is found
    total = am_store.aggregate(SearchQuery(bbox=bbox), ["total_count"])[0].value
    assert total == int(found)


def test_a_crossing_bbox_also_finds_what_lies_west_of_it(am_store: Store) -> None:
    """170°E to 100°W covers Colorado (the Sentinel-2 items, about -105°) and the item."""
    expected = {"fiji-crossing", *(d["id"] for d in S2[:5])}
    assert _ids(am_store, bbox=(170.0, 0.0, -100.0, 50.0)) == expected
    assert _ids(am_store, bbox=(-100.0, 0.0, 170.0, 50.0)) == set()  # the other way round


def test_intersects_and_cql2_across_180(am_store: Store) -> None:
    drawn = [[179.5, 10.2], [-179.5, 10.2], [-179.5, 10.8], [179.5, 10.8], [179.5, 10.2]]
    assert _ids(am_store, intersects={"type": "Polygon", "coordinates": [drawn]}) == {
        "fiji-crossing"
    }
    within = {
        "op": "s_intersects",
        "args": [{"property": "geometry"}, {"bbox": [179, 10, -179, 11]}],
    }
    assert _ids(am_store, filter=within) == {"fiji-crossing"}
    away = {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [0, 10, 1, 11]}]}
    assert _ids(am_store, filter=away) == set()
    west = {"op": "s_within", "args": [{"property": "geometry"}, {"bbox": [175, 5, -175, 15]}]}
    assert _ids(am_store, filter=west) == {"fiji-crossing"}


def test_replacing_and_deleting_a_cut_item_leaves_no_index_entry(am_store: Store) -> None:
    moved = _crossing()
    moved["geometry"] = {"type": "Polygon", "coordinates": [[[0, 10], [1, 10], [1, 11], [0, 11], [0, 10]]]}  # fmt: skip
    moved.pop("bbox")
    am_store.update_item(prepare_item(moved))
    assert _ids(am_store, bbox=(179.0, 10.0, -179.0, 11.0)) == set()
    assert _ids(am_store, bbox=(0.2, 10.2, 0.8, 10.8)) == {"fiji-crossing"}
    am_store.delete_item("sentinel-2-l2a", "fiji-crossing")
    assert _ids(am_store, bbox=(-180.0, -90.0, 180.0, 90.0)) == {d["id"] for d in S2[:5]}


def test_crossing_bboxes_are_parsed_and_split() -> None:
    assert parse_bbox(["179", "10", "-179", "11"]) == (179.0, 10.0, -179.0, 11.0)
    assert bbox_parts((179.0, 10.0, -179.0, 11.0)) == [
        (179.0, 10.0, 180.0, 11.0),
        (-180.0, 10.0, -179.0, 11.0),
    ]
    with pytest.raises(InvalidInput, match="antimeridian"):
        parse_bbox([179, 10, -179, 11], crossing=False)
    with pytest.raises(InvalidInput, match="south edge"):
        parse_bbox([179, 11, -179, 10])
    assert intersect_bboxes((179.0, 10.0, -179.0, 11.0), (-180.0, -85.0, 180.0, 85.0)) == (
        179.0,
        10.0,
        -179.0,
        11.0,
    )
    assert intersect_bboxes((179.0, 10.0, -179.0, 11.0), (-90.0, 0.0, 0.0, 45.0)) is None
    assert intersect_bboxes((179.0, 10.0, -179.0, 11.0), (-180.0, 0.0, -90.0, 45.0)) == (
        -180.0,
        10.0,
        -179.0,
        11.0,
    )


def test_collection_search_with_crossing_extents_and_bboxes() -> None:
    pacific = prepare_collection(
        {
            "id": "pacific",
            "extent": {
                "spatial": {"bbox": [[170, -20, -170, 20]]},
                "temporal": {"interval": [[None, None]]},
            },
        }  # fmt: skip
    )
    europe = prepare_collection(
        {
            "id": "europe",
            "extent": {
                "spatial": {"bbox": [[-10, 35, 30, 70]]},
                "temporal": {"interval": [[None, None]]},
            },
        }  # fmt: skip
    )

    def names(bbox: tuple[float, float, float, float]) -> list[str]:
        docs, _ = filter_collections([europe, pacific], CollectionQuery(bbox=bbox))
        return [d["id"] for d in docs]

    assert names((179.0, 0.0, -179.0, 1.0)) == ["pacific"]
    assert names((-175.0, 0.0, -174.0, 1.0)) == ["pacific"]
    assert names((0.0, 0.0, 1.0, 1.0)) == []
    assert names((20.0, 0.0, -175.0, 40.0)) == ["europe", "pacific"]
