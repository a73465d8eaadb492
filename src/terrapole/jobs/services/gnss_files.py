"""GNSS position files -> east/north/up series: NGL .tenv3, UNAVCO/PBO .pos, and plain CSV.

Every reader returns the station name, modified Julian days, positions (m, relative to the first
epoch) and sigmas (m). CSV: a header with ``mjd`` or ``decimal_year``, then ``east``, ``north``,
``up`` and optionally ``sigma_east``, ``sigma_north``, ``sigma_up`` (metres).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from terrapole.errors import InvalidInput

Array = NDArray[np.float64]
FIELD = "input 'series'"


@dataclass(frozen=True)
class Series:
    """A station's daily positions."""

    station: str
    mjd: Array
    enu: Array  # (3, n) metres, east, north, up relative to the first epoch
    sigma: Array  # (3, n) metres
    location: tuple[float, float] | None = None  # longitude, latitude (degrees)


def _relative(enu: Array) -> Array:
    return enu - enu[:, :1]


def read_tenv3(text: str) -> Series:
    """NGL .tenv3 (fractional + integer parts; see its README)."""
    rows = [line.split() for line in text.splitlines()
            if line.strip() and not line.startswith("site")]  # fmt: skip
    try:
        values = np.array([[float(v) for v in row[3:4] + row[7:13] + row[14:17]] for row in rows])
    except (ValueError, IndexError) as exc:
        raise InvalidInput(FIELD, f"not a .tenv3 file: {exc}") from None
    enu = np.stack([values[:, 1] + values[:, 2], values[:, 3] + values[:, 4],
                    values[:, 5] + values[:, 6]])  # fmt: skip
    location = None
    if len(rows[0]) >= 23:  # latitude, longitude (old releases: -268.9 for 91.1 E), height
        location = ((float(rows[0][21]) + 180.0) % 360.0 - 180.0, float(rows[0][20]))
    return Series(rows[0][0], values[:, 0], _relative(enu), values[:, 7:10].T, location)


def read_pos(text: str) -> Series:
    """UNAVCO/PBO .pos version 1.1 (dN, dE, dU and their sigmas)."""
    station = "STAT"
    location = None
    rows = []
    data = False
    for line in text.splitlines():
        if line.startswith("4-character ID:"):
            station = line.split(":", 1)[1].strip()
        elif line.startswith("NEU Reference position"):
            lat, lon = (float(v) for v in line.split(":", 1)[1].split()[:2])
            location = ((lon + 180.0) % 360.0 - 180.0, lat)
        elif line.startswith("*YYYYMMDD"):
            data = True
        elif data and line.strip():
            rows.append(line.split())
    if not rows:
        raise InvalidInput(FIELD, "not a .pos file: no '*YYYYMMDD' header line or no data")
    try:
        values = np.array([[float(row[2]), *map(float, row[15:21])] for row in rows])
    except (ValueError, IndexError) as exc:
        raise InvalidInput(FIELD, f"not a .pos file: {exc}") from None
    mjd, dn, de, du, sn, se, su = values.T
    enu = _relative(np.stack([de, dn, du]))
    return Series(station, mjd, enu, np.stack([se, sn, su]), location)


def read_csv(text: str) -> Series:
    """CSV with mjd (or decimal_year), east, north, up [, sigma_east, sigma_north, sigma_up]."""
    reader = csv.DictReader(io.StringIO(text))
    fields = set(reader.fieldnames or [])
    if not {"east", "north", "up"} <= fields or not fields & {"mjd", "decimal_year"}:
        raise InvalidInput(FIELD, "a CSV needs columns mjd (or decimal_year), east, north, up")
    rows = list(reader)
    try:
        if "mjd" in fields:
            mjd = np.array([float(r["mjd"]) for r in rows])
        else:
            mjd = (np.array([float(r["decimal_year"]) for r in rows]) - 2000.0) * 365.25 + 51544.5
        enu = np.array([[float(r[c]) for r in rows] for c in ("east", "north", "up")])
        sigma = np.array([[float(r.get(f"sigma_{c}") or 1.0) for r in rows]
                          for c in ("east", "north", "up")])  # fmt: skip
    except ValueError as exc:
        raise InvalidInput(FIELD, f"a CSV value is not a number: {exc}") from None
    return Series("CSV", mjd, _relative(enu), sigma)


def read_series(text: str, kind: str = "auto") -> Series:
    """Read ``text`` as ``kind`` (tenv3, pos, csv) or guess it."""
    if kind == "auto":
        head = text.lstrip()[:200]
        kind = ("pos" if head.startswith("PBO Station") else
                "tenv3" if head.startswith("site YYMMMDD") or head[4:5] == " " and
                head[5:12].isalnum() else "csv")  # fmt: skip
    series = {"tenv3": read_tenv3, "pos": read_pos, "csv": read_csv}[kind](text)
    if len(series.mjd) < 10:
        raise InvalidInput(FIELD, f"only {len(series.mjd)} positions: too short to fit")
    order = np.argsort(series.mjd)
    return Series(series.station, series.mjd[order], series.enu[:, order],
                  series.sigma[:, order], series.location)  # fmt: skip
