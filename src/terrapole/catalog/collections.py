"""Collection search shared by the stores: collections are few, so they are filtered here."""

from __future__ import annotations

from terrapole.catalog.antimeridian import BBox, intersect_bboxes
from terrapole.catalog.model import CollectionQuery
from terrapole.catalog.timeutil import normalise
from terrapole.errors import InvalidInput
from terrapole.jsontypes import Json


def _bbox_overlaps(doc: Json, bbox: BBox) -> bool:
    boxes = doc.get("extent", {}).get("spatial", {}).get("bbox") or [[-180, -90, 180, 90]]
    half = len(boxes[0]) // 2
    extent = (boxes[0][0], boxes[0][1], boxes[0][half], boxes[0][half + 1])
    return intersect_bboxes(extent, bbox) is not None


def _time_overlaps(doc: Json, query: CollectionQuery) -> bool:
    assert query.datetime is not None
    intervals = doc.get("extent", {}).get("temporal", {}).get("interval") or [[None, None]]
    start, end = intervals[0]
    try:
        start_n = normalise(start) if start else "0000"
        end_n = normalise(end, end_of_day=True) if end else "9999"
    except InvalidInput:
        return True
    return (query.datetime.end is None or start_n <= query.datetime.end) and (
        query.datetime.start is None or end_n >= query.datetime.start
    )


def _text_matches(doc: Json, terms: tuple[str, ...]) -> bool:
    haystack = " ".join(
        [str(doc.get("title", "")), str(doc.get("description", "")), doc.get("id", "")]
        + [str(k) for k in doc.get("keywords") or []]
    ).lower()
    return any(term.lower() in haystack for term in terms)


def filter_collections(docs: list[Json], query: CollectionQuery) -> tuple[list[Json], int]:
    """Apply a collection search to documents sorted by id; return a page and the match count."""
    matched = [
        doc
        for doc in docs
        if doc["id"] not in query.hidden_collections
        and (query.ids is None or doc["id"] in query.ids)
        and (query.bbox is None or _bbox_overlaps(doc, query.bbox))
        and (query.datetime is None or _time_overlaps(doc, query))
        and (not query.q or _text_matches(doc, query.q))
    ]
    return matched[query.offset : query.offset + query.limit], len(matched)
