"""The fixed, seeded query mix of the search benchmark.

A scenario is a list of HTTP requests run one after the other (paging is five requests that
follow ``next`` links); every other scenario is one request. The same seed gives the same
scenarios for every server, so their numbers are comparable.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from generate import COLLECTION, GRID, START, make_item

# (kind, weight). "aggregation" is terrapole-only (stac-fastapi-pgstac has no aggregation).
KINDS = [
    ("small_bbox", 3),
    ("large_bbox_datetime", 2),
    ("datetime_range", 2),
    ("collection_cql2_cloud", 2),
    ("sort_datetime_100", 1),
    ("paging_5", 1),
    ("get_by_id", 3),
    ("free_text", 1),
    ("aggregation", 1),
]


@dataclass
class Scenario:
    """One user action: ``method`` on ``path`` with query ``params`` or JSON ``body``."""

    kind: str
    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    pages: int = 1


def _iso(days: float) -> str:
    return (START + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def scenarios(count: int, n_items: int, seed: int = 7) -> list[Scenario]:
    """``count`` scenarios drawn with fixed weights from a seeded generator."""
    rng = random.Random(seed)
    kinds = [k for k, w in KINDS for _ in range(w)]
    span_days = 5 * max(1, n_items // len(GRID))
    out: list[Scenario] = []
    for _ in range(count):
        kind = rng.choice(kinds)
        lon, lat = rng.choice(GRID)
        if kind == "small_bbox":
            x, y = lon + rng.uniform(0, 0.7), lat + rng.uniform(0, 0.6)
            bbox = f"{x:.4f},{y:.4f},{x + 0.2:.4f},{y + 0.2:.4f}"
            out.append(Scenario(kind, "GET", "/search", {"bbox": bbox, "limit": 10}))
        elif kind == "large_bbox_datetime":
            start = rng.uniform(0, span_days)
            body = {
                "bbox": [lon, lat, lon + 8, lat + 6],
                "datetime": f"{_iso(start)}/{_iso(start + 90)}",
                "limit": 100,
            }
            out.append(Scenario(kind, "POST", "/search", body=body))
        elif kind == "datetime_range":
            start = rng.uniform(0, span_days)
            dt = f"{_iso(start)}/{_iso(start + 30)}"
            out.append(Scenario(kind, "GET", "/search", {"datetime": dt, "limit": 10}))
        elif kind == "collection_cql2_cloud":
            body = {
                "collections": [COLLECTION],
                "filter-lang": "cql2-json",
                "filter": {
                    "op": "<",
                    "args": [{"property": "eo:cloud_cover"}, rng.choice([5, 10, 20])],
                },
                "limit": 10,
            }
            out.append(Scenario(kind, "POST", "/search", body=body))
        elif kind == "sort_datetime_100":
            params = {"collections": COLLECTION, "sortby": "-datetime", "limit": 100}
            out.append(Scenario(kind, "GET", "/search", params))
        elif kind == "paging_5":
            x, y = lon - 3, lat - 3
            params = {"bbox": f"{x},{y},{x + 6},{y + 6}", "limit": 10}
            out.append(Scenario(kind, "GET", "/search", params, pages=5))
        elif kind == "get_by_id":
            n = rng.randrange(n_items)
            item_id = make_item(n, random.Random(42 * 1_000_003 + n))["id"]
            out.append(Scenario(kind, "GET", f"/collections/{COLLECTION}/items/{item_id}"))
        elif kind == "free_text":
            n = rng.randrange(n_items)
            tile = make_item(n, random.Random(42 * 1_000_003 + n))["properties"]["s2:mgrs_tile"]  # type: ignore[index]
            out.append(Scenario(kind, "GET", "/search", {"q": tile, "limit": 10}))
        else:
            params = {
                "collections": COLLECTION,
                "aggregations": "total_count,platform_frequency,cloud_cover_frequency",
            }
            out.append(Scenario(kind, "GET", "/aggregate", params))
    return out
