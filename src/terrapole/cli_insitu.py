"""``terrapole insitu import|export|list|restrict|unrestrict``: in-situ series in and out of
the store, and who may read a dataset.

``import FILE``: a pivot document (``.json``, its data files beside it) or a CSV/RDB time
series with ``--mapping M.toml``; ``export``: a Datastream or Dataset as CSV, or a Dataset as
a pivot document; ``list``: the datasets and their series; ``restrict DATASET --group G``
and ``unrestrict DATASET``: the access rule of a dataset, under its access key. Bad input
ends with one line naming the problem and a non-zero exit (the CLI's error table in
``cli.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from terrapole.access import AccessService
from terrapole.cli_jobs import command_settings
from terrapole.errors import InvalidInput
from terrapole.insitu import NOTHING_HIDDEN, InsituStore, access_key
from terrapole.insitu.ensure import datastreams_of_dataset
from terrapole.insitu.mapping import load_mapping
from terrapole.insitu.pivot import import_pivot, load_document
from terrapole.insitu.pivot_export import export_csv, export_pivot
from terrapole.insitu.tabular import Report, import_table

insitu_app = typer.Typer(help="Import, export and list in-situ series.", no_args_is_help=True)
console = Console(stderr=True)
out = Console()
DEMO_SERIES = Path(__file__).resolve().parents[2] / "demo" / "insitu"
# (mapping, files) of the demo's observatories, relative to DEMO_SERIES
DEMO_IMPORTS = (
    ("camels_us/streamflow.toml", "camels_us/usgs_streamflow/*_streamflow_qc.txt"),
    ("camels_us/daymet.toml", "camels_us/daymet_forcing/*_forcing_leap.txt"),
    ("pastas_nl/b32c0609.toml", "pastas_nl/B32C0609001.csv"),
    ("pastas_nl/head_nb1.toml", "pastas_nl/head_nb1.csv"),
    ("pastas_nl/rain_260.toml", "pastas_nl/rain_260.csv"),
    ("pastas_nl/evap_260.toml", "pastas_nl/evap_260.csv"),
    ("pastas_nl/rain_nb1.toml", "pastas_nl/rain_nb1.csv"),
    ("pastas_nl/evap_nb1.toml", "pastas_nl/evap_nb1.csv"),
    ("usgs_nwis/qwdata.toml", "usgs_nwis/waterdata_qwdata_1990.txt"),
)


class Format(StrEnum):
    """Export formats."""

    csv = "csv"
    pivot = "pivot"


@contextmanager
def _store() -> Iterator[InsituStore]:
    store = InsituStore.open(command_settings().database_url)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def _bar(label: str) -> Iterator[Callable[[int, int], None]]:
    with Progress(
        TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(),
        console=console, disable=not console.is_terminal,
    ) as bar:  # fmt: skip
        task = bar.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def _summary(report: Report) -> str:
    return (
        f"{report.inserted} observation(s) added, {report.duplicates} already present, "
        f"{report.missing} missing value(s) skipped, {report.problem_count} bad row(s)"
    )


def import_file(
    store: InsituStore,
    file: Path,
    mapping: Path | None,
    dataset: int | None = None,
    strict: bool = False,
) -> dict[str, Any]:
    """Import one file as the CLI does; the report as JSON."""
    if not file.is_file():
        raise InvalidInput("FILE", f"{file} is not a file")
    if file.suffix.lower() == ".json":
        with _bar(file.name) as progress:
            pivot = import_pivot(store, load_document(file), file.parent, progress=progress)
        console.print(
            f"{file.name}: {pivot.inserted} observation(s) added, {pivot.duplicates} already "
            f"present, {len(pivot.datastreams)} datastream(s)",
            highlight=False,
        )
        return pivot.to_json()
    if mapping is None:
        raise InvalidInput("--mapping", f"required for a CSV or RDB file ({file.name})")
    with _bar(file.name) as progress:
        report = import_table(
            store, file, load_mapping(mapping), dataset_id=dataset, strict=strict, progress=progress
        )
    console.print(f"{file.name}: {_summary(report)}", highlight=False)
    for problem in report.problems[:20]:
        console.print(f"  [red]bad row[/] {problem}", highlight=False)
    if report.problem_count > 20:
        console.print(f"  ... and {report.problem_count - 20} more (use --json for 200)")
    return report.to_json()


@insitu_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="pivot .json, or CSV/RDB with --mapping")],
    mapping: Annotated[Path | None, typer.Option("--mapping", help="TOML mapping file")] = None,
    dataset: Annotated[int | None, typer.Option("--dataset", help="into this dataset id")] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="refuse the whole file on any bad row")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Import a pivot document or a CSV/RDB time series (again: adds only what is new)."""
    with _store() as store:
        report = import_file(store, file, mapping, dataset, strict)
    if json_output:
        out.print_json(json.dumps(report))


@insitu_app.command("export")
def export_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="file to write")],
    datastream: Annotated[int | None, typer.Option("--datastream", help="datastream id")] = None,
    dataset: Annotated[int | None, typer.Option("--dataset", help="dataset id")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="csv or pivot")] = Format.csv,
) -> None:
    """Export a datastream or dataset as CSV, or a dataset as a pivot document."""
    with _store() as store:
        if fmt is Format.pivot:
            if dataset is None or datastream is not None:
                raise InvalidInput("--dataset", "a pivot export takes one --dataset")
            doc = export_pivot(store, dataset, output)
            count = len(doc["datasets"][0]["observations"])
            console.print(f"wrote {output} and {count} data file(s) beside it", highlight=False)
            return
        rows = export_csv(store, output, datastream_id=datastream, dataset_id=dataset)
    console.print(f"wrote {rows} observation(s) to {output}", highlight=False)


@insitu_app.command("list")
def list_command() -> None:
    """The datasets with their stations and datastreams (ids for export)."""
    with _store() as store:
        for ds in store.datasets(hidden=NOTHING_HIDDEN):
            assert ds.id is not None
            streams = datastreams_of_dataset(store, ds.id)
            out.print(
                f"dataset {ds.id} {ds.identifier or ''}: {ds.title} "
                f"({len(store.things(hidden=NOTHING_HIDDEN, dataset_id=ds.id))} station(s))",
                highlight=False,
            )
            for s in streams:
                period = "" if s.phenomenon_time is None else f" {s.phenomenon_time.to_json()}"
                out.print(
                    f"  datastream {s.id}: {s.name} [{s.unit.symbol}]{period}", highlight=False
                )


def dataset_of_key(key: str) -> int | None:
    """The id of the dataset whose access key is ``key`` (None when no dataset has it): lets
    ``terrapole collections restrict`` take a dataset's key as it takes a collection id."""
    with _store() as store:
        found = [d.id for d in store.datasets(hidden=NOTHING_HIDDEN) if d.access_key == key]
    return found[0] if found else None


def _set_groups(dataset: int, groups: list[str]) -> str:
    """Restrict ``dataset`` to ``groups`` (none: public) under its access key; the key."""
    with _store() as store:
        key = store.get_dataset(dataset, hidden=NOTHING_HIDDEN).access_key or access_key(dataset)
    AccessService(command_settings().database_url).restrict(key, groups)
    return key


@insitu_app.command("restrict")
def restrict_command(
    dataset: Annotated[int, typer.Argument(help="dataset id (see terrapole insitu list)")],
    group: Annotated[list[str], typer.Option(help="group allowed to read (repeatable)")] = [],  # noqa: B006
) -> None:
    """Restrict a dataset (its stations, series and observations) to groups."""
    if not group:
        raise InvalidInput("--group", "name at least one group (unrestrict makes it public)")
    key = _set_groups(dataset, group)
    console.print(
        f"dataset {dataset} ({key}) is now restricted to {', '.join(sorted(set(group)))}",
        highlight=False,
    )


@insitu_app.command("unrestrict")
def unrestrict_command(
    dataset: Annotated[int, typer.Argument(help="dataset id (see terrapole insitu list)")],
) -> None:
    """Make a dataset public again."""
    key = _set_groups(dataset, [])
    console.print(f"dataset {dataset} ({key}) is now public", highlight=False)


def import_demo() -> None:
    """Import the demo's real series (CAMELS US, pastas/KNMI, USGS NWIS): idempotent."""
    with _store() as store:
        for mapping, pattern in DEMO_IMPORTS:
            for file in sorted(DEMO_SERIES.glob(pattern)):
                import_file(store, file, DEMO_SERIES / mapping)
