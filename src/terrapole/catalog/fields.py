"""The fields extension applied to a STAC item dict (include/exclude by dotted path)."""

from __future__ import annotations

import copy
from typing import Any

from terrapole.catalog.model import Fields, Json

# Kept whatever ``include`` says, so that a filtered item is still a usable Feature.
ALWAYS = ("id", "type", "collection", "stac_version", "links")


def _get(doc: Json, path: list[str]) -> tuple[bool, Any]:
    node: Any = doc
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _put(doc: Json, path: list[str], value: Any) -> None:
    node = doc
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = copy.deepcopy(value)


def _drop(doc: Json, path: list[str]) -> None:
    node: Any = doc
    for part in path[:-1]:
        if not isinstance(node, dict) or part not in node:
            return
        node = node[part]
    if isinstance(node, dict):
        node.pop(path[-1], None)


def apply_fields(item: Json, fields: Fields) -> Json:
    """Return ``item`` reduced to ``fields.include`` (if any) minus ``fields.exclude``.

    A path both included and excluded is included, as the extension specifies.
    """
    if not fields:
        return item
    if fields.include:
        out: Json = {}
        for path in sorted(set(fields.include) | set(ALWAYS)):
            found, value = _get(item, path.split("."))
            if found:
                _put(out, path.split("."), value)
    else:
        out = copy.deepcopy(item)
    for path in fields.exclude - fields.include:
        if path not in ALWAYS:
            _drop(out, path.split("."))
    return out
