"""What a service is: a process with described parameters, a cost estimate and a run.

A process declares its inputs as JSON Schemas (basic ones, and expert ones with defaults), its
stages and outputs. ``estimate`` prices a request in CPU·s before anything runs (the credit
check); ``run`` does the work inside a Dask worker, reporting stages and progress through the
:class:`JobContext`, and returns a :class:`Result` of files the runner catalogues.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol

import jsonschema

from terrapole.catalog.store import ReadStore
from terrapole.errors import InvalidInput
from terrapole.jsontypes import Json
from terrapole.storage import Storage


@dataclass(frozen=True)
class Parameter:
    """One input of a process: JSON Schema, basic or expert, default for optional ones."""

    name: str
    title: str
    schema: Json
    description: str = ""
    expert: bool = False
    default: Any = None

    @property
    def required(self) -> bool:
        """Inputs without a default must be given."""
        return self.default is None


@dataclass(frozen=True)
class Layer:
    """A raster result: a GeoTIFF written by the process, to become a COG asset."""

    key: str
    path: Path
    title: str
    roles: tuple[str, ...] = ("data",)
    nodata: float | None = None
    unit: str | None = None
    classes: tuple[Json, ...] = ()


@dataclass(frozen=True)
class File:
    """Another result file (table, plot, GeoJSON) kept as an asset."""

    key: str
    path: Path
    media_type: str
    title: str
    roles: tuple[str, ...] = ("data",)


@dataclass
class Result:
    """What a run made: layers and files, where (WGS84 geometry) and when."""

    geometry: Json
    start: datetime
    end: datetime
    layers: list[Layer] = field(default_factory=list)
    files: list[File] = field(default_factory=list)
    properties: Json = field(default_factory=dict)
    derived_from: list[tuple[str, str]] = field(default_factory=list)  # (collection, item id)


class Cancelled(Exception):
    """The job was dismissed while it ran."""


class JobContext(Protocol):
    """What a running process may use: its folder, the catalogue, progress and logs."""

    job_id: str
    folder: Path
    store: ReadStore
    storage: Storage

    def stage(self, name: str, progress: float) -> None:
        """Enter a stage / report progress (0-100); raises Cancelled once the job is dismissed."""

    def log(self, message: str) -> None:
        """Add a line to the job's log."""

    def use_cpu(self, cpu_s: float) -> None:
        """Count CPU·s spent outside the worker (a child process) against the job."""


class Process(ABC):
    """A service users can run on demand."""

    id: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    version: ClassVar[str] = "1.0.0"
    keywords: ClassVar[tuple[str, ...]] = ()
    parameters: ClassVar[tuple[Parameter, ...]]
    outputs: ClassVar[dict[str, Json]]  # name -> {"title", "schema"} (OGC output descriptions)
    stages: ClassVar[tuple[str, ...]]
    # small enough to be answered in the request (OGC sync-execute) when not asked to be async
    sync_execute: ClassVar[bool] = False

    def validate(self, inputs: Json) -> Json:
        """The inputs checked against their schemas, with defaults filled in; InvalidInput names
        the first wrong one."""
        if not isinstance(inputs, dict):
            raise InvalidInput("inputs", "must be a JSON object of input name -> value")
        known = {p.name: p for p in self.parameters}
        for name in inputs:
            if name not in known:
                raise InvalidInput(f"input {name!r}", f"unknown for {self.id}; known: "
                                   f"{', '.join(sorted(known))}")  # fmt: skip
        checked: Json = {}
        for p in self.parameters:
            if p.name not in inputs:
                if p.required:
                    raise InvalidInput(f"input {p.name!r}", "is required")
                checked[p.name] = p.default
                continue
            try:
                jsonschema.validate(inputs[p.name], p.schema)
            except jsonschema.ValidationError as exc:
                raise InvalidInput(f"input {p.name!r}", exc.message) from None
            checked[p.name] = inputs[p.name]
        return self.check(checked)

    def check(self, inputs: Json) -> Json:
        """Checks across inputs (after each matched its schema); override to add some."""
        return inputs

    @abstractmethod
    def estimate(self, inputs: Json, store: ReadStore) -> float:
        """CPU·s this request should take (validated inputs), before it runs."""

    @abstractmethod
    def run(self, context: JobContext, inputs: Json) -> Result:
        """Do the work (in a Dask worker)."""
