"""The import contracts of docs/architecture.md hold (import-linter, configured in pyproject.toml).

Run as a test so that CI, which runs the test suite, enforces the layering: a pillar importing a
sibling pillar, or a core importing an adapter, fails here with import-linter's explanation.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_import_contracts_are_kept() -> None:
    linter = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert linter, "import-linter is a dev requirement (pip install -e '.[dev]')"
    done = subprocess.run([linter, "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_every_package_is_a_regular_package() -> None:
    """A folder without __init__.py is a namespace package: import-linter does not see it and
    setuptools' find leaves it out of the wheel."""
    source = ROOT / "src" / "terrapole"
    missing = [p.name for p in source.iterdir()
               if p.is_dir() and p.name != "__pycache__" and any(p.glob("*.py"))
               and not (p / "__init__.py").exists()]  # fmt: skip
    assert missing == []


def test_every_module_is_placed_in_the_contracts() -> None:
    """A module the layers do not list is unconstrained: a new package (insitu, fair…) must be
    given its layer, and every module below the adapters is barred from FastAPI/Starlette."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers, forbidden = config["contracts"]
    placed = {name.strip() for row in layers["layers"] for name in re.split(r"[|:]", row)}
    source = ROOT / "src" / "terrapole"
    modules = {f"terrapole.{p.stem}" for p in source.iterdir()
               if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()}  # fmt: skip
    assert modules - placed == set()
    adapters = {name.strip() for name in re.split(r"[|:]", layers["layers"][0])}
    assert modules - adapters - set(forbidden["source_modules"]) == set()


def test_the_wheel_carries_every_data_file_of_the_package() -> None:
    """Templates, static files and vendored specs are not Python: setuptools puts them in the
    wheel only when `[tool.setuptools.package-data]` names them, so an installed (non-editable)
    server would miss its portal or its openEO process descriptions."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    globs = config["package-data"]["terrapole"]
    tracked = subprocess.run(["git", "ls-files", "src/terrapole"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()  # fmt: skip
    data = [Path(name).relative_to("src/terrapole") for name in tracked
            if not name.endswith(".py")]  # fmt: skip
    assert data, "git ls-files found no data files"
    left_out = [str(path) for path in data
                if not any(len(path.parts) == len(Path(g).parts) and path.match(g) for g in globs)]  # fmt: skip
    assert left_out == []
