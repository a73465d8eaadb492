"""Ordered areas in km²: an AOI checked, cut by product footprints, measured on the ellipsoid.

DINAMIS debits quotas and prices orders by the km² actually delivered, so an archive order
counts the AOI ∩ each product's footprint, and a tasking request counts its AOI, which must
cover at least :data:`TASKING_MIN_KM2`. Areas are geodesic (WGS84 ellipsoid, ``pyproj.Geod``),
not planar degrees. Pure functions: GeoJSON in, km² out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import shapely
from pyproj import Geod
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from terrapole.errors import InvalidInput

TASKING_MIN_KM2 = 100.0
"""Smallest tasking request (seeds deck 000_a02bede4c2ac18b6.txt line 480: "à programmer
(100 km² minimum)")."""

_GEOD = Geod(ellps="WGS84")
_POLYGONS = ("Polygon", "MultiPolygon")


def geodesic_km2(geometry: BaseGeometry) -> float:
    """Area of a lon/lat (CRS84) polygon or multipolygon on the WGS84 ellipsoid, in km².

    Edges are geodesics between the vertices (as pyproj measures them), whatever the
    orientation of the rings.

    >>> round(geodesic_km2(shapely.box(0, 0, 1, 1)))
    12308
    """
    area, _ = _GEOD.geometry_area_perimeter(geometry)
    return abs(area) / 1e6


def polygon(geojson: Mapping[str, Any] | BaseGeometry, *, field: str = "aoi") -> BaseGeometry:
    """A valid lon/lat polygon or multipolygon from GeoJSON; :class:`InvalidInput` otherwise.

    Refused: anything but a (multi)polygon, empty or unreadable geometries, coordinates off
    the globe, and invalid rings (self-intersections, too few points), with shapely's reason.
    """
    if isinstance(geojson, BaseGeometry):
        geometry = geojson
    else:
        kind = geojson.get("type") if isinstance(geojson, Mapping) else None
        if kind not in _POLYGONS:
            raise InvalidInput(field, f"a Polygon or MultiPolygon is required, not {kind!r}")
        try:
            geometry = shape(geojson)
        except (ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
            raise InvalidInput(field, f"unreadable {kind}: {exc}") from exc
        except shapely.errors.GEOSException as exc:
            raise InvalidInput(field, f"unreadable {kind}: {exc}") from exc
    if geometry.geom_type not in _POLYGONS:
        raise InvalidInput(
            field, f"a Polygon or MultiPolygon is required, not {geometry.geom_type}"
        )
    if geometry.is_empty:
        raise InvalidInput(field, "the polygon is empty")
    west, south, east, north = geometry.bounds
    if west < -180 or east > 180 or south < -90 or north > 90:
        raise InvalidInput(
            field, f"coordinates outside lon [-180, 180], lat [-90, 90]: {geometry.bounds}"
        )
    if not geometry.is_valid:
        raise InvalidInput(field, f"invalid polygon: {explain_validity(geometry)}")
    return geometry


def tasking_km2(aoi: Mapping[str, Any] | BaseGeometry) -> float:
    """The km² of a tasking request's AOI, refused below :data:`TASKING_MIN_KM2`."""
    km2 = geodesic_km2(polygon(aoi))
    if km2 < TASKING_MIN_KM2:
        raise InvalidInput(
            "aoi",
            f"a tasking request covers at least {TASKING_MIN_KM2:g} km², this AOI {km2:.1f} km²",
        )
    return km2


def archive_km2(
    footprints: Mapping[str, Mapping[str, Any]],
    aoi: Mapping[str, Any] | BaseGeometry | None = None,
) -> dict[str, float]:
    """The km² ordered of each product: its footprint ∩ the AOI (the whole footprint without one).

    ``footprints`` maps item ids to their GeoJSON geometry. An AOI that meets no footprint, or
    a product the AOI does not meet, is refused by name: nothing of it would be delivered.
    """
    if not footprints:
        raise InvalidInput("items", "an archive order names at least one product")
    cut = polygon(aoi) if aoi is not None else None
    shapes = {
        item: polygon(geometry, field=f"footprint of {item}")
        for item, geometry in footprints.items()
    }
    areas = {item: geodesic_km2(_meet(footprint, cut)) for item, footprint in shapes.items()}
    if cut is not None:
        missed = sorted(item for item, km2 in areas.items() if km2 <= 0)
        if len(missed) == len(areas):
            raise InvalidInput("aoi", "the AOI lies outside every product footprint")
        if missed:
            raise InvalidInput("aoi", f"the AOI does not meet the footprint of {', '.join(missed)}")
    return areas


def _meet(footprint: BaseGeometry, aoi: BaseGeometry | None) -> BaseGeometry:
    if aoi is None:
        return footprint
    common = footprint.intersection(aoi)
    parts: Sequence[BaseGeometry] = [
        g for g in getattr(common, "geoms", [common]) if g.geom_type in _POLYGONS
    ]  # a shared edge or corner only is no area
    return shapely.union_all(parts) if parts else shapely.Polygon()
