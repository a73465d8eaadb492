"""The database layer: migrations build a fresh database, adopt one made by the release before
migrations (45c97f3) with its rows, run again as a no-op, and end at exactly the tables' schema;
on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import shutil
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import terrapole
from terrapole import db
from terrapole.access import AccessService
from terrapole.access.policy import ANONYMOUS
from terrapole.cli import main
from terrapole.jobs.states import State
from terrapole.jobs.store import JobOutputs, JobStore

# every package's tables module, found rather than listed: a new pillar's tables join
# db.metadata here too, so a table without its migration fails the drift tests
TABLE_MODULES = sorted(
    info.name for info in pkgutil.walk_packages(terrapole.__path__, "terrapole.")
    if info.name.endswith((".tables", "_tables"))
)  # fmt: skip
for _name in TABLE_MODULES:
    importlib.import_module(_name)

DATA = Path(__file__).parent / "data" / "db"
PREVIOUS_RELEASE = DATA / "previous_release.sqlite"  # made by 45c97f3's own code (see its script)
TABLES = {
    "tp_api_tokens", "tp_collection_access", "tp_credits", "tp_jobs", "tp_job_logs",
    "tp_openeo_jobs", "tp_openeo_process_graphs",
    # revision 0003: accounts, entities, charter and licences
    "tp_users", "tp_account_links", "tp_login_failures", "tp_token_owners", "tp_entities",
    "tp_memberships", "tp_entity_events", "tp_licences", "tp_licence_versions",
    "tp_licence_acceptances", "tp_collection_terms",
    # revision 0004: quotas ledger and orders
    "tp_quota_balances", "tp_quota_ledger", "tp_orders", "tp_order_history",
    # revision 0005: portal sessions
    "tp_sessions",
    # revision 0006: usage statistics (daily rollup)
    "tp_usage_daily",
    # revision 0008: OpenID Connect identities and the logins under way
    "tp_oidc_identities", "tp_oidc_logins",
    # revision 0009: in-situ (SensorThings entities, producers, datasets, observations)
    "tp_sta_producers", "tp_sta_datasets", "tp_sta_things", "tp_sta_locations",
    "tp_sta_thing_locations", "tp_sta_historical_locations",
    "tp_sta_historical_location_locations", "tp_sta_sensors", "tp_sta_observed_properties",
    "tp_sta_observed_property_categories", "tp_sta_datastreams", "tp_sta_features_of_interest",
    "tp_sta_observations", "tp_sta_foi_datastreams", "tp_sta_observation_days",
    # revision 0010: FAIR records, their published versions, review comments and history
    "tp_fair_records", "tp_fair_record_versions", "tp_fair_record_comments",
    "tp_fair_record_history",
    # revision 0011: thesauri (SKOS schemes, concepts, labels, relations, collections)
    "tp_thes_schemes", "tp_thes_concepts", "tp_thes_labels", "tp_thes_relations",
    "tp_thes_collections", "tp_thes_members",
    # revision 0012: CES directory and calls for projects
    "tp_ces_consortia", "tp_ces_offers", "tp_ces_history", "tp_calls", "tp_call_applications",
    "tp_call_reviews", "tp_call_history",
    # revision 0013: long-tail deposits, their files and upload sessions
    "tp_fair_deposits", "tp_fair_deposit_files", "tp_fair_deposit_uploads",
}  # fmt: skip
NEWER = TABLES - {
    "tp_api_tokens", "tp_collection_access", "tp_credits", "tp_jobs", "tp_job_logs",
    "tp_openeo_jobs",
}  # fmt: skip
"""The tables revisions after the baseline added."""


def _without_newer(dump: dict[str, Any]) -> dict[str, Any]:
    """A dump without the tables revisions after the baseline added (new, hence empty)."""
    return {name: value for name, value in dump.items() if name not in NEWER}


def _frozen_tables() -> ModuleType:
    """45c97f3's tables.py modules (tests/data/db/release_45c97f3_tables.py)."""
    spec = importlib.util.spec_from_file_location(
        "release_45c97f3", DATA / "release_45c97f3_tables.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dump(database_url: str) -> dict[str, Any]:
    """Every table's columns, indexes and rows (sorted), to compare a database before and after."""
    engine = db.create_engine(database_url)
    try:
        with engine.connect() as con:
            inspector = sa.inspect(con)
            found: dict[str, Any] = {}
            for name in sorted(inspector.get_table_names()):
                if name == db.VERSION_TABLE:
                    continue
                columns = [
                    (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(name)
                ]
                indexes = sorted(
                    (i["name"] or "", tuple(i["column_names"])) for i in inspector.get_indexes(name)
                )
                rows = sorted(repr(tuple(r)) for r in con.exec_driver_sql(f"SELECT * FROM {name}"))
                found[name] = (columns, indexes, rows)
            return found
    finally:
        engine.dispose()


def _tables(database_url: str) -> set[str]:
    engine = db.create_engine(database_url)
    try:
        with engine.connect() as con:
            return set(sa.inspect(con).get_table_names())
    finally:
        engine.dispose()


def _schema_diff(database_url: str, metadata: sa.MetaData) -> list[Any]:
    engine = db.create_engine(database_url)
    try:
        with engine.connect() as con:
            context = MigrationContext.configure(con, opts={
                "version_table": db.VERSION_TABLE,
                "include_name": lambda name, kind, _: kind != "table" or name.startswith("tp_"),
                # BRIN indexes exist on PostgreSQL only (their Index is ddl_if'd to it)
                "include_object": lambda _, name, kind, *__: (
                    kind != "index" or not (name or "").endswith("_brin")
                    or con.dialect.name == "postgresql"
                ),
            })  # fmt: skip
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def _make_previous_release(database_url: str, *, only_access: bool = False) -> None:
    """What 45c97f3 left: its services' ``create_all`` (all, or access's alone) and some rows."""
    old = _frozen_tables()
    engine = db.create_engine(database_url)
    now = datetime(2025, 5, 1, 12, tzinfo=UTC)
    with engine.begin() as con:
        old.access_metadata.create_all(con)
        con.execute(
            old.api_tokens.insert().values(
                name="ana", token_hash="0" * 64, groups=["partners"], admin=False, created=now
            )
        )
        con.execute(
            old.collection_access.insert().values(collection_id="ndvi", groups=["partners"])
        )
        if not only_access:
            old.jobs_metadata.create_all(con)
            con.execute(old.credits.insert().values(owner="ana", credit_cpu_s=5000.0))
            con.execute(
                old.jobs.insert().values(
                    id="a" * 32,
                    process="burn",
                    owner="ana",
                    state="successful",
                    stage="BURN",
                    progress=100.0,
                    inputs={"seconds": 1},
                    outputs={"result": "done"},
                    estimate_cpu_s=300.0,
                    cpu_s=250.0,
                    created=now,
                    finished=now,
                    purged=False,
                )
            )
            con.execute(
                old.job_logs.insert().values(
                    job_id="a" * 32, at=now, level="INFO", message="successful"
                )
            )
            con.execute(old.openeo_jobs.insert().values(
                id="b" * 32, owner="ana", title="a graph", process={"process_graph": {}},
                created=now, job_id="a" * 32))  # fmt: skip
    engine.dispose()


# -- a fresh database ---------------------------------------------------------------------------
def test_a_fresh_database_gets_every_table_from_the_migrations(database_url: str) -> None:
    done = db.upgrade(database_url)
    assert (done.before, done.after, done.adopted, done.changed) == (None, db.head(), False, True)
    assert _tables(database_url) == TABLES | {db.VERSION_TABLE}
    assert TABLES == set(db.metadata.tables)  # the test's list is the code's


def test_the_stores_migrate_and_never_create_all(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("tables are made by the migrations, not by create_all")

    monkeypatch.setattr(sa.MetaData, "create_all", refuse)
    jobs = JobStore(database_url)
    access = AccessService(database_url)
    assert jobs.submit("burn", "ana", {}, 10.0).state is State.ACCEPTED
    access.create_token("ana", groups=["partners"])
    with jobs.engine.connect() as con:
        assert db.revision(con) == db.head()
    jobs.close()
    access.close()


# -- a database of the release before migrations ------------------------------------------------
def test_the_previous_release_sqlite_file_is_adopted_with_its_rows(tmp_path: Path) -> None:
    """The committed file was written by 45c97f3's own services (catalogue, access, jobs)."""
    path = tmp_path / "terrapole.db"
    shutil.copy(PREVIOUS_RELEASE, path)
    url = f"sqlite:///{path}"
    before = _dump(url)
    assert db.VERSION_TABLE not in _tables(url) and "collections" in before

    done = db.upgrade(url)
    assert (done.before, done.after, done.adopted) == (None, db.head(), True)
    assert _without_newer(_dump(url)) == before  # no table, index or row changed
    assert _schema_diff(url, db.metadata) == []

    jobs = JobStore(url)
    (finished,) = [j for j in jobs.find("ana") if j.process == "burn"]
    assert (finished.state, finished.outputs, finished.cpu_s) == (
        State.SUCCESSFUL,
        JobOutputs(extra={"result": "done"}),  # a key of its own: kept as written
        250.0,
    )
    assert finished.outputs.to_json() == {"result": "done"} and not finished.outputs.published
    assert finished.expires is not None and finished.expires.tzinfo is not None
    assert [line.message for line in jobs.logs(finished.id)][-1] == "successful"
    assert jobs.credit("ana").credit == 5000.0
    new = jobs.submit("burn", "ana", {"seconds": 2}, 100.0)
    assert jobs.get(new.id).inputs == {"seconds": 2} and len(jobs.find("ana")) == 3
    access = AccessService(url)
    assert access.principal_named("ana").groups == frozenset({"partners"})
    assert access.hidden_for(ANONYMOUS) == frozenset({"ndvi-demo"})
    with jobs.engine.connect() as con:
        owner, title, job_id = con.exec_driver_sql(
            "SELECT owner, title, job_id FROM tp_openeo_jobs"
        ).one()
    assert (owner, title) == ("ana", "a graph") and jobs.get(job_id).process == "openeo-graph"
    jobs.close()
    access.close()


def test_a_previous_release_database_is_adopted_with_its_rows(database_url: str) -> None:
    _make_previous_release(database_url)
    before = _dump(database_url)
    done = db.upgrade(database_url)
    assert (done.before, done.after, done.adopted) == (None, db.head(), True)
    assert _without_newer(_dump(database_url)) == before
    assert _schema_diff(database_url, db.metadata) == []
    jobs = JobStore(database_url)
    old = jobs.get("a" * 32)
    assert (old.state, old.outputs.to_json(), old.created) == (
        State.SUCCESSFUL,
        {"result": "done"},
        datetime(2025, 5, 1, 12, tzinfo=UTC),
    )
    assert jobs.credit("ana").left == 5000.0 - 250.0
    new = jobs.submit("burn", "ana", {}, 100.0)
    assert [j.id for j in jobs.find("ana")] == [new.id, old.id]
    jobs.close()


def test_a_previous_release_database_with_only_the_access_tables_gets_the_others(
    database_url: str,
) -> None:
    """That release made each service's tables on its first use: `tokens create` alone made two."""
    _make_previous_release(database_url, only_access=True)
    before = _dump(database_url)
    assert db.upgrade(database_url).adopted
    after = _dump(database_url)
    assert {name: after[name] for name in before} == before
    assert set(after) == TABLES and _schema_diff(database_url, db.metadata) == []
    assert AccessService(database_url).principal_named("ana").groups == frozenset({"partners"})


# -- upgrading again, concurrently, from the CLI -----------------------------------------------
def test_upgrading_twice_is_a_no_op(database_url: str) -> None:
    _make_previous_release(database_url)
    db.upgrade(database_url)
    before = _dump(database_url)
    again = db.upgrade(database_url)
    assert (again.before, again.after, again.adopted, again.changed) == (
        db.head(),
        db.head(),
        False,
        False,
    )
    assert _dump(database_url) == before


def test_servers_starting_together_upgrade_one_after_the_other(database_url: str) -> None:
    results: list[db.Upgrade] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        barrier.wait()
        try:
            results.append(db.upgrade(database_url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(r.changed for r in results) == [False, False, False, True]
    assert _tables(database_url) == TABLES | {db.VERSION_TABLE}


def test_cli_db_upgrade_exits_0_and_can_be_run_again(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("TERRAPOLE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TERRAPOLE_DATABASE_URL", database_url)
    _make_previous_release(database_url)
    for expected in ("recorded at revision 0001", "already at the newest revision"):
        try:
            main(["db", "upgrade"])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        err = capsys.readouterr().err
        assert code == 0 and expected in err, err
    assert _dump(database_url)["tp_jobs"][2] and _schema_diff(database_url, db.metadata) == []


def test_tokens_are_checked_while_a_catalogue_load_holds_the_sqlite_write_lock(
    tmp_path: Path,
) -> None:
    """Opening the database at its newest revision and reading tokens take no write lock."""
    path = tmp_path / "terrapole.db"
    url = f"sqlite:///{path}"
    access = AccessService(url)
    secret = access.create_token("ana", groups=["partners"])
    access.restrict("ndvi", ["partners"])
    writer = sqlite3.connect(path, isolation_level=None)  # `terrapole load` in another process
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("CREATE TABLE items (id TEXT)")
    found: dict[str, Any] = {}

    def serve_a_request() -> None:
        server = AccessService(url)
        found["principal"] = server.authenticate(f"Bearer {secret}").name
        found["hidden"] = server.hidden_for(ANONYMOUS)
        server.close()

    request = threading.Thread(target=serve_a_request)
    request.start()
    request.join(timeout=10)
    waited = request.is_alive()
    writer.execute("ROLLBACK")
    writer.close()
    request.join()
    assert not waited, "the request waited for the writer"
    assert found == {"principal": "ana", "hidden": frozenset({"ndvi"})}
    access.close()


# -- the migrations' newest schema is the tables' schema ----------------------------------------
def test_the_migrations_end_at_the_tables_schema(database_url: str) -> None:
    db.upgrade(database_url)
    assert _schema_diff(database_url, db.metadata) == []


def test_a_table_change_without_its_migration_is_found(database_url: str) -> None:
    """What the test above catches: a column added to a table and no revision adding it."""
    db.upgrade(database_url)
    changed = sa.MetaData()
    for table in db.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["tp_jobs"].append_column(sa.Column("priority", sa.Integer, nullable=True))
    (diff,) = _schema_diff(database_url, changed)
    assert diff[0] == "add_column" and diff[3].name == "priority"
