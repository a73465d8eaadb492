"""The Dask cluster for chains and jobs: a LocalCluster by default, or an external scheduler."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import dask
from distributed import Client, LocalCluster

from terrapole.config import Settings

# Dask starts its workers with MALLOC_TRIM_THRESHOLD_=65536, which also freezes glibc's mmap
# threshold at 128 KiB: every array over that size is then mmapped and unmapped each time, and
# page faults cost ~15 % of the CPU of array work (measured: an NDVI loop 4.55 s of CPU in a
# plain process, 5.19 s with Dask's setting). Arrays below 64 MiB come from the heap instead
# (3.66 s); the low trim threshold still gives freed heap memory back.
WORKER_ENVIRONMENT = {"MALLOC_MMAP_THRESHOLD_": str(64 * 2**20)}


@contextmanager
def _environment_kept() -> Iterator[None]:
    """This process's environment as it was before: Dask's nannies write the variables meant
    for their workers into it (and then prefer them to the config for the next cluster)."""
    before = dict(os.environ)
    try:
        yield
    finally:
        for key in set(os.environ) - set(before):
            del os.environ[key]
        os.environ.update(before)


def _local_cluster(settings: Settings, processes: bool | None) -> LocalCluster:
    spawn = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {})) | WORKER_ENVIRONMENT
    if settings.dask_gdal_cache_mb is not None:
        spawn["GDAL_CACHEMAX"] = str(settings.dask_gdal_cache_mb)  # GDAL reads it in MB
    with dask.config.set({"distributed.nanny.pre-spawn-environ": spawn}), _environment_kept():
        return LocalCluster(
            n_workers=settings.dask_workers,
            threads_per_worker=settings.dask_threads,
            processes=settings.dask_processes if processes is None else processes,
            dashboard_address=":0",  # any free port: several clusters may share a machine
        )


def open_client(
    settings: Settings, processes: bool | None = None
) -> tuple[Client, Callable[[], None]]:
    """Like :func:`dask_client` but left open, and not made Dask's default client.

    Returns the client and what closes everything it started (call it once). For a
    long-lived owner (the job runner) whose start and stop happen in different threads.
    """
    if settings.dask_scheduler:
        client = Client(settings.dask_scheduler, set_as_default=False)
        return client, client.close
    cluster = _local_cluster(settings, processes)
    client = Client(cluster, set_as_default=False)

    def close() -> None:
        client.close()
        cluster.close()

    return client, close


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
    with _local_cluster(settings, processes) as cluster, Client(cluster) as client:
        yield client
