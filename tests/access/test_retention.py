"""Housekeeping on SQLite and a real PostgreSQL: stale login failures, used or expired mailed
links, old usage rows and expired sessions are deleted with their counts; fresh rows stay. The
prune runs from ``terrapole prune`` and, on a schedule, in the server."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from terrapole.access.accounts import Accounts
from terrapole.access.mail import LogMailer
from terrapole.access.retention import Pruner, Retention, Rule, access_rules, prune
from terrapole.access.tables import account_links, login_failures, usage_daily
from terrapole.access.usage import Event, UsageRecorder
from terrapole.app import create_app
from terrapole.cli import main
from terrapole.config import Settings, load_settings
from terrapole.errors import ConfigError, InvalidInput, Unauthorized
from terrapole.web.housekeeping import rules_for
from terrapole.web.sessions import SessionStore
from terrapole.web.tables import sessions

from .conftest import Clock, link_token

PASSWORD = "a long passphrase 42"
KEPT = Retention(usage_days=30)
TABLES = (login_failures, account_links, usage_daily, sessions)


def _count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as con:
        return int(con.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _counts(engine: sa.Engine) -> dict[str, int]:
    return {table.name: _count(engine, table) for table in TABLES}


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` until it holds (a background thread's work, not a timing check)."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.02)


def _fill(engine: sa.Engine, clock: Clock, now: datetime) -> None:
    """Rows of every kind, half of them stale at ``now`` under :data:`KEPT`:

    - login failures 1 h (stale) and 5 min (fresh) before ``now``;
    - links: one used and one expired more than 7 days ago (stale), one used 1 day ago and one
      live (fresh);
    - usage rows 31 days (stale), 30 days and 1 day (fresh) before ``now``;
    - a session that expired 9 days ago (stale) and a live one.
    """
    mailer = LogMailer()
    accounts = Accounts(engine, mailer=mailer, link_base="https://hub.example/account", clock=clock)
    day_long = SessionStore(engine, lifetime=timedelta(days=1), clock=clock)
    month_long = SessionStore(engine, lifetime=timedelta(days=30), clock=clock)

    clock.now = now - timedelta(days=10)
    accounts.sign_up("old.used@lab.example", PASSWORD, "Old used")
    accounts.verify_email(link_token(mailer.sent[-1].body, "verify"))  # used 10 days ago
    accounts.sign_up("old.unused@lab.example", PASSWORD, "Old unused")  # expired 8 days ago
    day_long.open("u-old")  # expires 9 days before now
    month_long.open("u-new")  # live 20 days more (opened here: a later open sweeps the old)

    clock.now = now - timedelta(days=1)
    accounts.sign_up("new.used@lab.example", PASSWORD, "New used")
    accounts.verify_email(link_token(mailer.sent[-1].body, "verify"))  # used a day ago
    accounts.sign_up("new.unused@lab.example", PASSWORD, "New unused")  # live for a day more

    for ago in (timedelta(hours=1), timedelta(minutes=5)):
        clock.now = now - ago
        with pytest.raises(Unauthorized, match="wrong e-mail or password"):
            accounts.login("old.used@lab.example", "not the password", address="192.0.2.7")

    recorder = UsageRecorder(engine, interval_s=3600)
    for days in (31, 30, 1):
        recorder.record(Event("search", "stac", at=now - timedelta(days=days)))
    recorder.close()


def test_a_prune_deletes_the_stale_rows_and_keeps_the_fresh(engine: sa.Engine) -> None:
    now = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
    clock = Clock()
    _fill(engine, clock, now)
    before = _counts(engine)
    assert before == {"tp_login_failures": 2, "tp_account_links": 4, "tp_usage_daily": 3,
                      "tp_sessions": 2}  # fmt: skip

    counts = prune(engine, rules_for(KEPT)(now))

    assert counts == {"tp_login_failures": 1, "tp_account_links": 2, "tp_usage_daily": 1,
                      "tp_sessions": 1}  # fmt: skip
    assert _counts(engine) == {name: before[name] - counts[name] for name in before}
    with engine.connect() as con:
        failures = [r.at for r in con.execute(sa.select(login_failures))]
        days = sorted(r.day for r in con.execute(sa.select(usage_daily)))
        live = [r.user_id for r in con.execute(sa.select(sessions))]
        links = con.execute(sa.select(account_links.c.used, account_links.c.expires)).all()
    assert len(failures) == 1 and failures[0].replace(tzinfo=UTC) > now - timedelta(minutes=15)
    assert days == [(now - timedelta(days=30)).date(), (now - timedelta(days=1)).date()]
    assert live == ["u-new"]
    assert all(row.expires.replace(tzinfo=UTC) > now - timedelta(days=7) for row in links)
    # nothing left to prune: a second run deletes nothing
    assert set(prune(engine, rules_for(KEPT)(now)).values()) == {0}


def test_the_login_window_decides_which_failures_still_count(engine: sa.Engine) -> None:
    now = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
    with engine.begin() as con:
        for minutes in (61, 59, 1):
            con.execute(login_failures.insert().values(
                email_key="a@b.example", address="192.0.2.1", at=now - timedelta(minutes=minutes)
            ))  # fmt: skip
    hour = Retention(login_window=timedelta(hours=1))
    assert prune(engine, access_rules(hour, now))["tp_login_failures"] == 1
    assert prune(engine, access_rules(Retention(), now))["tp_login_failures"] == 1
    assert _count(engine, login_failures) == 1


def test_the_pruner_runs_in_the_background_and_survives_a_failure(
    engine: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    now = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
    with engine.begin() as con:
        con.execute(login_failures.insert().values(
            email_key="a@b.example", address="192.0.2.1", at=now - timedelta(days=1)
        ))  # fmt: skip
    missing = sa.Table("tp_no_such_table", sa.MetaData(), sa.Column("at", sa.DateTime))
    turns: list[datetime] = []

    def rules(moment: datetime) -> Sequence[Rule]:
        turns.append(moment)
        if len(turns) == 1:  # the first turn fails: a table that does not exist
            return [Rule(missing, missing.c.at < moment)]
        return access_rules(Retention(), moment)

    pruner = Pruner(engine, rules, interval_s=0.05, clock=lambda: now)
    with caplog.at_level(logging.INFO, logger="terrapole.access.retention"):
        pruner.start()
        try:
            _wait_for(lambda: pruner.last is not None, "a prune that succeeds")
        finally:
            pruner.stop()
    assert "prune failed" in caplog.text
    assert "pruned 1 from tp_login_failures" in caplog.text
    assert pruner.last is not None and pruner.last["tp_login_failures"] == 1
    assert _count(engine, login_failures) == 0


def test_retention_and_interval_are_checked() -> None:
    with pytest.raises(InvalidInput, match="usage_retention_days"):
        Retention(usage_days=0)
    with pytest.raises(InvalidInput, match="login window"):
        Retention(login_window=timedelta(0))
    with pytest.raises(InvalidInput, match="prune_interval_s"):
        Pruner(sa.create_engine("sqlite://"), lambda now: [], interval_s=0)
    with pytest.raises(ConfigError, match="TERRAPOLE_USAGE_RETENTION_DAYS"):
        load_settings(usage_retention_days=0)
    with pytest.raises(ConfigError, match="TERRAPOLE_PRUNE_INTERVAL_S"):
        load_settings(prune_interval_s=-1)


def test_the_server_prunes_on_its_schedule_unless_turned_off(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path / "on", prune_interval_s=0.05))
    engine = app.state.services.access.engine
    with engine.begin() as con:
        con.execute(login_failures.insert().values(
            email_key="a@b.example", address="192.0.2.1", at=datetime.now(UTC) - timedelta(days=1)
        ))  # fmt: skip
    with TestClient(app):
        _wait_for(lambda: _count(engine, login_failures) == 0, "the scheduled prune")
        assert app.state.pruner.last is not None
    assert create_app(Settings(data_dir=tmp_path / "off", prune_interval_s=0)).state.pruner is None


def test_the_cli_prunes_and_prints_the_counts(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    engine: sa.Engine,
) -> None:
    _fill(engine, Clock(), datetime.now(UTC))
    monkeypatch.setenv("TERRAPOLE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TERRAPOLE_DATABASE_URL", database_url)
    monkeypatch.setenv("TERRAPOLE_USAGE_RETENTION_DAYS", "30")
    try:
        main(["prune"])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    assert code == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        "tp_login_failures: 1 deleted",
        "tp_account_links: 2 deleted",
        "tp_usage_daily: 1 deleted",
        "tp_sessions: 1 deleted",
        "total: 5 row(s) deleted",
    ]
    assert _counts(engine) == {"tp_login_failures": 1, "tp_account_links": 2,
                               "tp_usage_daily": 2, "tp_sessions": 1}  # fmt: skip
