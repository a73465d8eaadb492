"""The antimeridian: geometries cut at 180° (RFC 7946 section 3.1.9) and bboxes that cross it.

A line or ring whose consecutive positions jump by more than 180° of longitude (179.9 then
-179.9) is read as crossing the antimeridian, not as going the long way round the Earth; such a
geometry is cut into parts on each side. A bbox whose west edge is east of its east edge
(``[179, 10, -179, 11]``, RFC 7946 section 5.2) crosses it and stands for two boxes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import shapely
from shapely.affinity import translate
from shapely.errors import ShapelyError
from shapely.geometry import (
    LineString,
    MultiLineString,
    MultiPolygon,
    Polygon,
    box,
    shape,
)
from shapely.geometry.base import BaseGeometry

from terrapole.jsontypes import Json

BBox = tuple[float, float, float, float]
_SHEETS = (-360.0, 0.0, 360.0)  # unwrapped longitudes are cut in [-540,-180], [-180,180], [180,540]


def bbox_parts(bbox: BBox) -> list[BBox]:
    """The one box ``bbox`` is, or the two on each side of 180° when it crosses."""
    minx, miny, maxx, maxy = bbox
    if minx <= maxx:
        return [bbox]
    return [(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)]


def bbox_geometry(bbox: BBox) -> BaseGeometry:
    """The area of ``bbox``: a rectangle, or two for a crossing bbox."""
    parts = [box(*part) for part in bbox_parts(bbox)]
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def intersect_bboxes(a: BBox, b: BBox) -> BBox | None:
    """The bbox shared by ``a`` and ``b`` (either may cross 180°), or None if they do not meet."""
    shared: list[BBox] = []
    for p in bbox_parts(a):
        for q in bbox_parts(b):
            box_ = (max(p[0], q[0]), max(p[1], q[1]), min(p[2], q[2]), min(p[3], q[3]))
            if box_[0] <= box_[2] and box_[1] <= box_[3]:
                shared.append(box_)
    if not shared:
        return None
    if len(shared) == 1:
        return shared[0]
    east = max(shared, key=lambda s: s[0])
    west = min(shared, key=lambda s: s[0])
    return (east[0], min(s[1] for s in shared), west[2], max(s[3] for s in shared))


def side_boxes(geom: BaseGeometry) -> list[BBox]:
    """Boxes covering ``geom``: its bounds, or one box per side of 180° when that is narrower.

    A geometry cut at the antimeridian has parts near 180° and near -180°; its bounds span the
    whole Earth, its two side boxes (east of 0° first) only what it covers.
    """
    bounds = _floats(geom.bounds)
    parts = list(getattr(geom, "geoms", ()))
    if bounds[2] - bounds[0] <= 180 or not parts:
        return [bounds]
    east = [p for p in parts if p.centroid.x >= 0]
    west = [p for p in parts if p.centroid.x < 0]
    if not east or not west:
        return [bounds]
    east_box, west_box = _floats(shapely.total_bounds(east)), _floats(shapely.total_bounds(west))
    crossing_width = (east_box[2] - east_box[0]) + (west_box[2] - west_box[0])
    if crossing_width >= bounds[2] - bounds[0] or east_box[0] <= west_box[2]:
        return [bounds]
    return [east_box, west_box]


def _floats(values: Any) -> BBox:
    """Four Python floats (numpy's do not serialise everywhere)."""
    x0, y0, x1, y1 = (float(v) for v in values)
    return (x0, y0, x1, y1)


def geometry_bbox(geom: BaseGeometry) -> BBox:
    """The smallest bbox of ``geom``, crossing 180° (west > east) when that is smaller."""
    boxes = side_boxes(geom)
    if len(boxes) == 1:
        return boxes[0]
    east, west = boxes
    return (east[0], min(east[1], west[1]), west[2], max(east[3], west[3]))


def _jumps(coords: np.ndarray) -> np.ndarray:
    """Which steps between consecutive positions jump across 180° (179.9 then -179.9).

    ``180`` then ``-180`` at the same latitude is no jump but a line along a parallel all round
    the Earth (the edge of a global box); at two latitudes it is a line along the antimeridian.
    """
    xs, ys = coords[:, 0], coords[:, 1]
    along_parallel = (np.abs(xs[:-1]) == 180) & (np.abs(xs[1:]) == 180) & (ys[:-1] == ys[1:])
    jumps: np.ndarray = (np.abs(np.diff(xs)) > 180) & ~along_parallel
    return jumps


def _unwrapped(coords: np.ndarray) -> np.ndarray:
    """Positions with longitudes made continuous (179, -179 becomes 179, 181)."""
    shift = np.where(_jumps(coords), -360.0 * np.sign(np.diff(coords[:, 0])), 0.0)
    out = coords.copy()
    out[:, 0] += np.concatenate([[0.0], np.cumsum(shift)])
    return out


def _crosses(geom: BaseGeometry) -> bool:
    if isinstance(geom, Polygon):
        rings = [geom.exterior, *geom.interiors]
        return any(bool(_jumps(np.asarray(r.coords)).any()) for r in rings)
    if isinstance(geom, LineString):
        return bool(_jumps(np.asarray(geom.coords)).any())
    return False


def _ring(coords: np.ndarray) -> np.ndarray:
    """An unwrapped exterior ring; one that goes round a pole is closed along that pole."""
    ring = _unwrapped(coords)
    if ring[0, 0] != ring[-1, 0]:
        pole = 90.0 if ring[:, 1].mean() > 0 else -90.0
        around = np.array([[ring[-1, 0], pole], [ring[0, 0], pole], ring[0, :2]])
        ring = np.vstack([ring[:, :2], around])
    trimmed: np.ndarray = ring[:, :2]
    return trimmed


def _unwrapped_polygon(polygon: Polygon) -> BaseGeometry:
    exterior = _ring(np.asarray(polygon.exterior.coords))
    centre = (exterior[:, 0].min() + exterior[:, 0].max()) / 2
    holes = []
    for interior in polygon.interiors:
        hole = _unwrapped(np.asarray(interior.coords))[:, :2]
        hole[:, 0] -= 360.0 * np.round((hole[:, 0].mean() - centre) / 360.0)
        holes.append(hole)
    unwrapped = Polygon(exterior, holes)
    return unwrapped if unwrapped.is_valid else shapely.make_valid(unwrapped)


def _pieces(unwrapped: BaseGeometry) -> list[BaseGeometry]:
    pieces = []
    for offset in _SHEETS:
        piece = unwrapped.intersection(box(offset - 180.0, -90.0, offset + 180.0, 90.0))
        if not piece.is_empty:
            pieces.append(translate(piece, xoff=-offset))
    return pieces


def cut(geom: BaseGeometry) -> BaseGeometry | None:
    """``geom`` cut in parts on each side of 180°, or None when none of its lines crosses it.

    Polygons and lines (single or multi) are cut; points never cross.
    """
    parts = list(geom.geoms) if isinstance(geom, MultiPolygon | MultiLineString) else [geom]
    if not any(_crosses(part) for part in parts):
        return None
    pieces: list[BaseGeometry] = []
    for part in parts:
        if isinstance(part, Polygon):
            pieces.extend(_pieces(_unwrapped_polygon(part)))
        else:
            line = _unwrapped(np.asarray(part.coords))
            pieces.extend(_pieces(LineString(line)))
    if isinstance(geom, Polygon | MultiPolygon):
        polygons = [p for p in shapely.get_parts(shapely.union_all(pieces)) if p.area > 0]
        return polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)
    lines = [line for p in pieces for line in shapely.get_parts(p) if line.length > 0]
    return lines[0] if len(lines) == 1 else MultiLineString(lines)


def region(bbox: BBox | None, intersects: Json | None) -> BaseGeometry | None:
    """The area a search asks for: its ``intersects`` geometry or its ``bbox``, either of them
    cut at 180° when it crosses; None when the search has neither."""
    if intersects is not None:
        geom = shape(intersects)
        parts = cut(geom)
        return geom if parts is None else parts
    return bbox_geometry(bbox) if bbox is not None else None


def geometry_literals(node: Any) -> Any:
    """A CQL2 JSON tree with its bbox literals given as GeoJSON, and its geometries that cross
    180° cut there: for pgstac, which reads neither ``{"bbox": [...]}`` nor the antimeridian."""
    if isinstance(node, list):
        return [geometry_literals(member) for member in node]
    if not isinstance(node, dict):
        return node
    bbox = node.get("bbox")
    if (
        isinstance(bbox, list)
        and len(bbox) in (4, 6)
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in bbox)
    ):  # anything else is left for pgstac to refuse
        half = len(bbox) // 2
        return geojson(bbox_geometry((bbox[0], bbox[1], bbox[half], bbox[half + 1])))
    if "coordinates" in node and isinstance(node.get("type"), str):
        try:
            parts = cut(shape(node))
        except (ShapelyError, ValueError, TypeError, AttributeError, IndexError, KeyError):
            return node  # not a geometry: pgstac refuses it
        return node if parts is None else geojson(parts)
    return {key: geometry_literals(value) for key, value in node.items()}


def geojson(geom: BaseGeometry) -> Json:
    """``geom`` as a GeoJSON geometry object (lists, not tuples)."""
    decoded: Json = orjson.loads(shapely.to_geojson(geom))
    return decoded
