"""Fixtures of the account, entity and licence tests: a migrated database of each kind, a clock
the test moves, and the accounts service with a mailer that keeps what it sends."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

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


# the restricted THEIA crop of the access tests (WGS84) and an openEO graph loading it
BBOX = {"west": 5.3446556, "south": 49.2750273, "east": 5.3559872, "north": 49.282441}


def load_graph(collection: str) -> dict[str, Any]:
    """A process graph that loads ``collection`` over :data:`BBOX` in August 2018 as GTiff."""
    return {"process": {"process_graph": {
        "load": {"process_id": "load_collection", "arguments": {
            "id": collection, "spatial_extent": BBOX,
            "temporal_extent": ["2018-08-01", "2018-08-31"], "bands": ["FRE_B4"]}},
        "save": {"process_id": "save_result", "result": True,
                 "arguments": {"data": {"from_node": "load"}, "format": "GTiff"}},
    }}}  # fmt: skip


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    """A real SMTP server on a free local port: its port and what it received."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()
