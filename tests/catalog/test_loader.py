from __future__ import annotations

import json
from pathlib import Path

from terrapole.catalog.loader import load_paths
from terrapole.catalog.sqlite import SqliteStore

from ..conftest import s2_collection, s2_items


def test_items_before_their_collection_still_load_and_bad_lines_are_named(tmp_path: Path) -> None:
    items = s2_items()[:30]
    lines = [json.dumps(i) for i in items]
    lines.insert(5, '{"type": "Feature", "id": ')  # malformed line 6
    (tmp_path / "a_items.ndjson").write_text("\n".join(lines) + "\n")
    (tmp_path / "z_collection.json").write_text(json.dumps(s2_collection()))
    store = SqliteStore(tmp_path / "cat.db")
    report = load_paths(store, [tmp_path])
    assert report.loaded == 31  # 30 items + 1 collection
    assert [r.where for r in report.rejected] == ["a_items.ndjson:6"]
    assert store.count_items("sentinel-2-l2a") == 30
    store.close()
