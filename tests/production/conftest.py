"""Production fixtures: a Dask cluster (threads) and the demo products with every chain run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from distributed import Client

from terrapole.catalog.store import Store, open_store
from terrapole.config import Settings
from terrapole.cube.cluster import dask_client
from terrapole.ingest.service import Ingestor
from terrapole.production.registry import chains
from terrapole.production.runner import ProductionReport
from terrapole.production.scheduler import Scheduler
from terrapole.storage import LocalStorage

from ..conftest import ROOT

PRODUCTS = ROOT / "demo" / "products"


@dataclass
class Produced:
    """A catalogue with the demo L2A products, the DEMs and every chain's outputs."""

    settings: Settings
    store: Store
    storage: LocalStorage
    reports: dict[str, ProductionReport]


@pytest.fixture(scope="session")
def client() -> Iterator[Client]:
    """A LocalCluster of two worker threads (the chains' default engine, started quickly)."""
    with dask_client(Settings(dask_workers=2), processes=False) as client:
        yield client


def ingest_demo(settings: Settings, folders: tuple[str, ...] = ("theia", "theia-2018")) -> Store:
    """A fresh catalogue of ``settings`` with the demo's THEIA products (and the DEMs)."""
    store = open_store(settings)
    ingestor = Ingestor(store, LocalStorage(settings.assets_dir))
    for folder in folders:
        assert not ingestor.run([str(PRODUCTS / folder)], workers=1).rejected
    assert not ingestor.run([str(PRODUCTS / "dem")], collection="dem", workers=1).rejected
    return store


@pytest.fixture(scope="session")
def produced(tmp_path_factory: pytest.TempPathFactory, client: Client) -> Iterator[Produced]:
    """Every chain run once by a scheduler tick over the 31 demo products."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("produced"))
    store = ingest_demo(settings)
    reports = Scheduler(settings, list(chains(settings))).tick(client, store)
    yield Produced(settings, store, LocalStorage(settings.assets_dir), reports)
    store.close()


def read(storage: LocalStorage, collection: str, item: str, key: str) -> Path:
    """The stored file of an output asset."""
    return storage.local_path(f"{collection}/{item}/{key}.tif")
