"""The CLI entry point: a missing data directory is made, bad arguments and bad settings are a
message and the documented exit code (2 bad input, 3 bad configuration, 4 not found, 5 already
exists), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from terrapole.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "╭─" not in out + err
    return code, out, err


@pytest.fixture
def missing_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory two levels below anything that exists."""
    monkeypatch.chdir(tmp_path)
    data_dir = tmp_path / "not" / "yet"
    monkeypatch.setenv("TERRAPOLE_DATA_DIR", str(data_dir))
    return data_dir


def test_tokens_create_makes_the_missing_data_directory(
    capsys: pytest.CaptureFixture[str], missing_dir: Path
) -> None:
    code, out, err = _run(capsys, "tokens", "create", "ana", "--group", "partners")
    assert code == 0, err
    assert out.strip().startswith("tp_") and (missing_dir / "terrapole.db").is_file()
    code, out, _ = _run(capsys, "tokens", "list")
    assert code == 0 and "ana" in out and "partners" in out
    code, _, err = _run(capsys, "tokens", "create", "ana")
    assert code == 5 and "token 'ana' already exists" in err
    code, _, err = _run(capsys, "tokens", "revoke", "bob")
    assert code == 4 and "token 'bob' not found" in err


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["tokens", "list"], 0),
        (["tokens", "revoke", "ana"], 4),
        (["collections", "list"], 0),
        (["collections", "show", "s2"], 4),
        (["collections", "restrict", "s2", "--group", "g"], 4),
        (["jobs", "list"], 0),
        (["jobs", "show", "0123"], 4),
        (["credits", "show", "ana"], 0),
        (["credits", "set", "ana", "100"], 0),
        (["purge"], 0),
    ],
)
def test_every_command_works_on_a_data_directory_that_does_not_exist_yet(
    capsys: pytest.CaptureFixture[str], missing_dir: Path, argv: list[str], code: int
) -> None:
    got, _, err = _run(capsys, *argv)
    assert got == code, err
    assert missing_dir.is_dir()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--bogus"], "No such option: --bogus"),
        (["tokens", "bogus"], "No such command 'bogus'"),
        (["collections", "show"], "Missing argument"),
        (["credits", "set", "ana", "lots"], "Invalid value for 'cpu_s'"),
        (["harvest", "catalog.json", "--collection", "x"], "is not an http(s) URL"),
        (["harvest", "http://127.0.0.1:9/", "--collection", "x"], "does not answer as a STAC"),
    ],
)
def test_bad_arguments_are_a_message_and_exit_code_2(
    capsys: pytest.CaptureFixture[str], missing_dir: Path, argv: list[str], message: str
) -> None:
    code, _, err = _run(capsys, *argv)
    assert code == 2 and message in " ".join(err.split())


def test_a_data_directory_that_cannot_be_made_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("TERRAPOLE_DATA_DIR", str(tmp_path / "a-file" / "data"))
    code, _, err = _run(capsys, "tokens", "create", "ana")
    message = " ".join(err.split())  # rich wraps long lines
    assert code == 3 and "invalid setting TERRAPOLE_DATA_DIR: cannot create" in message


def test_a_database_that_cannot_be_reached_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TERRAPOLE_DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    code, _, err = _run(capsys, "tokens", "list")
    assert code == 3 and "cannot open the database" in err
