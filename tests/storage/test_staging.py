"""Staging ownership: what a dead process left is removed, what a live one owns is kept."""

from __future__ import annotations

import os
import time
from pathlib import Path

from fastapi.testclient import TestClient

from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.storage import LocalStorage
from terrapole.storage.staging import LOCKS, UNOWNED_AGE_S, clean_stale_staging, owner_of

from .processes import staging_owner


def test_a_killed_owners_folder_is_removed_a_live_owners_kept(tmp_path: Path) -> None:
    with staging_owner(tmp_path) as dead, staging_owner(tmp_path) as live:
        (dead.folder / "B4.tif").write_bytes(b"half a COG")
        dead.kill()
        removed = clean_stale_staging(tmp_path)
        assert removed == [dead.folder.name]
        assert not dead.folder.exists()
        assert live.folder.is_dir()
        # the dead owner's lock went with it; the live one's stays
        assert [p.stem for p in (tmp_path / LOCKS).iterdir()] == [owner_of(live.folder.name)]
        assert clean_stale_staging(tmp_path) == []
    # the live owner exited normally without removing its folder: now it is stale too
    assert clean_stale_staging(tmp_path) == [live.folder.name]
    assert list((tmp_path / LOCKS).iterdir()) == []


def test_this_processes_own_folders_are_kept(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    mine = storage.new_staging("ingest-")
    assert owner_of(mine.name) is not None
    assert mine.name.startswith(f"{owner_of(mine.name)}-ingest-")
    assert storage.clean_stale_staging() == []
    assert mine.is_dir()


def test_a_forked_child_keeps_the_folder_owned_after_its_parent_exits(tmp_path: Path) -> None:
    with staging_owner(tmp_path, "fork") as child:
        child.process.wait()  # the process that made the folder has exited
        assert clean_stale_staging(tmp_path) == []
        assert child.folder.is_dir()
        child.kill()
        assert clean_stale_staging(tmp_path) == [child.folder.name]


def test_a_parked_item_folder_comes_back_when_the_publish_died_half_way(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    item = tmp_path / "c" / "i"
    item.mkdir(parents=True)
    (item / "B4.tif").write_bytes(b"published")
    # a publish killed between its two renames: the old files parked aside, nothing in place
    with staging_owner(tmp_path, "park:c/i") as owner:
        assert not item.exists()
        assert clean_stale_staging(tmp_path) == []  # its owner may still swap the new ones in
        owner.kill()
        assert clean_stale_staging(tmp_path) == [owner.folder.name]
    assert storage.local_path("c/i/B4.tif").read_bytes() == b"published"


def test_a_parked_old_version_is_dropped_when_the_new_one_is_in_place(tmp_path: Path) -> None:
    item = tmp_path / "c" / "i"
    item.mkdir(parents=True)
    (item / "B4.tif").write_bytes(b"old")
    with staging_owner(tmp_path, "park:c/i") as owner:
        item.mkdir()  # the second rename happened: the new version is in place
        (item / "B4.tif").write_bytes(b"new")
        owner.kill()
        assert clean_stale_staging(tmp_path) == [owner.folder.name]
    assert [p.read_bytes() for p in item.iterdir()] == [b"new"]


def test_publish_parks_the_old_version_and_removes_it_once_done(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    for content in (b"v1", b"v2"):
        staged = storage.new_staging()
        (staged / "B4.tif").write_bytes(content)
        with storage.publish(staged, "c/i"):
            parked = [p for p in storage.staging_root.iterdir() if "-parked-" in p.name]
            assert len(parked) == (content == b"v2")
    assert storage.local_path("c/i/B4.tif").read_bytes() == b"v2"
    assert list(storage.staging_root.iterdir()) == []


def test_unowned_folders_of_older_versions_go_once_old(tmp_path: Path) -> None:
    staging = LocalStorage(tmp_path).staging_root
    old, recent = staging / "tmpabc123", staging / "old-4f2a"
    for folder in (old, recent):
        folder.mkdir()
        (folder / "B4.tif").write_bytes(b"x")
    then = time.time() - UNOWNED_AGE_S - 60
    os.utime(old, (then, then))
    assert clean_stale_staging(tmp_path) == ["tmpabc123"]
    assert recent.is_dir()


def test_a_missing_staging_folder_is_nothing_to_clean(tmp_path: Path) -> None:
    assert clean_stale_staging(tmp_path / "never-made") == []
    assert not (tmp_path / "never-made").exists()


def test_server_start_up_removes_a_dead_processes_staging(tmp_path: Path) -> None:
    assets = tmp_path / "assets"
    with staging_owner(assets) as dead, staging_owner(assets) as live:
        dead.kill()
        app = create_app(Settings(data_dir=tmp_path, dask_processes=False))
        assert dead.folder.is_dir()  # nothing happens before the server starts
        with TestClient(app):
            assert not dead.folder.exists()
            assert live.folder.is_dir()
