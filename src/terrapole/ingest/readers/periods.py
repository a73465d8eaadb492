"""Acquisition or production periods of well-known rasters that carry no date of their own.

A Copernicus DEM tile, an SRTM crop or a BD Forêt map says nothing about time in its GeoTIFF
tags (the DEM's DTED_CompilationDate is when the tile was compiled, not when it was seen), but
each product's documentation states the period it describes; the item gets that period as
``start_datetime``/``end_datetime`` instead of a day that only says when the file was copied.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Period:
    """A documented period and where it comes from."""

    start: datetime
    end: datetime
    source: str


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _copernicus_dem(stem: str, tags: Mapping[str, str]) -> bool:
    system = tags.get("DTED_DigitizingSystem", "").strip().upper()
    return system == "TANDEMX" or stem.startswith("Copernicus_DSM_")


def _srtm(stem: str, tags: Mapping[str, str]) -> bool:
    return "srtm" in stem.lower()


def _bd_foret(stem: str, tags: Mapping[str, str]) -> bool:
    return "bdforet" in stem.lower().replace("_", "").replace("-", "")


KNOWN: tuple[tuple[Callable[[str, Mapping[str, str]], bool], Period], ...] = (
    (
        _copernicus_dem,
        Period(
            _utc("2010-12-01T00:00:00"),
            _utc("2015-01-31T23:59:59"),
            "Copernicus DEM: TanDEM-X acquisitions, December 2010 to January 2015",
        ),
    ),
    (
        _srtm,
        Period(
            _utc("2000-02-11T00:00:00"),
            _utc("2000-02-22T23:59:59"),
            "SRTM: Shuttle Radar Topography Mission flight, 11 to 22 February 2000",
        ),
    ),
    (
        _bd_foret,
        Period(
            _utc("2007-01-01T00:00:00"),
            _utc("2018-12-31T23:59:59"),
            "IGN BD Forêt version 2: produced by département from 2007 to 2018",
        ),
    ),
)


def known_period(stem: str, tags: Mapping[str, str]) -> Period | None:
    """The documented period of a raster recognised by its tags or its file name, if any.

    Example:
        >>> known_period("srtm_ref", {}).start.year
        2000
    """
    for recognise, period in KNOWN:
        if recognise(stem, tags):
            return period
    return None
