"""``terrapole ces ...`` and ``terrapole calls ...``: the CES directory and the calls for
projects from the command line (the operator's view: everything is readable).

``ces list`` / ``ces show ID`` / ``ces offers``: the consortia, one with its members and
offers, the products and services by TRL; ``calls list``, ``calls applications CALL``,
``calls export CALL [-o FILE]``: the committee's CSV. :func:`seed_demo` fills the demo.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.table import Table

from terrapole.access.policy import Principal
from terrapole.access.tables import users
from terrapole.catalog.store import open_store
from terrapole.cli_jobs import command_settings
from terrapole.db import open_engine, reading
from terrapole.errors import NotFound
from terrapole.fair.calls import CallBook
from terrapole.fair.ces import CesDirectory, Kind
from terrapole.fair.ces_demo import seed_demo_ces

ces_app = typer.Typer(
    help="The Scientific Expertise Consortia (CES) directory.", no_args_is_help=True
)
calls_app = typer.Typer(help="Calls for projects and their applications.", no_args_is_help=True)
console = Console(stderr=True)
out = Console()
OPERATOR = Principal(name="cli", admin=True)
"""The command line runs as the platform's operator."""
DEMO_APPLICANT = "member@lab.demo.example"


@contextmanager
def _engine() -> Iterator[sa.Engine]:
    engine = open_engine(command_settings().database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@ces_app.command("list")
def ces_list(theme: str = "", text: Annotated[str, typer.Option("--text", "-q")] = "") -> None:
    """The consortia, their themes and how many products and services they back."""
    with _engine() as engine:
        directory = CesDirectory(engine)
        table = Table("id", "name", "themes", "offers")
        for ces in directory.consortia(theme=theme, text=text):
            count = len(directory.offers(ces_id=ces.id))
            table.add_row(ces.id, ces.name, ", ".join(ces.themes), str(count))
    out.print(table)


@ces_app.command("show")
def ces_show(ces_id: str) -> None:
    """One consortium: its members (leads marked) and its offers with their TRL."""
    with _engine() as engine:
        directory = CesDirectory(engine)
        ces = directory.consortium(ces_id)
        offers = directory.offers(ces_id=ces_id)
    out.print(f"[bold]{ces.name}[/] ({ces.acronym or ces.id}) — {', '.join(ces.themes)}")
    if ces.description:
        out.print(ces.description)
    for member in ces.members:
        extra = " ".join(x for x in (member.affiliation, member.orcid, member.ror) if x)
        out.print(f"  {'*' if member.lead else '-'} {member.name} {extra}".rstrip())
    for offer in offers:
        out.print(f"  [{offer.kind}] {offer.name}: TRL {offer.trl} ({offer.maturity})")


@ces_app.command("offers")
def ces_offers(
    kind: Kind | None = None,
    min_trl: Annotated[int | None, typer.Option(min=1, max=9)] = None,
) -> None:
    """The products and services, highest TRL first."""
    with _engine() as engine:
        found = CesDirectory(engine).offers(kind=kind, min_trl=min_trl)
    table = Table("id", "CES", "kind", "TRL", "maturity", "collections")
    for o in found:
        table.add_row(o.id, o.ces_id, o.kind, str(o.trl), o.maturity, ", ".join(o.collections))
    out.print(table)


@calls_app.command("list")
def calls_list() -> None:
    """The calls, their types and dates."""
    with _engine() as engine:
        found = CallBook(engine).calls()
    table = Table("id", "title", "year", "types", "opens", "closes")
    for c in found:
        closes = c.closes.isoformat() if c.closes else "continuous"
        table.add_row(c.id, c.title, str(c.year), ", ".join(c.types), c.opens.isoformat(), closes)
    out.print(table)


@calls_app.command("applications")
def calls_applications(call_id: str) -> None:
    """The applications of a call and their states."""
    with _engine() as engine:
        book = CallBook(engine)
        book.call(call_id)
        found = book.find(OPERATOR, call_id=call_id)
    table = Table("id", "project", "CES", "type", "state")
    for a in found:
        table.add_row(a.id, a.project, a.ces_id, a.type, a.state)
    out.print(table)


@calls_app.command("export")
def calls_export(
    call_id: str,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="file (default: stdout)")
    ] = None,
) -> None:
    """The committee's CSV: one line per application with its resources and scores."""
    with _engine() as engine:
        text = CallBook(engine).export_csv(OPERATOR, call_id)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"{text.count(chr(10)) - 1} application(s) written to {output}")


def seed_demo() -> None:
    """The demo's CES directory and call, with an application by the demo lab member."""
    settings = command_settings()
    store = open_store(settings)
    try:

        def exists(collection_id: str) -> bool:
            try:
                store.get_collection(collection_id)
            except NotFound:
                return False
            return True

        with _engine() as engine:
            with reading(engine) as con:
                row = con.execute(
                    sa.select(users.c.id).where(users.c.email_key == DEMO_APPLICANT)
                ).first()
            applicant = None if row is None else Principal(name=f"user:{row.id}", user_id=row.id)
            added = seed_demo_ces(engine, applicant=applicant, collection_exists=exists)
    finally:
        store.close()
    console.print(f"CES directory and call for projects: {added} new entries")
