"""CLI for accounts and licences: ``terrapole users ...`` and ``terrapole licences ...``.

The operator's way in before any page exists: the first admin is made here (verified at once,
the password asked twice and never echoed), roles are given here, and licence texts are
published from files.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from terrapole import db
from terrapole.access.accounts import ROLES, Accounts
from terrapole.access.licences import Licences
from terrapole.access.mail import mailer_for
from terrapole.cli_jobs import command_settings

users_app = typer.Typer(help="Create and list accounts, give roles.", no_args_is_help=True)
licences_app = typer.Typer(help="The charter and licences, by version.", no_args_is_help=True)
out = Console()


@contextmanager
def _accounts() -> Iterator[Accounts]:
    settings = command_settings()
    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    engine = db.open_engine(settings.database_url)
    try:
        yield Accounts(engine, mailer=mailer_for(settings), link_base=f"{base}/account")
    finally:
        engine.dispose()


@users_app.command("list")
def list_users() -> None:
    """List the accounts (address, name, roles, state)."""
    with _accounts() as accounts:
        found = accounts.all()
    table = Table("email", "name", "roles", "verified", "disabled", "id")
    for user in found:
        roles = ",".join(sorted(user.roles))
        table.add_row(
            user.email, user.display_name, roles, str(user.verified), str(user.disabled), user.id
        )
    out.print(table)


@users_app.command("create")
def create_user(
    email: str,
    name: Annotated[str, typer.Option(help="display name")],
    role: Annotated[
        list[str] | None, typer.Option(help=f"one of {sorted(ROLES)}; repeatable")
    ] = None,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
) -> None:
    """Create a verified account (the operator vouches for its address), e.g. the first admin."""
    with _accounts() as accounts:
        user = accounts.create_verified(email, password, name, roles=frozenset(role or ()))
    out.print(f"created {user.email} ({user.id}) roles: {sorted(user.roles)}")


@users_app.command("roles")
def set_roles(
    email: str,
    role: Annotated[list[str] | None, typer.Option(help="the roles to hold; none: no role")] = None,
) -> None:
    """Give an account exactly the roles named."""
    with _accounts() as accounts:
        user = accounts.set_roles(accounts.by_email(email).id, frozenset(role or ()))
    out.print(f"{user.email}: roles {sorted(user.roles)}")


@licences_app.command("list")
def list_licences() -> None:
    """List the licences and the charter at their current version."""
    with _accounts() as accounts:
        found = Licences(accounts.engine, clock=accounts.clock).all()
    table = Table("id", "kind", "version", "title", "published")
    for licence in found:
        table.add_row(
            licence.id,
            licence.kind,
            str(licence.version),
            licence.title,
            licence.published.isoformat(),
        )
    out.print(table)


@licences_app.command("publish")
def publish_licence(
    licence_id: str,
    text: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="the text, a file")],
    admin: Annotated[str, typer.Option(help="e-mail of the admin publishing it")],
    title: Annotated[str | None, typer.Option(help="title (a new licence only)")] = None,
    charter: Annotated[bool, typer.Option(help="a new licence is the charter")] = False,
) -> None:
    """Create a licence (version 1, with --title) or publish its next version."""
    with _accounts() as accounts:
        licences = Licences(accounts.engine, clock=accounts.clock)
        actor = accounts.by_email(admin)
        body = text.read_text(encoding="utf-8")
        if title is not None:
            kind = "charter" if charter else "licence"
            licence = licences.create(actor, licence_id, title, body, kind=kind)
        else:
            licence = licences.publish(actor, licence_id, body)
    out.print(f"{licence.id} version {licence.version} published")
