"""The Dask cluster chains run on: a LocalCluster by default, an external scheduler if set."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from distributed import Client, LocalCluster

from terrapole.config import Settings


@contextmanager
def dask_client(settings: Settings, processes: bool | None = None) -> Iterator[Client]:
    """A client on ``settings.dask_scheduler``, or on a LocalCluster of this machine.

    An external cluster's workers must see the storage folder at the same path (shared disk).
    ``processes`` (default ``settings.dask_processes``): False keeps the LocalCluster's workers
    as threads of this process (quicker to start; tests).
    """
    if settings.dask_scheduler:
        with Client(settings.dask_scheduler) as client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=settings.dask_workers,
            threads_per_worker=settings.dask_threads,
            processes=settings.dask_processes if processes is None else processes,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
