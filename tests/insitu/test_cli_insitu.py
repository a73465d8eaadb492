"""``terrapole insitu import|export|list`` end to end on the real demo series: reports,
idempotent re-runs, one-line errors with non-zero exits, exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from terrapole.cli import main
from terrapole.insitu import NOTHING_HIDDEN, InsituStore

ROOT = Path(__file__).parents[2]
DEMO = ROOT / "demo" / "insitu"
PIVOT = ROOT / "tests" / "data" / "insitu" / "pivot_camels" / "camels_01022500_pivot.json"


def _run(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data directory (its SQLite database) for the commands."""
    monkeypatch.setenv("TERRAPOLE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("TERRAPOLE_DATABASE_URL", raising=False)
    (tmp_path / "data").mkdir()
    return tmp_path / "data"


def test_import_twice_then_list_and_export(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = DEMO / "pastas_nl" / "evap_260.csv"
    mapping = DEMO / "pastas_nl" / "evap_260.toml"
    days = len(file.read_text().splitlines()) - 1
    assert _run("insitu", "import", str(file), "--mapping", str(mapping), "--json") == 0
    first = capsys.readouterr()
    assert json.loads(first.out)["inserted"] == days
    assert f"{days} observation(s) added, 0 already present" in first.err

    assert _run("insitu", "import", str(file), "--mapping", str(mapping)) == 0
    assert f"0 observation(s) added, {days} already present" in capsys.readouterr().err

    assert _run("insitu", "list") == 0
    listed = capsys.readouterr().out
    assert "PASTAS_DAT_knmi" in listed and "Reference evaporation (Makkink) at KNMI 260" in listed

    out = tmp_path / "evap.csv"
    assert _run("insitu", "export", "--datastream", "1", "--format", "csv", "-o", str(out)) == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 1 + days
    assert lines[1] == "1,1980-01-02T00:00:00Z,1980-01-03T00:00:00Z,0.30000000000000004,,mm/d"


def test_pivot_import_and_export(data_dir: Path, tmp_path: Path) -> None:
    assert _run("insitu", "import", str(PIVOT)) == 0
    out = tmp_path / "pivot" / "doc.json"
    assert _run("insitu", "export", "--dataset", "1", "--format", "pivot", "-o", str(out)) == 0
    assert json.loads(out.read_text())["datasets"][0]["datasetId"] == "CAMU_DAT_streamflow"
    assert (out.parent / "CAMU_OBS_01022500_Q.csv").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["insitu", "import", str(DEMO / "pastas_nl" / "evap_260.csv")], "--mapping: required"),
        (["insitu", "import", "no-such-file.csv"], "is not a file"),
        (["insitu", "export", "--datastream", "99", "-o", "x.csv"], "Datastream '99' not found"),
        (["insitu", "export", "--datastream", "1", "--format", "pivot", "-o", "x"], "--dataset"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(
    data_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert _run(*args) != 0
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_a_bad_pivot_exits_2_naming_the_paths(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = json.loads(PIVOT.read_text())
    doc["datasets"][0]["datasetId"] = "lower"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    assert _run("insitu", "import", str(bad)) == 2
    assert "$.datasets[0].datasetId" in capsys.readouterr().err


def test_demo_series_import_is_idempotent(data_dir: Path) -> None:
    from terrapole.cli_insitu import import_demo

    import_demo()
    store = InsituStore.open(f"sqlite:///{data_dir / 'terrapole.db'}")
    try:
        things = store.things(hidden=NOTHING_HIDDEN)
        names = {d.identifier for d in store.datasets(hidden=NOTHING_HIDDEN)}
        assert names == {"CAMELS_DAT_streamflow", "CAMELS_DAT_daymet", "PASTAS_DAT_heads",
                         "PASTAS_DAT_knmi", "USGS_DAT_qwdata"}  # fmt: skip
        counted = {
            t.id: len(store.datastreams_of(t.id or 0, hidden=NOTHING_HIDDEN)) for t in things
        }
        import_demo()
        assert len(store.things(hidden=NOTHING_HIDDEN)) == len(things)
        assert {
            t.id: len(store.datastreams_of(t.id or 0, hidden=NOTHING_HIDDEN))
            for t in store.things(hidden=NOTHING_HIDDEN)
        } == counted
    finally:
        store.close()


def _public_things(database_url: str, data_dir: Path) -> list[str]:
    """The Things an anonymous caller of a freshly started server lists over SensorThings."""
    from fastapi.testclient import TestClient

    from terrapole.app import create_app
    from terrapole.config import Settings

    app = create_app(Settings(data_dir=data_dir, database_url=database_url))
    with TestClient(app) as client:
        answer = client.get("/sta/v1.1/Things", params={"$orderby": "name"})
    assert answer.status_code == 200, answer.text
    return [t["name"] for t in answer.json()["value"]]


def test_restrict_a_dataset_by_id_or_by_its_access_key(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from .camels import load

    monkeypatch.setenv("TERRAPOLE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TERRAPOLE_DATABASE_URL", database_url)
    store = InsituStore.open(database_url)
    try:
        ids = load(store)
        maine_key = store.get_dataset(ids.maine, hidden=NOTHING_HIDDEN).access_key
    finally:
        store.close()
    maine, marsh = "Narraguagus River at Cherryfield, ME", "Marsh Creek at Blanchard, PA"
    assert _public_things(database_url, tmp_path) == [marsh, maine]

    assert _run("insitu", "restrict", str(ids.maine), "--group", "secret") == 0
    assert (
        f"dataset {ids.maine} ({maine_key}) is now restricted to secret" in capsys.readouterr().err
    )
    assert _public_things(database_url, tmp_path) == [marsh]
    # the collections command takes a dataset's access key as it takes a collection id
    assert _run("collections", "restrict", f"insitu-{ids.pennsylvania}", "--group", "secret") == 0
    assert f"in-situ dataset {ids.pennsylvania}" in capsys.readouterr().err
    assert _public_things(database_url, tmp_path) == []

    assert _run("insitu", "unrestrict", str(ids.maine)) == 0
    assert _public_things(database_url, tmp_path) == [maine]
    assert _run("insitu", "restrict", "999", "--group", "secret") == 4
    assert "Dataset '999' not found" in capsys.readouterr().err
    assert _run("insitu", "restrict", str(ids.maine)) == 2
    assert "--group" in capsys.readouterr().err
