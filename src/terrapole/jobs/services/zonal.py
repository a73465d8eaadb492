"""Zonal statistics: polygons x one catalogued raster -> a table (CSV) and the zones (GeoJSON).

Continuous rasters give count, mean, std, min, p10, median, p90 and max per zone; categorical
ones (an asset with classification:classes, or asked for) give a class histogram. Values are
the stored numbers times the asset's scale plus offset; nodata pixels are left out. A pixel
belongs to a zone when its centre is inside (or, expert option, when the zone touches it).
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from typing import Any, ClassVar

import numpy as np
import rasterio
from rasterio.errors import WindowError
from rasterio.features import geometry_mask
from rasterio.warp import transform_geom
from rasterio.windows import Window, from_bounds
from shapely.geometry import shape
from typing_extensions import override

from terrapole.catalog.store import ReadStore
from terrapole.cube.zones import ZONES_SCHEMA, area_km2, geojson, union, zones
from terrapole.errors import InvalidInput
from terrapole.jobs.process import File, JobContext, Parameter, Process, Result
from terrapole.jsontypes import Json
from terrapole.processing.zonal import histogram, statistics

CPU_S_PER_MPX = 0.5  # measured: reading and summarising a million pixels, with margin
BASE_CPU_S = 1.0


def _asset(store: ReadStore, inputs: Json) -> tuple[Json, Json]:
    item = store.get_item(inputs["collection"], inputs["item"])  # NotFound names it
    asset = item["assets"].get(inputs["asset"])
    if asset is None:
        rasters = [k for k, a in item["assets"].items() if "image/tiff" in a.get("type", "")]
        raise InvalidInput("input 'asset'", f"{inputs['item']} has no asset {inputs['asset']!r}; "
                           f"rasters: {', '.join(rasters)}")  # fmt: skip
    return item, asset


def _pixel_size(asset: Json, item: Json) -> float:
    transform = asset.get("proj:transform") or item["properties"].get("proj:transform")
    if transform:
        return abs(float(transform[0]))
    return float(asset.get("gsd") or item["properties"].get("gsd") or 10.0)


class ZonalStatistics(Process):
    """Statistics of a raster inside polygons."""

    id: ClassVar[str] = "zonal-statistics"
    title: ClassVar[str] = "Zonal statistics"
    description: ClassVar[str] = (
        "Statistics (or class histograms) of any catalogued raster inside your polygons, "
        "as a CSV table and a GeoJSON of the zones."
    )
    keywords: ClassVar[tuple[str, ...]] = ("statistics", "zones", "polygons", "histogram")
    parameters: ClassVar[tuple[Parameter, ...]] = (
        Parameter("collection", "Collection", {"type": "string", "minLength": 1}),
        Parameter("item", "Item (product)", {"type": "string", "minLength": 1}),
        Parameter("asset", "Raster asset", {"type": "string", "minLength": 1}),
        Parameter("zones", "Zones (GeoJSON, WGS84)", ZONES_SCHEMA,
                  "a Polygon/MultiPolygon or a FeatureCollection of them"),
        Parameter("categorical", "Categorical raster", {"enum": ["auto", True, False]},
                  "histograms instead of statistics; auto: when the asset lists classes",
                  expert=True, default="auto"),
        Parameter("all_touched", "Count every touched pixel", {"type": "boolean"},
                  "pixels touched by a zone's outline count too", expert=True, default=False),
    )  # fmt: skip
    outputs: ClassVar[dict[str, Json]] = {
        "table": {"title": "Statistics per zone (CSV)", "schema": {"type": "string",
                  "contentMediaType": "text/csv"}},
        "zones": {"title": "Zones with their statistics (GeoJSON)", "schema": {"type": "object",
                  "contentMediaType": "application/geo+json"}},
    }  # fmt: skip
    stages: ClassVar[tuple[str, ...]] = ("PREPARATION", "STATISTICS", "PUBLICATION")

    @override
    def check(self, inputs: Json) -> Json:
        zones(inputs["zones"], "input 'zones'")
        return inputs

    @override
    def estimate(self, inputs: Json, store: ReadStore) -> float:
        item, asset = _asset(store, inputs)
        size = _pixel_size(asset, item)
        area = sum(area_km2(g) for _, g, _ in zones(inputs["zones"], "input 'zones'"))
        return BASE_CPU_S + CPU_S_PER_MPX * area * 1e6 / size**2 / 1e6

    @override
    def run(self, context: JobContext, inputs: Json) -> Result:
        context.stage("PREPARATION", 0)
        item, _ = _asset(context.store, inputs)
        local = context.storage.localise(dict(item))
        asset = local["assets"][inputs["asset"]]
        bands = asset.get("raster:bands") or [{}]
        scale, offset = float(bands[0].get("scale", 1.0)), float(bands[0].get("offset", 0.0))
        classes = asset.get("classification:classes") or []
        categorical = bool(classes) if inputs["categorical"] == "auto" else inputs["categorical"]
        names = {int(c["value"]): str(c.get("description") or c.get("name") or c["value"])
                 for c in classes}  # fmt: skip
        the_zones = zones(inputs["zones"], "input 'zones'")
        rows: list[Json] = []
        features: list[Json] = []
        with rasterio.open(asset["href"]) as ds:
            for n, (name, geometry, props) in enumerate(the_zones):
                context.stage("STATISTICS", 100 * n / len(the_zones))
                local_geom = transform_geom("EPSG:4326", ds.crs, geojson(geometry))
                values = self._values(ds, local_geom, inputs["all_touched"])
                if values.size == 0:
                    context.log(f"zone {name}: no pixel of the raster inside it")
                if not categorical:
                    values = values.astype("float64") * scale + offset
                result: Json = {"zone": name}
                if categorical:
                    result["classes"] = histogram(values, names)
                    result["count"] = int(sum(v["count"] for v in result["classes"].values()))
                else:
                    result.update(statistics(values))
                rows.append(result)
                features.append({"type": "Feature", "id": name, "geometry": geojson(geometry),
                                 "properties": {**props, **result}})  # fmt: skip
        context.stage("STATISTICS", 100)
        table = context.folder / "statistics.csv"
        self._write_csv(table, rows, categorical)
        collection = context.folder / "zones.geojson"
        collection.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
        moment = datetime.fromisoformat(
            (item["properties"].get("datetime") or item["properties"]["start_datetime"])
            .replace("Z", "+00:00"))  # fmt: skip
        return Result(
            geometry=geojson(union(the_zones)),
            start=moment, end=moment,
            files=[File("table", table, "text/csv", "Statistics per zone"),
                   File("zones", collection, "application/geo+json", "Zones with statistics")],
            properties={"terrapole:zones": len(the_zones), "terrapole:categorical": categorical,
                        "terrapole:source_asset": inputs["asset"]},
            derived_from=[(inputs["collection"], inputs["item"])],
        )  # fmt: skip

    @staticmethod
    def _values(ds: Any, geometry: Json, all_touched: bool) -> Any:
        """The pixel values inside ``geometry`` (raster CRS), nodata left out."""
        left, bottom, right, top = shape(geometry).bounds
        asked = from_bounds(left, bottom, right, top, ds.transform).round_offsets().round_lengths()
        try:
            window = asked.intersection(Window(0, 0, ds.width, ds.height))
        except WindowError:  # the zone is off the raster
            return np.empty(0)
        if window.width < 1 or window.height < 1:
            return np.empty(0)
        data = ds.read(1, window=window)
        inside = ~geometry_mask([geometry], out_shape=data.shape, all_touched=all_touched,
                                transform=ds.window_transform(window))  # fmt: skip
        if ds.nodata is not None:
            inside &= data != ds.nodata
        return data[inside]

    @staticmethod
    def _write_csv(path: Any, rows: list[Json], categorical: bool) -> None:
        with open(path, "w", newline="") as f:
            if categorical:
                writer = csv.writer(f)
                writer.writerow(["zone", "class", "name", "count", "fraction"])
                for row in rows:
                    for value, c in row["classes"].items():
                        writer.writerow([row["zone"], value, c["name"], c["count"],
                                         f"{c['fraction']:.6f}"])  # fmt: skip
                return
            fields = ["zone", "count", "mean", "std", "min", "p10", "median", "p90", "max"]
            dict_writer = csv.DictWriter(f, fieldnames=fields)
            dict_writer.writeheader()
            dict_writer.writerows(rows)
