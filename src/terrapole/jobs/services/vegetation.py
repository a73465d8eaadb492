"""Vegetation indicators: an index time series over zones and a period -> phenology metrics.

For every product of the period over the zones, the index (NDVI, EVI or SAVI, from the
flat-terrain reflectances) is computed at 10 m with clouds and shadows (any cloud-mask bit) and
nodata left out; each pixel's series is gap-filled and smoothed and its season measured
(:mod:`terrapole.processing.phenology`: sos, eos, los, pos, vos, aos, bse, mos, roi, rod, lios,
sios, liot, siot; times in days from the period's start). Outputs: one GeoTIFF per metric, a
CSV per zone (mean of each metric, index statistics over the period), the zones' mean index per
date (CSV) and a plot of those series.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from typing import Any, ClassVar

import numpy as np
import rasterio
from rasterio.features import rasterize
from rasterio.warp import transform_geom
from typing_extensions import override

from terrapole.catalog.store import ReadStore
from terrapole.cube.zones import ZONES_SCHEMA, geojson, union, zones
from terrapole.errors import InvalidInput
from terrapole.jobs.process import File, JobContext, Layer, Parameter, Process, Result
from terrapole.jsontypes import Json
from terrapole.openeo import cube
from terrapole.openeo.formats import transform_of
from terrapole.processing import indices, phenology

DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
BANDS = {"NDVI": ("B4", "B8A"), "EVI": ("B4", "B8A", "B2"), "SAVI": ("B4", "B8A")}  # 10 m first
CPU_S_PER_PIXEL_DATE = 2e-5  # gap-filling and measuring a season, per pixel and date
MAX_PIXELS = 1_000_000


def _index(name: str, bands: dict[str, Any]) -> Any:
    if name == "EVI":
        return indices.evi(bands["B8A"], bands["B4"], bands["B2"])
    if name == "SAVI":
        return indices.savi(bands["B8A"], bands["B4"])
    return indices.ndvi(bands["B8A"], bands["B4"])


class VegetationIndicators(Process):
    """Phenology metrics and index statistics of zones over a period."""

    id: ClassVar[str] = "vegetation-indicators"
    title: ClassVar[str] = "Vegetation and phenology indicators"
    description: ClassVar[str] = (
        "A vegetation index over your zones and period, its season per pixel (start, end, "
        "length, peak, amplitude, integrals...) as rasters, and statistics per zone."
    )
    keywords: ClassVar[tuple[str, ...]] = ("vegetation", "phenology", "NDVI", "time series")
    parameters: ClassVar[tuple[Parameter, ...]] = (
        Parameter("zones", "Zones (GeoJSON, WGS84)", ZONES_SCHEMA,
                  "a Polygon/MultiPolygon or a FeatureCollection of them"),
        Parameter("start", "From", DATE),
        Parameter("end", "To", DATE),
        Parameter("index", "Index", {"enum": list(BANDS)}, default="NDVI"),
        Parameter("collection", "Collection", {"type": "string", "minLength": 1},
                  "Level-2A products with FRE bands and a CLM_R2 cloud mask", expert=True,
                  default="theia-sentinel-2-l2a"),
        Parameter("window", "Smoothing window (dates)", {"type": "integer", "minimum": 0,
                                                          "maximum": 31},
                  "Savitzky-Golay window; 0: no smoothing", expert=True, default=7),
        Parameter("fraction", "Season threshold", {"type": "number", "exclusiveMinimum": 0,
                                                   "exclusiveMaximum": 1},
                  "share of the amplitude above the base marking the season", expert=True,
                  default=0.5),
    )  # fmt: skip
    outputs: ClassVar[dict[str, Json]] = {
        "metrics": {"title": "Phenology metrics (GeoTIFF each)", "schema": {"type": "string"}},
        "zones": {"title": "Per-zone statistics (CSV)", "schema": {"type": "string"}},
        "series": {"title": "Zones' mean index per date (CSV, PNG)", "schema": {"type": "string"}},
    }  # fmt: skip
    stages: ClassVar[tuple[str, ...]] = ("DOWNLOAD", "INDEX", "PHENOLOGY", "STATISTICS",
                                         "PUBLICATION")  # fmt: skip

    def _request(self, inputs: Json) -> cube.LoadRequest:
        extent = union(zones(inputs["zones"], "input 'zones'"))
        bands = tuple(f"FRE_{b}" for b in BANDS[inputs["index"]]) + ("CLM_R2",)
        return cube.LoadRequest(inputs["collection"], tuple(extent.bounds),
                                f"{inputs['start']}T00:00:00Z", f"{inputs['end']}T23:59:59Z",
                                bands)  # fmt: skip

    @override
    def check(self, inputs: Json) -> Json:
        zones(inputs["zones"], "input 'zones'")
        if date.fromisoformat(inputs["end"]) <= date.fromisoformat(inputs["start"]):
            raise InvalidInput("input 'end'", "must come after 'start'")
        return inputs

    @override
    def estimate(self, inputs: Json, store: ReadStore) -> float:
        values, items = cube.values_asked(store, self._request(inputs))
        if len(items) < 4:
            raise InvalidInput("inputs", f"{len(items)} product(s) in the period: a season "
                               "needs at least 4 dates")  # fmt: skip
        pixels = values / len(items) / (len(BANDS[inputs["index"]]) + 1)
        if pixels > MAX_PIXELS:
            limit = f"{MAX_PIXELS:,} (about {MAX_PIXELS / 1e4:,.0f} km² at 10 m)"
            raise InvalidInput("input 'zones'", f"{pixels:,.0f} pixels: the limit is {limit}")
        return 2.0 + CPU_S_PER_PIXEL_DATE * pixels * len(items)

    @override
    def run(self, context: JobContext, inputs: Json) -> Result:
        context.stage("DOWNLOAD", 0)
        request = self._request(inputs)
        data = cube.load(context.store, context.storage, request, 10**9)
        context.log(f"{data.sizes['t']} products, {data.sizes['y']} x {data.sizes['x']} px")
        context.stage("INDEX", 20)
        bands = {b: data.isel(bands=n).values for n, b in enumerate(BANDS[inputs["index"]])}
        cloudy = data.isel(bands=-1).values != 0
        index = np.where(cloudy, np.nan, _index(inputs["index"], bands)).astype("float32")
        start = date.fromisoformat(inputs["start"])
        days = np.array([(np.datetime64(t, "D").astype(date) - start).days
                         for t in data["t"].values], dtype="float64")  # fmt: skip
        context.stage("PHENOLOGY", 40)
        metrics = phenology.metrics(days, index, inputs["window"] or None, inputs["fraction"])
        context.stage("STATISTICS", 80)
        transform, crs = transform_of(data), data.attrs["crs"]
        the_zones = zones(inputs["zones"], "input 'zones'")
        masks = [
            rasterize([transform_geom("EPSG:4326", crs, geojson(g))], out_shape=index.shape[1:],
                      transform=transform, fill=0, default_value=1).astype(bool)
            for _, g, _ in the_zones
        ]  # fmt: skip
        layers = []
        for name, values in metrics.items():
            path = context.folder / f"{name}.tif"
            with rasterio.open(path, "w", driver="GTiff", width=values.shape[1],
                               height=values.shape[0], count=1, dtype="float32", crs=crs,
                               transform=transform, nodata=float("nan")) as ds:  # fmt: skip
                ds.write(values, 1)
            unit = "d" if name in ("sos", "eos", "los") else None
            layers.append(Layer(name.upper(), path, f"{name} ({inputs['index']})", unit=unit))
        self._zone_table(context.folder / "zones.csv", the_zones, masks, metrics, index)
        self._series(context.folder, the_zones, masks, index, data["t"].values, inputs["index"])
        return Result(
            geometry=geojson(union(the_zones)),
            start=datetime.combine(start, datetime.min.time(), UTC),
            end=datetime.combine(date.fromisoformat(inputs["end"]), datetime.min.time(), UTC),
            layers=layers,
            files=[File("zones", context.folder / "zones.csv", "text/csv", "Per-zone statistics"),
                   File("series", context.folder / "series.csv", "text/csv",
                        "Mean index per zone and date"),
                   File("plot", context.folder / "series.png", "image/png",
                        "Mean index per zone", ("data", "overview"))],
            properties={"terrapole:index": inputs["index"], "terrapole:dates": int(len(days)),
                        "terrapole:zones": len(the_zones)},
            derived_from=list(data.attrs["items"]),
        )  # fmt: skip

    @staticmethod
    def _zone_table(path: Any, the_zones: list[Any], masks: list[Any], metrics: dict[str, Any],
                    index: Any) -> None:  # fmt: skip
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["zone", "pixels", *phenology.METRICS, "index_mean", "index_min",
                             "index_max"])  # fmt: skip
            for (name, _, _), mask in zip(the_zones, masks, strict=True):
                inside = index[:, mask]
                means = [np.nanmean(metrics[m][mask]) if mask.any() else np.nan
                         for m in phenology.METRICS]  # fmt: skip
                stats = [np.nanmean(inside), np.nanmin(inside), np.nanmax(inside)] \
                    if np.isfinite(inside).any() else [np.nan] * 3  # fmt: skip
                writer.writerow([name, int(mask.sum()), *(f"{v:.4f}" for v in [*means, *stats])])

    @staticmethod
    def _series(folder: Any, the_zones: list[Any], masks: list[Any], index: Any, times: Any,
                name: str) -> None:  # fmt: skip
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        dates = [str(np.datetime64(t, "D")) for t in times]
        figure, axis = plt.subplots(figsize=(9, 4))
        with open(folder / "series.csv", "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["zone", "date", f"{name.lower()}_mean", "clear_pixels"])
            for (zone, _, _), mask in zip(the_zones, masks, strict=True):
                values = index[:, mask]
                clear = np.isfinite(values).sum(axis=1)
                pairs = zip(values, clear, strict=True)
                means = np.array([np.nanmean(v) if c else np.nan for v, c in pairs])
                writer.writerows([zone, d, f"{m:.4f}", int(c)]
                                 for d, m, c in zip(dates, means, clear, strict=True))  # fmt: skip
                axis.plot(np.array(dates, dtype="datetime64[D]"), means, "o-", label=str(zone))
        axis.set_ylabel(f"mean {name} (clear pixels)")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
        figure.autofmt_xdate()
        figure.tight_layout()
        figure.savefig(folder / "series.png", dpi=100)
        plt.close(figure)
