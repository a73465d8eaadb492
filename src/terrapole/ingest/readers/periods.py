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


TAGS = ("start_datetime", "end_datetime")  # GDAL metadata items a producer may set


def tagged_period(tags: Mapping[str, str]) -> Period | None:
    """The period written in the file's own ``start_datetime``/``end_datetime`` tags
    (``gdal_edit.py -mo start_datetime=2019-01-01T00:00:00Z -mo end_datetime=...``).

    Raises:
        ValueError: one tag without the other, a date that is not ISO 8601, or an end first.
    """
    given = [tags.get(name) for name in TAGS]
    if given == [None, None]:
        return None
    if None in given:
        raise ValueError("start_datetime and end_datetime tags must be given together")
    try:
        start, end = (datetime.fromisoformat(str(v).replace("Z", "+00:00")) for v in given)
    except ValueError as exc:
        raise ValueError(f"start_datetime/end_datetime tags are not ISO 8601: {exc}") from exc
    start, end = (t if t.tzinfo else t.replace(tzinfo=UTC) for t in (start, end))
    if end < start:
        raise ValueError("end_datetime tag is before start_datetime")
    return Period(start.astimezone(UTC), end.astimezone(UTC), "the file's start/end_datetime tags")


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
