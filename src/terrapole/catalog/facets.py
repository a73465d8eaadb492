"""Facets whose values are identifiers spelt in any case (``Sentinel-2A``, ``sentinel-2a``).

Stored documents keep the spelling they came with; facet counts group values by their
lower-case form (the canonical one STAC recommends for platform and constellation), and
filters on these properties compare without case, so a facet's value finds every spelling.
"""

from __future__ import annotations

from typing import Any, TypeGuard

from terrapole.jsontypes import Json

CASE_FREE = frozenset({"platform", "constellation"})  # and instruments, counted in lower case
CASE_FREE_AGGREGATIONS = frozenset(
    {"platform_frequency", "constellation_frequency", "instruments_frequency"}
)


def _casei(node: Any) -> Json:
    return {"op": "casei", "args": [node]}


def _facet_property(args: Any) -> TypeGuard[list[Any]]:
    return (
        isinstance(args, list)
        and len(args) == 2
        and isinstance(args[0], dict)
        and args[0].get("property") in CASE_FREE
    )


def casefold_facets(node: Any) -> Any:
    """Rewrite ``=``, ``<>``, ``like`` and ``in`` on a case-free property into tests
    that ignore case.

    Example:
        >>> casefold_facets({"op": "=", "args": [{"property": "platform"}, "Sentinel-2A"]})["op"]
        '='
    """
    if isinstance(node, list):
        return [casefold_facets(child) for child in node]
    if not isinstance(node, dict):
        return node
    op, args = node.get("op"), node.get("args")
    if op in ("=", "<>", "like") and _facet_property(args) and isinstance(args[1], str):
        return {"op": op, "args": [_casei(args[0]), _casei(args[1])]}
    if op == "in" and _facet_property(args) and isinstance(args[1], list):
        if all(isinstance(v, str) for v in args[1]):
            terms = [{"op": "=", "args": [_casei(args[0]), _casei(v)]} for v in args[1]]
            return terms[0] if len(terms) == 1 else {"op": "or", "args": terms}
    return {key: casefold_facets(value) for key, value in node.items()}
