"""Which terrapole made a file, from which commit, with which computing libraries."""

from __future__ import annotations

import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path

from terrapole import __version__

HERE = Path(__file__).resolve().parent
LIBRARIES = ("numpy", "numba", "scipy", "rasterio", "dask", "xarray", "odc-stac", "scikit-learn")


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=HERE, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


@cache
def package_version() -> str:
    """terrapole's version with its commit (``0.1.0+g1a2b3c4d5e6f``, ``.dirty`` when the
    checkout's sources have changes). Installed from a wheel, the commit is the one ``make
    wheel`` stamped into the package (``terrapole/COMMIT``); without it, the bare version."""
    top = _git("rev-parse", "--show-toplevel")
    commit = _git("rev-parse", "--short=12", "HEAD") if top else None
    if not top or not commit or Path(top, "src", "terrapole") != HERE:
        # installed, not run from terrapole's own checkout: the commit stamped at the build
        stamped = HERE / "COMMIT"
        found = stamped.read_text().strip()[:12] if stamped.is_file() else ""
        return f"{__version__}+g{found}" if found else __version__
    changed = _git("status", "--porcelain", "--", ":/src")  # untracked modules count too
    return f"{__version__}+g{commit}" + (".dirty" if changed else "")


def _gdal_version() -> str | None:
    try:
        import rasterio
    except ImportError:
        return None
    return str(rasterio.__gdal_version__)


@cache
def software() -> dict[str, str]:
    """``processing:software``: terrapole with its commit, GDAL and the computing libraries."""
    found: dict[str, str] = {"terrapole": package_version()}
    gdal = _gdal_version()
    if gdal:
        found["GDAL"] = gdal
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found
