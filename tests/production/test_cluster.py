"""The LocalCluster's worker processes get the allocator setting that spares array work the
page faults of Dask's default (see terrapole.production.cluster)."""

from __future__ import annotations

import os

from terrapole.config import Settings
from terrapole.production.cluster import WORKER_ENVIRONMENT, dask_client


def _environment() -> tuple[str | None, str | None]:
    return os.environ.get("MALLOC_MMAP_THRESHOLD_"), os.environ.get("MALLOC_TRIM_THRESHOLD_")


def test_worker_processes_allocate_arrays_from_the_heap() -> None:
    with dask_client(Settings(dask_workers=1), processes=True) as client:
        found = list(client.run(_environment).values())
    assert found == [(WORKER_ENVIRONMENT["MALLOC_MMAP_THRESHOLD_"], "65536")]
