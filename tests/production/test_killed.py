"""A chain run killed midway leaves a consistent catalogue; the next run finishes the work."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from terrapole.catalog.model import SearchQuery
from terrapole.catalog.store import open_store
from terrapole.config import Settings
from terrapole.production.runner import search_all
from terrapole.storage import LocalStorage

from .conftest import ingest_demo

OUTPUTS = ("theia-indices", "theia-snow", "theia-water")
EXPECTED = {"theia-indices": 4, "theia-snow": 6, "theia-water": 4}  # 2 of 6 fully cloudy


def _produce(env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [str(Path(sys.executable).parent / "terrapole"), "produce", "all", "--tile", "T31UFQ",
               "--from", "2015-01", "--to", "2019-12"]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _outputs(db: Path) -> int:
    try:
        with sqlite3.connect(db) as con:
            marks = ",".join("?" * len(OUTPUTS))
            sql = f"SELECT count(*) FROM items WHERE collection IN ({marks})"
            return int(con.execute(sql, OUTPUTS).fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def test_kill_midway_then_rerun(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    ingest_demo(settings, ("theia",)).close()
    env = {**os.environ, "TERRAPOLE_DATA_DIR": str(tmp_path), "TERRAPOLE_DASK_PROCESSES": "false"}
    run = _produce(env)
    deadline = time.monotonic() + 60
    while _outputs(tmp_path / "terrapole.db") < 3 and run.poll() is None:
        assert time.monotonic() < deadline, "no output appeared"
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    run.wait()
    store = open_store(settings)
    storage = LocalStorage(settings.assets_dir)
    done_before = set()
    for collection in OUTPUTS:
        for item in search_all(store, SearchQuery(collections=(collection,))):
            done_before.add(item["id"])
            for key, asset in item["assets"].items():  # every catalogued file is whole
                path = storage.local_path(asset["href"].removeprefix("/assets/"))
                assert path.stat().st_size == asset["file:size"], (item["id"], key)
    assert 3 <= len(done_before) < sum(EXPECTED.values())  # killed midway indeed
    store.close()

    finish = _produce(env)
    output = finish.communicate(timeout=300)[0].decode()
    assert finish.returncode == 0, output
    store = open_store(settings)
    for collection, count in EXPECTED.items():
        assert store.count_items(collection) == count, collection
    store.close()
    again = _produce(env)
    text = again.communicate(timeout=300)[0].decode()
    assert again.returncode == 0 and "produced 0," in text and "produced 1" not in text, text
