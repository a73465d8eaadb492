"""A pixel's time series (:class:`~terrapole.maps.pixel_series.PixelSeries`) as JSON and CSV.

One shape for every place that hands a series out: the portal's plot, the ``point-series``
service's files and a station's EO series. JSON keeps each date's bands; CSV has one row per
date (item, datetime, value, cloudy, cloud cover) and leaves the bands out, so that its columns
do not change with the preset.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict

from terrapole.jsontypes import Json
from terrapole.maps.pixel_series import MAX_DATES, MAX_REMOTE, PixelSeries

CSV_COLUMNS = ("item", "datetime", "value", "cloudy", "cloud_cover")


def series_json(series: PixelSeries) -> Json:
    """The series as a JSON object, with the read limits it was made under."""
    return {**asdict(series), "limits": {"items": MAX_DATES, "remote_items": MAX_REMOTE}}


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def series_csv(series: PixelSeries) -> str:
    """The series as CSV text: a header, then one row per date, oldest first (empty cells
    where there is no value or no cloud cover)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for point in series.points:
        writer.writerow([_cell(getattr(point, column)) for column in CSV_COLUMNS])
    return out.getvalue()
