"""Every one of 48 real Planetary Computer items (12 collections) loads on both stores: defects
real providers publish are repaired and recorded, and the repaired items are found where they lie.

The items: tests/data/planetary-computer (see its PROVENANCE.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely.geometry import box, shape

from terrapole.catalog.loader import load_paths
from terrapole.catalog.model import SearchQuery
from terrapole.catalog.store import Store

PC = Path(__file__).resolve().parents[1] / "data" / "planetary-computer"


def _items() -> dict[str, dict[str, Any]]:
    return {
        doc["id"]: doc for path in sorted(PC.glob("*.json")) for doc in json.loads(path.read_text())
    }


ITEMS = _items()


def _found(store: Store, query: SearchQuery) -> set[str]:
    ids: set[str] = set()
    token = None
    while True:
        page = store.search(SearchQuery(**{**query.__dict__, "token": token, "limit": 20}))
        ids.update(item["id"] for item in page.items)
        token = page.next_token
        if token is None:
            return ids


@pytest.fixture
def pc_store(store: Store) -> Store:
    for name in sorted({doc["collection"] for doc in ITEMS.values()}):
        store.create_collection({"id": name, "type": "Collection"})
    report = load_paths(store, [PC])
    assert report.rejected == [] and report.loaded == len(ITEMS) == 48
    return store


def test_every_real_item_loads_and_the_whole_earth_finds_them(pc_store: Store) -> None:
    assert pc_store.count_items() == 48
    assert _found(pc_store, SearchQuery(bbox=(-180.0, -90.0, 180.0, 90.0))) == set(ITEMS)
    world = {"type": "Polygon", "coordinates": [[[-180, -90], [180, -90], [180, 90], [-180, 90], [-180, -90]]]}  # fmt: skip
    assert _found(pc_store, SearchQuery(intersects=world)) == set(ITEMS)


def test_items_without_defects_are_stored_as_published(pc_store: Store) -> None:
    for ident, doc in ITEMS.items():
        stored = pc_store.get_item(doc["collection"], ident)
        if "terrapole:repaired" not in stored["properties"]:
            assert stored["geometry"] == doc["geometry"] and stored["bbox"] == doc["bbox"]


@pytest.mark.parametrize("ident", ["60W-2023", "60U-2023", "60N-2023"])
def test_io_lulc_tiles_across_the_antimeridian_are_cut_there(pc_store: Store, ident: str) -> None:
    """Read as drawn, these rings self-intersect (longitudes 17x and -179.x in one ring)."""
    stored = pc_store.get_item("io-lulc-annual-v02", ident)
    assert stored["properties"]["terrapole:repaired"] == [
        "geometry cut at the antimeridian (RFC 7946 3.1.9)",
        "bbox replaced by that of the geometry cut at 180°",  # the naive bbox given
    ]
    geometry = shape(stored["geometry"])
    assert geometry.is_valid and stored["geometry"]["type"] == "MultiPolygon"
    parts = [
        shape({"type": "Polygon", "coordinates": p}) for p in stored["geometry"]["coordinates"]
    ]
    east = [p for p in parts if p.bounds[2] == 180]
    west = [p for p in parts if p.bounds[0] == -180]
    assert east and west and len(east) + len(west) == len(parts)
    west_edge, south, east_edge, north = stored["bbox"]
    assert west_edge == min(p.bounds[0] for p in east) and east_edge == max(
        p.bounds[2] for p in west
    )
    original = ITEMS[ident]["bbox"]
    assert (south, north) == (original[1], original[3])
    # found around its published vertices on each side of 180°, not half a world away
    vertices = shapely.get_coordinates(shape(ITEMS[ident]["geometry"]))
    for x, y in (
        vertices[vertices[:, 0] > 179][0].tolist(),
        vertices[vertices[:, 0] < -179.9][0].tolist(),
    ):
        near = (max(x - 0.001, -180.0), y - 0.001, min(x + 0.001, 180.0), y + 0.001)
        assert ident in _found(pc_store, SearchQuery(bbox=near)), near
    assert ident not in _found(pc_store, SearchQuery(bbox=(0.0, south, 1.0, north)))


def test_a_tiny_overshoot_of_minus_180_is_clamped(pc_store: Store) -> None:
    ident = "Copernicus_DSM_COG_10_S90_00_W180_00_DEM"
    assert ITEMS[ident]["bbox"][0] < -180  # -180.00138...: 5 arc-seconds over
    stored = pc_store.get_item("cop-dem-glo-30", ident)
    repaired = stored["properties"]["terrapole:repaired"]
    assert any("clamped" in r for r in repaired)
    assert stored["bbox"][0] == -180.0 and stored["bbox"][1:] == ITEMS[ident]["bbox"][1:]
    xs = [x for x, _ in stored["geometry"]["coordinates"][0]]
    assert min(xs) == -180.0
    # the clamped tile is the published one less its sliver west of -180
    published = shape(ITEMS[ident]["geometry"])
    assert shape(stored["geometry"]).equals(published.intersection(box(-180, -90, 180, 90)))
    assert ident in _found(pc_store, SearchQuery(bbox=(-180.0, -89.9, -179.9, -89.5)))
