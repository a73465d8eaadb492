"""``terrapole thesaurus ...``: the FAIR pillar's commands, one typer group per sub-domain.

``thesaurus import FILE`` reads a SKOS file (RDF/XML or Turtle) into the database, replacing a
scheme imported before; ``thesaurus list`` shows the schemes; ``thesaurus search TEXT`` finds
concepts by label. Bad input ends with one line naming the problem and a non-zero exit (the
CLI's error table in ``cli.py``). Other FAIR groups (records, deposits, CES, calls) go below
the thesaurus group, each in its own section.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from terrapole import db
from terrapole.access import AccessService
from terrapole.access.policy import Principal
from terrapole.cli_jobs import command_settings
from terrapole.fair.deposits import Access, Deposits
from terrapole.fair.identifiers import LocalIdentifiers
from terrapole.fair.model import Record
from terrapole.fair.record_workflow import RecordState
from terrapole.fair.records import RecordBook
from terrapole.fair.thesauri import ImportReport, Thesauri
from terrapole.storage import open_storage

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


# -- deposits ---------------------------------------------------------------------------------

deposits_app = typer.Typer(help="Create, upload to and publish long-tail deposits.",
                           no_args_is_help=True)  # fmt: skip
DEPOSIT_OPERATOR = Principal(name="cli", admin=True)
"""Who the deposit commands act as: the operator, owner of what they create and a curator."""


@contextmanager
def _deposits() -> Iterator[Deposits]:
    settings = command_settings()
    access = AccessService(settings.database_url)
    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    try:
        book = RecordBook(access.engine, identifiers=LocalIdentifiers(), base_url=base)
        yield Deposits(book, open_storage(settings), access,
                       max_file_bytes=settings.deposit_max_file_bytes)  # fmt: skip
    finally:
        access.close()


@deposits_app.command("create")
def deposit_create(
    title: Annotated[str, typer.Option("--title", help="the deposit's title")],
    access: Annotated[str, typer.Option("--access", help="open, embargoed or restricted")] = "open",
    until: Annotated[str | None, typer.Option("--until", help="embargo end (YYYY-MM-DD)")] = None,
    group: Annotated[list[str] | None, typer.Option("--group", help="a group (restricted)")] = None,
    record: Annotated[Path | None, typer.Option("--record", help="record JSON (DataCite)")] = None,
) -> None:
    """Create a draft deposit; prints its id."""
    with _deposits() as deposits:
        made = deposits.create(DEPOSIT_OPERATOR, title, Access.of(access, until, group or ()))
        if record is not None:
            described = Record.from_json(json.loads(record.read_text(encoding="utf-8")))
            deposits.describe(DEPOSIT_OPERATOR, made.id, described)
    out.print(made.id, highlight=False)


@deposits_app.command("upload")
def deposit_upload(
    deposit_id: Annotated[str, typer.Argument(help="the deposit's id")],
    files: Annotated[list[Path], typer.Argument(help="files to add", exists=True, dir_okay=False)],
    chunk_mb: Annotated[int, typer.Option("--chunk-mb", min=1, max=64)] = 8,
) -> None:
    """Upload files in chunks (as the API does), each verified by its SHA-256."""
    with _deposits() as deposits:
        for file in files:
            digest = hashlib.sha256()
            with file.open("rb") as src:
                while block := src.read(1 << 20):
                    digest.update(block)
            size = file.stat().st_size
            upload = deposits.start_upload(
                DEPOSIT_OPERATOR, deposit_id, file.name, size, sha256=digest.hexdigest()
            )
            with file.open("rb") as src:
                offset = 0
                while chunk := src.read(chunk_mb << 20):
                    deposits.put_chunk(DEPOSIT_OPERATOR, upload.id, offset, chunk)
                    offset += len(chunk)
            added = deposits.complete(DEPOSIT_OPERATOR, upload.id)
            line = f"{added.name}: {added.size} bytes, {added.format}, sha256 {added.sha256}"
            console.print(line, highlight=False, markup=False, soft_wrap=True)


@deposits_app.command("publish")
def deposit_publish(deposit_id: Annotated[str, typer.Argument(help="the deposit's id")]) -> None:
    """Submit the deposit's record, approve it (the operator is a curator) and publish it."""
    with _deposits() as deposits:
        stored = deposits.record(DEPOSIT_OPERATOR, deposit_id)
        if stored.state is RecordState.DRAFT:
            stored = deposits.submit(DEPOSIT_OPERATOR, deposit_id)
        if stored.state is RecordState.SUBMITTED:
            deposits.book.approve(DEPOSIT_OPERATOR, stored.id, "published from the CLI")
        deposits.publish(DEPOSIT_OPERATOR, deposit_id)
        identifier = deposits.record(DEPOSIT_OPERATOR, deposit_id).identifier
    out.print(identifier, highlight=False)


# -- the demo's publications ------------------------------------------------------------------

DEMO_DIR = DEMO_THESAURI.parent
"""The demo bundle (its products and in-situ files are what the demo deposits)."""


def publish_demo() -> None:
    """What ``terrapole demo`` runs after its accounts exist: records of the public
    collections, one production output and the deposits (``fair.demo``), then where to look."""
    from terrapole.catalog.store import open_store
    from terrapole.fair.demo import landing_pages
    from terrapole.fair.demo import publish_demo as publish
    from terrapole.services import Services

    settings = command_settings()
    access, store = AccessService(settings.database_url), open_store(settings)
    try:
        services = Services(store, access, settings, open_storage(settings))
        report = publish(services, DEMO_DIR)
        pages = landing_pages(services.records, report.published)
    finally:
        access.close()
        store.close()
    base = services.records.base_url
    console.print(
        f"FAIR records: {len(report.published)} published ({len(report.added)} new), "
        f"{len(report.deposits)} deposits", highlight=False, markup=False, soft_wrap=True,
    )  # fmt: skip
    for cid, reason in sorted(report.skipped.items()):
        console.print(f"  no record for {cid}: {reason}", highlight=False, markup=False,
                      soft_wrap=True)  # fmt: skip
    for line in (
        f"  a landing page: {pages[0]}" if pages else "  no landing page",
        f"  OAI-PMH: {base}/oai?verb=ListRecords&metadataPrefix=oai_dc",
        f"  DCAT-AP catalogue: {base}/dcat",
        f"  thesauri: {base}/thesaurus",
    ):
        console.print(line, highlight=False, markup=False, soft_wrap=True)
