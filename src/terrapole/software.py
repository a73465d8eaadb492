"""Which terrapole made a file, from which commit, with which computing libraries."""

from __future__ import annotations

import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path

from terrapole import __version__

LIBRARIES = ("numpy", "numba", "scipy", "rasterio", "dask", "xarray", "odc-stac", "scikit-learn")


def _git(*args: str) -> str | None:
    folder = Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", *args], cwd=folder, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


@cache
def package_version() -> str:
    """terrapole's version with its commit (``0.1.0+g1a2b3c4d5e6f``, ``+dirty`` when the
    checkout has changes), or the bare version when it does not run from a git checkout."""
    top = _git("rev-parse", "--show-toplevel")
    if not top or Path(top, "src", "terrapole") != Path(__file__).resolve().parent:
        return __version__  # installed, not run from terrapole's own checkout
    commit = _git("rev-parse", "--short=12", "HEAD")
    if not commit:
        return __version__
    changed = _git("status", "--porcelain", "--untracked-files=no", "--", ":/src")
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
