"""CSV, whitespace and USGS RDB time series → Observations, as a mapping file says.

The file is read and every row checked before anything is written: a row whose time or value
cannot be read, or whose station is unknown to the station metadata, becomes a
:class:`Problem` (line number and reason). Then, by default, the good rows are imported and
the bad ones reported — a decades-long record is not lost to one mistyped line; with
``strict=True`` any problem refuses the whole file and nothing is written. Missing values
(empty cells, the mapping's markers such as ``-999``) are skipped and counted, not errors.

Writes go through :meth:`InsituStore.add_observations` (one transaction per batch, duplicates
skipped on the Datastream's phenomenon time), so a second run of the same file adds nothing,
an extended file adds only its new rows, and an interrupted run resumes by running again.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from terrapole.errors import InvalidInput
from terrapole.insitu import ensure
from terrapole.insitu.ensure import Station
from terrapole.insitu.mapping import Mapping, Series, SideFile, Source
from terrapole.insitu.model import Dataset, ObservedProperty, Producer, Sensor
from terrapole.insitu.store import InsituStore
from terrapole.insitu.times import TimeInterval

Progress = Callable[[int, int], None]
"""Called with (observations written so far, observations to write)."""
_RDB_WIDTH = re.compile(r"^(?:\d+[sdn])+$")  # "12s"; NWIS itself writes "12s12s" once
_REPORTED = 200  # problems kept in a report beyond which only the count grows


@dataclass(frozen=True)
class Problem:
    """A bad row: its 1-based line number in the file, and why."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class Report:
    """What an import read and did."""

    rows: int = 0
    inserted: int = 0
    duplicates: int = 0
    missing: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    datastreams: dict[int, int] = field(default_factory=dict)  # id → observations inserted
    dataset_id: int | None = None

    def problem(self, line: int, reason: str) -> None:
        """Record a bad row (the first few hundred kept in full)."""
        self.problem_count += 1
        if len(self.problems) < _REPORTED:
            self.problems.append(Problem(line, reason))

    def to_json(self) -> dict[str, Any]:
        """The report as JSON (CLI ``--json``, the admin API)."""
        return {
            "rows": self.rows,
            "inserted": self.inserted,
            "duplicates": self.duplicates,
            "missing": self.missing,
            "problems": self.problem_count,
            "badRows": [{"line": p.line, "reason": p.reason} for p in self.problems],
            "datastreams": {str(k): v for k, v in self.datastreams.items()},
            "dataset": self.dataset_id,
        }


# -- reading the table -------------------------------------------------------------------
def _lines(path: Path) -> list[str]:
    """The file's lines, numbered as an editor shows them (NWIS writes ``\\r\\r\\n``)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput("file", f"cannot read {path.name}: {exc.strerror}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return [line.rstrip("\r") for line in text.split("\n")]


def _split(line: str, source: Source) -> list[str]:
    if source.format == "whitespace":
        return line.split()
    if source.format == "rdb":
        return line.split(source.delimiter)
    return next(csv.reader([line], delimiter=source.delimiter))


def read_rows(path: Path, source: Source) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, column → text) per data row; InvalidInput for a bad layout."""
    lines = _lines(path)
    numbered = [(n + 1, text) for n, text in enumerate(lines)][source.skip_lines :]
    if source.format == "rdb":
        numbered = [(n, t) for n, t in numbered if not t.startswith("#")]
    numbered = [(n, t) for n, t in numbered if t.strip()]
    columns = list(source.columns)
    if source.header:
        if not numbered:
            raise InvalidInput("file", f"{path.name} has no header line")
        _, head = numbered.pop(0)
        columns = [c.strip() for c in _split(head, source)]
        if source.columns:
            columns = list(source.columns)
    if source.format == "rdb":
        if not numbered:
            raise InvalidInput("file", f"{path.name}: RDB without its format line")
        n, spec = numbered.pop(0)
        widths = spec.split("\t")
        if len(widths) != len(columns) or not all(_RDB_WIDTH.match(w) for w in widths):
            raise InvalidInput(
                "file", f"{path.name} line {n}: not an RDB format line ({spec[:40]!r})"
            )
    for n, text in numbered:
        cells = _split(text, source)
        if len(cells) != len(columns):
            yield n, {"\0": f"{len(cells)} fields where the header has {len(columns)}"}
            continue
        yield n, dict(zip(columns, (c.strip() for c in cells), strict=True))


# -- stations ----------------------------------------------------------------------------
def _float(text: str | None) -> float | None:
    try:
        return None if text is None or text == "" else float(text)
    except ValueError:
        return None


def _side_stations(sides: tuple[SideFile, ...]) -> dict[str, dict[str, Any]]:
    known: dict[str, dict[str, Any]] = {}
    for side in sides:
        for _, row in read_rows(side.path, side.source):
            if "\0" in row or side.id not in row:
                continue
            entry = known.setdefault(row[side.id], {})
            for key in ("name", "lat", "lon", "elevation"):
                column = getattr(side, key)
                if column and row.get(column):
                    entry[key] = row[column] if key == "name" else _float(row[column])
    return known


def _station_of(ident: str, known: dict[str, dict[str, Any]]) -> Station:
    meta = known.get(ident, {})
    return Station(
        identifier=ident,
        name=meta.get("name") or ident,
        lon=meta.get("lon"),
        lat=meta.get("lat"),
        elevation=meta.get("elevation"),
    )


# -- times -------------------------------------------------------------------------------
def _offset(text: str) -> timezone:
    sign = -1 if text.startswith("-") else 1
    hours, _, minutes = text.lstrip("+-").partition(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))


def _time(row: dict[str, str], mapping: Mapping) -> datetime | TimeInterval:
    rule = mapping.time
    text = rule.separator.join(row[c] for c in rule.columns).strip()
    value = None
    for fmt in rule.formats:
        try:
            value = datetime.strptime(text, fmt)
            break
        except ValueError:
            continue
    if value is None:
        raise ValueError(f"time {text!r} does not match {' or '.join(rule.formats)}")
    if value.tzinfo is None:
        if rule.zone_column is not None:
            code = row.get(rule.zone_column, "")
            if code not in rule.zone_codes:
                raise ValueError(f"time zone code {code!r} is not in zone_codes")
            value = value.replace(tzinfo=_offset(rule.zone_codes[code]))
        elif rule.zone is not None:
            value = value.replace(tzinfo=rule.zone)
        else:
            raise ValueError(f"time {text!r} has no time zone")
    if rule.period is not None:
        return TimeInterval(value, value + rule.period)
    return value


# -- parsing all rows --------------------------------------------------------------------
Key = tuple[str, int]  # (station code, series index)


@dataclass
class Parsed:
    """A file's rows sorted by station and series, ready to write."""

    stations: dict[str, Station]
    rows: dict[Key, list[tuple[Any, ...]]]
    report: Report


def _station_id(row: dict[str, str], mapping: Mapping, path: Path) -> str:
    rule = mapping.station
    if rule.column is not None:
        return row.get(rule.column, "")
    if rule.id_from_filename is not None:
        found = rule.id_from_filename.search(path.name)
        if found is None:
            raise InvalidInput("mapping [station].id_from_filename", f"no match in {path.name}")
        return found.group("id")
    assert rule.id is not None
    return rule.id


def _value(row: dict[str, str], series: Series) -> float | None:
    text = row.get(series.column, "")
    if text == "" or text in series.missing:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{series.column}: {text!r} is not a number") from None


def parse_file(path: Path, mapping: Mapping) -> Parsed:
    """Read and check every row of ``path`` (nothing written)."""
    report = Report()
    rule = mapping.station
    known = _known_stations(mapping)
    needed = {c for s in mapping.series for c in (s.column, s.flag_column) if c}
    needed |= set(mapping.time.columns) | ({rule.column} if rule.column else set())
    stations: dict[str, Station] = {}
    rows: dict[Key, list[tuple[Any, ...]]] = {}
    checked_header = False
    for line, row in read_rows(path, mapping.source):
        report.rows += 1
        if "\0" in row:
            report.problem(line, row["\0"])
            continue
        if not checked_header:
            _check_columns(needed, row, path)
            checked_header = True
        try:
            ident = _station_id(row, mapping, path)
            if not ident:
                raise ValueError("no station id")
            if rule.metadata and ident not in known:
                raise ValueError(f"unknown station id {ident!r} (not in the station metadata)")
            when = _time(row, mapping)
            values = [(n, _value(row, s)) for n, s in enumerate(mapping.series)]
        except ValueError as exc:
            report.problem(line, str(exc))
            continue
        if ident not in stations:
            stations[ident] = _station_of(ident, known)
        for n, value in values:
            if value is None:
                report.missing += 1
                continue
            series = mapping.series[n]
            flag = row.get(series.flag_column) or None if series.flag_column else None
            rows.setdefault((ident, n), []).append((when, value, None, flag))
    if report.rows == 0:
        raise InvalidInput("file", f"{path.name} has no data rows")
    return Parsed(stations, rows, report)


def _check_columns(needed: set[str], row: dict[str, str], path: Path) -> None:
    absent = sorted(needed - row.keys())
    if absent:
        raise InvalidInput("file", f"{path.name} has no column {', '.join(absent)}")


def _known_stations(mapping: Mapping) -> dict[str, dict[str, Any]]:
    rule = mapping.station
    known = _side_stations(rule.metadata)
    if rule.id is not None:
        known.setdefault(rule.id, {}).update(
            {k: v for k, v in (("name", rule.name), ("lat", rule.lat), ("lon", rule.lon),
                               ("elevation", rule.elevation)) if v is not None}
        )  # fmt: skip
    return known


# -- writing -----------------------------------------------------------------------------
def _ensure_dataset(store: InsituStore, mapping: Mapping, dataset_id: int | None) -> int:
    if dataset_id is not None:
        store.get_dataset(dataset_id, hidden=frozenset())
        return dataset_id
    p, d = mapping.producer, mapping.dataset
    producer = ensure.producer(
        store,
        Producer(identifier=p["identifier"], name=p["name"], description=p.get("description", "")),
    )
    assert producer.id is not None
    stored = ensure.dataset(
        store,
        Dataset(
            producer_id=producer.id,
            identifier=d["identifier"],
            title=d["title"],
            description=d.get("description", ""),
            licence=d.get("licence"),
            doi=d.get("doi"),
            keywords=tuple(d.get("keywords", ())),
        ),
    )
    assert stored.id is not None
    return stored.id


def import_table(
    store: InsituStore,
    path: Path,
    mapping: Mapping,
    *,
    dataset_id: int | None = None,
    strict: bool = False,
    progress: Progress | None = None,
) -> Report:
    """Import ``path`` as ``mapping`` says (into ``dataset_id`` when given, else into the
    mapping's producer/dataset, created on first use); see the module docstring."""
    parsed = parse_file(path, mapping)
    report = parsed.report
    if strict and report.problem_count:
        shown = "; ".join(str(p) for p in report.problems[:5])
        more = report.problem_count - min(5, report.problem_count)
        raise InvalidInput(
            "file",
            f"{path.name}: {report.problem_count} bad row(s), nothing imported: {shown}"
            + (f" (and {more} more)" if more else ""),
        )
    report.dataset_id = _ensure_dataset(store, mapping, dataset_id)
    s = mapping.sensor
    sensor = ensure.sensor(store, Sensor(name=s["name"], description=s.get("description", "")))
    total = sum(len(r) for r in parsed.rows.values())
    done = 0
    for (ident, n), rows in sorted(parsed.rows.items()):
        series = mapping.series[n]
        station = parsed.stations[ident]
        thing = ensure.thing(store, report.dataset_id, station)
        prop = ensure.observed_property(
            store,
            ObservedProperty(
                name=series.property,
                definition=series.definition,
                description=series.description,
                properties={"theiaCategories": list(series.categories)}
                if series.categories
                else {},
            ),
        )
        extra: dict[str, Any] = {"sourceColumn": series.column}
        if series.flags:
            extra["qualityFlags"] = [{"code": k, "description": v} for k, v in series.flags.items()]
        if series.missing:
            extra["missingValue"] = sorted(series.missing)[0]
        ds = ensure.datastream(store, thing, sensor, prop, series.unit, properties=extra)
        assert ds.id is not None
        foi = ensure.feature_of_interest(store, station)
        added = store.add_observations(ds.id, [(*r, None, foi) for r in rows])
        report.inserted += added.inserted
        report.duplicates += added.duplicates
        report.datastreams[ds.id] = report.datastreams.get(ds.id, 0) + added.inserted
        done += len(rows)
        if progress is not None:
            progress(done, total)
    return report
