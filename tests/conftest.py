"""Shared fixtures: real data from demo/ and tests/data, both stores, a PostgreSQL server."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from terrapole.catalog.documents import prepare_item
from terrapole.catalog.store import Store

from .pgserver import pg_bin, postgres_server

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo" / "catalog"
S2_COLLECTION = DEMO / "sentinel-2-l2a" / "collection.json"
S2_ITEMS = DEMO / "sentinel-2-l2a" / "items-13tde.ndjson"


def s2_items() -> list[dict[str, Any]]:
    """The 100 real Sentinel-2 L2A items of tile 13TDE (Planetary Computer metadata)."""
    return [json.loads(line) for line in S2_ITEMS.read_text().splitlines() if line.strip()]


def s2_collection() -> dict[str, Any]:
    return dict(json.loads(S2_COLLECTION.read_text()))


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No TERRAPOLE_* variable of the developer's shell leaks into a test."""
    import os

    for key in list(os.environ):
        if key.startswith("TERRAPOLE_"):
            monkeypatch.delenv(key)


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """A real PostgreSQL + PostGIS server for the session (skipped only without binaries)."""
    if pg_bin() is None:
        pytest.skip("PostgreSQL binaries are not installed (CI installs postgresql-15-postgis-3)")
    with postgres_server() as dsn:
        yield dsn


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a new database on the session's PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'terrapole.db'}"
        return
    server = request.getfixturevalue("pg_dsn")
    name = f"tp_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    yield server.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(server, autocommit=True) as con:
        con.execute(f"DROP DATABASE {name} WITH (FORCE)")


def _empty_pgstac(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("SET search_path TO pgstac, public")
        con.execute("DELETE FROM items")
        for (name,) in con.execute("SELECT id FROM collections").fetchall():
            con.execute("SELECT delete_collection(%s)", (name,))


@pytest.fixture(params=["sqlite", "pgstac"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store of each kind; the pgstac one shares the session's server."""
    if request.param == "sqlite":
        from terrapole.catalog.sqlite import SqliteStore

        store: Store = SqliteStore(tmp_path / "catalog.db")
    else:
        from terrapole.catalog.pgstac import PgstacStore

        dsn = request.getfixturevalue("pg_dsn")
        store = PgstacStore(dsn)
        _empty_pgstac(dsn)
    yield store
    store.close()


@pytest.fixture
def s2_store(store: Store) -> Store:
    """A store holding the real sentinel-2-l2a collection and its 100 items."""
    store.create_collection(s2_collection())
    store.load_items([prepare_item(d) for d in s2_items()])
    return store


@pytest.fixture(scope="session")
def maps_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The app over the demo's real products (6 THEIA dates, 2 DEMs), ingested once."""
    from terrapole.app import create_app
    from terrapole.config import Settings
    from terrapole.ingest.service import Ingestor

    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("products")))
    services = app.state.services
    ingestor = Ingestor(services.store, services.storage)
    products = ROOT / "demo" / "products"
    assert not ingestor.run([str(products / "theia")], workers=2).rejected
    assert not ingestor.run([str(products / "dem")], collection="dem", workers=2).rejected
    assert not ingestor.run([str(products / "landcover")], collection="landcover").rejected
    return app


@pytest.fixture(scope="session")
def maps_url(maps_app: Any) -> Iterator[str]:
    """A live uvicorn server over ``maps_app``."""
    from .stac_api.live import serve

    with serve(maps_app) as url:
        yield url


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (.ci/run installs Debian's chromium)"
)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Playwright driving Debian's Chromium."""
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context and page (1280 x 1000)."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    opened = context.new_page()
    yield opened
    context.close()
