"""The yearly land-cover chain: a random forest trained on the user's polygons, per tile and year.

Inputs: every THEIA L2A product of the calendar year. Each of the bands B2, B3, B4, B8A, B11 and
B12 is read at 10 m (20 m bands repeated), clouds and shadows (any CLM bit) and nodata masked,
and gap-filled onto a regular grid of days (every 30 days from mid-January); NDVI is computed on
the gap-filled bands. Those 7 × 12 features feed a random forest trained on the pixels of the
training polygons (``TERRAPOLE_LANDCOVER_TRAINING``, see :mod:`terrapole.production.training`)
and validated on held-out polygons; the accuracy report goes into the item. Outputs: the class
map and the forest's confidence (% of trees voting for the class), classified chunk by chunk.
Without a configured training file the chain has no windows (``produce --list`` says so); a
year with fewer than 4 products is reported empty (no series to classify).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import dask.array as da
import numpy as np
from dask.base import compute
from dask.delayed import delayed
from numpy.typing import NDArray
from typing_extensions import override

from terrapole.errors import EmptyProduct, InvalidInput
from terrapole.processing import landcover
from terrapole.processing.indices import ndvi
from terrapole.production.chain import (
    Cadence,
    Chain,
    Context,
    Layer,
    Output,
    Window,
    item_day,
    require_assets,
    yearly_windows,
)
from terrapole.production.layers import band_key, on_grid, surface_reflectance
from terrapole.production.training import TrainingSet, burn, file_digest, read_training

RESOLUTION = 10.0
BANDS = ("B2", "B3", "B4", "B8A", "B11", "B12")
STEP_DAYS = 30
TREES = 100
TEST_FRACTION = 0.3
MIN_DATES = 4  # fewer products in a year make no time series to classify: the year is empty


def _pick(block: NDArray[Any], labels: NDArray[Any], ids: NDArray[Any]) -> tuple[Any, Any, Any]:
    """The labelled pixels of one chunk with complete features: (rows, classes, polygon ids)."""
    table = block.reshape(block.shape[0], -1).T
    keep = (labels.ravel() != landcover.UNLABELLED) & np.all(np.isfinite(table), axis=1)
    return table[keep], labels.ravel()[keep], ids.ravel()[keep]


def training_pixels(features: da.Array, labels: NDArray[Any], ids: NDArray[Any]) -> tuple[Any, ...]:
    """Feature rows, classes and polygon ids of the labelled pixels (only their chunks computed)."""
    rows, cols = features.chunks[1], features.chunks[2]
    blocks = features.to_delayed()
    picks = []
    y0 = 0
    for i, height in enumerate(rows):
        x0 = 0
        for j, width in enumerate(cols):
            part = (slice(y0, y0 + height), slice(x0, x0 + width))
            if (labels[part] != landcover.UNLABELLED).any():
                picks.append(delayed(_pick)(blocks[0, i, j], labels[part], ids[part]))
            x0 += width
        y0 += height
    found = compute(*picks)
    if not found:
        return np.empty((0, features.shape[0])), np.empty(0, int), np.empty(0, int)
    return tuple(np.concatenate([f[k] for f in found]) for k in range(3))


class LandCoverYearly(Chain):
    """A land-cover map per tile and calendar year from the configured training polygons."""

    name: ClassVar[str] = "landcover"
    title: ClassVar[str] = "Land cover"
    cadence: ClassVar[Cadence] = "yearly"
    input_collection: ClassVar[str] = "theia-sentinel-2-l2a"
    output_collection: ClassVar[str] = "theia-landcover"
    prefix: ClassVar[str] = "LANDCOVER"
    level: ClassVar[str] = "L3"
    collection_title: ClassVar[str] = "Land cover (random forest on gap-filled time series)"
    collection_description: ClassVar[str] = (
        "Per tile and calendar year at 10 m: the class of each pixel from a random forest trained "
        "on user polygons, with 6 bands and NDVI gap-filled every 30 days as features, its "
        "confidence (% of trees), and an accuracy report on held-out polygons."
    )
    algorithm_modules: ClassVar[tuple[str, ...]] = (
        "terrapole.processing.landcover", "terrapole.processing.indices",
        "terrapole.production.training",
    )  # fmt: skip

    def __init__(self, training: Path | None = None) -> None:
        """``training``: the GeoJSON polygons (the ``landcover_training`` setting); None: off."""
        self.training_file = training

    def training(self) -> TrainingSet | None:
        """The configured training set (read and checked), or None when none is configured."""
        path = self.training_file
        return read_training(path) if path is not None else None

    @override
    def parameters(self) -> dict[str, Any]:
        path = self.training_file
        digest = file_digest(path) if path is not None else None
        name = path.name if path is not None else None  # the file's name, never its folder
        return {"training_file": name, "training_sha256": digest, "bands": list(BANDS),
                "index": "NDVI", "resolution": RESOLUTION, "step_days": STEP_DAYS,
                "trees": TREES, "test_fraction": TEST_FRACTION}  # fmt: skip

    @override
    def unavailable(self) -> str | None:
        if self.training_file is None:
            return "no training polygons: set TERRAPOLE_LANDCOVER_TRAINING to a GeoJSON file"
        return None

    @override
    def windows(self, start: date, end: date) -> Iterator[Window]:
        if self.unavailable():
            return iter(())
        return yearly_windows(start, end)

    @override
    def produce(self, context: Context) -> Output:
        training = self.training()
        if training is None:
            raise InvalidInput("landcover training", self.unavailable() or "")
        if len(context.inputs) < MIN_DATES:
            raise EmptyProduct(context.window.key, f"{len(context.inputs)} product(s) in the "
                               f"year: a land-cover map needs at least {MIN_DATES}")  # fmt: skip
        keys = tuple(band_key(context.inputs[0], b) for b in BANDS)
        require_assets(context.inputs, (*keys, "CLM_R2"))
        stack = context.load((*keys, "CLM_R2"), RESOLUTION)
        start = context.window.start.date()
        days = np.array([(item_day(i) - start).days for i in context.inputs], dtype="float64")
        order = np.argsort(days, kind="stable")
        grid = np.arange(STEP_DAYS / 2, 365, STEP_DAYS)
        cloudy = stack["CLM_R2"].data[order] != 0
        filled = {}
        for band, key in zip(BANDS, keys, strict=True):
            series = da.stack([surface_reflectance(stack, key, int(t)) for t in order])
            series = da.where(cloudy, np.float32(np.nan), series).rechunk({0: -1})
            filled[band] = da.map_blocks(
                landcover.gapfill, series, days[order], grid, dtype=np.float32,
                chunks=(len(grid), *series.chunks[1:]),
            )  # fmt: skip
        features = da.concatenate([*filled.values(), ndvi(filled["B8A"], filled["B4"])])
        features = features.rechunk({0: -1})
        like = stack[keys[0]]
        labels, ids = burn(training, like.odc.geobox)
        x, y, groups = training_pixels(features, labels, ids)
        model = landcover.train(x, y, groups, test_fraction=TEST_FRACTION, trees=TREES)
        out = da.map_blocks(
            partial(landcover.predict, model.forest), features, dtype=np.uint8,
            chunks=((2,), *features.chunks[1:]),
        )  # fmt: skip
        report = asdict(model.accuracy)
        report["f1"] = {str(k): v for k, v in report["f1"].items()}
        layers = [
            Layer("CLASSES", on_grid(out[0], like), "land cover classes", ("data", "landcover"),
                  nodata=landcover.NODATA_CLASS, classes=training.classes()),
            Layer("CONFIDENCE", on_grid(out[1], like),
                  "confidence (% of trees voting for the class)", ("data", "confidence"),
                  nodata=landcover.NODATA_CLASS, unit="%"),
        ]  # fmt: skip
        properties = {"terrapole:accuracy": report, "terrapole:features": int(features.shape[0]),
                      "terrapole:training_polygons": len(np.unique(groups)),
                      "terrapole:observations": len(context.inputs)}  # fmt: skip
        return Output(layers, properties, valid_from="CLASSES")
