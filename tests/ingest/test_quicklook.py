"""Previews: a classification is drawn in its classes' colours, unclassified pixels transparent."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import rasterio
from PIL import Image
from rasterio.transform import from_origin

from terrapole.ingest.model import Raster
from terrapole.ingest.quicklook import preview_png


def test_classes_keep_their_colours(tmp_path: Path) -> None:
    path = tmp_path / "classes.tif"
    values = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [255, 255, 1, 1], [255, 255, 1, 1]], "uint8")
    with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1, dtype="uint8",
                       crs="EPSG:32631", transform=from_origin(600000, 5500000, 10, 10),
                       nodata=255) as ds:  # fmt: skip
        ds.write(values, 1)
    classes = ({"value": 0, "description": "other", "color_hint": "d9c27a"},
               {"value": 1, "description": "forest", "color_hint": "1f7a1f"})  # fmt: skip
    raster = Raster("CLASSES", str(path), "classes", ("data", "landcover"), nodata=255,
                    classes=classes)  # fmt: skip
    image = np.asarray(Image.open(io.BytesIO(preview_png([raster], 256))).convert("RGBA"))
    assert tuple(image[0, 0]) == (0xD9, 0xC2, 0x7A, 255)
    assert tuple(image[0, 3]) == (0x1F, 0x7A, 0x1F, 255)
    assert image[3, 0, 3] == 0  # nodata: transparent
