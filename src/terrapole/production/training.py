"""Training polygons for the land-cover chain: a GeoJSON file -> validated classes -> rasters.

The file is a FeatureCollection in WGS84 whose features are (Multi)Polygons with a ``class``
property (an integer code 0-254; 255 is the output's nodata) and optionally ``name`` and
``color`` (hex) for the legend. Its SHA-256 enters the chain's parameters, so editing the
polygons produces the land cover again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from odc.geo.geobox import GeoBox
from odc.geo.geom import Geometry
from rasterio.features import rasterize
from shapely.geometry.base import BaseGeometry

from terrapole.cube.zones import polygon
from terrapole.errors import InvalidInput
from terrapole.processing.landcover import NODATA_CLASS, UNLABELLED

FIELD = "landcover training"


@dataclass(frozen=True)
class TrainingSet:
    """Validated training polygons and their classes (code -> name, colour)."""

    polygons: list[tuple[BaseGeometry, int]]
    legend: dict[int, tuple[str, str]]

    def classes(self) -> tuple[dict[str, Any], ...]:
        """classification:classes entries of the output, in code order."""
        return tuple(
            {"value": code, "description": name, "color_hint": colour}
            for code, (name, colour) in sorted(self.legend.items())
        )


def file_digest(path: Path) -> str | None:
    """The SHA-256 of a training file's bytes (None if it cannot be read), checked or not."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def read_training(path: Path) -> TrainingSet:
    """Read and check a training file (InvalidInput naming the feature and what is wrong)."""
    try:
        document = json.loads(path.read_bytes())
    except OSError as exc:
        raise InvalidInput(FIELD, f"cannot read {path.name}: {exc.strerror}") from None
    except ValueError as exc:
        raise InvalidInput(FIELD, f"{path.name} is not JSON: {exc}") from None
    features = document.get("features") if isinstance(document, dict) else None
    if document.get("type") != "FeatureCollection" or not isinstance(features, list):
        raise InvalidInput(FIELD, f"{path.name} must be a GeoJSON FeatureCollection")
    polygons: list[tuple[BaseGeometry, int]] = []
    legend: dict[int, tuple[str, str]] = {}
    for n, feature in enumerate(features):
        where = f"{FIELD} feature {n}"
        properties = (feature or {}).get("properties") or {}
        code = properties.get("class")
        if not isinstance(code, int) or isinstance(code, bool) or not 0 <= code < NODATA_CLASS:
            raise InvalidInput(where, f"'class' must be an integer 0-254, not {code!r}")
        polygons.append((polygon(feature.get("geometry"), where), code))
        legend.setdefault(code, (str(properties.get("name", f"class {code}")),
                                 str(properties.get("color", "808080")).lstrip("#")))  # fmt: skip
    if len(legend) < 2:
        raise InvalidInput(FIELD, f"needs at least two classes; {path.name} has {list(legend)}")
    return TrainingSet(polygons, legend)


def burn(training: TrainingSet, geobox: GeoBox) -> tuple[NDArray[np.int16], NDArray[np.int32]]:
    """The class (−1 outside) and polygon number (−1 outside) of every pixel of ``geobox``."""
    if geobox.crs is None:
        raise InvalidInput(FIELD, "the output grid has no CRS")
    crs = geobox.crs
    local = [Geometry(shape, "EPSG:4326").to_crs(crs).geom for shape, _ in training.polygons]
    codes = [code for _, code in training.polygons]

    def burnt(values: list[int], dtype: str) -> Any:
        return rasterize(list(zip(local, values, strict=True)), out_shape=geobox.shape,
                         transform=geobox.transform, fill=UNLABELLED, dtype=dtype)  # fmt: skip

    return burnt(codes, "int16"), burnt(list(range(len(local))), "int32")
