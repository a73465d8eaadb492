"""Acquisition timelines (dates × cloud cover) and the default pair of the compare page.

Both read the caller's view of the catalogue only: every query carries the collections hidden
from the caller, as the pages and tiles do.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from terrapole.catalog.model import CollectionQuery, SearchQuery, SortKey
from terrapole.catalog.store import Store
from terrapole.jsontypes import Json
from terrapole.maps.presets import Preset, available

TIMELINE_MAX = 500  # acquisitions drawn on one timeline (the newest)
CANDIDATES = 100  # items of a collection looked at for the compare page's default pair


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def point(item: Json) -> Json:
    """One acquisition on a timeline: its date (seconds since 1970 and ISO day) and cloud cover."""
    props = item["properties"]
    when = props.get("datetime") or props.get("start_datetime") or ""
    cover = props.get("eo:cloud_cover")
    return {"id": item["id"], "collection": item["collection"], "t": _epoch(when) if when else None,
            "date": when[:10], "cloud": None if cover is None else float(cover)}  # fmt: skip


def acquisitions(store: Store, query: SearchQuery) -> list[Json]:
    """The newest ``TIMELINE_MAX`` acquisitions matching ``query``, oldest first."""
    wide = replace(query, limit=TIMELINE_MAX, token=None, sortby=(SortKey("datetime", "desc"),))
    points = [point(i) for i in store.search(wide).items]
    return sorted((p for p in points if p["t"] is not None), key=lambda p: p["t"])


def near(item: Json, hidden: frozenset[str]) -> SearchQuery:
    """Items of ``item``'s collection whose footprint meets its own."""
    return SearchQuery(
        collections=(item["collection"],),
        intersects=item.get("geometry"),
        hidden_collections=hidden,
    )


def _overlap(a: Json, b: Json) -> bool:
    (w1, s1, e1, n1), (w2, s2, e2, n2) = a["bbox"][:4], b["bbox"][:4]
    return bool(w1 < e2 and w2 < e1 and s1 < n2 and s2 < n1)


def _clearest(items: list[Json]) -> list[Json]:
    """Least cloudy first, then newest."""
    newest = sorted(items, key=lambda i: str(i["properties"].get("datetime") or ""), reverse=True)
    return sorted(newest, key=lambda i: float(i["properties"].get("eo:cloud_cover") or 0.0))


def partner(first: Json, items: list[Json]) -> Json | None:
    """The clearest other item of ``items`` overlapping ``first`` on another day."""
    day = str(first["properties"].get("datetime") or "")[:10]
    others = [
        i for i in items
        if i["id"] != first["id"] and _overlap(first, i)
        and str(i["properties"].get("datetime") or "")[:10] != day
    ]  # fmt: skip
    return next(iter(_clearest(others)), None)


def drawable(store: Store, collection: str, hidden: frozenset[str]) -> list[Json]:
    """Up to ``CANDIDATES`` newest items of ``collection`` that some preset can draw."""
    query = SearchQuery(collections=(collection,), limit=CANDIDATES, hidden_collections=hidden,
                        sortby=(SortKey("datetime", "desc"),))  # fmt: skip
    return [i for i in store.search(query).items if i.get("bbox") and available(i)]


def stored(item: Json) -> bool:
    """Whether the item's rasters are in terrapole's storage (not remote files, which a server
    without network cannot read)."""
    rasters = [a for a in item.get("assets", {}).values() if "raster:bands" in a]
    return bool(rasters) and all(str(a.get("href", "")).startswith("/assets/") for a in rasters)


def default_pair(store: Store, hidden: frozenset[str]) -> tuple[Json, Json] | None:
    """Two overlapping items of one collection to compare, true colour preferred.

    Stored products come before remote ones, then the collection with the most items drawable
    in true colour (any preset when none has true colour); in it, the clearest item and the
    clearest other date overlapping it.
    """
    docs, _ = store.list_collections(CollectionQuery(limit=1000, hidden_collections=hidden))
    best: tuple[tuple[int, int, int], tuple[Json, Json]] | None = None
    for doc in docs:
        items = drawable(store, doc["id"], hidden)
        local = [i for i in items if stored(i)]
        items = local or items
        if len(items) < 2:
            continue
        colour = [i for i in items if any(p.name == "truecolor" for p in available(i))]
        pool = colour or items
        for first in _clearest(pool)[:5]:
            second = partner(first, pool)
            if second is not None:
                score = (len(local), len(colour), len(pool))
                if best is None or score > best[0]:
                    best = (score, (first, second))
                break
    return best[1] if best else None


def shared_preset(wanted: str, left: Json, right: Json | None) -> tuple[str, list[Preset]]:
    """``wanted`` if both items can be drawn with it, else true colour, else their first common
    preset; with the presets they share."""
    common = [p for p in available(left) if right is None or p in available(right)]
    names = [p.name for p in common]
    for name in (wanted, "truecolor"):
        if name in names:
            return name, common
    return (names[0] if names else wanted), common
