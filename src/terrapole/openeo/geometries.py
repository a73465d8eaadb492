"""``aggregate_spatial``'s ``geometries`` as the library reads them: a FeatureCollection.

openEO lets ``geometries`` be any GeoJSON: a bare geometry, a Feature or a FeatureCollection.
openeo-processes-dask reads only a FeatureCollection or a bare Polygon (anything else ends in
an internal error), so a bare geometry or a Feature is handed to it as a FeatureCollection of
one feature. A Point then samples the pixel it falls in: ``aggregate_spatial`` over a Point is
the openEO way of asking for a time series at a point (what ``point-series`` gives).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from terrapole.errors import InvalidInput

GEOMETRY_TYPES = frozenset(
    {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
)


def as_feature_collection(geometries: Any) -> Any:
    """A GeoJSON geometry or Feature as a FeatureCollection of it; anything else as it is
    (a FeatureCollection, a vector cube). A GeoJSON object of another type is refused."""
    if not isinstance(geometries, dict) or "type" not in geometries:
        return geometries
    kind = geometries["type"]
    if kind == "FeatureCollection":
        return geometries
    if kind == "Feature":
        feature = {**geometries, "properties": geometries.get("properties") or {}}
    elif kind in GEOMETRY_TYPES:
        feature = {"type": "Feature", "properties": {}, "geometry": geometries}
    else:
        raise InvalidInput("aggregate_spatial geometries", f"{kind!r} is not a GeoJSON geometry, "
                           "Feature or FeatureCollection")  # fmt: skip
    return {"type": "FeatureCollection", "features": [feature]}


def any_geojson(aggregate_spatial: Callable[..., Any]) -> Callable[..., Any]:
    """aggregate_spatial taking any GeoJSON ``geometries`` (see :func:`as_feature_collection`)."""

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if "geometries" in kwargs:
            kwargs["geometries"] = as_feature_collection(kwargs["geometries"])
        elif len(args) > 1:
            args = (args[0], as_feature_collection(args[1]), *args[2:])
        return aggregate_spatial(*args, **kwargs)

    return wrapped
