"""The LocalCluster's worker processes get the allocator setting that spares array work the
page faults of Dask's default (see terrapole.cube.cluster), and GDAL's cache if set."""

from __future__ import annotations

import os

from terrapole.config import Settings
from terrapole.cube.cluster import WORKER_ENVIRONMENT, dask_client


def _environment() -> tuple[str | None, str | None]:
    return os.environ.get("MALLOC_MMAP_THRESHOLD_"), os.environ.get("MALLOC_TRIM_THRESHOLD_")


def _gdal_cache() -> tuple[str | None, int]:
    import rasterio
    from rasterio.env import get_gdal_config

    with rasterio.Env():
        return os.environ.get("GDAL_CACHEMAX"), int(get_gdal_config("GDAL_CACHEMAX"))


def test_worker_processes_allocate_arrays_from_the_heap() -> None:
    with dask_client(Settings(dask_workers=1), processes=True) as client:
        found = list(client.run(_environment).values())
    assert found == [(WORKER_ENVIRONMENT["MALLOC_MMAP_THRESHOLD_"], "65536")]


def test_a_gdal_cache_size_reaches_the_worker_processes_only_when_set() -> None:
    with dask_client(Settings(dask_workers=1, dask_gdal_cache_mb=64), processes=True) as client:
        assert list(client.run(_gdal_cache).values()) == [("64", 64 * 2**20)]  # bytes for GDAL
    assert "GDAL_CACHEMAX" not in os.environ  # the nanny's setting is not left in this process
    with dask_client(Settings(dask_workers=1), processes=True) as client:
        (unset,) = client.run(_gdal_cache).values()
    assert unset[0] is None
