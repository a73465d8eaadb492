"""The structure of GeoJSON geometry objects (RFC 7946 section 3.1), checked before shapely.

shapely is lenient where RFC 7946 is not (it closes an open ring, accepts a two-point ring inside
a polygon); a document that breaks the structure is refused with the path of the bad member, e.g.
``geometry.coordinates[0]: ring is not closed``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from terrapole.errors import InvalidInput
from terrapole.jsontypes import Json

MAX_COLLECTION_DEPTH = 4  # GeometryCollections inside GeometryCollections (RFC: SHOULD avoid)


def check_structure(geojson: object, *, field: str, depth: int = 0) -> Json:
    """Return ``geojson`` if it is an RFC 7946 geometry, else raise naming the bad member.

    Tuples count as arrays (geometries built in Python, e.g. by shapely's ``mapping``, hold
    them); the geometry returned has lists only.
    """
    if isinstance(geojson, dict) and "coordinates" in geojson:
        geojson = {**geojson, "coordinates": _lists(geojson["coordinates"])}
    if not isinstance(geojson, dict):
        raise InvalidInput(field, "must be a GeoJSON geometry object")
    kind = geojson.get("type")
    if kind == "GeometryCollection":
        members = geojson.get("geometries")
        if not isinstance(members, list | tuple):
            raise InvalidInput(f"{field}.geometries", "must be an array of geometries")
        if depth >= MAX_COLLECTION_DEPTH:
            raise InvalidInput(
                field, f"GeometryCollections nested over {MAX_COLLECTION_DEPTH} deep"
            )
        checked = [check_structure(member, field=f"{field}.geometries[{number}]", depth=depth + 1)
                   for number, member in enumerate(members)]  # fmt: skip
        return {**geojson, "geometries": checked}
    check = _CHECKS.get(kind) if isinstance(kind, str) else None
    if check is None:
        raise InvalidInput(f"{field}.type", f"{str(kind)[:40]!r} is not a GeoJSON geometry type")
    if "coordinates" not in geojson:
        raise InvalidInput(f"{field}.coordinates", f"a {kind} needs coordinates")
    check(geojson["coordinates"], f"{field}.coordinates")
    return geojson


def _lists(value: Any) -> Any:
    """Tuples made lists, at any depth of coordinates."""
    if isinstance(value, list | tuple):
        return [_lists(member) for member in value]
    return value


def _array(value: Any, where: str, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidInput(where, f"must be an array of {what}")
    return value


def _position(value: Any, where: str) -> None:
    numbers = _array(value, where, "2 or 3 numbers (a position)")
    if not 2 <= len(numbers) <= 3:
        raise InvalidInput(where, f"a position has 2 or 3 numbers, not {len(numbers)}")
    for number in numbers:
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise InvalidInput(where, f"a position holds numbers, not {str(number)[:40]!r}")
        if not math.isfinite(number):
            raise InvalidInput(where, "coordinates must be finite numbers")


def _positions(value: Any, where: str, *, least: int = 0) -> list[Any]:
    positions = _array(value, where, "positions")
    for number, position in enumerate(positions):
        _position(position, f"{where}[{number}]")
    if len(positions) < least:
        raise InvalidInput(where, f"needs at least {least} positions, has {len(positions)}")
    return positions


def _line(value: Any, where: str) -> None:
    _positions(value, where, least=2)


def _ring(value: Any, where: str) -> None:
    ring = _positions(value, where, least=4)
    if ring[0] != ring[-1]:
        raise InvalidInput(
            where, f"ring is not closed (first position {ring[0]} differs from last {ring[-1]})"
        )


def _polygon(value: Any, where: str) -> None:
    rings = _array(value, where, "linear rings")
    if not rings:
        raise InvalidInput(where, "a polygon needs an exterior ring")
    for number, ring in enumerate(rings):
        _ring(ring, f"{where}[{number}]")


def _many(part: Callable[[Any, str], None], what: str) -> Callable[[Any, str], None]:
    def check(value: Any, where: str) -> None:
        for number, member in enumerate(_array(value, where, what)):
            part(member, f"{where}[{number}]")

    return check


_CHECKS: dict[str, Callable[[Any, str], None]] = {
    "Point": _position,
    "MultiPoint": _many(_position, "positions"),
    "LineString": _line,
    "MultiLineString": _many(_line, "line strings"),
    "Polygon": _polygon,
    "MultiPolygon": _many(_polygon, "polygons"),
}


def clamped(geojson: Any, tolerance: float) -> Any | None:
    """A copy of ``geojson`` with longitudes/latitudes beyond ±180/±90 by at most ``tolerance``
    degrees set to the limit, or None when no position is in that band.

    Call after :func:`check_structure`; positions further out are left for the range check.
    """
    if geojson.get("type") == "GeometryCollection":
        members = [clamped(member, tolerance) for member in geojson["geometries"]]
        if all(member is None for member in members):
            return None
        fixed = [new or old for new, old in zip(members, geojson["geometries"], strict=True)]
        return {**geojson, "geometries": fixed}
    coordinates, changed = _clamp(geojson["coordinates"], tolerance)
    return {**geojson, "coordinates": coordinates} if changed else None


def _clamp(value: list[Any], tolerance: float) -> tuple[list[Any], bool]:
    if value and not isinstance(value[0], list):  # a position
        out = [clamp(value[0], 180.0, tolerance), clamp(value[1], 90.0, tolerance), *value[2:]]
        return out, out != value
    members = [_clamp(member, tolerance) for member in value]
    return [m for m, _ in members], any(changed for _, changed in members)


def clamp(value: float, limit: float, tolerance: float) -> float:
    """``value`` set to ±``limit`` when beyond it by at most ``tolerance``, else unchanged."""
    return math.copysign(limit, value) if limit < abs(value) <= limit + tolerance else value
