from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from terrapole.catalog.store import Store, open_store
from terrapole.config import Settings
from terrapole.ingest.service import Ingestor, IngestReport
from terrapole.storage import LocalStorage

from ..conftest import ROOT

PRODUCTS = ROOT / "demo" / "products"
THEIA = PRODUCTS / "theia"
DEM = PRODUCTS / "dem"
EMPTY = ROOT / "tests" / "data" / "ingest" / "SENTINEL2A_20151203-105818-575_L2A_T31UFQ_D_V1-1"
CLEAR = THEIA / "SENTINEL2A_20180826-104155-257_L2A_T31UFQ_D_V1-8"
COLLECTION = "theia-sentinel-2-l2a"


@dataclass
class Catalogue:
    settings: Settings
    store: Store
    storage: LocalStorage
    report: IngestReport

    def ingestor(self, roots: list[Path] | None = None) -> Ingestor:
        return Ingestor(self.store, self.storage, roots=roots)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalogue]:
    """The demo's real products ingested once (2 worker processes) into a fresh data dir."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("ingest"))
    store = open_store(settings)
    storage = LocalStorage(settings.assets_dir)
    ingestor = Ingestor(store, storage)
    report = ingestor.run([str(THEIA)], workers=2)
    dem = ingestor.run([str(DEM)], collection="dem", workers=2)
    report.ingested += dem.ingested
    report.rejected += dem.rejected
    yield Catalogue(settings, store, storage, report)
    store.close()
