"""Which property names a search may compare: a filter or ``query`` on a name the catalogue
does not know is refused with the close queryable names, instead of matching nothing.

A name is known when it is a core field or STAC common metadata, a declared queryable, or a
property that at least one stored item of the searched collections carries (items keep
properties beyond the queryables, and searches on those must keep working).
"""

from __future__ import annotations

import difflib
from dataclasses import replace
from typing import Any

from terrapole.catalog import cql2
from terrapole.catalog.model import SearchQuery
from terrapole.catalog.store import ReadStore
from terrapole.errors import InvalidInput
from terrapole.jsontypes import Json

# The item's own fields and STAC common metadata: a search on those is a question every STAC
# catalogue answers (stac-api-validator filters on ``mission``), even when none carries them.
CORE = frozenset(
    {"id", "collection", "geometry", "datetime", "start_datetime", "end_datetime", "title",
     "description", "keywords", "created", "updated", "license", "providers", "platform",
     "instruments", "constellation", "mission", "gsd"}
)  # fmt: skip


def queryable_names() -> frozenset[str]:
    """The names the queryables endpoint declares (the same for every collection)."""
    return frozenset(cql2.queryables("")["properties"])


def compared_properties(tree: Any) -> list[str]:
    """The property names a CQL2 JSON tree reads, ``properties.`` prefix removed, in order."""
    names: list[str] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            name = node.get("property")
            if isinstance(name, str):
                bare = name.removeprefix("properties.")
                if bare not in names:
                    names.append(bare)
            stack.extend(reversed(list(node.values())))
    return names


def _stored(store: ReadStore, query: SearchQuery, name: str) -> bool:
    """Whether an item of the searched collections carries property ``name``."""
    probe: Json = {"op": "not", "args": [{"op": "isnull", "args": [{"property": name}]}]}
    found = store.search(
        SearchQuery(
            collections=query.collections,
            filter=probe,
            limit=1,
            hidden_collections=query.hidden_collections,
        )
    )
    return bool(found.items)


def check_known(store: ReadStore, query: SearchQuery, *, from_query: frozenset[str]) -> None:
    """Raise InvalidInput naming the first compared property nobody knows, with close names.

    ``from_query`` holds the names the ``query`` parameter compared (the error names that
    parameter for them, ``filter`` for the others).
    """
    if query.filter is None:
        return
    known = CORE | queryable_names()
    for name in compared_properties(query.filter):
        if name in known or _stored(store, replace(query, filter=None), name):
            continue
        close = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.5)
        if not close:
            close = difflib.get_close_matches(name.lower(), sorted(known), n=3, cutoff=0.4)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        field = "query" if name in from_query else "filter"
        raise InvalidInput(
            field,
            f"property {name!r} is neither a queryable nor carried by any item searched"
            f"{hint} (queryables: {', '.join(sorted(queryable_names()))})",
        )
