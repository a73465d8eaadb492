"""Order areas: geodesic km² against the ellipsoid's own formula, AOI ∩ footprints, refusals."""

from __future__ import annotations

import math
from typing import Any

import pytest
import shapely
from shapely.geometry import mapping

from terrapole.access.areas import (
    TASKING_MIN_KM2,
    archive_km2,
    geodesic_km2,
    polygon,
    tasking_km2,
)
from terrapole.errors import InvalidInput

# WGS84
_A = 6378137.0
_F = 1 / 298.257223563
_B = _A * (1 - _F)
_E = math.sqrt(1 - (_B / _A) ** 2)


def _band_km2(lat1: float, lat2: float, dlon: float) -> float:
    """Area of the ellipsoidal quadrangle between two parallels and two meridians, in km²:
    (b²·Δλ/2)·[q(φ2) − q(φ1)], q(φ) = sinφ/(1−e²sin²φ) + ln((1+e·sinφ)/(1−e·sinφ))/(2e)
    (the authalic-latitude integral; independent of pyproj's geodesic polygon code)."""

    def q(lat: float) -> float:
        s = math.sin(math.radians(lat))
        return s / (1 - _E**2 * s**2) + math.log((1 + _E * s) / (1 - _E * s)) / (2 * _E)

    return _B**2 * math.radians(dlon) / 2 * (q(lat2) - q(lat1)) / 1e6


def _box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    return dict(mapping(shapely.box(west, south, east, north)))


def _dense_box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    """A box whose parallels are drawn with many vertices (pyproj joins vertices by geodesics,
    which bulge poleward off a parallel)."""
    return dict(mapping(shapely.box(west, south, east, north).segmentize(0.01)))


def test_a_one_degree_cell_at_the_equator_is_12308_km2() -> None:
    reference = _band_km2(0, 1, 1)
    assert reference == pytest.approx(12308.46, abs=0.01)
    # a plain box: its top edge is a geodesic, 0.3 km² off the parallel
    assert geodesic_km2(polygon(_box(0, 0, 1, 1))) == pytest.approx(reference, rel=1e-4)
    assert geodesic_km2(polygon(_dense_box(0, 0, 1, 1))) == pytest.approx(reference, rel=1e-6)


def test_areas_shrink_with_latitude_as_the_ellipsoid_says() -> None:
    for south in (30, 60, 80):
        measured = geodesic_km2(polygon(_dense_box(5, south, 6, south + 1)))
        assert measured == pytest.approx(_band_km2(south, south + 1, 1), rel=1e-6)
    assert geodesic_km2(polygon(_box(5, 60, 6, 61))) < geodesic_km2(polygon(_box(5, 0, 6, 1))) / 1.9


def test_ring_orientation_does_not_change_the_area() -> None:
    clockwise = {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]}
    assert geodesic_km2(polygon(clockwise)) == pytest.approx(
        geodesic_km2(polygon(_box(0, 0, 1, 1)))
    )


def test_archive_km2_cuts_each_footprint_by_the_aoi() -> None:
    footprints = {"left": _box(0, 0, 1, 1), "right": _box(1, 0, 2, 1)}
    aoi = _dense_box(0.5, 0, 1.5, 1)
    areas = archive_km2(footprints, aoi)
    # each product gives half of its cell
    half = _band_km2(0, 1, 0.5)
    assert areas["left"] == pytest.approx(half, rel=1e-4)
    assert areas["right"] == pytest.approx(half, rel=1e-4)


def test_archive_km2_without_aoi_is_the_whole_footprints() -> None:
    areas = archive_km2({"a": _box(0, 0, 1, 1)})
    assert areas["a"] == pytest.approx(_band_km2(0, 1, 1), rel=1e-4)


def test_an_aoi_outside_every_footprint_is_refused() -> None:
    with pytest.raises(InvalidInput, match="outside every product footprint"):
        archive_km2({"a": _box(0, 0, 1, 1)}, _box(10, 10, 11, 11))


def test_an_aoi_touching_a_footprint_only_by_an_edge_is_outside_it() -> None:
    with pytest.raises(InvalidInput, match="outside every product footprint"):
        archive_km2({"a": _box(0, 0, 1, 1)}, _box(1, 0, 2, 1))


def test_a_product_the_aoi_misses_is_named() -> None:
    with pytest.raises(InvalidInput, match="far"):
        archive_km2({"near": _box(0, 0, 1, 1), "far": _box(20, 20, 21, 21)}, _box(0, 0, 1, 1))


def test_an_archive_order_without_products_is_refused() -> None:
    with pytest.raises(InvalidInput, match="at least one product"):
        archive_km2({})


@pytest.mark.parametrize(
    ("geometry", "reason"),
    [
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
         "Self-intersection"),
        ({"type": "Point", "coordinates": [0, 0]}, "Polygon or MultiPolygon is required"),
        ({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, "not 'LineString'"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}, "unreadable Polygon"),
        ({"type": "Polygon", "coordinates": "nonsense"}, "unreadable Polygon"),
        ({"type": "Polygon", "coordinates": []}, "empty"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [200, 1], [0, 0]]]},
         "outside lon"),
        ({"coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}, "not None"),
    ],
)  # fmt: skip
def test_bad_aois_are_refused_with_the_reason(geometry: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason) as caught:
        polygon(geometry)
    assert caught.value.field == "aoi"


def test_a_bad_footprint_is_named_as_such() -> None:
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    with pytest.raises(InvalidInput, match="footprint of x"):
        archive_km2({"x": bowtie}, _box(0, 0, 1, 1))


def test_tasking_needs_100_km2() -> None:
    assert TASKING_MIN_KM2 == 100
    # 0.1° × 0.1° at the equator ≈ 123 km²; 0.05° × 0.05° ≈ 31 km²
    assert tasking_km2(_box(0, 0, 0.1, 0.1)) == pytest.approx(_band_km2(0, 0.1, 0.1), rel=1e-4)
    with pytest.raises(InvalidInput, match="at least 100 km²") as caught:
        tasking_km2(_box(0, 0, 0.05, 0.05))
    assert "30.8 km²" in caught.value.message


def test_a_multipolygon_aoi_counts_its_parts() -> None:
    parts = {"type": "MultiPolygon", "coordinates": [
        _box(0, 0, 0.1, 0.1)["coordinates"], _box(1, 0, 1.1, 0.1)["coordinates"]]}  # fmt: skip
    assert tasking_km2(parts) == pytest.approx(2 * _band_km2(0, 0.1, 0.1), rel=1e-4)
