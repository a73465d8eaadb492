"""Link building for items, collections and item collections (all relative to the API base)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from terrapole.jsontypes import Json

OWN_RELS = {"self", "parent", "collection", "root", "items", "queryables", "next", "prev"}
GEOJSON = "application/geo+json"
JSON = "application/json"


def _keep(doc: Json) -> list[Json]:
    return [link for link in doc.get("links", []) if link.get("rel") not in OWN_RELS]


def item_links(item: Json, base: str) -> Json:
    """Set self/parent/collection/root links on an item served from ``base``."""
    coll = f"{base}collections/{item['collection']}"
    item["links"] = [
        {"rel": "self", "type": GEOJSON, "href": f"{coll}/items/{item['id']}"},
        {"rel": "parent", "type": JSON, "href": coll},
        {"rel": "collection", "type": JSON, "href": coll},
        {"rel": "root", "type": JSON, "href": base},
        *_keep(item),
    ]
    if item.get("assets"):
        item["links"].append(
            {"rel": "alternate", "type": "application/zip", "title": "All assets (zip)",
             "href": f"{coll}/items/{item['id']}/download"}
        )  # fmt: skip
    site = base.removesuffix("stac/")
    for link in item["links"]:  # e.g. derived_from links written server-relative
        if isinstance(link.get("href"), str) and link["href"].startswith("/"):
            link["href"] = site + link["href"][1:]
    if item.get("assets"):
        for asset in item["assets"].values():
            href = asset.get("href")
            if isinstance(href, str) and href.startswith("/assets/"):
                asset["href"] = site + href[1:]
    return item


def collection_links(doc: Json, base: str) -> Json:
    """Set self/parent/root/items/queryables links on a collection served from ``base``."""
    coll = f"{base}collections/{doc['id']}"
    doc["links"] = [
        {"rel": "self", "type": JSON, "href": coll},
        {"rel": "parent", "type": JSON, "href": base},
        {"rel": "root", "type": JSON, "href": base},
        {"rel": "items", "type": GEOJSON, "href": f"{coll}/items"},
        {"rel": "queryables", "type": "application/schema+json", "href": f"{coll}/queryables"},
        *_keep(doc),
    ]
    return doc


def page_link(rel: str, token: str, *, url: str, query: dict[str, Any], body: Json | None) -> Json:
    """A next/prev link: GET repeats the query with ``token``; POST merges it into the body."""
    if body is None:
        params = {k: v for k, v in query.items() if k != "token"}
        params["token"] = token
        return {"rel": rel, "type": GEOJSON, "method": "GET", "href": f"{url}?{urlencode(params)}"}
    return {
        "rel": rel,
        "type": GEOJSON,
        "method": "POST",
        "href": url,
        "body": {**body, "token": token},
        "merge": False,
    }
