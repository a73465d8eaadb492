"""Zones given by users: GeoJSON in WGS84 -> valid shapely geometries, or a clear error."""

from __future__ import annotations

from typing import Any

from pyproj import Geod
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from terrapole.errors import InvalidInput

GEOD = Geod(ellps="WGS84")
POLYGONAL = ("Polygon", "MultiPolygon")
GEOMETRY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "coordinates"],
    "properties": {"type": {"enum": list(POLYGONAL)}, "coordinates": {"type": "array"}},
}
ZONES_SCHEMA: dict[str, Any] = {
    "oneOf": [
        GEOMETRY_SCHEMA,
        {"type": "object", "required": ["type", "features"],
         "properties": {"type": {"const": "FeatureCollection"},
                        "features": {"type": "array", "minItems": 1, "maxItems": 1000}}},
    ]
}  # fmt: skip


def polygon(value: Any, field: str) -> BaseGeometry:
    """A valid (Multi)Polygon in longitude/latitude from a GeoJSON geometry."""
    if not isinstance(value, dict) or value.get("type") not in POLYGONAL:
        raise InvalidInput(field, "must be a GeoJSON Polygon or MultiPolygon")
    try:
        geometry = shape(value)
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        raise InvalidInput(field, f"not a readable GeoJSON geometry: {exc}") from None
    if geometry.is_empty or not geometry.is_valid:
        from shapely.validation import explain_validity

        raise InvalidInput(field, f"invalid geometry: {explain_validity(geometry)}")
    west, south, east, north = geometry.bounds
    if west < -180 or east > 180 or south < -90 or north > 90:
        raise InvalidInput(field, "coordinates must be longitude/latitude (EPSG:4326)")
    return geometry


def zones(value: Any, field: str) -> list[tuple[str, BaseGeometry, dict[str, Any]]]:
    """(name, geometry, properties) of each zone of a FeatureCollection (or one geometry)."""
    if isinstance(value, dict) and value.get("type") == "FeatureCollection":
        out = []
        for n, feature in enumerate(value.get("features") or []):
            if not isinstance(feature, dict):
                raise InvalidInput(f"{field} feature {n}", "must be a GeoJSON Feature")
            props = dict(feature.get("properties") or {})
            name = str(feature.get("id") or props.get("name") or props.get("id") or n + 1)
            out.append((name, polygon(feature.get("geometry"), f"{field} feature {name}"), props))
        if not out:
            raise InvalidInput(field, "has no features")
        return out
    return [("1", polygon(value, field), {})]


def union(the_zones: list[tuple[str, BaseGeometry, dict[str, Any]]]) -> BaseGeometry:
    """All the zones as one geometry (its ``bounds`` is the zones' bounding box)."""
    return unary_union([geometry for _, geometry, _ in the_zones])


def area_km2(geometry: BaseGeometry) -> float:
    """Geodesic area in km²."""
    return abs(GEOD.geometry_area_perimeter(geometry)[0]) / 1e6


def geojson(geometry: BaseGeometry) -> dict[str, Any]:
    """The geometry as a GeoJSON dict."""
    return dict(mapping(geometry))
