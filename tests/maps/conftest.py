from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.ingest.service import Ingestor

from ..ingest.conftest import DEM, THEIA
from ..stac_api.live import serve


@pytest.fixture(scope="package")
def maps_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The app over the demo's real products (6 THEIA dates, 2 DEMs), ingested once."""
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("maps")))
    services = app.state.services
    ingestor = Ingestor(services.store, services.storage)
    assert not ingestor.run([str(THEIA)], workers=2).rejected
    assert not ingestor.run([str(DEM)], collection="dem", workers=2).rejected
    return app


@pytest.fixture(scope="package")
def maps_url(maps_app: Any) -> Iterator[str]:
    with serve(maps_app) as url:
        yield url
