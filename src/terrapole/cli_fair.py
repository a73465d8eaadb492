"""``terrapole thesaurus ...``: the FAIR pillar's commands, one typer group per sub-domain.

``thesaurus import FILE`` reads a SKOS file (RDF/XML or Turtle) into the database, replacing a
scheme imported before; ``thesaurus list`` shows the schemes; ``thesaurus search TEXT`` finds
concepts by label. Bad input ends with one line naming the problem and a non-zero exit (the
CLI's error table in ``cli.py``). Other FAIR groups (records, deposits, CES, calls) go below
the thesaurus group, each in its own section.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from terrapole import db
from terrapole.cli_jobs import command_settings
from terrapole.fair.thesauri import ImportReport, Thesauri

if TYPE_CHECKING:
    from terrapole.services import Services

console = Console(stderr=True)
out = Console()

# -- thesauri ---------------------------------------------------------------------------------

thesaurus_app = typer.Typer(help="Import, list and search SKOS thesauri.", no_args_is_help=True)
DEMO_THESAURI = Path(__file__).resolve().parents[2] / "demo" / "thesauri"
"""The demo's real vocabularies (INSPIRE themes in RDF/XML, MET Norway's MMD in Turtle)."""


@contextmanager
def _thesauri() -> Iterator[Thesauri]:
    engine = db.open_engine(command_settings().database_url)
    try:
        yield Thesauri(engine)
    finally:
        engine.dispose()


def _summary(report: ImportReport) -> str:
    done = "re-imported (unchanged)" if report.unchanged else (
        "replaced" if report.replaced else "imported"
    )  # fmt: skip
    schemes = ", ".join(f"{uri} ({count} concepts)" for uri, count in report.schemes)
    return f"{report.source}: {done} {schemes}"


@thesaurus_app.command("import")
def import_command(
    files: Annotated[list[Path], typer.Argument(help="SKOS files: .rdf/.xml (RDF/XML), .ttl")],
) -> None:
    """Import SKOS thesauri; a scheme imported before is replaced by the file's content."""
    with _thesauri() as thesauri:
        for file in files:
            console.print(
                _summary(thesauri.import_file(file)), highlight=False, markup=False, soft_wrap=True
            )


@thesaurus_app.command("list")
def list_command(
    json_output: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The imported schemes: URI, title, languages, concept count, source file."""
    with _thesauri() as thesauri:
        schemes = thesauri.schemes()
    if json_output:
        out.print_json(json.dumps([
            {"uri": s.uri, "titles": dict(s.titles), "languages": list(s.languages),
             "concepts": s.concepts, "source": s.source, "checksum": s.checksum,
             "imported": s.imported.isoformat()}
            for s in schemes
        ]))  # fmt: skip
        return
    for s in schemes:
        out.print(
            f"{s.uri}  {s.title('en')} [{', '.join(s.languages)}] {s.concepts} concepts "
            f"from {s.source} ({s.imported:%Y-%m-%d %H:%M})",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


@thesaurus_app.command("search")
def search_command(
    text: Annotated[str, typer.Argument(help="part of a label (accents and case ignored)")],
    lang: Annotated[str, typer.Option("--lang", help="language of the labels shown")] = "en",
    scheme: Annotated[str | None, typer.Option("--scheme", help="only this scheme URI")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100)] = 20,
) -> None:
    """Concepts whose labels contain TEXT, best matches first."""
    with _thesauri() as thesauri:
        hits = thesauri.search(text, lang=lang, scheme=scheme, limit=limit)
    for hit in hits:
        above = " < ".join(b.label(lang) for b in hit.broader)
        shown = hit.concept.label(lang)
        also = f" (matched {hit.matched!r})" if hit.matched != shown else ""
        out.print(
            f"{shown}{also}  {hit.concept.uri}" + (f"  [{above}]" if above else ""),
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    if not hits:
        console.print(f"no concept matches {text!r}", highlight=False, markup=False, soft_wrap=True)


def import_demo_thesauri(services: Services) -> list[ImportReport]:
    """Import the demo's thesauri into the services' database (again: the same content)."""
    return _import_demo(Thesauri(services.access.engine))


def _import_demo(thesauri: Thesauri) -> list[ImportReport]:
    files = sorted(p for p in DEMO_THESAURI.iterdir() if p.suffix in (".rdf", ".ttl"))
    return [thesauri.import_file(file) for file in files]


def import_demo() -> None:
    """What ``terrapole demo`` runs: the demo's thesauri imported into the configured database."""
    with _thesauri() as thesauri:
        for report in _import_demo(thesauri):
            console.print(_summary(report), highlight=False, markup=False, soft_wrap=True)
