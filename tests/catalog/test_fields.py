from __future__ import annotations

from terrapole.catalog.fields import apply_fields
from terrapole.catalog.model import Fields

from ..conftest import s2_items

ITEM = s2_items()[0]


def test_include_keeps_only_named_paths_and_identity() -> None:
    out = apply_fields(ITEM, Fields(include=frozenset({"properties.eo:cloud_cover"})))
    assert set(out) == {"id", "type", "collection", "links", "properties"}
    assert out["properties"] == {"eo:cloud_cover": ITEM["properties"]["eo:cloud_cover"]}


def test_include_below_an_excluded_parent_wins() -> None:
    fields = Fields(frozenset({"properties.eo:cloud_cover"}), frozenset({"properties"}))
    out = apply_fields(ITEM, fields)
    assert out["properties"] == {"eo:cloud_cover": ITEM["properties"]["eo:cloud_cover"]}


def test_exclude_alone_drops_from_the_whole_item() -> None:
    out = apply_fields(ITEM, Fields(exclude=frozenset({"geometry"})))
    assert "geometry" not in out
    assert out["properties"] == ITEM["properties"] and out["assets"] == ITEM["assets"]


def test_exclude_with_empty_include_drops_from_the_default_set() -> None:
    out = apply_fields(ITEM, Fields(exclude=frozenset({"geometry"}), from_defaults=True))
    assert "geometry" not in out and out["assets"] == ITEM["assets"]
    assert out["properties"] == {"datetime": ITEM["properties"]["datetime"]}


def test_same_path_included_and_excluded_is_included() -> None:
    out = apply_fields(ITEM, Fields(frozenset({"geometry"}), frozenset({"geometry"})))
    assert out["geometry"] == ITEM["geometry"]
