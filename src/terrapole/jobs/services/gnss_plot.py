"""GNSS time-series plotter: a station's position file -> detrended plots, velocities, offsets.

Reads NGL .tenv3, UNAVCO/PBO .pos or CSV text (:mod:`.gnss_files`), fits per component a
constant, a velocity, one offset per known equipment change and (expert) annual + semi-annual
terms (:mod:`terrapole.processing.gnss`), and writes: the detrended east/north/up series as PNG
and SVG (millimetres, changes marked), the fit as JSON (velocities in mm/yr with formal sigmas,
offsets in mm) and the detrended series as CSV.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import numpy as np
from typing_extensions import override

from terrapole.catalog.store import ReadStore
from terrapole.errors import InvalidInput
from terrapole.jobs.process import File, JobContext, Parameter, Process, Result
from terrapole.jobs.services.gnss_files import Series, read_series
from terrapole.jsontypes import Json
from terrapole.processing import gnss

MJD0 = datetime(1858, 11, 17, tzinfo=UTC)
MAX_TEXT = 20_000_000
DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}


def _decimal_year(day: str) -> float:
    moment = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return float(gnss.decimal_year(np.array([(moment - MJD0).total_seconds() / 86400.0]))[0])


class GnssPlot(Process):
    """Detrended GNSS position plots with velocities and offsets."""

    id: ClassVar[str] = "gnss-plot"
    title: ClassVar[str] = "GNSS time-series plotter"
    description: ClassVar[str] = (
        "A station's daily positions (.tenv3, .pos or CSV) detrended and plotted, with the "
        "velocity of each component and the offsets at known equipment changes."
    )
    keywords: ClassVar[tuple[str, ...]] = ("GNSS", "GPS", "velocity", "time series", "geodesy")
    parameters: ClassVar[tuple[Parameter, ...]] = (
        Parameter("series", "Position file (text)", {"type": "string", "minLength": 1,
                                                     "maxLength": MAX_TEXT},
                  "the content of a .tenv3, .pos or CSV file"),
        Parameter("offsets", "Equipment changes", {"type": "array", "items": DATE,
                                                   "maxItems": 50},
                  "dates (YYYY-MM-DD) of antenna or receiver changes: one offset each",
                  default=[]),
        Parameter("format", "File format", {"enum": ["auto", "tenv3", "pos", "csv"]},
                  expert=True, default="auto"),
        Parameter("seasonal", "Fit annual and semi-annual terms", {"type": "boolean"},
                  expert=True, default=True),
        Parameter("location", "Station longitude, latitude", {"type": "array", "minItems": 2,
                  "maxItems": 2, "items": {"type": "number"}},
                  "where the station is, when the file does not say (CSV)", expert=True,
                  default=[]),
    )  # fmt: skip
    outputs: ClassVar[dict[str, Json]] = {
        "plot": {"title": "Detrended series (PNG, SVG)", "schema": {"type": "string",
                 "contentMediaType": "image/png"}},
        "fit": {"title": "Velocities and offsets (JSON)", "schema": {"type": "object"}},
        "series": {"title": "Detrended series (CSV)", "schema": {"type": "string",
                   "contentMediaType": "text/csv"}},
    }  # fmt: skip
    stages: ClassVar[tuple[str, ...]] = ("READING", "FITTING", "PLOTTING", "PUBLICATION")

    @override
    def check(self, inputs: Json) -> Json:
        series = read_series(inputs["series"], inputs["format"])
        if series.location is None and not inputs["location"]:
            raise InvalidInput("input 'location'", "the file gives no station position: give one")
        return inputs

    @override
    def estimate(self, inputs: Json, store: ReadStore) -> float:
        return 2.0 + 1e-4 * float(inputs["series"].count("\n"))

    @override
    def run(self, context: JobContext, inputs: Json) -> Result:
        context.stage("READING", 0)
        series = read_series(inputs["series"], inputs["format"])
        t = gnss.decimal_year(series.mjd)
        steps = [_decimal_year(d) for d in inputs["offsets"]]
        context.log(f"{series.station}: {len(t)} positions, {t[0]:.3f}-{t[-1]:.3f}")
        context.stage("FITTING", 20)
        try:
            fits = {c: gnss.fit(t, series.enu[k], series.sigma[k], steps, inputs["seasonal"])
                    for k, c in enumerate(gnss.COMPONENTS)}  # fmt: skip
        except ValueError as exc:
            raise InvalidInput("input 'offsets'", str(exc)) from None
        context.stage("PLOTTING", 60)
        report = self._report(series, fits, inputs["offsets"])
        (context.folder / "fit.json").write_text(json.dumps(report, indent=1))
        self._write_csv(context.folder / "detrended.csv", series, t, fits)
        for suffix in ("png", "svg"):
            self._plot(context.folder / f"plot.{suffix}", series, t, fits, steps, report)
        lon, lat = series.location or tuple(inputs["location"])
        start = MJD0 + timedelta(days=float(series.mjd[0]))
        end = MJD0 + timedelta(days=float(series.mjd[-1]))
        return Result(
            geometry={"type": "Point", "coordinates": [lon, lat]}, start=start, end=end,
            files=[File("plot", context.folder / "plot.png", "image/png", "Detrended series",
                        ("data", "overview")),
                   File("plot_svg", context.folder / "plot.svg", "image/svg+xml",
                        "Detrended series (SVG)"),
                   File("fit", context.folder / "fit.json", "application/json",
                        "Velocities and offsets"),
                   File("series", context.folder / "detrended.csv", "text/csv",
                        "Detrended series")],
            properties={"terrapole:station": series.station,
                        "terrapole:velocity_mm_yr": {c: report[c]["velocity_mm_yr"]
                                                     for c in gnss.COMPONENTS}},
        )  # fmt: skip

    @staticmethod
    def _report(series: Series, fits: dict[str, gnss.Fit], offsets: list[str]) -> Json:
        out: Json = {"station": series.station, "positions": int(len(series.mjd)),
                     "offset_dates": offsets,
                     "note": "sigmas are formal (white noise only)"}  # fmt: skip
        for c, f in fits.items():
            out[c] = {"velocity_mm_yr": round(f.velocity * 1000, 3),
                      "velocity_sigma_mm_yr": round(f.velocity_sigma * 1000, 4),
                      "offsets_mm": [round(o * 1000, 2) for o in f.offsets],
                      "rms_mm": round(f.rms * 1000, 2)}  # fmt: skip
        return out

    @staticmethod
    def _write_csv(path: Any, series: Series, t: Any, fits: dict[str, gnss.Fit]) -> None:
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["mjd", "decimal_year", "east_mm", "north_mm", "up_mm"])
            for n in range(len(t)):
                values = (f"{fits[c].detrended[n] * 1000:.2f}" for c in gnss.COMPONENTS)
                writer.writerow([f"{series.mjd[n]:.4f}", f"{t[n]:.5f}", *values])

    @staticmethod
    def _plot(path: Any, series: Series, t: Any, fits: dict[str, gnss.Fit], steps: list[float],
              report: Json) -> None:  # fmt: skip
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        figure, axes = plt.subplots(3, 1, figsize=(10, 8), sharex=True)
        for axis, c in zip(axes, gnss.COMPONENTS, strict=True):
            axis.plot(t, fits[c].detrended * 1000, ".", markersize=2, color="#2b6cb0")
            for step in steps:
                axis.axvline(step, color="#c53030", linestyle="--", linewidth=1)
            r = report[c]
            axis.set_ylabel(f"{c} (mm)")
            axis.set_title(f"{c}: {r['velocity_mm_yr']:.2f} ± {r['velocity_sigma_mm_yr']:.2f} "
                           f"mm/yr, RMS {r['rms_mm']:.1f} mm", fontsize=9, loc="left")  # fmt: skip
            axis.grid(alpha=0.3)
        axes[-1].set_xlabel("year")
        figure.suptitle(f"{series.station}: detrended positions (trend and offsets removed)")
        figure.tight_layout()
        figure.savefig(path, dpi=110)
        plt.close(figure)
