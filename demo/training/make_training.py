"""Derive the demo's land-cover training polygons from the real IGN BD Forêt crop.

Each 10 x 10 px (100 m) square of ``../products/landcover/BDForet_ZoneTest.tif`` whose pixels are
at least 90 % one class becomes a polygon of that class (1 forest, 0 other land), in WGS84.
Run from the repository root: ``python demo/training/make_training.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import rasterio
from rasterio.warp import transform_geom
from shapely.geometry import box, mapping

HERE = Path(__file__).parent
SOURCE = HERE.parent / "products" / "landcover" / "BDForet_ZoneTest.tif"
SIZE, PURITY = 10, 0.9
NAMES = {0: ("other land", "d9c27a"), 1: ("forest", "1f7a1f")}


def main() -> None:
    """Write bdforet_training.geojson beside this script."""
    with rasterio.open(SOURCE) as ds:
        mask, transform, crs = ds.read(1), ds.transform, ds.crs
    features = []
    for row in range(0, mask.shape[0], SIZE):
        for col in range(0, mask.shape[1], SIZE):
            square = mask[row : row + SIZE, col : col + SIZE]
            share = float(np.mean(square == 1))
            if PURITY > share > 1 - PURITY:
                continue
            code = int(share >= PURITY)
            x0, y0 = transform * (col, row)
            x1, y1 = transform * (col + SIZE, row + SIZE)
            geometry = transform_geom(crs, "EPSG:4326", mapping(box(x0, y1, x1, y0)), precision=7)
            name, colour = NAMES[code]
            properties = {"class": code, "name": name, "color": colour}
            features.append({"type": "Feature", "properties": properties, "geometry": geometry})
    collection = {"type": "FeatureCollection", "features": features}
    (HERE / "bdforet_training.geojson").write_text(json.dumps(collection, indent=1) + "\n")
    print(f"{len(features)} polygons")


if __name__ == "__main__":
    main()
