"""Fixtures of the FAIR API tests: an app on a fresh database, its client, and account tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from terrapole.app import create_app
from terrapole.config import Settings

from .ces_fixtures import PASSWORD


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Any:
    return create_app(Settings(data_dir=tmp_path, database_url=database_url))


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def token(app: Any, email: str, roles: frozenset[str] = frozenset()) -> dict[str, str]:
    """The Authorization header of a token owned by a new account."""
    accounts = app.state.services.accounts
    user = accounts.create_verified(email, PASSWORD, email.split("@")[0].title(), roles=roles)
    _, secret = accounts.create_token(user.id, "tests")
    return {"Authorization": f"Bearer {secret}"}
