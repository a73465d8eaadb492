"""Fixtures of the account, entity and licence tests: a migrated database of each kind, a clock
the test moves, and the accounts service with a mailer that keeps what it sends."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from terrapole import db
from terrapole.access.accounts import Accounts, User
from terrapole.access.mail import LogMailer


class Clock:
    """Wall-clock time that the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a new database on the session's PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'terrapole.db'}"
        return
    server = request.getfixturevalue("pg_dsn")
    name = f"tp_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    yield server.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(server, autocommit=True) as con:
        con.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = db.open_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def mailer() -> LogMailer:
    return LogMailer()


@pytest.fixture
def accounts(engine: sa.Engine, mailer: LogMailer, clock: Clock) -> Accounts:
    return Accounts(engine, mailer=mailer, link_base="https://hub.example/account", clock=clock)


def link_token(body: str, page: str) -> str:
    """The token of the ``page`` link (verify, reset) in a mail's body."""
    found = re.search(rf"https://hub\.example/account/{page}\?token=(\S+)", body)
    assert found, body
    return found.group(1)


def verified_user(accounts: Accounts, mailer: LogMailer, email: str, name: str) -> User:
    """A signed-up user who followed the verification link."""
    accounts.sign_up(email, "a long passphrase 42", name)
    return accounts.verify_email(link_token(mailer.sent[-1].body, "verify"))
