"""``terrapole users|licences|entities|quotas|orders``: the first admin, roles, licence
versions, entities, quotas and order moves."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from terrapole import cli_access, db
from terrapole.access.accounts import Accounts
from terrapole.access.entities import Entities
from terrapole.access.mail import LogMailer
from terrapole.access.order_workflow import Actor
from terrapole.access.orders import OrderBook, TaskingRequest
from terrapole.access.pricing import Family
from terrapole.access.profiles import Profile
from terrapole.cli import main
from terrapole.cli_jobs import command_settings


def _run(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_the_operator_makes_an_admin_and_publishes_licence_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TERRAPOLE_DATA_DIR", str(tmp_path / "data"))
    password = "an operator phrase 2026"
    assert (
        _run(
            "users",
            "create",
            "Admin@Hub.fr",
            "--name",
            "Admin",
            "--role",
            "admin",
            "--password",
            password,
        )
        == 0
    )
    assert "roles: ['admin']" in capsys.readouterr().out
    assert _run("users", "create", "admin@hub.fr", "--name", "Again", "--password", password) == 5
    assert _run("users", "create", "bob@hub.fr", "--name", "Bob", "--password", "short") == 2
    assert _run("users", "roles", "nobody@hub.fr", "--role", "curator") == 4
    capsys.readouterr()

    text = tmp_path / "charter.txt"
    text.write_text("Charte DINAMIS, version 1.", encoding="utf-8")
    assert (
        _run(
            "licences",
            "publish",
            "charter",
            "--text",
            str(text),
            "--admin",
            "admin@hub.fr",
            "--title",
            "DINAMIS charter",
            "--charter",
        )
        == 0
    )
    text.write_text("Charte DINAMIS, version 2.", encoding="utf-8")
    assert (
        _run("licences", "publish", "charter", "--text", str(text), "--admin", "admin@hub.fr") == 0
    )
    assert "charter version 2 published" in capsys.readouterr().out
    assert _run("licences", "list") == 0
    listing = capsys.readouterr().out
    assert "charter" in listing and "DINAMIS charter" in listing and " 2 " in listing
    assert _run("users", "list") == 0
    assert "Admin@Hub.fr" in capsys.readouterr().out


def _box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_the_operator_lists_entities_quotas_and_orders_and_moves_an_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TERRAPOLE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(cli_access.out, "width", 240)  # rich would cut cells at 80 columns
    password = "an operator phrase 2026"
    for email, name, roles in (("admin@hub.fr", "Admin", ["--role", "admin"]),
                               ("ana@lab.fr", "Ana", [])):  # fmt: skip
        assert _run("users", "create", email, "--name", name, *roles, "--password", password) == 0
    capsys.readouterr()
    engine = db.open_engine(command_settings().database_url)
    accounts = Accounts(engine, mailer=LogMailer(), link_base="http://hub/account")
    ana = accounts.by_email("ana@lab.fr")
    lab = Entities(engine, clock=accounts.clock).create(
        ana, name="Lab of rivers", country="FR", kind="lab", profile_name="french-scientist"
    )
    book = OrderBook(engine)
    request = TaskingRequest(_box(1, 43, 1.5, 43.5), date(2027, 5, 1), date(2027, 6, 30),
                             Family.PLEIADES)  # fmt: skip
    order = book.draft_tasking(Actor(ana.id), entity_id=lab.id, profile=Profile.FRENCH_SCIENTIST,
                               request=request, when=datetime(2026, 11, 3, tzinfo=UTC))  # fmt: skip
    engine.dispose()

    assert _run("entities", "list") == 0
    listing = capsys.readouterr().out
    assert "Lab of rivers" in listing and "ana@lab.fr" in listing and "french-scientist" in listing
    assert _run("entities", "show", lab.id) == 0
    shown = capsys.readouterr().out
    assert "ana@lab.fr" in shown and "yes" in shown
    assert _run("entities", "show", "no-such-entity") == 4

    assert _run("orders", "list", "--entity", lab.id) == 0
    assert order.id in capsys.readouterr().out
    # the referent cannot approve a draft; a stranger cannot see it; the owner submits it
    assert _run("orders", "move", order.id, "approved", "--as", "ana@lab.fr") == 1
    assert _run("orders", "move", order.id, "flying", "--as", "ana@lab.fr") == 2
    assert _run("orders", "move", order.id, "submitted", "--as", "ana@lab.fr") == 0
    assert f"order {order.id}: submitted" in capsys.readouterr().out

    assert _run("quotas", "show", lab.id, "--period", "2026-Q4") == 0
    quotas = capsys.readouterr().out
    left = 5500.0 - order.km2
    assert f"{order.km2:.1f}" in quotas and f"{left:.1f}" in quotas
    assert _run("quotas", "show", lab.id, "--period", "2026-13") == 2
    assert _run("orders", "move", order.id, "approved", "--as", "ana@lab.fr") == 0
    assert _run("orders", "list") == 0
    assert "approved" in capsys.readouterr().out
