"""A chain run killed midway leaves a consistent catalogue; the next run finishes the work.

The first run kills itself at a known point, whatever the machine's speed: when it asks the
catalogue to write an output item while three are in already (that output's files are being
swapped into storage by then).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from terrapole.catalog.model import SearchQuery
from terrapole.catalog.search import search_all
from terrapole.catalog.store import open_store
from terrapole.config import Settings
from terrapole.storage import LocalStorage

from .conftest import ingest_demo

OUTPUTS = ("theia-indices", "theia-snow", "theia-water")
EXPECTED = {"theia-indices": 4, "theia-snow": 6, "theia-water": 4}  # 2 of 6 fully cloudy


PRODUCE = ["produce", "all", "--tile", "T31UFQ", "--from", "2015-01", "--to", "2019-12"]
# `terrapole produce ...` whose catalogue SIGKILLs the process when it is asked to write an
# output item while CATALOGUED of them are in (its files already swapped into storage)
KILLED_AT = """
import os, signal, sys, threading
from terrapole.catalog.sqlite import SqliteStore
from terrapole.cli import main

CATALOGUED, OUTPUTS = int(sys.argv[1]), set(sys.argv[2].split(","))
load_items, lock, done = SqliteStore.load_items, threading.Lock(), []

def killing_load_items(self, items, **options):
    items = list(items)
    if not any(item.collection in OUTPUTS for item in items):
        return load_items(self, items, **options)
    with lock:
        if len(done) >= CATALOGUED:
            os.kill(os.getpid(), signal.SIGKILL)
    report = load_items(self, items, **options)
    with lock:
        done.append(items)
    return report

SqliteStore.load_items = killing_load_items
main(sys.argv[3:])
"""


def _produce(env: dict[str, str], killed_at: int | None = None) -> subprocess.Popen[bytes]:
    if killed_at is None:
        command = [str(Path(sys.executable).parent / "terrapole"), *PRODUCE]
    else:
        command = [sys.executable, "-c", KILLED_AT, str(killed_at), ",".join(OUTPUTS), *PRODUCE]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_kill_midway_then_rerun(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    ingest_demo(settings, ("theia",)).close()
    env = {**os.environ, "TERRAPOLE_DATA_DIR": str(tmp_path), "TERRAPOLE_DASK_PROCESSES": "false"}
    run = _produce(env, killed_at=3)
    output = run.communicate(timeout=300)[0].decode()
    assert run.returncode == -signal.SIGKILL, output  # it was killed, not finished
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
