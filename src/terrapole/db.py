"""The database of the pillars' own tables (jobs, access, ...): engines and Alembic migrations.

One SQLAlchemy Core layer for SQLite (the embedded default) and PostgreSQL. Each pillar keeps
its tables in its own ``tables.py`` on :data:`metadata`; the schema those tables describe is
built and changed only by the migrations in ``terrapole/migrations/versions``, run to the
newest revision by :func:`upgrade` (``terrapole db upgrade``) and when a store opens the
database (:func:`open_engine`). A change to a table therefore comes with a new revision; a test
checks that the migrations' newest schema equals :data:`metadata`.

This module imports no pillar.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

logger = logging.getLogger(__name__)

metadata = sa.MetaData()
"""Every table of the pillars (their ``tables.py`` modules attach their tables to it)."""

VERSION_TABLE = "tp_alembic_version"
"""Where Alembic records the database's revision (prefixed like the tables it versions)."""

_READING = "terrapole_reading"
_PG_LOCK = 0x7465_7272_6170  # pg_advisory_xact_lock key: one upgrader at a time
_SQLITE_BUSY_S = 60.0


def sqlalchemy_url(database_url: str) -> str:
    """Map terrapole's database URL onto the SQLAlchemy dialect that serves it.

    >>> sqlalchemy_url("postgresql://u@db/terrapole")
    'postgresql+psycopg://u@db/terrapole'
    """
    if database_url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + database_url.split("://", 1)[1]
    return database_url


def create_engine(database_url: str) -> sa.Engine:
    """An engine for ``database_url`` (no schema change: see :func:`open_engine`).

    SQLite, on every connection: write-ahead log (readers never wait for the writer), a 60 s
    busy timeout, and each transaction (but those of :func:`reading`) begun ``BEGIN
    IMMEDIATE``, so that writers queue at its start instead of failing when a read turns into
    a write. PostgreSQL: connections checked before use (``pool_pre_ping``), so a restarted
    server costs no failed request.
    """
    url = sqlalchemy_url(database_url)
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    engine = sa.create_engine(url, connect_args={"timeout": _SQLITE_BUSY_S})

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi: Any, record: Any) -> None:
        dbapi.isolation_level = None  # the driver issues no BEGIN of its own: we do
        _write_ahead_log(dbapi)
        # under WAL, NORMAL syncs at checkpoints, not at each commit: a power loss may drop the
        # last commits but never corrupts the file (the SQLite documentation on WAL)
        dbapi.execute("PRAGMA synchronous=NORMAL")

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        reading = connection.get_execution_options().get(_READING, False)
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")  # one writer

    return engine


def _write_ahead_log(dbapi: sqlite3.Connection) -> None:
    """Switch to the write-ahead log (once per file: it stays); retried while another
    connection writes, which SQLite answers at once with "locked", busy timeout or not."""
    deadline = time.monotonic() + _SQLITE_BUSY_S
    while True:
        try:
            dbapi.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def reading(engine: sa.Engine) -> sa.Connection:
    """A connection that only reads: on SQLite its transactions begin deferred, so it reads the
    last committed state while a writer holds the lock (a long catalogue load in the same file)
    instead of queueing behind it; on PostgreSQL it is any connection.

    >>> with reading(engine) as con:  # doctest: +SKIP
    ...     con.execute(sa.select(table)).all()
    """
    return engine.connect().execution_options(**{_READING: True})


@dataclass(frozen=True)
class Upgrade:
    """What :func:`upgrade` did: the revision before (None: no revision recorded) and after.

    ``adopted``: the database was made by a release before migrations (its tables exist but
    no revision was recorded); it was recorded at the first revision, its rows untouched.
    """

    before: str | None
    after: str
    adopted: bool = False

    @property
    def changed(self) -> bool:
        """Whether a migration ran (False: the database was at the newest revision already)."""
        return self.before != self.after


def _config(connection: sa.Connection | None = None) -> Config:
    """Alembic's configuration, built here: no alembic.ini is read."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("terrapole") / "migrations"))
    config.attributes["connection"] = connection
    config.attributes["metadata"] = metadata
    config.attributes["version_table"] = VERSION_TABLE
    return config


@cache
def head() -> str:
    """The newest revision of the migrations."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None, "the migrations have no head revision"
    return revision


def revision(connection: sa.Connection) -> str | None:
    """The revision recorded in the database (None: none recorded)."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def migrate(engine: sa.Engine) -> Upgrade:
    """Run the migrations on ``engine`` up to the newest revision, in one transaction.

    A database at the newest revision is only read (no lock taken: a start does not wait for
    a catalogue load writing the same SQLite file). Concurrent upgraders (several server
    workers starting together) run one after the other: SQLite's ``BEGIN IMMEDIATE`` and a
    PostgreSQL advisory lock serialise them, and the later ones find the work done.
    """
    with reading(engine) as con:
        current = revision(con)
    if current == head():
        return Upgrade(current, current)
    with engine.begin() as con:
        if con.dialect.name == "postgresql":
            con.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
        before = revision(con)
        adopted = before is None and any(
            name.startswith("tp_") for name in sa.inspect(con).get_table_names()
        )
        if adopted:
            logger.info("the database was made before migrations: recording it at revision 1")
        command.upgrade(_config(con), "head")
        after = revision(con)
    assert after is not None
    if after != before:
        logger.info("database upgraded from revision %s to %s", before, after)
    return Upgrade(before, after, adopted)


def upgrade(database_url: str) -> Upgrade:
    """Run the migrations on the database at ``database_url`` up to the newest revision."""
    engine = create_engine(database_url)
    try:
        return migrate(engine)
    finally:
        engine.dispose()


def open_engine(database_url: str) -> sa.Engine:
    """An engine on the database at ``database_url``, migrated to the newest revision first.

    The stores open the database with it: at the newest revision already, that costs one read
    of the revision.
    """
    engine = create_engine(database_url)
    migrate(engine)
    return engine
