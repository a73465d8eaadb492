from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from terrapole.app import create_app
from terrapole.catalog.loader import load_paths
from terrapole.config import Settings

from ..conftest import DEMO


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The whole app on the embedded store, loaded with the real demo catalogue."""
    app = create_app(settings)
    report = load_paths(app.state.services.store, [DEMO])
    assert not report.rejected and report.loaded == 1102
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def admin(client: TestClient) -> dict[str, str]:
    token = client.app.state.services.access.create_token("ops", groups=[], admin=True)  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {token}"}
