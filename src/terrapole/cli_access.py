"""CLI for accounts, licences, entities, quotas and orders: ``terrapole users|licences|
entities|quotas|orders ...``.

The operator's way in before any page exists: the first admin is made here (verified at once,
the password asked twice and never echoed), roles are given here, and licence texts are
published from files.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Column, Table

from terrapole import db
from terrapole.access.accounts import ROLES, Accounts
from terrapole.access.delivery import Delivery
from terrapole.access.entities import Entities
from terrapole.access.licences import Licences
from terrapole.access.mail import mailer_for
from terrapole.access.order_workflow import Actor, State
from terrapole.access.orders import Order, OrderBook
from terrapole.access.pricing import Family, check_quarter, quarter
from terrapole.access.quotas import Quota
from terrapole.access.service import AccessService
from terrapole.catalog.store import open_store
from terrapole.cli_jobs import command_settings
from terrapole.errors import InvalidInput
from terrapole.storage import open_storage

users_app = typer.Typer(help="Create and list accounts, give roles.", no_args_is_help=True)
licences_app = typer.Typer(help="The charter and licences, by version.", no_args_is_help=True)
entities_app = typer.Typer(help="Entities, their referent and members.", no_args_is_help=True)
quotas_app = typer.Typer(
    help="km² quotas of an entity, per family and quarter.", no_args_is_help=True
)
orders_app = typer.Typer(help="Archive orders and tasking requests.", no_args_is_help=True)
out = Console()


def _id_column() -> Column:
    return Column("id", no_wrap=True, min_width=32)  # ids are copied into the next command


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
        body = _text_of(text)
        if title is not None:
            kind = "charter" if charter else "licence"
            licence = licences.create(actor, licence_id, title, body, kind=kind)
        else:
            licence = licences.publish(actor, licence_id, body)
    out.print(f"{licence.id} version {licence.version} published")


def _text_of(path: Path) -> str:
    """A licence text file's content: UTF-8, or InvalidInput naming the file."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("--text", f"{path} is not UTF-8 text ({exc.reason})") from exc


def _entities(accounts: Accounts) -> Entities:
    return Entities(accounts.engine, clock=accounts.clock)


@entities_app.command("list")
def list_entities() -> None:
    """List the entities (name, country, kind, profile, referent)."""
    with _accounts() as accounts:
        found = _entities(accounts).all()
        referents = {e.id: accounts.get(e.referent_id).email for e in found}
    table = Table(_id_column(), "name", "country", "kind", "profile", "referent")
    for entity in found:
        table.add_row(
            entity.id, entity.name, entity.country, entity.kind.value, entity.profile.value,
            referents[entity.id],
        )  # fmt: skip
    out.print(table)


@entities_app.command("show")
def show_entity(entity_id: str) -> None:
    """Show one entity: its record and its members with their profiles."""
    with _accounts() as accounts:
        entities = _entities(accounts)
        entity = entities.get(entity_id)
        members = [(accounts.get(m.user_id), m) for m in entities.members(entity_id)]
    out.print(f"{entity.name} ({entity.id})")
    out.print(f"country {entity.country}, kind {entity.kind}, profile {entity.profile}")
    out.print(f"SIREN {entity.siren or '-'}, ROR {entity.ror or '-'}")
    table = Table("member", "name", "profile", "referent")
    for user, membership in members:
        member_profile = (membership.profile or entity.profile).value
        referent = "yes" if user.id == entity.referent_id else ""
        table.add_row(user.email, user.display_name, member_profile, referent)
    out.print(table)


@quotas_app.command("show")
def show_quotas(
    entity_id: str,
    period: Annotated[
        str | None, typer.Option(help="the quarter, e.g. 2026-Q4 (default: this one)")
    ] = None,
) -> None:
    """Show an entity's km² quotas for a quarter: allowance, debited, credited, left."""
    when = check_quarter(period) if period is not None else quarter(datetime.now(UTC))
    with _accounts() as accounts:
        entity = _entities(accounts).get(entity_id)
        ledger = OrderBook(accounts.engine).ledger
        balances = [ledger.balance(Quota(entity.id, entity.profile, f, when)) for f in Family]
    table = Table("family", "period", "allowance km²", "debited km²", "credited km²", "left km²")
    for b in balances:
        table.add_row(
            b.family.value, b.period, f"{b.allowance_km2:.1f}", f"{b.debited_km2:.1f}",
            f"{b.credited_km2:.1f}", f"{b.remaining_km2:.1f}",
        )  # fmt: skip
    out.print(f"{entity.name} ({entity.profile})")
    out.print(table)


@orders_app.command("list")
def list_orders(
    entity: Annotated[str | None, typer.Option(help="only this entity's orders")] = None,
) -> None:
    """List the orders (every entity's, as the operator sees them), newest first."""
    with _accounts() as accounts:
        found = OrderBook(accounts.engine).find(Actor("cli", operator=True), entity_id=entity)
    table = Table(
        _id_column(),
        "kind",
        "state",
        Column("entity", no_wrap=True),
        "family",
        "period",
        "km²",
        "price €",
    )
    for order in found:
        price = "-" if order.price_eur is None else f"{order.price_eur:.2f}"
        table.add_row(
            order.id, order.kind.value, order.state.value, order.entity_id, order.family.value,
            order.period, f"{order.km2:.1f}", price,
        )  # fmt: skip
    out.print(table)


@orders_app.command("move")
def move_order(
    order_id: str,
    transition: Annotated[str, typer.Argument(help=f"the state to move to: {', '.join(State)}")],
    as_: Annotated[str, typer.Option("--as", help="e-mail of the account acting")],
    note: Annotated[str, typer.Option(help="a note kept in the order's history")] = "",
    accept_price: Annotated[
        float, typer.Option(help="on submission: the overage price (€) accepted")
    ] = 0.0,
    item: Annotated[
        list[str] | None,
        typer.Option(
            help="on delivery of a tasking request: an item of the acquisition, as "
            "collection/item (or an item id found in one collection); repeatable"
        ),
    ] = None,
) -> None:
    """Move an order as the named account (its owner, its entity's referent, or an admin).

    ``delivered`` copies the items into the entity's delivery collection exactly as the web
    API's deliver move does: an archive order delivers what it ordered, a tasking request the
    items named with ``--item``.
    """
    if item and transition != State.DELIVERED.value:
        raise InvalidInput("item", f"only a delivery names items, not {transition!r}")
    with _accounts() as accounts:
        user = accounts.by_email(as_)
        entities = _entities(accounts)
        led = frozenset(e.id for e in entities.of_user(user.id) if e.referent_id == user.id)
        actor = Actor(user.id, referent_of=led, operator=user.admin)
        book = OrderBook(accounts.engine)
        if transition == State.SUBMITTED.value:
            order = book.submit(actor, order_id, accept_price_eur=accept_price)
        elif transition == State.DELIVERED.value:
            order = _deliver(book, entities, actor, order_id, item or [], note)
        else:
            order = book.move(actor, order_id, transition, note)
    out.print(f"order {order.id}: {order.state}")


def _deliver(
    book: OrderBook, entities: Entities, actor: Actor, order_id: str, items: list[str], note: str
) -> Order:
    """Deliver through :class:`~terrapole.access.delivery.Delivery`, over the catalogue and the
    storage of the settings, and say where the items went."""
    settings = command_settings()
    store = open_store(settings)
    access = AccessService(settings.database_url)
    try:
        done = Delivery(store, open_storage(settings), book, entities, access).deliver(
            actor, order_id, items=items, note=note
        )
    finally:
        access.close()
        store.close()
    out.print(f"{len(done.items)} item(s) delivered into {done.collection_id}")
    return done.order
