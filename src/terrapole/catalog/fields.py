"""The fields extension applied to a STAC item dict (include/exclude by dotted path)."""

from __future__ import annotations

import copy
from typing import Any

from terrapole.catalog.model import Fields
from terrapole.jsontypes import Json

# Kept whatever ``include`` says, so that a filtered item is still an identifiable Feature.
ALWAYS = ("id", "type", "collection", "links")
# The extension's default set, used when ``include`` is explicitly empty.
DEFAULTS = (
    *ALWAYS,
    "stac_version",
    "geometry",
    "bbox",
    "assets",
    "properties.datetime",
    "properties.start_datetime",
    "properties.end_datetime",
)


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


def _pick(item: Json, paths: set[str]) -> Json:
    out: Json = {}
    for path in sorted(paths):
        found, value = _get(item, path.split("."))
        if found:
            _put(out, path.split("."), value)
    return out


def apply_fields(item: Json, fields: Fields) -> Json:
    """Return ``item`` reduced to ``fields.include`` (if any) minus ``fields.exclude``.

    A path both included and excluded is included, as the extension specifies, and so is
    a path included below an excluded parent (``-properties,+properties.eo:cloud_cover``).
    """
    if not fields:
        return item
    if fields.include:
        out = _pick(item, set(fields.include) | set(ALWAYS))
    elif fields.from_defaults:
        out = _pick(item, set(DEFAULTS))
    else:
        out = copy.deepcopy(item)
    for path in fields.exclude - fields.include:
        if path in ALWAYS or any(inc.startswith(f"{path}.") for inc in fields.include):
            continue
        _drop(out, path.split("."))
    return out
