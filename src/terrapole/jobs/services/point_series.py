"""Point series: the values of a catalogued raster at one point over time, as a service.

A longitude/latitude (WGS84), a collection, a preset (NDVI, NDSI, MNDWI, an index product, snow
cover, water occurrence, a band…) or one asset by key, and an optional period give the value at
that pixel on every item covering the point, oldest first, with the item id, its date, the
cloudy mark and cloud cover (:func:`terrapole.maps.pixel_series.pixel_series`, the portal's own
reader). The job reads through what its owner may see: a hidden collection is an unknown one.
Outputs: ``series`` (JSON, with each date's bands) and ``table`` (CSV).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import ClassVar

from typing_extensions import override

from terrapole.catalog.model import SearchQuery, TimeRange
from terrapole.catalog.store import ReadStore
from terrapole.catalog.timeutil import parse_interval
from terrapole.errors import InvalidInput
from terrapole.jobs.process import File, JobContext, Parameter, Process, Result
from terrapole.jsontypes import Json
from terrapole.maps.pixel_series import (
    MAX_DATES,
    SERIES_PRESETS,
    check_point,
    pixel_series,
    preset_or_default,
)
from terrapole.maps.series_formats import series_csv, series_json

CPU_S_PER_ITEM = 0.05  # reading a pixel of 1-3 local COGs and the cloud mask, with margin
BASE_CPU_S = 0.5
PRESET_OR_ASSET = "name a preset or an asset"


def period_of(inputs: Json) -> TimeRange | None:
    """The ``datetime`` input as a catalogue time range (None: every date)."""
    return parse_interval(inputs.get("datetime"), field="input 'datetime'")


class PointSeries(Process):
    """A raster's values at one point over a collection's dates."""

    id: ClassVar[str] = "point-series"
    title: ClassVar[str] = "Time series at a point"
    description: ClassVar[str] = (
        "The value of a catalogued raster (an index such as NDVI, snow cover, water occurrence, "
        "or any asset) at one longitude/latitude on every product covering it, with each "
        "product's id, date and cloud mark, as JSON and CSV."
    )
    keywords: ClassVar[tuple[str, ...]] = ("time series", "point", "pixel", "in-situ", "NDVI")
    parameters: ClassVar[tuple[Parameter, ...]] = (
        Parameter("lon", "Longitude (WGS84)", {"type": "number", "minimum": -180, "maximum": 180}),
        Parameter("lat", "Latitude (WGS84)", {"type": "number", "minimum": -90, "maximum": 90}),
        Parameter("collection", "Collection", {"type": "string", "minLength": 1}),
        Parameter("preset", "Index or band", {"enum": [*SERIES_PRESETS, ""]},
                  f"what is read from each product ({PRESET_OR_ASSET}; ndvi when neither)",
                  default=""),
        Parameter("asset", "Asset key", {"type": "string"},
                  f"one raster asset read as it is stored, scale and offset applied "
                  f"({PRESET_OR_ASSET})", expert=True, default=""),
        Parameter("datetime", "Period", {"type": "string"},
                  "start/end (RFC 3339 or dates; '..' for an open end); empty: every date",
                  default=""),
    )  # fmt: skip
    outputs: ClassVar[dict[str, Json]] = {
        "series": {"title": "The series (JSON)", "schema": {"type": "object",
                   "contentMediaType": "application/json"}},
        "table": {"title": "The series (CSV)", "schema": {"type": "string",
                  "contentMediaType": "text/csv"}},
    }  # fmt: skip
    stages: ClassVar[tuple[str, ...]] = ("PREPARATION", "READING", "PUBLICATION")
    sync_execute: ClassVar[bool] = True

    @override
    def check(self, inputs: Json) -> Json:
        check_point(float(inputs["lon"]), float(inputs["lat"]))
        period_of(inputs)
        if inputs["preset"] and inputs["asset"]:
            raise InvalidInput("inputs 'preset','asset'", f"{PRESET_OR_ASSET}, not both")
        return inputs

    @override
    def estimate(self, inputs: Json, store: ReadStore) -> float:
        store.get_collection(inputs["collection"])  # NotFound (hidden alike) before any job
        query = SearchQuery(
            collections=(inputs["collection"],),
            intersects={"type": "Point", "coordinates": [inputs["lon"], inputs["lat"]]},
            datetime=period_of(inputs),
            limit=MAX_DATES,
        )
        return BASE_CPU_S + CPU_S_PER_ITEM * len(store.search(query).items)

    @override
    def run(self, context: JobContext, inputs: Json) -> Result:
        context.stage("PREPARATION", 0)
        lon, lat = float(inputs["lon"]), float(inputs["lat"])
        asset = inputs["asset"] or None
        preset = preset_or_default(inputs["preset"] or None, asset)
        context.stage("READING", 0)
        found = pixel_series(
            context.store, context.storage, inputs["collection"], lon, lat,
            preset=preset, asset=asset, period=period_of(inputs), hidden=frozenset(),
            progress=lambda done, total: context.stage("READING", 100 * done / total),
        )  # fmt: skip
        context.log(f"{len(found.points)} dates at {lon:g},{lat:g}"
                    + (" (truncated: the newest kept)" if found.truncated else ""))  # fmt: skip
        json_path = context.folder / "series.json"
        json_path.write_text(json.dumps(series_json(found), allow_nan=False))
        csv_path = context.folder / "series.csv"
        csv_path.write_text(series_csv(found))
        now = datetime.now(UTC)
        dates = [_moment(p.datetime) for p in found.points]
        return Result(
            geometry={"type": "Point", "coordinates": [lon, lat]},
            start=min(dates, default=now), end=max(dates, default=now),
            files=[File("series", json_path, "application/json", "The series (JSON)"),
                   File("table", csv_path, "text/csv", "The series (CSV)")],
            properties={"terrapole:dates": len(found.points),
                        "terrapole:truncated": found.truncated},
            derived_from=[(inputs["collection"], p.item) for p in found.points],
        )  # fmt: skip


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
