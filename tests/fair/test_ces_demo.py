"""The demo's CES directory (the consortia of the THEIA decks, offers with TRL, a call with a
submitted application), idempotent; and the ``terrapole ces|calls`` commands over it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from terrapole import db
from terrapole.cli import app as cli
from terrapole.cli import main
from terrapole.fair.call_workflow import State
from terrapole.fair.calls import CallBook
from terrapole.fair.ces import CesDirectory, Maturity
from terrapole.fair.ces_demo import CALL, CONSORTIA, OFFERS, SEEDER, seed_demo_ces

from .ces_fixtures import people


def test_the_demo_fills_the_directory_once(tmp_path: Path) -> None:
    engine = db.open_engine(f"sqlite:///{tmp_path / 'terrapole.db'}")
    applicant = people(engine).applicant
    added = seed_demo_ces(
        engine, applicant=applicant, collection_exists={"theia-snow"}.__contains__
    )
    assert added == len(CONSORTIA) + len(OFFERS) + 1 + 1
    assert seed_demo_ces(engine, applicant=applicant) == 0  # a second run adds nothing
    directory = CesDirectory(engine)
    assert [c.name for c in directory.consortia()][:2] == [
        "CES Cryosphère",
        "CES Eaux continentales",
    ]
    snow = directory.offer("let-it-snow")
    assert (snow.trl, snow.maturity, snow.collections) == (7, Maturity.PRODUCTION, ("theia-snow",))
    assert directory.offer("wasp").collections == ()  # the store lacks theia-l3a-wasp
    assert directory.offer("thermocity").maturity is Maturity.PROTOTYPING
    (application,) = CallBook(engine).find(SEEDER, call_id=CALL.id)
    assert application.state is State.SUBMITTED and application.applicant == applicant.user_id
    engine.dispose()


def test_the_commands_list_the_directory_and_export_the_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERRAPOLE_DATA_DIR", str(tmp_path))
    engine = db.open_engine(f"sqlite:///{tmp_path / 'terrapole.db'}")
    seed_demo_ces(engine, applicant=people(engine).applicant)
    engine.dispose()
    runner = CliRunner()
    listed = runner.invoke(cli, ["ces", "list"])
    assert listed.exit_code == 0, listed.output
    assert "imagerie-radiometrie" in listed.output
    shown = runner.invoke(cli, ["ces", "show", "cryosphere"])
    assert "Let It Snow" in shown.output and "TRL 7" in shown.output
    with pytest.raises(SystemExit) as exited:
        main(["ces", "show", "nowhere"])  # the CLI's error table: NotFound exits 4
    assert exited.value.code == 4
    offers = runner.invoke(cli, ["ces", "offers", "--min-trl", "7"])
    assert "dsm-opt" in offers.output and "thermocity" not in offers.output
    exported = runner.invoke(cli, ["calls", "export", CALL.id])
    assert exported.exit_code == 0, exported.output
    (row,) = csv.DictReader(io.StringIO(exported.stdout))
    assert (row["project"], row["state"], row["cpu_hours"]) == (
        "Îlots de chaleur de Montpellier", "submitted", "20000")  # fmt: skip
