"""The mapping file of a tabular import (TOML): which columns hold what.

A CSV or RDB time series says nothing about itself that an import can trust: which column is
the discharge, in which unit, at which station, in which time zone. The mapping file says
it, once per kind of file, and is checked whole before a row is read (an error names the
mapping key). Its tables::

    [source]     format = "csv" | "whitespace" | "rdb"; delimiter; skip_lines; header;
                 columns (names when the file has no header line)
    [producer]   identifier, name, description
    [dataset]    identifier, title, description, licence, doi, keywords
    [sensor]     name, description (the instrument or procedure)
    [station]    column (station code per row) | id + name + lat + lon (one fixed station) |
                 id_from_filename (a regex with a group ``id``); [[station.metadata]] tables
                 name, coordinates and elevation per code from side files
    [time]       columns (joined by ``separator``), format (one or a list, strptime),
                 zone (IANA name) | zone_column + zone_codes (code → UTC offset); period
                 ("P1D", "PT1H": each value covers [t, t + period))
    [[series]]   column, property, definition (thesaurus URI), unit (UCUM code),
                 categories, flag_column, flags (code → meaning), missing (markers)

Times without a zone are refused: ``zone`` (or ``zone_column``) is required unless every
time format carries its offset (``%z``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path, PurePath
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from terrapole.errors import InvalidInput
from terrapole.insitu.model import Unit
from terrapole.insitu.units import unit_of

FORMATS = ("csv", "whitespace", "rdb")
_PERIOD = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")


def _table(doc: dict[str, Any], key: str, *, required: bool = True) -> dict[str, Any]:
    value = doc.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"mapping [{key}]", "required table" if value is None else "not a table")
    return value


def _text(doc: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = doc.get(key, default)
    if not isinstance(value, str):
        raise InvalidInput(f"mapping {where}.{key}", "required text")
    return value


def _opt_text(doc: dict[str, Any], key: str, where: str) -> str | None:
    value = doc.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"mapping {where}.{key}", "must be text")
    return value


def _texts(doc: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = doc.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"mapping {where}.{key}", "must be text or a list of text")
    return tuple(value)


def _number(doc: dict[str, Any], key: str, where: str) -> float | None:
    value = doc.get(key)
    if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
        raise InvalidInput(f"mapping {where}.{key}", "must be a number")
    return None if value is None else float(value)


def parse_period(text: str, where: str) -> timedelta:
    """A duration from ``P1D``, ``PT1H``, ``PT15M`` (days, hours, minutes)."""
    found = _PERIOD.match(text)
    if not found or text in ("P", "PT") or not any(found.groups()):
        raise InvalidInput(where, f"{text!r} is not a duration like P1D, PT1H or PT15M")
    days, hours, minutes = (int(g) if g else 0 for g in found.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


@dataclass(frozen=True)
class Source:
    """How the file is laid out."""

    format: str
    delimiter: str = ","
    skip_lines: int = 0
    header: bool = True
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class SideFile:
    """A station metadata file: code column and the columns of name, coordinates, elevation."""

    path: Path
    source: Source
    id: str
    name: str | None = None
    lat: str | None = None
    lon: str | None = None
    elevation: str | None = None


@dataclass(frozen=True)
class StationRule:
    """Where each row's station comes from."""

    column: str | None = None
    id: str | None = None
    name: str | None = None
    lat: float | None = None
    lon: float | None = None
    elevation: float | None = None
    id_from_filename: re.Pattern[str] | None = None
    metadata: tuple[SideFile, ...] = ()


@dataclass(frozen=True)
class TimeRule:
    """How a row's time is read and placed in UTC."""

    columns: tuple[str, ...]
    formats: tuple[str, ...]
    separator: str = " "
    zone: ZoneInfo | None = None
    zone_column: str | None = None
    zone_codes: dict[str, str] = field(default_factory=dict)
    period: timedelta | None = None


@dataclass(frozen=True)
class Series:
    """One value column and what it observes."""

    column: str
    property: str
    definition: str
    unit: Unit
    unit_code: str
    description: str = ""
    categories: tuple[str, ...] = ()
    flag_column: str | None = None
    flags: dict[str, str] = field(default_factory=dict)
    missing: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Mapping:
    """A whole mapping file, checked."""

    source: Source
    producer: dict[str, Any]
    dataset: dict[str, Any]
    sensor: dict[str, Any]
    station: StationRule
    time: TimeRule
    series: tuple[Series, ...]
    path: Path | None = None


def _source(doc: dict[str, Any], where: str) -> Source:
    fmt = _text(doc, "format", where)
    if fmt not in FORMATS:
        raise InvalidInput(f"mapping {where}.format", f"{fmt!r} is not one of {', '.join(FORMATS)}")
    skip = doc.get("skip_lines", 0)
    if not isinstance(skip, int) or skip < 0:
        raise InvalidInput(f"mapping {where}.skip_lines", "must be a whole number ≥ 0")
    header = doc.get("header", True)
    columns = _texts(doc, "columns", where)
    if not header and not columns:
        raise InvalidInput(f"mapping {where}.columns", "required when header = false")
    delimiter = _text(doc, "delimiter", where, default="\t" if fmt == "rdb" else ",")
    return Source(fmt, delimiter, skip, bool(header), columns)


def side_file_path(base: Path, name: str, where: str) -> Path:
    """The side file ``name`` inside ``base``: a mapping never reaches beyond its own folder.

    A mapping may come from an upload, so an absolute path or a ``..`` step is refused
    (otherwise a producer could import any server file as station metadata and read it back
    through the public API). Links are followed: an upload folder holds only the files sent,
    and an operator's own folder may link to shared side files.
    """
    relative = PurePath(name)
    if not name.strip() or relative.is_absolute() or relative.drive or ".." in relative.parts:
        raise InvalidInput(
            f"mapping {where}.file", f"{name!r} must be a path inside the mapping's folder"
        )
    return base / relative


def _station(doc: dict[str, Any], base: Path) -> StationRule:
    where = "[station]"
    column = _opt_text(doc, "column", where)
    fixed = _opt_text(doc, "id", where)
    pattern = _opt_text(doc, "id_from_filename", where)
    if sum(x is not None for x in (column, fixed, pattern)) != 1:
        raise InvalidInput(f"mapping {where}", "give exactly one of column, id, id_from_filename")
    regex = None
    if pattern is not None:
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise InvalidInput(f"mapping {where}.id_from_filename", str(exc)) from exc
        if "id" not in regex.groupindex:
            raise InvalidInput(f"mapping {where}.id_from_filename", "needs a group (?P<id>...)")
    sides = []
    for n, side in enumerate(doc.get("metadata", [])):
        at = f"[station.metadata][{n}]"
        if not isinstance(side, dict):
            raise InvalidInput(f"mapping {at}", "not a table")
        sides.append(
            SideFile(
                path=side_file_path(base, _text(side, "file", at), at),
                source=_source(side, at),
                id=_text(side, "id", at),
                name=_opt_text(side, "name", at),
                lat=_opt_text(side, "lat", at),
                lon=_opt_text(side, "lon", at),
                elevation=_opt_text(side, "elevation", at),
            )
        )
    return StationRule(
        column=column,
        id=fixed,
        name=_opt_text(doc, "name", where),
        lat=_number(doc, "lat", where),
        lon=_number(doc, "lon", where),
        elevation=_number(doc, "elevation", where),
        id_from_filename=regex,
        metadata=tuple(sides),
    )


def _time(doc: dict[str, Any]) -> TimeRule:
    where = "[time]"
    columns = _texts(doc, "columns", where)
    formats = _texts(doc, "format", where)
    if not columns or not formats:
        raise InvalidInput(f"mapping {where}", "columns and format are required")
    zone_name = _opt_text(doc, "zone", where)
    zone_column = _opt_text(doc, "zone_column", where)
    codes = doc.get("zone_codes", {})
    if not isinstance(codes, dict) or not all(isinstance(v, str) for v in codes.values()):
        raise InvalidInput(f"mapping {where}.zone_codes", "must map codes to offsets like -05:00")
    zone = None
    if zone_name is not None:
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidInput(f"mapping {where}.zone", f"{zone_name!r} is no IANA zone") from exc
    if zone is None and zone_column is None and not all("%z" in f for f in formats):
        raise InvalidInput(
            f"mapping {where}.zone",
            "times without zone: give zone (e.g. UTC, Europe/Amsterdam), zone_column, "
            "or a format with %z",
        )
    period = doc.get("period")
    return TimeRule(
        columns=columns,
        formats=formats,
        separator=_text(doc, "separator", where, default=" "),
        zone=zone,
        zone_column=zone_column,
        zone_codes=dict(codes),
        period=None if period is None else parse_period(str(period), f"mapping {where}.period"),
    )


def _series(doc: Any, n: int) -> Series:
    where = f"[[series]][{n}]"
    if not isinstance(doc, dict):
        raise InvalidInput(f"mapping {where}", "not a table")
    code = _text(doc, "unit", where)
    flags = doc.get("flags", {})
    if not isinstance(flags, dict):
        raise InvalidInput(f"mapping {where}.flags", "must map flag codes to meanings")
    return Series(
        column=_text(doc, "column", where),
        property=_text(doc, "property", where),
        definition=_text(doc, "definition", where),
        unit=unit_of(code, f"mapping {where}.unit"),
        unit_code=code,
        description=_text(doc, "description", where, default=""),
        categories=_texts(doc, "categories", where),
        flag_column=_opt_text(doc, "flag_column", where),
        flags={str(k): str(v) for k, v in flags.items()},
        missing=frozenset(_texts(doc, "missing", where)),
    )


def parse_mapping(doc: dict[str, Any], base: Path, path: Path | None = None) -> Mapping:
    """Check a decoded mapping document; side files are relative to ``base``."""
    series = doc.get("series")
    if not isinstance(series, list) or not series:
        raise InvalidInput("mapping [[series]]", "at least one series is required")
    producer, dataset = _table(doc, "producer"), _table(doc, "dataset")
    _text(producer, "identifier", "[producer]")
    _text(producer, "name", "[producer]")
    _text(dataset, "identifier", "[dataset]")
    _text(dataset, "title", "[dataset]")
    sensor = _table(doc, "sensor")
    _text(sensor, "name", "[sensor]")
    return Mapping(
        source=_source(_table(doc, "source"), "[source]"),
        producer=producer,
        dataset=dataset,
        sensor=sensor,
        station=_station(_table(doc, "station"), base),
        time=_time(_table(doc, "time")),
        series=tuple(_series(s, n) for n, s in enumerate(series)),
        path=path,
    )


def load_mapping(path: Path) -> Mapping:
    """Read and check a TOML mapping file (InvalidInput naming the key at fault)."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput("mapping", f"cannot read {path.name}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput("mapping", f"{path.name} is not valid TOML: {exc}") from exc
    return parse_mapping(doc, path.parent, path)
