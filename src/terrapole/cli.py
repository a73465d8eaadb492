"""`terrapole ...`: one sub-command per user task. Exit codes are mapped in one place here."""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Column, Table
from sqlalchemy.exc import OperationalError

from terrapole import cli_access, cli_ces, cli_fair, cli_insitu, cli_jobs, cli_prune
from terrapole.access import AccessService
from terrapole.catalog.documents import parse_bbox, prepare_item
from terrapole.catalog.loader import as_json, count_documents, load_paths
from terrapole.catalog.model import CollectionQuery, LoadReport, Rejection
from terrapole.catalog.store import Store, open_store
from terrapole.config import Settings, load_settings
from terrapole.errors import (
    AlreadyExists,
    ConfigError,
    InvalidInput,
    NotFound,
    StoreUnavailable,
    TerrapoleError,
)
from terrapole.storage import open_storage
from terrapole.worker_pool import exit_with_parent

EXIT_CODES: dict[type[TerrapoleError], int] = {
    ConfigError: 3,
    StoreUnavailable: 3,  # the database the settings name cannot be reached
    InvalidInput: 2,
    NotFound: 4,
    AlreadyExists: 5,
    TerrapoleError: 1,
}
DEMO_BUNDLE = Path(__file__).resolve().parents[2] / "demo" / "catalog"

app = typer.Typer(
    help="terrapole: Earth-observation and in-situ data platform.", no_args_is_help=True
)
collections_app = typer.Typer(help="List, show and delete collections.", no_args_is_help=True)
tokens_app = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)
app.add_typer(collections_app, name="collections")
app.add_typer(tokens_app, name="tokens")
db_app = typer.Typer(help="The database of jobs, tokens and restrictions.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(cli_jobs.jobs_app, name="jobs")
app.add_typer(cli_jobs.credits_app, name="credits")
app.command("purge")(cli_jobs.purge)
app.command("prune")(cli_prune.prune)
app.add_typer(cli_access.users_app, name="users")
app.add_typer(cli_access.licences_app, name="licences")
app.add_typer(cli_access.entities_app, name="entities")
app.add_typer(cli_access.quotas_app, name="quotas")
app.add_typer(cli_access.orders_app, name="orders")
app.add_typer(cli_insitu.insitu_app, name="insitu")
app.add_typer(cli_ces.ces_app, name="ces")
app.add_typer(cli_ces.calls_app, name="calls")
app.add_typer(cli_fair.thesaurus_app, name="thesaurus")
app.add_typer(cli_fair.deposits_app, name="deposits")
console = Console(stderr=True)
out = Console()


_settings = cli_jobs.command_settings  # the settings the callback below read for the command


@app.callback()
def _prepare_data_dir(ctx: typer.Context) -> None:
    """Before any command: valid settings, and a data directory that exists (made if not)."""
    settings = ctx.obj = load_settings()
    folder = settings.sqlite_path.parent if settings.backend == "sqlite" else settings.data_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError("TERRAPOLE_DATA_DIR", f"cannot create {folder}: {exc.strerror}") from exc


def _clean_staging(settings: Settings) -> None:
    """Remove the staging folders that processes killed mid-work left (none of a live one)."""
    open_storage(settings).clean_stale_staging()


@contextmanager
def _store() -> Iterator[Store]:
    store = open_store(_settings())
    try:
        yield store
    finally:
        store.close()


def _progress(label: str) -> Progress:
    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
    )


def _print_report(report: LoadReport, *, as_json_output: bool) -> None:
    if as_json_output:
        out.print_json(json.dumps(as_json(report)))
        return
    console.print(
        f"loaded {report.loaded}, skipped {report.skipped} (already present), "
        f"rejected {len(report.rejected)}"
    )
    for rejection in report.rejected[:50]:
        console.print(f"  [red]rejected[/] {rejection.where}: {rejection.reason}")
    if len(report.rejected) > 50:
        console.print(f"  ... and {len(report.rejected) - 50} more (use --json for all)")


SERVE_PID = "_TERRAPOLE_SERVE_PID"  # tells a uvicorn worker which `terrapole serve` started it


def worker_app() -> Any:
    """The app of one uvicorn worker of ``serve --workers N``: it exits with the serve process."""
    from terrapole.app import create_app

    exit_with_parent(int(os.environ[SERVE_PID]))
    return create_app()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1,
) -> None:
    """Serve the API and portal (STAC API at /stac)."""
    _serve(_settings(), host, port, workers)


def _serve(settings: Settings, host: str | None, port: int | None, workers: int) -> None:
    """Serve the app of ``settings``; each of several workers reads the settings in its process."""
    import uvicorn

    from terrapole.app import create_app

    os.environ[SERVE_PID] = str(os.getpid())
    uvicorn.run(
        "terrapole.cli:worker_app" if workers > 1 else partial(create_app, settings),
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level=settings.log_level.lower(),
    )


@app.command()
def load(
    paths: Annotated[list[Path], typer.Argument(help="NDJSON/JSON files or folders")],
    upsert: Annotated[bool, typer.Option(help="replace items that already exist")] = False,
    collection: Annotated[str | None, typer.Option(help="collection for items lacking one")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    workers: Annotated[int, typer.Option(help="processes parsing NDJSON")] = 2,
) -> None:
    """Bulk-load STAC collections and items; bad documents are reported and skipped."""
    _clean_staging(_settings())
    total = count_documents(paths)
    with _store() as store, _progress("loading") as progress:
        task = progress.add_task("load", total=total)
        report = load_paths(
            store,
            paths,
            on_conflict="upsert" if upsert else "skip",
            collection=collection,
            progress=lambda n: progress.advance(task, n),
            workers=workers,
            max_item_bytes=_settings().max_item_bytes,
        )
    _print_report(report, as_json_output=json_output)
    if report.rejected:
        raise typer.Exit(code=2)


def _harvest_items(
    url: str, collections: list[str], bbox: str | None, datetime: str | None, max_items: int
) -> tuple[Any, Iterator[dict[str, Any]]]:
    from pystac_client import Client

    if not url.startswith(("http://", "https://")):
        raise InvalidInput("url", f"{url!r} is not an http(s) URL of a STAC API")
    try:
        client = Client.open(url)
    except Exception as exc:  # unreachable, not JSON, not a STAC API: pystac-client's many kinds
        raise InvalidInput("url", f"{url} does not answer as a STAC API: {exc}") from exc
    search = client.search(
        collections=collections,
        bbox=parse_bbox(bbox.split(",")) if bbox else None,
        datetime=datetime,
        max_items=max_items,
    )
    return client, search.items_as_dicts()


@app.command()
def harvest(
    url: Annotated[str, typer.Argument(help="root URL of a remote STAC API")],
    collection: Annotated[list[str], typer.Option(help="remote collection id (repeatable)")],
    bbox: Annotated[str | None, typer.Option(help="minx,miny,maxx,maxy")] = None,
    datetime: Annotated[str | None, typer.Option(help="RFC 3339 instant or interval")] = None,
    max_items: Annotated[int, typer.Option(help="stop after this many items")] = 10_000,
) -> None:
    """Copy collections and matching items from a remote STAC API (idempotent upsert)."""
    report = LoadReport()
    max_bytes = _settings().max_item_bytes
    with _store() as store:
        client, items = _harvest_items(url, collection, bbox, datetime, max_items)
        for name in collection:
            store.upsert_collection(client.get_collection(name).to_dict(transform_hrefs=False))
        with _progress("harvesting") as progress:
            task = progress.add_task("harvest", total=max_items)
            batch = []
            for doc in items:
                try:
                    batch.append(prepare_item(doc, max_bytes=max_bytes))
                except InvalidInput as exc:
                    report.rejected.append(Rejection(str(doc.get("id")), exc.message))
                if len(batch) >= 500:
                    report.merge(store.load_items(batch, on_conflict="upsert"))
                    progress.advance(task, len(batch))
                    batch = []
            report.merge(store.load_items(batch, on_conflict="upsert"))
            progress.advance(task, len(batch))
    _print_report(report, as_json_output=False)
    if report.rejected:
        raise typer.Exit(code=2)


@app.command()
def ingest(
    paths: Annotated[list[str], typer.Argument(help="products: files, folders, zips, globs")],
    collection: Annotated[
        str | None, typer.Option(help="collection (required for generic GeoTIFFs)")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="parallel processes")] = None,
    in_place: Annotated[
        bool, typer.Option("--in-place", help="register existing COGs without copying them")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    produce_after: Annotated[
        bool, typer.Option("--produce", help="then run the chains the new products affect")
    ] = False,
) -> None:
    """Ingest products: per-band COGs, previews and a rich STAC item each (idempotent)."""
    from terrapole.ingest.service import Ingestor, expand

    settings = _settings()
    _clean_staging(settings)
    total = sum(1 for _ in expand(paths))
    with _store() as store, _progress("ingesting") as progress:
        task = progress.add_task("ingest", total=total)
        ingestor = Ingestor(store, open_storage(settings), roots=settings.ingest_roots)
        report = ingestor.run(
            paths,
            collection=collection,
            workers=workers or settings.ingest_workers,
            in_place=in_place,
            on_product=lambda name, outcome: progress.advance(task),
        )
    if json_output:
        body = {
            "ingested": report.ingested,
            "unchanged": report.unchanged,
            "rejected": [{"path": p, "reason": r} for p, r in report.rejected],
        }
        out.print_json(json.dumps(body))
    else:
        console.print(
            f"ingested {len(report.ingested)}, unchanged {len(report.unchanged)}, "
            f"rejected {len(report.rejected)}"
        )
        for path, reason in report.rejected[:50]:
            console.print(f"  [red]rejected[/] {Path(path).name}: {reason}")
    if produce_after and report.ingested:
        from terrapole.production.registry import chains

        _produce_due(settings, settings.production_chains or list(chains(settings)))
    if report.rejected:
        raise typer.Exit(code=2)


@app.command()
def produce(
    chain: Annotated[str, typer.Argument(help="chain name, or 'all' (see --list)")] = "",
    tile: Annotated[str | None, typer.Option(help="tile of the inputs (theia:tile)")] = None,
    bbox: Annotated[str | None, typer.Option(help="minx,miny,maxx,maxy (WGS84)")] = None,
    start: Annotated[str | None, typer.Option("--from", help="first day (YYYY-MM[-DD])")] = None,
    end: Annotated[str | None, typer.Option("--to", help="last day (YYYY-MM[-DD])")] = None,
    due_only: Annotated[
        bool, typer.Option("--due", help="produce what new inputs affect (one scheduler tick)")
    ] = False,
    list_chains: Annotated[bool, typer.Option("--list", help="list the chains")] = False,
) -> None:
    """Run production chains: backfill an area and period (unchanged windows are skipped)."""
    from terrapole.production.registry import chains

    settings = _settings()
    known = chains(settings)
    if list_chains or not (chain or due_only):
        table = Table("chain", "cadence", "input", "output", "what")
        for c in known.values():
            why = c.unavailable()
            what = f"{c.title} [yellow](off: {why})[/]" if why else c.title
            table.add_row(c.name, c.cadence, c.input_collection, c.output_collection, what)
        out.print(table)
        return
    _clean_staging(settings)
    if due_only:
        _produce_due(settings, [chain] if chain and chain != "all" else list(known))
        return
    names = list(known) if chain == "all" else [chain]
    if not (tile or bbox) or not (start and end):
        raise InvalidInput("produce", "--tile or --bbox, and --from and --to are required")
    _backfill(names, tile, bbox, _day(start, "--from", first=True), _day(end, "--to", first=False))


def _day(text: str, option: str, first: bool) -> date:
    """YYYY-MM-DD, or YYYY-MM (its first or last day)."""
    try:
        if len(text) == 7:
            month = date.fromisoformat(f"{text}-01")
            if first:
                return month
            following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
            return following - timedelta(days=1)
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(option, f"{text!r} is not YYYY-MM or YYYY-MM-DD") from exc


def _backfill(
    names: list[str], tile: str | None, bbox: str | None, first: date, last: date
) -> None:
    from terrapole.cube.cluster import dask_client
    from terrapole.production import runner
    from terrapole.production.chain import Area
    from terrapole.production.registry import chain as find_chain

    settings = _settings()
    chains = [find_chain(name, settings) for name in names]
    if len(chains) == 1 and (why := chains[0].unavailable()):
        raise InvalidInput(chains[0].name, why)
    if last < first:
        raise InvalidInput("--to", f"{last} is before --from {first}")
    area = Area(tile=tile, bbox=parse_bbox(bbox.split(","), crossing=False) if bbox else None)
    failed = 0
    with _store() as store, dask_client(settings) as client:
        storage = open_storage(settings)
        for chain in chains:
            planned = list(runner.windows(store, chain, area, first, last))
            with _progress(chain.name) as progress:
                task = progress.add_task(chain.name, total=len(planned))

                def advance(name: str, outcome: str, task: TaskID = task) -> None:
                    progress.advance(task)

                report = runner.run(
                    chain, store, storage, client, area=area, start=first, end=last,
                    planned=planned, on_window=advance,
                )  # fmt: skip
            failed += _print_production(chain.name, report)
    if failed:
        raise typer.Exit(code=2)


def _print_production(name: str, report: Any) -> int:
    """One line per chain and one per failed window; returns the number of failures."""
    console.print(
        f"{name}: produced {len(report.produced)}, unchanged {len(report.unchanged)}, "
        f"empty {len(report.empty)}, failed {len(report.failed)}"
    )
    for item, reason in report.failed:
        console.print(f"  [red]failed[/] {item}: {reason}")
    return len(report.failed)


def _produce_due(settings: Settings, names: list[str]) -> None:
    from terrapole.cube.cluster import dask_client
    from terrapole.production.scheduler import Scheduler

    scheduler = Scheduler(settings, names)
    with _store() as store, dask_client(settings) as client:
        reports = scheduler.tick(client, store)
    failed = sum(_print_production(name, report) for name, report in reports.items())
    if failed:
        raise typer.Exit(code=2)


@app.command()
def demo(
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="serve afterwards")
    ] = True,
) -> None:
    """Ingest the bundled real products and load the bundled STAC items, then serve them."""
    if not DEMO_BUNDLE.is_dir():
        raise InvalidInput("demo bundle", f"{DEMO_BUNDLE} is missing (run from a source checkout)")
    load([DEMO_BUNDLE], upsert=False, collection=None, json_output=False, workers=1)
    products = DEMO_BUNDLE.parent / "products"
    for folder, collection in (
        ("theia", None),
        ("theia-2018", None),
        ("dem", "dem"),
        ("landcover", "landcover"),
    ):
        try:
            ingest([str(products / folder)], collection, None, False, False, False)
        except typer.Exit as exc:  # rejected products are listed; the demo goes on
            if exc.exit_code != 2:
                raise
    from terrapole.production.registry import chains

    settings = _settings()
    given = settings.model_fields_set  # what the environment or terrapole.toml set: kept
    if "landcover_training" not in given:
        training = DEMO_BUNDLE.parent / "training" / "bdforet_training.geojson"
        settings = settings.model_copy(update={"landcover_training": training})
    console.print("production chains on the demo products (what a server tick does):")
    _produce_due(settings, list(chains(settings)))
    _seed_demo_accounts(settings)
    cli_insitu.import_demo()  # the in-situ observatories (CAMELS US, pastas/KNMI, USGS NWIS)
    cli_ces.seed_demo()  # the CES of the THEIA decks, their offers, a call and an application
    cli_fair.import_demo()  # the thesauri (INSPIRE themes, MET Norway MMD)
    cli_fair.publish_demo()  # records of the collections, a production output, deposits
    console.print(
        f"catalogue ready: http://{settings.host}:{settings.port}/stac/ "
        f"(API docs at /stac/api.html)"
    )
    if serve_after:  # the served demo goes on producing what new ingests bring
        if "production_chains" not in given:
            settings = settings.model_copy(update={"production_chains": list(chains(settings))})
        _serve(settings, None, None, 1)


def _seed_demo_accounts(settings: Settings) -> None:
    """The demo's DINAMIS access (accounts, entities, licence, orders); new passwords shown once."""
    from terrapole.access.demo_accounts import COLLECTION, seed
    from terrapole.services import Services

    access = AccessService(settings.database_url)
    try:
        with _store() as store:
            services = Services(store, access, settings, open_storage(settings))
            credentials = seed(services)
    finally:
        access.close()
    console.print(f"demo accounts (collection {COLLECTION!r} needs a licence and a French lab):")
    shown = any(cred.password for cred in credentials)
    table = Table(Column("e-mail", min_width=max(len(c.email) for c in credentials)), "account")
    if shown:
        table.add_column("password", no_wrap=True, min_width=16)
    for cred in credentials:
        table.add_row(
            cred.email, cred.role, *([cred.password or "(printed before)"] if shown else [])
        )
    console.print(table, soft_wrap=True)
    if shown:
        console.print("[bold]these passwords are shown only now[/]: store them")
    else:
        console.print(
            "the demo accounts exist already: their passwords were printed the first time"
        )


@collections_app.command("list")
def collections_list() -> None:
    """List collections with their item counts."""
    with _store() as store:
        docs, _ = store.list_collections(CollectionQuery(limit=100_000))
        table = Table("id", "title", "items")
        for doc in docs:
            table.add_row(doc["id"], str(doc.get("title", "")), str(store.count_items(doc["id"])))
    out.print(table)


@collections_app.command("show")
def collections_show(collection_id: str) -> None:
    """Print a collection document as JSON."""
    with _store() as store:
        out.print_json(json.dumps(store.get_collection(collection_id)))


@collections_app.command("delete")
def collections_delete(
    collection_id: str,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
) -> None:
    """Delete a collection and all its items."""
    with _store() as store:
        count = store.count_items(collection_id)
        store.get_collection(collection_id)
        if not yes and not typer.confirm(f"delete {collection_id!r} and its {count} items?"):
            raise typer.Exit(code=1)
        store.delete_collection(collection_id)
    console.print(f"deleted collection {collection_id!r} ({count} items)")


@collections_app.command("restrict")
def collections_restrict(
    collection_id: str,
    group: Annotated[list[str], typer.Option(help="group allowed to read (repeatable)")] = [],  # noqa: B006
) -> None:
    """Restrict a collection (or an in-situ dataset, by its access key such as insitu-1) to
    groups; with no --group it becomes public again."""
    settings = _settings()
    dataset = cli_insitu.dataset_of_key(collection_id)
    if dataset is None:
        with _store() as store:
            store.get_collection(collection_id)
    access = AccessService(settings.database_url)
    access.restrict(collection_id, group)
    state = f"restricted to {', '.join(sorted(group))}" if group else "public"
    what = "collection" if dataset is None else f"in-situ dataset {dataset}"
    console.print(f"{what} {collection_id!r} is now {state}")


@tokens_app.command("create")
def tokens_create(
    name: str,
    group: Annotated[list[str], typer.Option(help="group membership (repeatable)")] = [],  # noqa: B006
    admin: Annotated[bool, typer.Option(help="may write to the catalogue")] = False,
) -> None:
    """Create an API token; its secret is printed once on stdout."""
    secret = AccessService(_settings().database_url).create_token(name, groups=group, admin=admin)
    console.print(f"token {name!r} created; keep the secret below, it is not stored")
    out.print(secret, highlight=False)


@tokens_app.command("list")
def tokens_list() -> None:
    """List tokens (names, groups, roles; never secrets)."""
    table = Table("name", "groups", "admin", "created")
    for row in AccessService(_settings().database_url).list_tokens():
        table.add_row(row["name"], ", ".join(row["groups"]), str(row["admin"]), str(row["created"]))
    out.print(table)


@tokens_app.command("revoke")
def tokens_revoke(name: str) -> None:
    """Revoke a token by name."""
    AccessService(_settings().database_url).revoke_token(name)
    console.print(f"token {name!r} revoked")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema (a server start does it too; safe to repeat)."""
    from terrapole import db

    done = db.upgrade(_settings().database_url)
    if done.adopted:
        console.print("the database was made before migrations: recorded at revision 0001")
    if done.changed:
        console.print(f"database upgraded from revision {done.before or '(none)'} to {done.after}")
    else:
        console.print(f"database already at the newest revision, {done.after}")


def _exit_code(exc: TerrapoleError) -> int:
    for kind in type(exc).__mro__:
        if kind in EXIT_CODES:
            return EXIT_CODES[kind]
    return 1


def main(argv: list[str] | None = None, *, run: Callable[..., Any] | None = None) -> None:
    """Entry point: run the Typer app, turning terrapole errors into messages and exit codes."""
    try:
        code = (run or app)(args=argv, standalone_mode=False)
        if isinstance(code, int) and code != 0:
            sys.exit(code)
    except TerrapoleError as exc:  # one line, as written (not wrapped, no markup): for scripts
        console.print(f"[red]error:[/] {escape(exc.message)}", soft_wrap=True)
        sys.exit(_exit_code(exc))
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except typer.TyperException as exc:  # usage errors (exit code 2): what and how to ask
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            console.print(f"[red]error:[/] {exc.format_message()}")
        sys.exit(exc.exit_code)
    except OperationalError as exc:  # the database named by the settings cannot be opened
        reason = str(exc.orig or exc).strip().splitlines()[0]
        console.print(f"[red]error:[/] cannot open the database: {escape(reason)}", soft_wrap=True)
        sys.exit(EXIT_CODES[StoreUnavailable])
    except Exception as exc:  # a fault of terrapole's: a message; the traceback when debugging
        if logging.getLogger("terrapole").isEnabledFor(logging.DEBUG):
            traceback.print_exception(exc)
        console.print(
            f"[red]error:[/] unexpected {type(exc).__name__}: {escape(str(exc))} "
            "(TERRAPOLE_LOG_LEVEL=DEBUG prints the traceback)",
            soft_wrap=True,
        )
        sys.exit(1)
