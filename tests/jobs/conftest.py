"""A server with real products and two users, for the job tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import pytest

from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.ingest.service import Ingestor

from ..conftest import ROOT
from ..stac_api.live import serve
from . import burn

PRODUCTS = ROOT / "demo" / "products"
THEIA_PRODUCT = "SENTINEL2A_20180826-104155-257_L2A_T31UFQ_D_V1-8"
YEAR = PRODUCTS / "theia-2018"

# Dask workers unpickle the test process by value (the tests package is not on their path).
cloudpickle.register_pickle_by_value(burn)


def make_app(data_dir: Path, **settings: Any) -> Any:
    """The app over one THEIA product and the BD Forêt land-cover crop, with the burn process."""
    app = create_app(Settings(data_dir=data_dir, **settings))
    services = app.state.services
    ingestor = Ingestor(services.store, services.storage)
    assert not ingestor.run([str(PRODUCTS / "theia" / THEIA_PRODUCT)]).rejected
    assert not ingestor.run([str(PRODUCTS / "landcover")], collection="landcover").rejected
    app.state.jobs.processes["burn"] = burn.Burn()
    return app


@pytest.fixture(scope="module")
def jobs_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return make_app(tmp_path_factory.mktemp("jobs"), dask_workers=2, dask_processes=False,
                    job_credit_cpu_s=500.0)  # fmt: skip


@pytest.fixture(scope="module")
def tokens(jobs_app: Any) -> dict[str, str]:
    access = jobs_app.state.services.access
    return {name: access.create_token(name, groups=[]) for name in ("ana", "bob")} | {
        "admin": access.create_token("root", groups=[], admin=True)
    }


@pytest.fixture(scope="module")
def jobs_url(jobs_app: Any) -> Iterator[str]:
    with serve(jobs_app) as url:
        yield url


@pytest.fixture(scope="session")
def year_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A server over the 25 products of 2018 (and the one of make_app) with the user vera."""
    app = make_app(tmp_path_factory.mktemp("year"), dask_workers=1, dask_processes=False)
    services = app.state.services
    assert not Ingestor(services.store, services.storage).run([str(YEAR)]).rejected
    token = services.access.create_token("vera", groups=[])
    with serve(app) as url:
        yield url, token
