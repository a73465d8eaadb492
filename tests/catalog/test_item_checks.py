"""Item documents are refused for structural errors (RFC 7946, bbox, size) with the field named,
and a refused line of a bulk load neither reserves its id nor reaches the store (both stores)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from terrapole.catalog.documents import prepare_item
from terrapole.catalog.loader import load_paths
from terrapole.catalog.model import SearchQuery
from terrapole.catalog.store import Store
from terrapole.config import Settings
from terrapole.errors import InvalidItem

from ..conftest import s2_collection, s2_items

S2 = s2_items()
SQUARE = [[1.0, 43.0], [2.0, 43.0], [2.0, 44.0], [1.0, 44.0], [1.0, 43.0]]


def _item(geometry: Any, bbox: Any = None, ident: str = "probe") -> dict[str, Any]:
    """A real Sentinel-2 item moved to ``geometry`` (and ``bbox``, dropped when None)."""
    doc = copy.deepcopy(S2[0]) | {"id": ident, "geometry": geometry}
    doc.pop("bbox")
    if bbox is not None:
        doc["bbox"] = bbox
    return doc


@pytest.mark.parametrize(
    ("geometry", "field", "reason"),
    [
        # the ring: three positions, not closed
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0]]]},
         "geometry.coordinates[0]", "at least 4 positions"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},
         "geometry.coordinates[0]", "ring is not closed"),
        ({"type": "Polygon", "coordinates": [SQUARE, [[1.2, 43.2], [1.5, 43.5], [1.2, 43.2]]]},
         "geometry.coordinates[1]", "at least 4 positions"),
        ({"type": "Polygon", "coordinates": SQUARE},  # one level of nesting missing
         "geometry.coordinates[0][0]", "array of 2 or 3 numbers"),
        ({"type": "MultiPolygon", "coordinates": [SQUARE]},
         "geometry.coordinates[0][0][0]", "array of 2 or 3 numbers"),
        ({"type": "Polygon", "coordinates": []}, "geometry.coordinates", "exterior ring"),
        ({"type": "LineString", "coordinates": [[0, 0]]}, "geometry.coordinates", "at least 2"),
        ({"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], [[0, 0]]]},
         "geometry.coordinates[1]", "at least 2"),
        ({"type": "Point", "coordinates": [1]}, "geometry.coordinates", "2 or 3 numbers, not 1"),
        ({"type": "Point", "coordinates": [1, 2, 3, 4]}, "geometry.coordinates", "not 4"),
        ({"type": "Point", "coordinates": ["1", 2]}, "geometry.coordinates", "numbers, not '1'"),
        ({"type": "Point", "coordinates": [True, 2]}, "geometry.coordinates", "numbers"),
        ({"type": "Point", "coordinates": [float("inf"), 2]}, "geometry.coordinates", "finite"),
        ({"type": "MultiPoint", "coordinates": [[0, 0], "x"]},
         "geometry.coordinates[1]", "array of 2 or 3 numbers"),
        ({"type": "Point"}, "geometry.coordinates", "needs coordinates"),
        ({"type": "Circle", "coordinates": [0, 0]}, "geometry.type", "not a GeoJSON geometry"),
        ({"type": "GeometryCollection"}, "geometry.geometries", "array of geometries"),
        ({"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [0]}]},
         "geometry.geometries[0].coordinates", "2 or 3 numbers"),
        ({"type": "Point", "coordinates": [1.5, 90.5]}, "geometry", "longitude/latitude"),
        ({"type": "Point", "coordinates": [181, 0]}, "geometry", "longitude/latitude"),
    ],
)  # fmt: skip
def test_structurally_invalid_geometries_are_refused_naming_the_member(
    geometry: Any, field: str, reason: str
) -> None:
    with pytest.raises(InvalidItem) as refused:
        prepare_item(_item(geometry))
    assert f"invalid {field}: " in refused.value.reason
    assert reason in refused.value.reason


@pytest.mark.parametrize(
    ("bbox", "reason"),
    [
        ([2, 44, 1, 43], "south edge 44 is north of the north edge 43"),  # the bbox
        ([1, 43, 2], "4 (or 6) numbers"),
        ([1, 43, "2", 44], "4 (or 6) numbers"),
        ([10, 10, 11, 11], "does not contain the geometry"),
        ([1, 43, 1.5, 44], "does not contain the geometry"),  # a side 0.5° short
        ([2, 43, 1, 44], "does not contain the geometry"),  # west > east: across 180°, not here
        ([1, 43, 2, 95], "within [-180,180]x[-90,90]"),
    ],
)
def test_bad_bboxes_are_refused(bbox: list[Any], reason: str) -> None:
    with pytest.raises(InvalidItem) as refused:
        prepare_item(_item({"type": "Polygon", "coordinates": [SQUARE]}, bbox))
    assert "invalid bbox: " in refused.value.reason and reason in refused.value.reason


def test_a_bbox_within_the_tolerance_and_a_3d_bbox_are_kept() -> None:
    loose = prepare_item(_item({"type": "Polygon", "coordinates": [SQUARE]}, [1, 43, 1.995, 44]))
    assert loose.doc["bbox"] == [1, 43, 1.995, 44]
    solid = prepare_item(_item({"type": "Polygon", "coordinates": [SQUARE]}, [1, 43, 0, 2, 44, 9]))
    assert solid.doc["bbox"] == [1, 43, 0, 2, 44, 9]
    assert "terrapole:repaired" not in solid.doc["properties"]


def test_an_item_over_the_size_limit_is_refused() -> None:
    big = copy.deepcopy(S2[0])
    big["properties"]["note"] = "x" * 5_000_000  # the 5 MB property
    with pytest.raises(InvalidItem, match="over the 1000000 bytes allowed"):
        prepare_item(big)
    small = copy.deepcopy(S2[0])
    assert prepare_item(small, max_bytes=20_000).id == small["id"]
    with pytest.raises(InvalidItem, match="over the 2000 bytes allowed"):
        prepare_item(small, max_bytes=2_000)


def test_the_size_limit_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().max_item_bytes == 1_000_000
    monkeypatch.setenv("TERRAPOLE_MAX_ITEM_BYTES", "50000")
    assert Settings().max_item_bytes == 50_000


def test_a_refused_line_does_not_reserve_its_id(store: Store, tmp_path: Path) -> None:
    """Each bad line of the issue comes before a valid line with the same id: the valid one
    loads; the bad ones are rejected with their line, and searches over the whole Earth work."""
    store.create_collection(s2_collection())
    good = [copy.deepcopy(S2[n]) for n in range(3)]
    unclosed = copy.deepcopy(good[0]) | {
        "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0]]]}
    }
    unclosed.pop("bbox")
    inverted = copy.deepcopy(good[1]) | {"bbox": [2, 44, 1, 43]}
    huge = copy.deepcopy(good[2])
    huge["properties"]["note"] = "x" * 5_000_000
    lines = [unclosed, good[0], inverted, good[1], huge, good[2]]
    path = tmp_path / "items.ndjson"
    path.write_text("".join(json.dumps(doc) + "\n" for doc in lines))

    report = load_paths(store, [path], workers=2)

    assert [r.where for r in report.rejected] == [
        "items.ndjson:1",
        "items.ndjson:3",
        "items.ndjson:5",
    ]
    assert "coordinates[0]" in report.rejected[0].reason
    assert "bbox" in report.rejected[1].reason and "bytes" in report.rejected[2].reason
    assert (report.loaded, report.skipped) == (3, 0)
    for doc in good:
        assert store.get_item(doc["collection"], doc["id"])["geometry"] == doc["geometry"]
    world = store.search(SearchQuery(bbox=(-180.0, -90.0, 180.0, 90.0), limit=10))
    assert sorted(i["id"] for i in world.items) == sorted(d["id"] for d in good)


def test_load_applies_the_size_setting(store: Store, tmp_path: Path) -> None:
    store.create_collection(s2_collection())
    path = tmp_path / "items.ndjson"
    path.write_text("".join(json.dumps(doc) + "\n" for doc in S2[:4]))
    report = load_paths(store, [path], max_item_bytes=10_000)
    sizes = [len(json.dumps(doc)) for doc in S2[:4]]
    assert all(size > 10_000 for size in sizes)  # real S2 items are about 16 kB
    assert report.loaded == 0 and len(report.rejected) == 4


def test_geometries_built_in_python_with_tuples_are_arrays() -> None:
    """Ingest, chains and jobs build footprints with shapely's ``mapping`` (tuples): they are
    arrays like JSON's, in a polygon and inside a geometry collection, bbox included."""
    from shapely.geometry import box, mapping

    polygon = mapping(box(5.0, 45.0, 5.5, 45.5))
    assert isinstance(polygon["coordinates"], tuple)
    prepared = prepare_item(_item(polygon, bbox=(5.0, 45.0, 5.5, 45.5)))
    assert prepared.doc["properties"].get("terrapole:repaired") is None
    collection = {"type": "GeometryCollection", "geometries": (polygon, mapping(box(6, 45, 7, 46)))}
    assert prepare_item(_item(collection)).doc["bbox"] == [5.0, 45.0, 7.0, 46.0]


def test_a_nul_anywhere_in_a_document_is_refused_and_loads_nothing(store: Store) -> None:
    """PostgreSQL's text cannot hold U+0000: pgstac's loader failed on it below our checks."""
    bad = copy.deepcopy(S2[0]) | {"id": "nul-title"}
    bad["properties"]["title"] = "a\x00b"
    with pytest.raises(InvalidItem, match="NUL"):
        prepare_item(bad)
    escaped = copy.deepcopy(S2[0]) | {"id": "backslash-u"}
    escaped["properties"]["title"] = "a\\u0000b"  # the text of an escape, not a NUL
    store.create_collection(s2_collection())
    store.create_item(prepare_item(escaped))
    found = store.get_item(escaped["collection"], "backslash-u")
    assert found["properties"]["title"] == "a\\u0000b"
    from terrapole.catalog.documents import prepare_collection

    collection = s2_collection() | {"id": "nul-desc", "description": "x\x00"}
    with pytest.raises(InvalidItem, match="NUL"):
        prepare_collection(collection)


def test_a_geometry_across_180_needs_a_bbox_that_agrees_with_it() -> None:
    """The bbox of the pieces or the naive bbox of the positions as given; not any other."""
    ring = [[179.2, 10.0], [-179.6, 10.0], [-179.6, 11.0], [179.2, 11.0], [179.2, 10.0]]
    crossing = {"type": "Polygon", "coordinates": [ring]}
    for agreeing in ([179.2, 10.0, -179.6, 11.0], [-179.6, 10.0, 179.2, 11.0]):
        prepared = prepare_item(_item(crossing, bbox=agreeing))
        assert prepared.doc["bbox"] == [179.2, 10.0, -179.6, 11.0]
    with pytest.raises(InvalidItem, match="does not contain the geometry"):
        prepare_item(_item(crossing, bbox=[0.0, 0.0, 1.0, 1.0]))
