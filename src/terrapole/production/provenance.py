"""What an output item says of how it was made, and what decides whether it is up to date.

- The chain's **version** is derived, never typed: a digest of the source of every module that
  makes its outputs (the chain's own module, its ``algorithm_modules``, and the loading,
  resampling, conversion and writing modules every chain goes through) and of its parameters.
  Changing a kernel or a parameter changes the version, hence every window's fingerprint, so
  the next run produces the outputs again; a docstring-only edit does too (cheap and safe).
  Library versions are recorded in each item, not fingerprinted: upgrading numpy or GDAL does
  not by itself produce everything again.
- The **software** (``processing:software``: terrapole's version with its commit, and the
  versions of the libraries that compute) and the lineage are what every produced item carries,
  chain or job: :func:`terrapole.ingest.publish.provenance` adds them.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from terrapole.production.chain import Chain


# what every chain's outputs go through: stored numbers to reflectance (layers), reading and
# resampling the inputs and auxiliaries (loading, grid), writing the layers (writer)
SHARED_MODULES = (
    "terrapole.production.layers", "terrapole.cube.loading",
    "terrapole.production.writer", "terrapole.processing.grid",
)  # fmt: skip


def chain_modules(chain: Chain) -> tuple[str, ...]:
    """The modules whose code makes the chain's outputs: the chain's own first, then its
    ``algorithm_modules`` and the modules every chain's outputs go through."""
    own = type(chain).__module__
    others = set(chain.algorithm_modules) | set(SHARED_MODULES)
    return (own, *sorted(others - {own}))


@cache
def source_digest(module: str) -> str:
    """The SHA-256 of a module's source (cached: read once per process)."""
    return hashlib.sha256(inspect.getsource(importlib.import_module(module)).encode()).hexdigest()


def chain_version(chain: Chain) -> str:
    """A short digest of the chain's code and parameters (changes whenever either does)."""
    digest = hashlib.sha256()
    for module in chain_modules(chain):
        digest.update(f"{module}:{source_digest(module)}\n".encode())
    digest.update(json.dumps(chain.parameters(), sort_keys=True, default=str).encode())
    return digest.hexdigest()[:12]


def describe(chain: Chain) -> dict[str, Any]:
    """The provenance properties every output item of the chain carries."""
    return {
        "terrapole:chain": chain.name,
        "terrapole:chain_version": chain_version(chain),
        "terrapole:parameters": chain.parameters(),
        "terrapole:deviations": list(chain.deviations),
    }
