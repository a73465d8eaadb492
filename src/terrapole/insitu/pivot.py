"""Theia/OZCAR pivot documents: validation against the vendored schemas, then import.

A pivot document (``{version, producer, datasets[]}``, JSON Schema draft-07 in
``schemas/pivot/``, AGPL-3.0 with its LICENSE beside it) describes a producer's datasets; each
pivot *observation* is one series — a SensorThings Datastream, as the community's mapping
(theia-ozcar-is/sensorthings-guidelines) says — whose values are in a data file named by
``result.dataFile.name``, read from the document's folder. That data file is ``;``-separated
with a header line ``dateBeg;dateEnd;latitude;longitude;altitude;value;qualityFlags``.

Mapping: producer → Producer (``producerId``), dataset → Dataset (``datasetId``), observation →
Thing + Location (``featureOfInterest.samplingFeature``: name and geometry), FeatureOfInterest
(the same geometry), Sensor (``procedure``), ObservedProperty (name; definition = its first
Theia category URI; all categories kept), Datastream (unit = ``observedProperty.unit``), and
the data file's rows → Observations. The pivot parts are kept in the entities' ``properties``
under ``"pivot"`` so an export gives them back.

Every violation is collected first — schema errors with their JSON path, then units the
table does not know and data file rows that cannot be read — and if there is any, nothing is
imported (:class:`PivotInvalid` lists them all). The import is idempotent (entities matched
by natural keys, observations by phenomenon time).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from referencing import Registry
from referencing.jsonschema import DRAFT7

from terrapole.errors import InvalidInput
from terrapole.insitu import ensure
from terrapole.insitu.ensure import Station
from terrapole.insitu.model import Dataset, ObservedProperty, Producer, Sensor
from terrapole.insitu.store import InsituStore
from terrapole.insitu.times import TimeInterval, TimeLike, parse_time
from terrapole.insitu.units import unit_of

SCHEMA_BASE = "https://terrapole.invalid/pivot/"
"""Replaces the schemas' ``${JSON_SCHEMA_API_URL}`` placeholder: they resolve locally."""
SCHEMA_FILES = ("root_schema.json", "provider_schema.json", "datasets_schema.json",
                "observations_schema.json")  # fmt: skip
DATA_COLUMNS = ("dateBeg", "dateEnd", "latitude", "longitude", "altitude", "value", "qualityFlags")
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Violation:
    """One thing wrong with a pivot document: where (a JSON path) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class PivotInvalid(InvalidInput):
    """A pivot document with violations (all of them in ``violations``); nothing imported."""

    def __init__(self, violations: list[Violation]) -> None:
        shown = "; ".join(str(v) for v in violations[:10])
        more = f" (and {len(violations) - 10} more)" if len(violations) > 10 else ""
        super().__init__("pivot document", f"{len(violations)} violation(s): {shown}{more}")
        self.violations = violations


@cache
def _validator() -> Draft7Validator:
    folder = resources.files("terrapole.insitu.schemas") / "pivot"
    docs = {
        name: json.loads(
            (folder / name)
            .read_text(encoding="utf-8")
            .replace("${JSON_SCHEMA_API_URL}", SCHEMA_BASE)
        )
        for name in SCHEMA_FILES
    }
    registry: Registry[Any] = Registry().with_resources(
        (SCHEMA_BASE + name, DRAFT7.create_resource(doc)) for name, doc in docs.items()
    )
    return Draft7Validator(
        docs["root_schema.json"], registry=registry, format_checker=Draft7Validator.FORMAT_CHECKER
    )


def schema_violations(doc: Any) -> list[Violation]:
    """Every schema violation of ``doc``, by JSON path (empty when it validates)."""
    errors = sorted(_validator().iter_errors(doc), key=lambda e: (e.json_path, e.message))
    return [Violation(e.json_path, e.message) for e in errors]


# -- data files --------------------------------------------------------------------------
@dataclass
class Series:
    """One pivot observation, checked and ready to store."""

    path: str  # its JSON path, for messages
    doc: dict[str, Any]
    rows: list[tuple[Any, ...]] = field(default_factory=list)


def read_data_file(
    path: Path, missing: str | None, where: str
) -> tuple[list[tuple[Any, ...]], list[Violation]]:
    """The rows ``(phenomenonTime, value, resultTime, flag)`` of a pivot data file."""
    problems: list[Violation] = []
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        return [], [Violation(where, f"data file {path.name}: {exc.strerror}")]
    rows: list[tuple[Any, ...]] = []
    for n, line in enumerate(lines, start=1):
        cells = [c.strip() for c in line.split(";")]
        if n == 1 and cells[:1] == ["dateBeg"]:
            continue
        if not line.strip():
            continue
        if len(cells) != len(DATA_COLUMNS):
            problems.append(Violation(where, f"{path.name} line {n}: {len(cells)} fields, not 7"))
            continue
        beg, end, _, _, _, value, flag = cells
        if value == "" or value == missing:
            continue
        try:
            start, stop = parse_time(beg, "dateBeg"), parse_time(end, "dateEnd")
            when: TimeLike = start if stop == start else TimeInterval(start, stop)
            result: Any = float(value)
        except InvalidInput as exc:
            problems.append(Violation(where, f"{path.name} line {n}: {exc.reason}"))
            continue
        except ValueError:
            problems.append(Violation(where, f"{path.name} line {n}: value {value!r} not a number"))
            continue
        rows.append((when, result, stop, flag or None))
    return rows, problems


def _observations(doc: dict[str, Any]) -> Iterator[tuple[int, int, dict[str, Any]]]:
    for d, dataset in enumerate(doc["datasets"]):
        for o, observation in enumerate(dataset["observations"]):
            yield d, o, observation


def check(doc: Any, folder: Path) -> dict[tuple[int, int], Series]:
    """Every violation of ``doc`` (schema, units, data files) or the series to import."""
    violations = schema_violations(doc)
    if violations:
        raise PivotInvalid(violations)
    series: dict[tuple[int, int], Series] = {}
    for d, o, observation in _observations(doc):
        where = f"$.datasets[{d}].observations[{o}]"
        unit = observation["observedProperty"].get("unit")
        if unit is None:
            violations.append(Violation(f"{where}.observedProperty.unit", "required to store it"))
        else:
            try:
                unit_of(unit)
            except InvalidInput as exc:
                violations.append(Violation(f"{where}.observedProperty.unit", exc.reason))
        name = observation["result"]["dataFile"]["name"]
        if Path(name).name != name:
            violations.append(Violation(f"{where}.result.dataFile.name", "must be a file name"))
            continue
        rows, problems = read_data_file(
            folder / name, observation["result"].get("missingValue"), f"{where}.result.dataFile"
        )
        violations.extend(problems)
        series[(d, o)] = Series(where, observation, rows)
    if violations:
        raise PivotInvalid(violations)
    return series


# -- import ------------------------------------------------------------------------------
@dataclass
class PivotReport:
    """What a pivot import did."""

    datasets: list[int] = field(default_factory=list)
    datastreams: dict[int, int] = field(default_factory=dict)  # id → observations inserted
    inserted: int = 0
    duplicates: int = 0

    def to_json(self) -> dict[str, Any]:
        """The report as JSON."""
        return {
            "datasets": self.datasets,
            "datastreams": {str(k): v for k, v in self.datastreams.items()},
            "inserted": self.inserted,
            "duplicates": self.duplicates,
        }


def _producer(store: InsituStore, doc: dict[str, Any]) -> Producer:
    p = doc["producer"]
    extra = {k: v for k, v in p.items() if k not in ("producerId", "name", "description")}
    return ensure.producer(
        store,
        Producer(
            identifier=p["producerId"],
            name=p["name"],
            description=p["description"],
            properties={"pivot": extra},
        ),
    )


def _dataset(store: InsituStore, producer_id: int, doc: dict[str, Any]) -> Dataset:
    meta = doc["metadata"]
    online = meta.get("onlineResource", {})
    licence = meta["dataConstraint"].get("licence", {})
    return ensure.dataset(
        store,
        Dataset(
            producer_id=producer_id,
            identifier=doc["datasetId"],
            title=meta["title"],
            description=meta["description"],
            licence=licence.get("title"),
            doi=online.get("doi") if str(online.get("doi", "")).startswith("10.") else None,
            keywords=tuple(k["keyword"] for k in meta.get("keywords", [])),
            spatial_extent=meta["spatialExtent"]["geometry"],
            properties={"pivot": meta},
        ),
    )


def _sensor(observation: dict[str, Any]) -> Sensor:
    procedure = observation.get("procedure", {})
    production = procedure.get("dataProduction", {})
    sensors = production.get("sensors") or [{}]
    first = sensors[0] if isinstance(sensors[0], dict) else {}
    name = " ".join(x for x in (first.get("manufacturer"), first.get("model")) if x)
    name = name or first.get("sensorType") or production.get("method") or "unspecified procedure"
    return Sensor(
        name=name, description=production.get("method", ""), properties={"pivot": procedure}
    )


def _station(observation: dict[str, Any]) -> Station:
    feature = observation["featureOfInterest"]["samplingFeature"]
    name = feature.get("name") or observation["observationId"]
    return Station(identifier=name, name=name, geometry=feature["geometry"],
                   properties=feature.get("properties") or {})  # fmt: skip


def import_pivot(
    store: InsituStore, doc: Any, folder: Path, *, progress: Progress | None = None
) -> PivotReport:
    """Validate ``doc`` (data files in ``folder``) and store it; PivotInvalid lists every
    violation and nothing is written."""
    series = check(doc, folder)
    report = PivotReport()
    producer = _producer(store, doc)
    assert producer.id is not None
    total, done = sum(len(s.rows) for s in series.values()), 0
    for d, dataset_doc in enumerate(doc["datasets"]):
        dataset = _dataset(store, producer.id, dataset_doc)
        assert dataset.id is not None
        report.datasets.append(dataset.id)
        for o, observation in enumerate(dataset_doc["observations"]):
            rows = series[(d, o)].rows
            station = _station(observation)
            thing = ensure.thing(store, dataset.id, station)
            op = observation["observedProperty"]
            prop = ensure.observed_property(
                store,
                ObservedProperty(
                    name=op["name"],
                    definition=op["theiaCategories"][0] if op["theiaCategories"] else op["name"],
                    description=op.get("description", ""),
                    properties={"theiaCategories": list(op["theiaCategories"]), "pivot": op},
                ),
            )
            sensor = ensure.sensor(store, _sensor(observation))
            pivot = {k: v for k, v in observation.items() if k != "procedure"}
            ds = ensure.datastream(
                store, thing, sensor, prop, unit_of(op["unit"]), properties={"pivot": pivot}
            )
            assert ds.id is not None
            foi = ensure.feature_of_interest(store, station)
            added = store.add_observations(ds.id, _with_foi(rows, foi))
            report.inserted += added.inserted
            report.duplicates += added.duplicates
            report.datastreams[ds.id] = added.inserted
            done += len(rows)
            if progress is not None:
                progress(done, total)
    return report


def _with_foi(rows: Iterable[tuple[Any, ...]], foi: int | None) -> Iterator[tuple[Any, ...]]:
    for when, value, result_time, flag in rows:
        yield when, value, result_time, flag, None, foi


def load_document(path: Path) -> Any:
    """A pivot document read from ``path`` (InvalidInput when it is not JSON)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput("pivot document", f"cannot read {path.name}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            "pivot document", f"{path.name} is not JSON (line {exc.lineno}: {exc.msg})"
        ) from exc
