"""Ground deformation by image correlation between two dates of the same area.

Both products' band (by default the red band, FRE_B4) are read on one grid over the zone; the
sub-pixel offsets of every window (:mod:`terrapole.processing.correlation`) become east-west and
north-south displacements in metres (east and north positive) with the correlation score, on the
grid of window centres; windows scoring below the threshold are left empty (NaN). A plot shows
the displacement vectors over the first image.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import numpy as np
import rasterio
from affine import Affine
from shapely.geometry import box, mapping
from typing_extensions import override

from terrapole.catalog.store import ReadStore
from terrapole.cube import loading
from terrapole.cube.zones import ZONES_SCHEMA, union, zones
from terrapole.errors import InvalidInput
from terrapole.jobs.process import File, JobContext, Layer, Parameter, Process, Result
from terrapole.jsontypes import Json
from terrapole.processing import correlation

CPU_S_PER_WINDOW = 0.004  # three 32 x 32 correlations and their refinement, with margin
MAX_PIXELS = 25_000_000


class GroundDeformation(Process):
    """E-W and N-S displacement between two dates by sub-pixel image correlation."""

    id: ClassVar[str] = "ground-deformation"
    title: ClassVar[str] = "Ground deformation (image correlation)"
    description: ClassVar[str] = (
        "Displacement between two dates of the same area (east-west and north-south, metres) "
        "by sub-pixel correlation of the images, with the correlation score."
    )
    keywords: ClassVar[tuple[str, ...]] = ("deformation", "correlation", "landslide", "glacier")
    parameters: ClassVar[tuple[Parameter, ...]] = (
        Parameter("collection", "Collection", {"type": "string", "minLength": 1}),
        Parameter("before", "First product", {"type": "string", "minLength": 1}),
        Parameter("after", "Second product", {"type": "string", "minLength": 1}),
        Parameter("zone", "Zone (GeoJSON, WGS84)", ZONES_SCHEMA, "where to measure"),
        Parameter("asset", "Band", {"type": "string", "minLength": 1},
                  "the band to correlate (a textured one: red or panchromatic)", expert=True,
                  default="FRE_B4"),
        Parameter("window", "Window (pixels)", {"type": "integer", "minimum": 8, "maximum": 256},
                  expert=True, default=32),
        Parameter("step", "Step (pixels)", {"type": "integer", "minimum": 1, "maximum": 256},
                  expert=True, default=16),
        Parameter("min_score", "Lowest score kept", {"type": "number", "minimum": 0,
                                                     "maximum": 1}, expert=True, default=0.3),
    )  # fmt: skip
    outputs: ClassVar[dict[str, Json]] = {
        "EW": {"title": "East-west displacement (m, east positive)", "schema": {"type": "string"}},
        "NS": {"title": "North-south displacement (m, north positive)",
               "schema": {"type": "string"}},
        "SCORE": {"title": "Correlation score", "schema": {"type": "string"}},
        "plot": {"title": "Displacement vectors (PNG)", "schema": {"type": "string"}},
    }  # fmt: skip
    stages: ClassVar[tuple[str, ...]] = ("DOWNLOAD", "CORRELATION", "PUBLICATION")

    def _inputs(self, store: ReadStore, inputs: Json) -> tuple[list[Json], Any]:
        items = [store.get_item(inputs["collection"], inputs[k]) for k in ("before", "after")]
        for item in items:
            if inputs["asset"] not in item["assets"]:
                raise InvalidInput("input 'asset'", f"{item['id']} has no {inputs['asset']!r}")
        bbox = union(zones(inputs["zone"], "input 'zone'")).bounds
        transform = items[0]["assets"][inputs["asset"]].get("proj:transform") or [10.0]
        grid = loading.grid(items, (inputs["asset"],), abs(float(transform[0])), bbox)
        return items, grid

    @override
    def estimate(self, inputs: Json, store: ReadStore) -> float:
        if inputs["before"] == inputs["after"]:
            raise InvalidInput("input 'after'", "must be another product than 'before'")
        _, grid = self._inputs(store, inputs)
        rows, cols = grid.shape
        if rows * cols > MAX_PIXELS:
            raise InvalidInput(
                "input 'zone'", f"{rows * cols:,} pixels; the limit is {MAX_PIXELS:,}"
            )
        if min(rows, cols) < inputs["window"]:
            raise InvalidInput("input 'zone'", f"{rows} x {cols} pixels: smaller than one "
                               f"{inputs['window']} px window")  # fmt: skip
        windows = float((rows // inputs["step"]) * (cols // inputs["step"]))
        size = float(inputs["window"]) / 32
        return 2.0 + CPU_S_PER_WINDOW * windows * size * size

    @override
    def run(self, context: JobContext, inputs: Json) -> Result:
        context.stage("DOWNLOAD", 0)
        items, grid = self._inputs(context.store, inputs)
        local = [context.storage.localise(dict(i)) for i in items]
        stack = loading.load(local, (inputs["asset"],), grid).data[inputs["asset"]]
        nodata = stack.attrs.get("nodata")
        images = [stack.isel(time=t).values.astype("float64") for t in range(2)]
        if nodata is not None:
            images = [np.where(i == nodata, np.nan, i) for i in images]
        context.stage("CORRELATION", 10)
        found = correlation.offsets(images[0], images[1], inputs["window"], inputs["step"])
        size = abs(grid.transform.a)
        keep = found.score >= inputs["min_score"]
        ew = np.where(keep, found.dx * size, np.nan).astype("float32")
        ns = np.where(keep, -found.dy * size, np.nan).astype("float32")
        kept = f"{int(keep.sum())} of {keep.size} windows kept (score >= {inputs['min_score']})"
        context.log(kept)
        step = inputs["step"]
        origin = Affine.translation(found.cols[0] - step / 2, found.rows[0] - step / 2)
        coarse = grid.transform * origin * Affine.scale(step)
        layers = []
        for key, values, title in (("EW", ew, "east-west displacement (m)"),
                                   ("NS", ns, "north-south displacement (m)"),
                                   ("SCORE", found.score, "correlation score")):  # fmt: skip
            path = context.folder / f"{key}.tif"
            with rasterio.open(
                path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0],
                count=1, dtype="float32", crs=str(grid.crs), transform=coarse, nodata=float("nan"),
            ) as ds:  # fmt: skip
                ds.write(values.astype("float32"), 1)
            layers.append(Layer(key, path, title, unit="m" if key != "SCORE" else None))
        self._plot(context.folder / "vectors.png", images[0], found, ew, ns)
        moments = [datetime.fromisoformat(i["properties"]["datetime"].replace("Z", "+00:00"))
                   for i in items]  # fmt: skip
        extent = grid.geographic_extent.boundingbox
        median = float(np.nanmedian(np.hypot(ew, ns))) if keep.any() else None
        return Result(
            geometry=mapping(box(extent.left, extent.bottom, extent.right, extent.top)),
            start=min(moments), end=max(moments), layers=layers,
            files=[File("plot", context.folder / "vectors.png", "image/png",
                        "Displacement vectors", ("data", "overview"))],
            properties={"terrapole:windows_kept": int(keep.sum()),
                        "terrapole:window_px": inputs["window"],
                        "terrapole:median_displacement_m": median},
            derived_from=[(i["collection"], i["id"]) for i in items],
        )  # fmt: skip

    @staticmethod
    def _plot(path: Any, image: Any, found: Any, ew: Any, ns: Any) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        figure, axis = plt.subplots(figsize=(7, 7))
        axis.imshow(image, cmap="gray", vmin=np.nanpercentile(image, 2),
                    vmax=np.nanpercentile(image, 98))  # fmt: skip
        cols, rows = np.meshgrid(found.cols, found.rows)
        quiver = axis.quiver(cols, rows, ew, ns, np.hypot(ew, ns), cmap="viridis")
        figure.colorbar(quiver, ax=axis, label="displacement (m)", shrink=0.8)
        axis.set_title("displacement between the two dates (east, north)")
        figure.tight_layout()
        figure.savefig(path, dpi=100)
        plt.close(figure)
