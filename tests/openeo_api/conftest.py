"""A live server over the six demo THEIA products and the demo DEMs, with two users, for the
openEO tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.ingest.service import Ingestor

from ..conftest import ROOT
from ..stac_api.live import serve

THEIA = ROOT / "demo" / "products" / "theia"
DEM = ROOT / "demo" / "products" / "dem"  # Copernicus DEM, EPSG:4326: load_collection("dem")


@pytest.fixture(scope="module")
def openeo_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    settings = Settings(data_dir=tmp_path_factory.mktemp("openeo"), dask_workers=2,
                        dask_processes=False, job_credit_cpu_s=1000.0)  # fmt: skip
    app = create_app(settings)
    services = app.state.services
    ingestor = Ingestor(services.store, services.storage)
    assert not ingestor.run([str(THEIA)]).rejected
    assert not ingestor.run([str(DEM / "Copernicus_DSM_10_N45_00_E005_00_DEM.tif")],
                            collection="dem").rejected  # fmt: skip
    return app


@pytest.fixture(scope="module")
def tokens(openeo_app: Any) -> dict[str, str]:
    access = openeo_app.state.services.access
    return {name: access.create_token(name, groups=[]) for name in ("ana", "bob")}


@pytest.fixture(scope="module")
def url(openeo_app: Any) -> Iterator[str]:
    with serve(openeo_app) as base:
        yield base
