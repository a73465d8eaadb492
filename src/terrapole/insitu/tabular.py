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
import gc
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from itertools import compress
from pathlib import Path
from typing import Any

from terrapole.errors import InvalidInput
from terrapole.insitu import ensure, time_formats
from terrapole.insitu.ensure import Station
from terrapole.insitu.mapping import Mapping, SideFile, Source, TimeRule
from terrapole.insitu.model import Dataset, ObservedProperty, Producer, Sensor
from terrapole.insitu.observations import Columns
from terrapole.insitu.store import InsituStore
from terrapole.insitu.times import micros_iso, to_micros

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
    if '"' not in line:  # no quoting: what csv would read
        return line.split(source.delimiter)
    return next(csv.reader([line], delimiter=source.delimiter))


def _cells(path: Path, source: Source) -> tuple[list[str], Iterator[tuple[int, list[str] | str]]]:
    """The column names and, per data row, (line number, stripped cells or why the row has
    the wrong number of fields); InvalidInput for a bad layout."""
    columns, numbered = _layout(path, source)
    return columns, _rows(numbered, columns, source)


def _layout(path: Path, source: Source) -> tuple[list[str], list[tuple[int, str]]]:
    """The column names and the data lines with their numbers (InvalidInput for a bad
    layout)."""
    lines = _lines(path)
    numbered = [(n + 1, text) for n, text in enumerate(lines)][source.skip_lines :]
    if source.format == "rdb":
        numbered = [(n, t) for n, t in numbered if not t.startswith("#")]
    numbered = [(n, t) for n, t in numbered if t.strip()]
    columns = list(source.columns)
    if source.header:
        if not numbered:
            raise InvalidInput("file", f"{path.name} has no header line")
        n, head = numbered.pop(0)
        try:
            columns = [c.strip() for c in _split(head, source)]
        except csv.Error as exc:
            raise InvalidInput("file", f"{path.name} line {n}: unreadable header ({exc})") from exc
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
    return columns, numbered


def _rows(
    numbered: list[tuple[int, str]], columns: list[str], source: Source
) -> Iterator[tuple[int, list[str] | str]]:
    """(line number, stripped cells or why the row has the wrong number of fields)."""
    width = len(columns)
    for n, text in numbered:
        try:
            cells = _split(text, source)
        except csv.Error as exc:  # a stray carriage return in a quoted line, binary data
            yield n, f"unreadable CSV line ({exc})"
            continue
        if len(cells) != width:
            yield n, f"{len(cells)} fields where the header has {width}"
        elif text.isascii() and text.isprintable() and " " not in text:
            yield n, cells  # no whitespace to strip: the common case, kept cheap
        else:
            yield n, [c.strip() for c in cells]


def read_rows(path: Path, source: Source) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, column → text) per data row; InvalidInput for a bad layout."""
    columns, rows = _cells(path, source)
    for n, cells in rows:
        if isinstance(cells, str):
            yield n, {"\0": cells}
        else:
            yield n, dict(zip(columns, cells, strict=True))


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


def _time(text: str, code: str, rule: TimeRule) -> tuple[int, int]:
    """The phenomenon (start, end) in microseconds of ``text`` read by strptime (the general
    path, and the one that words the errors); ``code`` is the row's zone code if any."""
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
            if code not in rule.zone_codes:
                raise ValueError(f"time zone code {code!r} is not in zone_codes")
            value = value.replace(tzinfo=_offset(rule.zone_codes[code]))
        elif rule.zone is not None:
            value = value.replace(tzinfo=rule.zone)
        else:
            raise ValueError(f"time {text!r} has no time zone")
    start = to_micros(value)
    return start, start if rule.period is None else to_micros(value + rule.period)


class _Times:
    """A table's times as (start, end) microseconds: the formats' bulk readers
    (:mod:`terrapole.insitu.time_formats`) per zone, strptime for what they leave."""

    def __init__(self, rule: TimeRule) -> None:
        self.rule = rule
        self._readers: dict[str, list[time_formats.Reader] | None] = {}

    def _for(self, code: str) -> list[time_formats.Reader] | None:
        rule = self.rule
        if rule.zone_column is not None:
            zone: tzinfo | None = (
                _offset(rule.zone_codes[code]) if code in rule.zone_codes else None
            )
        else:
            zone = rule.zone
        readers = [
            time_formats.reader(fmt, zone, rule.period) if zone is not None else None
            for fmt in rule.formats
        ]
        return None if None in readers else [r for r in readers if r is not None]

    def readers(self, code: str) -> list[time_formats.Reader] | None:
        """The bulk readers of the formats at zone code ``code`` (None: strptime only)."""
        if code not in self._readers:
            self._readers[code] = self._for(code)
        return self._readers[code]

    def read(self, text: str, code: str) -> tuple[int, int]:
        """(start, end) of ``text`` at zone code ``code`` (ValueError naming the problem)."""
        for read in self.readers(code) or ():
            found = read(text)
            if found is not None:
                return found
        return _time(text, code, self.rule)


# -- parsing all rows --------------------------------------------------------------------
Key = tuple[str, int]  # (station code, series index)


@dataclass
class Parsed:
    """A file's rows sorted by station and series, ready to write."""

    stations: dict[str, Station]
    rows: dict[Key, Columns]
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


class _Plan:
    """Where a table's columns are, and how one row's cells become a station id, a
    phenomenon time and the series' values (ValueError naming the problem)."""

    def __init__(
        self, columns: list[str], mapping: Mapping, path: Path, known: dict[str, Any]
    ) -> None:
        at = {name: n for n, name in enumerate(columns)}  # the last of a repeated name
        self.mapping, self.path = mapping, path
        self.station = None if mapping.station.column is None else at[mapping.station.column]
        self.time = [at[c] for c in mapping.time.columns]
        zone = mapping.time.zone_column
        self.zone = at.get(zone) if zone is not None else None
        self.series = [(at[s.column], s.missing, s.column) for s in mapping.series]
        self.flags = [None if s.flag_column is None else at[s.flag_column] for s in mapping.series]
        self.times = _Times(mapping.time)
        readers = None if self.zone is not None else self.times.readers("")
        # one format at one zone, the common case: its reader called first, directly
        self.first = readers[0] if readers is not None and len(readers) == 1 else None

        self.known = known if mapping.station.metadata else None
        self.fixed = None if self.station is not None else _station_id({}, mapping, path)

    def read(self, cells: list[str]) -> tuple[str, int, int, list[float | None]]:
        """The row's station id, phenomenon start and end (microseconds) and the value of
        each series (None: missing)."""
        ident = self.fixed if self.station is None else cells[self.station]
        if not ident:
            raise ValueError("no station id")
        if self.known is not None and ident not in self.known:
            raise ValueError(f"unknown station id {ident!r} (not in the station metadata)")
        time = self.time
        if len(time) == 1:
            text = cells[time[0]]
        else:
            text = self.mapping.time.separator.join(cells[n] for n in time).strip()
        found = None if self.first is None else self.first(text)
        if found is None:
            found = self.times.read(text, "" if self.zone is None else cells[self.zone])
        values: list[float | None] = []
        for n, missing, column in self.series:
            text = cells[n]
            if text == "" or text in missing:
                values.append(None)
                continue
            try:
                values.append(float(text))
            except ValueError:
                raise ValueError(f"{column}: {text!r} is not a number") from None
        return ident, found[0], found[1], values


class _Appender:
    """Appends one observation to :class:`Columns` through bound methods (the import's
    innermost step, run once per value)."""

    def __init__(self, columns: Columns) -> None:
        self.columns = columns
        self._appends = (columns.starts.append, columns.ends.append, columns.values.append,
                         columns.flags.append, columns.lines.append)  # fmt: skip

    def __call__(self, start: int, end: int, value: float, flag: str | None, line: int) -> None:
        starts, ends, values, flags, lines = self._appends
        starts(start)
        ends(end)
        values(value)
        flags(flag)
        lines(line)


def _plain_lines(texts: list[str], source: Source) -> bool:
    """Whether ``texts`` are CSV lines without quotes or whitespace: split as they are."""
    whole = "".join(texts)
    return (
        source.format == "csv" and '"' not in whole and " " not in whole
        and whole.isascii() and whole.isprintable()
    )  # fmt: skip


def _by_columns(
    numbered: list[tuple[int, str]],
    columns: list[str],
    mapping: Mapping,
    path: Path,
    known: dict[str, Any],
    needed: set[str],
) -> Parsed | None:
    """:func:`parse_file`'s result read column by column — one list comprehension per
    step instead of a Python loop per row — for the common file: plain CSV lines of one
    station, times in one column and one format at one zone, no bad row. None for any other
    file or at the first doubt: the row-by-row reading then decides, and words the problems.
    """
    texts = [t for _, t in numbered]
    if not texts or mapping.station.column is not None or not _plain_lines(texts, mapping.source):
        return None
    rows = [t.split(mapping.source.delimiter) for t in texts]
    if set(map(len, rows)) != {len(columns)}:
        return None
    _check_columns(needed, set(columns), path)
    plan = _Plan(columns, mapping, path, known)
    ident = plan.fixed
    if plan.first is None or len(plan.time) != 1 or not ident:
        return None
    if plan.known is not None and ident not in plan.known:
        return None
    at = plan.time[0]
    times = list(map(plan.first, [r[at] for r in rows]))
    if None in times:
        return None
    report = Report(rows=len(rows))
    out: dict[Key, Columns] = {}
    for n, (index, missing, _) in enumerate(plan.series):
        cells = [r[index] for r in rows]
        present = [c != "" and c not in missing for c in cells]
        try:
            values = [float(c) for c in compress(cells, present)]
        except ValueError:
            return None
        report.missing += len(cells) - len(values)
        if values:
            kept = list(compress(times, present))
            flag = plan.flags[n]
            flags: list[str | None] = (
                [None] * len(values) if flag is None
                else [r[flag] or None for r in compress(rows, present)]
            )  # fmt: skip
            starts = [t[0] for t in kept]  # type: ignore[index]
            ends = [t[1] for t in kept]  # type: ignore[index]
            lines = list(compress((line for line, _ in numbered), present))
            out[ident, n] = Columns(starts, ends, values, flags, lines)
    return Parsed({ident: _station_of(ident, known)}, out, report)


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused: reading builds millions of small lists and tuples
    (and no cycle), and each collection would walk them all again — a third of the time."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def parse_file(path: Path, mapping: Mapping) -> Parsed:
    """Read and check every row of ``path`` (nothing written); a phenomenon time a station's
    series repeats is a problem naming both lines (the first row is kept)."""
    with _without_cycle_collection():
        parsed = _parse(path, mapping)
    for key, columns in parsed.rows.items():
        parsed.rows[key] = _without_repeats(columns, parsed.report)
    return parsed


def _without_repeats(columns: Columns, report: Report) -> Columns:
    """``columns`` without the rows whose phenomenon time an earlier row has, each reported."""
    starts = columns.starts
    if len(set(starts)) == len(starts):  # the usual file: one check of plain integers
        return columns
    first: dict[tuple[int, int], int] = {}
    keep: list[bool] = []
    for i, key in enumerate(zip(starts, columns.ends, strict=True)):
        at = first.setdefault(key, i)
        keep.append(at == i)
        if at != i:
            report.problem(
                columns.lines[i],
                f"{_when(*key)} repeats line {columns.lines[at]} (the row of line "
                f"{columns.lines[at]} is kept)",
            )
    return Columns(
        list(compress(starts, keep)), list(compress(columns.ends, keep)),
        list(compress(columns.values, keep)), list(compress(columns.flags, keep)),
        list(compress(columns.lines, keep)),
    )  # fmt: skip


def _when(start: int, end: int) -> str:
    """A phenomenon time as a report writes it (an instant, or start/end)."""
    return micros_iso(start) if start == end else f"{micros_iso(start)}/{micros_iso(end)}"


def _parse(path: Path, mapping: Mapping) -> Parsed:
    report = Report()
    rule = mapping.station
    known = _known_stations(mapping)
    needed = {c for s in mapping.series for c in (s.column, s.flag_column) if c}
    needed |= set(mapping.time.columns) | ({rule.column} if rule.column else set())
    columns, numbered = _layout(path, mapping.source)
    whole = _by_columns(numbered, columns, mapping, path, known, needed)
    if whole is not None:
        return whole
    stations: dict[str, Station] = {}
    by_station: dict[str, list[_Appender | None]] = {}
    table = _rows(numbered, columns, mapping.source)
    plan: _Plan | None = None
    for line, cells in table:
        report.rows += 1
        if isinstance(cells, str):
            report.problem(line, cells)
            continue
        if plan is None:
            _check_columns(needed, set(columns), path)
            plan = _Plan(columns, mapping, path, known)
        try:
            ident, start, end, values = plan.read(cells)
        except ValueError as exc:
            report.problem(line, str(exc))
            continue
        targets = by_station.get(ident)
        if targets is None:
            stations[ident] = _station_of(ident, known)
            targets = by_station[ident] = [None] * len(values)
        for n, value in enumerate(values):
            if value is None:
                report.missing += 1
                continue
            into = targets[n]
            if into is None:
                into = targets[n] = _Appender(Columns())
            flag = plan.flags[n]
            into(start, end, value, None if flag is None else cells[flag] or None, line)
    rows = {
        (ident, n): into.columns
        for ident, targets in by_station.items()
        for n, into in enumerate(targets)
        if into is not None
    }
    if report.rows == 0:
        raise InvalidInput("file", f"{path.name} has no data rows")
    return Parsed(stations, rows, report)


def _check_columns(needed: set[str], columns: set[str], path: Path) -> None:
    absent = sorted(needed - columns)
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
        with _without_cycle_collection():
            added = store.add_observation_columns(ds.id, rows, foi_id=foi)
        report.inserted += added.inserted
        report.duplicates += added.duplicates
        for row in added.differing:
            line = rows.lines[row.index] if rows.lines else row.index + 1
            report.problem(
                line,
                f"{_when(row.start, rows.ends[row.index])} differs from the stored value "
                f"{row.stored} (file: {row.given})",
            )
        report.datastreams[ds.id] = report.datastreams.get(ds.id, 0) + added.inserted
        done += len(rows)
        if progress is not None:
            progress(done, total)
    return report
