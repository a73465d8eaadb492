"""`terrapole produce`: the chain list, and bad arguments refused with a reason and exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from terrapole.config import Settings
from terrapole.production.registry import chains

TERRAPOLE = str(Path(sys.executable).parent / "terrapole")


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"TERRAPOLE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "COLUMNS": "200"}
    return subprocess.run([TERRAPOLE, "produce", *args], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


def test_list_names_every_chain_with_its_cadence(tmp_path: Path) -> None:
    result = _run(tmp_path, "--list")
    assert result.returncode == 0
    for chain in chains(Settings(data_dir=tmp_path)).values():
        assert chain.name in result.stdout and chain.output_collection in result.stdout
    assert "per-product" in result.stdout and "monthly" in result.stdout


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("snowy", "--tile", "T31UFQ", "--from", "2018-01", "--to", "2018-02"), "'snowy' is not one of"),
        (("snow", "--from", "2018-01", "--to", "2018-02"), "--tile or --bbox"),
        (("snow", "--tile", "T31UFQ", "--from", "2018-13", "--to", "2019-01"), "is not YYYY-MM"),
        (("snow", "--tile", "T31UFQ", "--from", "2019-01", "--to", "2018-01"), "is before --from"),
        (("snow", "--bbox", "5,49,4,50", "--from", "2018-01", "--to", "2018-02"), "bbox"),
        (("landcover", "--tile", "T31UFQ", "--from", "2018-01", "--to", "2018-12"),
         "set TERRAPOLE_LANDCOVER_TRAINING"),
    ],
)  # fmt: skip
def test_bad_arguments_exit_2_naming_the_problem(
    tmp_path: Path, args: tuple[str, ...], reason: str
) -> None:
    result = _run(tmp_path, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert reason in result.stdout + result.stderr
    assert not (tmp_path / "assets" / "theia-snow").exists()
