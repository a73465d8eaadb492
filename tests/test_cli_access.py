"""``terrapole users`` and ``terrapole licences``: the first admin, roles, licence versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from terrapole.cli import main


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
