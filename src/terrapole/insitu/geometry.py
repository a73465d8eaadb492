"""GeoJSON checks and bounding boxes for Locations, FeaturesOfInterest and observed areas.

The tables keep each geometry as GeoJSON plus its bbox (min_x, min_y, max_x, max_y), so a bbox
filter is four indexed comparisons on SQLite and PostgreSQL alike, with no spatial extension.
A geometry is checked whole before it is stored (finite WGS 84 positions, a shape shapely can
build), so that no read or geospatial ``$filter`` ever meets one it cannot handle.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import shapely.errors
import shapely.geometry

from terrapole.errors import InvalidInput

BBox = tuple[float, float, float, float]
"""west, south, east, north (degrees, WGS 84)."""

_GEOMETRIES = {
    "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
    "GeometryCollection",
}  # fmt: skip


def _positions(node: Any, field: str) -> Iterator[tuple[float, float]]:
    if isinstance(node, list) and node and all(isinstance(v, int | float) for v in node):
        if len(node) < 2 or any(isinstance(v, bool) for v in node):
            raise InvalidInput(field, f"position {node!r} needs at least two numbers")
        lon, lat = float(node[0]), float(node[1])
        if not all(math.isfinite(v) for v in node):
            raise InvalidInput(field, f"position {node!r} holds a number that is not finite")
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise InvalidInput(
                field, f"position {node!r} is not longitude -180..180, latitude -90..90"
            )
        yield lon, lat
    elif isinstance(node, list):
        for child in node:
            yield from _positions(child, field)
    else:
        raise InvalidInput(field, f"coordinates hold {node!r}, not numbers")


def geometry_of(document: Any, field: str) -> dict[str, Any]:
    """The geometry of a GeoJSON geometry or Feature (InvalidInput naming ``field`` if neither)."""
    if not isinstance(document, dict):
        raise InvalidInput(field, "expected a GeoJSON object")
    if document.get("type") == "Feature":
        return geometry_of(document.get("geometry"), f"{field}.geometry")
    kind = document.get("type")
    if kind not in _GEOMETRIES:
        raise InvalidInput(field, f"GeoJSON type {kind!r} is not a geometry or Feature")
    if kind == "GeometryCollection":
        parts = document.get("geometries")
        if not isinstance(parts, list) or not parts:
            raise InvalidInput(field, "a GeometryCollection needs geometries")
        for i, part in enumerate(parts):
            geometry_of(part, f"{field}.geometries[{i}]")
        return document
    if "coordinates" not in document:
        raise InvalidInput(field, "a GeoJSON geometry needs coordinates")
    if not any(True for _ in _positions(document["coordinates"], f"{field}.coordinates")):
        raise InvalidInput(field, "a GeoJSON geometry needs at least one position")
    try:
        shapely.geometry.shape(document)
    except (ValueError, TypeError, IndexError, shapely.errors.ShapelyError) as exc:
        raise InvalidInput(field, f"not a valid {kind}: {exc}") from exc
    return document


def bbox_of(document: Any, field: str = "geometry") -> BBox:
    """The bounding box of a GeoJSON geometry or Feature.

    >>> bbox_of({"type": "Point", "coordinates": [1.5, 43.6]})
    (1.5, 43.6, 1.5, 43.6)
    """
    geometry = geometry_of(document, field)
    if geometry["type"] == "GeometryCollection":
        boxes = [bbox_of(part, field) for part in geometry["geometries"]]
        return (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )
    xs, ys = zip(*_positions(geometry["coordinates"], field), strict=True)
    return min(xs), min(ys), max(xs), max(ys)


def check_bbox(value: Any, field: str = "bbox") -> BBox:
    """A west, south, east, north box (InvalidInput naming ``field`` otherwise)."""
    if (
        not isinstance(value, list | tuple)
        or len(value) != 4
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise InvalidInput(field, "expected four numbers west, south, east, north")
    west, south, east, north = (float(v) for v in value)
    if west > east or south > north:
        raise InvalidInput(field, "west must not exceed east, nor south north")
    return west, south, east, north
