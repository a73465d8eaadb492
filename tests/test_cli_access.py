"""``terrapole users|licences|entities|quotas|orders``: the first admin, roles, licence
versions, entities, quotas and order moves (a delivery copies the items, as over HTTP)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from terrapole import cli_access, db
from terrapole.access.accounts import Accounts
from terrapole.access.delivery import ORDER_PROPERTY, collection_id_for
from terrapole.access.entities import Entities
from terrapole.access.mail import LogMailer
from terrapole.access.order_workflow import Actor, State
from terrapole.access.orders import OrderBook, TaskingRequest
from terrapole.access.pricing import Family
from terrapole.access.profiles import Profile
from terrapole.catalog.store import open_store
from terrapole.cli import main
from terrapole.cli_jobs import command_settings
from terrapole.errors import NotFound
from terrapole.ingest.service import Ingestor
from terrapole.storage import open_storage

from .conftest import ROOT

S2 = "theia-sentinel-2-l2a"
ITEM = "SENTINEL2A_20180826-104155-257_L2A_T31UFQ_D_V1-8"


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


def _refused(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run a command that must fail: its exit code and its one-line message (no traceback)."""
    code = _run(*args)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert "Traceback" not in captured.err + captured.out
    return code, lines[0]


def test_refusals_exit_non_zero_with_one_line_naming_what_is_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TERRAPOLE_DATA_DIR", str(tmp_path / "data"))
    password = "an operator phrase 2026"
    for email, name, roles in (("admin@hub.fr", "Admin", ["--role", "admin"]),
                               ("ana@lab.fr", "Ana", [])):  # fmt: skip
        assert _run("users", "create", email, "--name", name, *roles, "--password", password) == 0
    engine = db.open_engine(command_settings().database_url)
    accounts = Accounts(engine, mailer=LogMailer(), link_base="http://hub/account")
    ana = accounts.by_email("ana@lab.fr")
    lab = Entities(engine, clock=accounts.clock).create(
        ana, name="Lab of rivers", country="FR", kind="lab", profile_name="french-scientist"
    )
    request = TaskingRequest(_box(1, 43, 1.5, 43.5), date(2027, 5, 1), date(2027, 6, 30),
                             Family.PLEIADES)  # fmt: skip
    order = OrderBook(engine).draft_tasking(
        Actor(ana.id), entity_id=lab.id, profile=Profile.FRENCH_SCIENTIST, request=request,
        when=datetime(2026, 11, 3, tzinfo=UTC),
    )  # fmt: skip
    engine.dispose()
    text = tmp_path / "licence.txt"
    text.write_text("Use it for science.", encoding="utf-8")
    publish = ("licences", "publish", "science", "--text", str(text))
    assert _run(*publish, "--admin", "admin@hub.fr", "--title", "Science") == 0
    capsys.readouterr()

    # Forbidden: a user who is no admin publishes; the operator submits someone else's draft
    code, line = _refused(capsys, *publish, "--admin", "ana@lab.fr")
    assert code == 1 and "only admins manage licences" in line
    code, line = _refused(capsys, "orders", "move", order.id, "submitted", "--as", "admin@hub.fr")
    assert code == 1 and "only its owner may move it from draft to submitted" in line
    # InvalidOrderTransition: a move the workflow does not hold, whoever asks
    code, line = _refused(capsys, "orders", "move", order.id, "delivered", "--as", "admin@hub.fr")
    assert code == 1 and f"order {order.id}: cannot go from draft to delivered" in line
    # NotFound
    for args, named in (
        (("orders", "move", "no-such-order", "submitted", "--as", "ana@lab.fr"), "no-such-order"),
        (("orders", "move", order.id, "submitted", "--as", "nobody@hub.fr"), "nobody@hub.fr"),
        (("quotas", "show", "no-such-entity"), "no-such-entity"),
        (("entities", "show", "[/x]"), "'[/x]'"),  # printed as given, not read as markup
        (("licences", "publish", "unheard-of", "--text", str(text), "--admin", "admin@hub.fr"),
         "unheard-of"),
    ):  # fmt: skip
        code, line = _refused(capsys, *args)
        assert code == 4 and named in line, args
    # InvalidInput
    empty, binary = tmp_path / "empty.txt", tmp_path / "latin1.txt"
    empty.write_text("  \n", encoding="utf-8")
    binary.write_bytes("Licence \xe9t\xe9".encode("latin-1"))
    for args, named in (
        (("users", "roles", "ana@lab.fr", "--role", "emperor"), "emperor"),
        (("licences", "publish", "Bad Id!", "--text", str(text), "--admin", "admin@hub.fr",
          "--title", "Bad"), "Bad Id!"),
        (("licences", "publish", "science", "--text", str(empty), "--admin", "admin@hub.fr"),
         "licence text"),
        (("licences", "publish", "science", "--text", str(binary), "--admin", "admin@hub.fr"),
         "UTF-8"),
        (("orders", "move", order.id, "submitted", "--as", "ana@lab.fr", "--accept-price", "-1"),
         "price"),
    ):  # fmt: skip
        code, line = _refused(capsys, *args)
        assert code == 2 and named in line, (args, line)
    # AlreadyExists
    code, line = _refused(capsys, *publish, "--admin", "admin@hub.fr", "--title", "Again")
    assert code == 5 and "science" in line
    code, line = _refused(capsys, "users", "create", "ANA@lab.fr", "--name", "Ana",
                          "--password", password)  # fmt: skip
    assert code == 5 and "ana@lab.fr" in line.lower()


def test_delivering_from_the_cli_copies_the_items_as_the_web_api_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TERRAPOLE_DATA_DIR", str(tmp_path / "data"))
    password = "an operator phrase 2026"
    for email, name, roles in (("admin@hub.fr", "Admin", ["--role", "admin"]),
                               ("ana@lab.fr", "Ana", [])):  # fmt: skip
        assert _run("users", "create", email, "--name", name, *roles, "--password", password) == 0
    settings = command_settings()
    store, storage = open_store(settings), open_storage(settings)
    product = ROOT / "demo" / "products" / "theia" / ITEM
    assert not Ingestor(store, storage).run([str(product)]).rejected
    footprint = store.get_item(S2, ITEM)["geometry"]
    engine = db.open_engine(settings.database_url)
    accounts = Accounts(engine, mailer=LogMailer(), link_base="http://hub/account")
    ana, admin = accounts.by_email("ana@lab.fr"), accounts.by_email("admin@hub.fr")
    lab = Entities(engine, clock=accounts.clock).create(
        ana, name="Lab of rivers", country="FR", kind="lab", profile_name="french-scientist"
    )
    owner, operator = Actor(ana.id, referent_of=frozenset({lab.id})), Actor(admin.id, operator=True)
    book = OrderBook(engine)
    request = TaskingRequest(_box(1, 43, 1.5, 43.5), date(2027, 5, 1), date(2027, 6, 30),
                             Family.PLEIADES)  # fmt: skip
    tasking = book.draft_tasking(owner, entity_id=lab.id, profile=Profile.FRENCH_SCIENTIST,
                                 request=request)  # fmt: skip
    archive = book.draft_archive(owner, entity_id=lab.id, profile=Profile.FRENCH_SCIENTIST,
                                 family=Family.PLEIADES, collection_id=S2,
                                 footprints={ITEM: footprint})  # fmt: skip
    for order_id, moves in ((tasking.id, ["approved", "accepted", "planned"]),
                            (archive.id, ["approved", "accepted"])):  # fmt: skip
        book.submit(owner, order_id)
        for finish in moves:
            book.move(operator if finish != "approved" else owner, order_id, finish)
    engine.dispose()
    capsys.readouterr()
    deliver = ("orders", "move", tasking.id, "delivered", "--as", "admin@hub.fr")
    target = collection_id_for(lab.id)

    # a tasking request needs the acquisition's items; items go with a delivery only
    code, line = _refused(capsys, *deliver)
    assert code == 2 and "ids of the acquisition's items" in line
    code, line = _refused(capsys, "orders", "move", tasking.id, "closed", "--as", "admin@hub.fr",
                          "--item", f"{S2}/{ITEM}")  # fmt: skip
    assert code == 2 and "only a delivery names items" in line
    code, line = _refused(capsys, *deliver, "--item", f"{S2}/no-such-item")
    assert code == 4 and "no-such-item" in line
    with pytest.raises(NotFound):
        store.get_collection(target)  # nothing written by the refusals

    assert _run(*deliver, "--item", f"{S2}/{ITEM}", "--note", "acquired 2027-05-12") == 0
    said = capsys.readouterr().out
    assert f"1 item(s) delivered into {target}" in said
    assert f"order {tasking.id}: delivered" in said
    copy = store.get_item(target, ITEM)
    assert copy["properties"][ORDER_PROPERTY] == tasking.id
    href = copy["assets"]["FRE_B4"]["href"]
    assert href == f"/assets/{target}/{ITEM}/FRE_B4.tif"
    assert storage.local_path(href.removeprefix("/assets/")).is_file()

    # an archive order delivers what it ordered, and names nothing
    code, line = _refused(capsys, "orders", "move", archive.id, "delivered", "--as",
                          "admin@hub.fr", "--item", ITEM)  # fmt: skip
    assert code == 2 and "delivers the items it ordered" in line
    assert _run("orders", "move", archive.id, "delivered", "--as", "admin@hub.fr") == 0
    assert f"order {archive.id}: delivered" in capsys.readouterr().out
    engine = db.open_engine(settings.database_url)
    try:
        moved = OrderBook(engine).get(operator, archive.id)
        assert moved.state is State.DELIVERED
        assert store.get_item(target, ITEM)["properties"][ORDER_PROPERTY] == archive.id
    finally:
        engine.dispose()
        store.close()
