"""The Storage contract, held by every implementation (as the Store's tests run on both stores).

Each test takes ``storage`` from :data:`IMPLEMENTATIONS`: the place where an S3-compatible one
joins (with what it needs started, e.g. a local object server) and must pass unchanged.
Everything here goes through :class:`~terrapole.storage.Storage` and
:func:`~terrapole.storage.open_storage`, never an implementation's own attributes.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from terrapole.errors import InvalidInput, NotFound
from terrapole.storage import LocalStorage, Storage, open_storage


@dataclass(frozen=True)
class Implementation:
    """How to reach one implementation: what ``open_storage`` takes, and the class it gives."""

    where: Callable[[Path], str]
    kind: type


IMPLEMENTATIONS = [
    pytest.param(Implementation(lambda tmp: str(tmp / "assets"), LocalStorage), id="local"),
    pytest.param(Implementation(lambda tmp: f"file://{tmp}/assets", LocalStorage), id="file-url"),
]


@pytest.fixture(params=IMPLEMENTATIONS)
def where(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """What ``open_storage`` takes to reach a fresh, empty storage of one implementation."""
    implementation: Implementation = request.param
    where = implementation.where(tmp_path)
    assert type(open_storage(where)) is implementation.kind
    return where


@pytest.fixture
def storage(where: str) -> Storage:
    return open_storage(where)


def put(storage: Storage, prefix: str, files: dict[str, bytes]) -> None:
    """Publish ``files`` (name -> bytes) as the whole content of ``prefix``."""
    staged = storage.new_staging("test-")
    for name, content in files.items():
        (staged / name).write_bytes(content)
    with storage.publish(staged, prefix):
        pass


def content(storage: Storage, prefix: str) -> dict[str, bytes]:
    """What ``prefix`` holds: key -> bytes."""
    return {key: storage.local_path(key).read_bytes() for key in storage.list(prefix)}


# --- staging ---------------------------------------------------------------------------------


def test_new_staging_gives_distinct_empty_local_folders_named_by_what(storage: Storage) -> None:
    first, second = storage.new_staging("ingest-"), storage.new_staging("ingest-")
    assert first != second
    for folder in (first, second):
        assert folder.is_dir() and list(folder.iterdir()) == []
        assert "ingest-" in folder.name


def test_this_processes_staging_is_not_stale(storage: Storage) -> None:
    mine = storage.new_staging("work-")
    (mine / "half.tif").write_bytes(b"half a COG")
    assert storage.clean_stale_staging() == []
    assert (mine / "half.tif").read_bytes() == b"half a COG"


# what a process killed mid-work leaves: os._exit skips every cleanup, as kill -9 does
DIES_IN_STAGING = """
import os, sys
from terrapole.storage import open_storage
folder = open_storage(sys.argv[1]).new_staging("dead-")
(folder / "half.tif").write_bytes(b"half a COG")
print(folder, flush=True)
os._exit(0)
"""

DIES_IN_PUBLISH = """
import os, sys
from terrapole.storage import open_storage
storage = open_storage(sys.argv[1])
staged = storage.new_staging("dead-")
(staged / "B4.tif").write_bytes(b"new")
with storage.publish(staged, "c/i"):
    os._exit(0)
"""


def _run(script: str, where: str) -> str:
    done = subprocess.run([sys.executable, "-c", script, where], capture_output=True, text=True,
                          timeout=120, check=True)  # fmt: skip
    return done.stdout.strip()


def test_a_dead_processes_staging_is_cleaned_a_live_ones_kept(storage: Storage, where: str) -> None:
    mine = storage.new_staging("live-")
    dead = Path(_run(DIES_IN_STAGING, where))
    assert dead.is_dir()
    assert storage.clean_stale_staging() == [dead.name]
    assert not dead.exists()
    assert mine.is_dir()
    assert storage.clean_stale_staging() == []


def test_a_publish_whose_process_died_leaves_old_or_new_files(storage: Storage, where: str) -> None:
    put(storage, "c/i", {"B4.tif": b"old", "B8.tif": b"old"})
    _run(DIES_IN_PUBLISH, where)
    storage.clean_stale_staging()
    assert content(storage, "c/i") in (
        {"c/i/B4.tif": b"old", "c/i/B8.tif": b"old"},
        {"c/i/B4.tif": b"new"},
    )
    assert storage.clean_stale_staging() == []


# --- publish ---------------------------------------------------------------------------------


def test_publish_puts_the_staged_files_at_the_prefix_and_consumes_them(storage: Storage) -> None:
    staged = storage.new_staging()
    (staged / "B4.tif").write_bytes(b"red")
    (staged / "thumb.png").write_bytes(b"png")
    with storage.publish(staged, "sentinel-2/S2A_1"):
        # inside the body the new files are already in place
        assert storage.exists("sentinel-2/S2A_1/B4.tif")
    assert content(storage, "sentinel-2/S2A_1") == {
        "sentinel-2/S2A_1/B4.tif": b"red",
        "sentinel-2/S2A_1/thumb.png": b"png",
    }
    assert not staged.exists()


def test_publish_replaces_the_whole_prefix(storage: Storage) -> None:
    put(storage, "c/i", {"B4.tif": b"v1", "old-only.tif": b"v1"})
    put(storage, "c/i", {"B4.tif": b"v2"})
    assert content(storage, "c/i") == {"c/i/B4.tif": b"v2"}


def test_a_failed_publish_leaves_the_previous_files(storage: Storage) -> None:
    put(storage, "c/i", {"B4.tif": b"v1", "B8.tif": b"v1"})
    staged = storage.new_staging()
    (staged / "B4.tif").write_bytes(b"v2")
    (staged / "new.tif").write_bytes(b"v2")
    with pytest.raises(RuntimeError, match="catalogue refused"), storage.publish(staged, "c/i"):
        raise RuntimeError("catalogue refused the item")
    assert content(storage, "c/i") == {"c/i/B4.tif": b"v1", "c/i/B8.tif": b"v1"}
    assert storage.clean_stale_staging() == []


def test_a_failed_first_publish_leaves_nothing(storage: Storage) -> None:
    staged = storage.new_staging()
    (staged / "B4.tif").write_bytes(b"v1")
    with pytest.raises(KeyboardInterrupt), storage.publish(staged, "c/i"):
        raise KeyboardInterrupt
    assert storage.list("c/i") == []
    assert not storage.exists("c/i/B4.tif")


def test_publishing_one_item_leaves_its_neighbours(storage: Storage) -> None:
    put(storage, "c/i", {"B4.tif": b"i"})
    put(storage, "c/i2", {"B4.tif": b"i2"})
    put(storage, "c/i", {"B4.tif": b"i again"})
    assert content(storage, "c") == {"c/i/B4.tif": b"i again", "c/i2/B4.tif": b"i2"}


# --- exists, list, delete_prefix -------------------------------------------------------------


def test_exists_is_for_files_only(storage: Storage) -> None:
    put(storage, "c/i", {"B4.tif": b"x"})
    assert storage.exists("c/i/B4.tif")
    assert not storage.exists("c/i/B8.tif")
    assert not storage.exists("c/i")  # a prefix holding files is not a file
    assert not storage.exists("nothing/here")


def test_list_gives_the_sorted_keys_under_a_prefix_only(storage: Storage) -> None:
    names = ["m.tif", "a.tif", "z.tif", "C.tif", "b.tif"]  # made in no sorted order
    put(storage, "c/i", dict.fromkeys(names, b""))
    put(storage, "c/i2", {"a.tif": b""})  # shares the string prefix "c/i", not the folder
    expected = [f"c/i/{name}" for name in sorted(names)]
    assert storage.list("c/i") == expected
    assert storage.list("c") == [*expected, "c/i2/a.tif"]
    assert storage.list("missing") == []
    assert storage.list("c/i/a.tif") == []  # a file is not a prefix


def test_delete_prefix_removes_everything_under_it_and_nothing_else(storage: Storage) -> None:
    put(storage, "c/i", {"a.tif": b"", "b.tif": b""})
    put(storage, "c/i2", {"a.tif": b"kept"})
    storage.delete_prefix("c/i")
    assert storage.list("c/i") == []
    assert content(storage, "c") == {"c/i2/a.tif": b"kept"}
    storage.delete_prefix("c/i")  # again: nothing to remove is no error
    storage.delete_prefix("never/was")


def test_delete_prefix_removes_a_single_file(storage: Storage) -> None:
    put(storage, "c/i", {"a.tif": b"", "b.tif": b""})
    storage.delete_prefix("c/i/a.tif")
    assert storage.list("c/i") == ["c/i/b.tif"]


# --- local_path, localise --------------------------------------------------------------------


def test_local_path_is_a_readable_file_with_the_keys_bytes(storage: Storage) -> None:
    put(storage, "c/i", {"B4.tif": b"\x00\x01bytes"})
    path = storage.local_path("c/i/B4.tif")
    assert path.is_absolute() and path.is_file()
    assert path.read_bytes() == b"\x00\x01bytes"


@pytest.mark.parametrize("key", ["c/i/missing.tif", "c/i", "nothing/at/all"])
def test_local_path_of_no_file_is_not_found(storage: Storage, key: str) -> None:
    put(storage, "c/i", {"B4.tif": b"x"})
    with pytest.raises(NotFound) as caught:
        storage.local_path(key)
    assert caught.value.ident == key


def test_localise_points_stored_asset_hrefs_at_local_files_in_place(storage: Storage) -> None:
    put(storage, "c/i", {"B4.tif": b"red", "thumb.png": b"png"})
    item = {
        "id": "i",
        "assets": {
            "B4": {"href": "/assets/c/i/B4.tif", "type": "image/tiff"},
            "thumbnail": {"href": "/assets/c/i/thumb.png"},
            "remote": {"href": "https://example.org/B4.tif"},
            "relative": {"href": "B4.tif"},
        },
    }
    result = storage.localise(item)
    assert result is item
    assets = item["assets"]
    assert assets["B4"] == {"href": str(storage.local_path("c/i/B4.tif")), "type": "image/tiff"}
    assert Path(assets["B4"]["href"]).read_bytes() == b"red"
    assert Path(assets["thumbnail"]["href"]).read_bytes() == b"png"
    assert assets["remote"]["href"] == "https://example.org/B4.tif"
    assert assets["relative"]["href"] == "B4.tif"


def test_localise_of_an_item_without_stored_assets_changes_nothing(storage: Storage) -> None:
    assert storage.localise({"id": "i"}) == {"id": "i"}
    assert storage.localise({"id": "i", "assets": {}}) == {"id": "i", "assets": {}}


def test_localise_of_a_missing_file_is_not_found(storage: Storage) -> None:
    with pytest.raises(NotFound):
        storage.localise({"assets": {"B4": {"href": "/assets/c/gone/B4.tif"}}})


# --- keys that are not keys ------------------------------------------------------------------
# Every escaping key aims at a file of this test's own (``outside``, beside the storage root), so
# that an implementation that lets one through damages nothing but the test's folder: never a
# system file (these tests may run as root).

BAD_KEYS = [
    "",
    "{outside}",  # absolute: the outside file's own path
    "../outside/secret.txt",
    "c/../../outside/secret.txt",
    "../outside",
    "c/i/..",
    "./c/i",
    "c/./i",
    "c//i",
    "c/i/",
    ".staging/x",  # the storage's own names start with a dot
    "c/.locks",
    "c/i\x00.tif",
]


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the storage root (beside ``assets``) that no key may reach."""
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("keep me")
    return secret


def _key(template: str, outside: Path) -> str:
    return template.replace("{outside}", str(outside))


def _untouched(outside: Path) -> bool:
    return outside.is_file() and outside.read_text() == "keep me"


@pytest.mark.parametrize("template", BAD_KEYS)
def test_a_bad_key_is_refused_by_every_method(
    storage: Storage, template: str, outside: Path
) -> None:
    key = _key(template, outside)
    calls: list[Callable[[], object]] = [
        lambda: storage.exists(key),
        lambda: storage.local_path(key),
        lambda: storage.list(key),
        lambda: storage.delete_prefix(key),
    ]
    for call in calls:
        with pytest.raises(InvalidInput) as caught:
            call()
        assert caught.value.field == "key"
        assert _untouched(outside)


@pytest.mark.parametrize("template", BAD_KEYS)
def test_publishing_at_a_bad_key_is_refused_and_writes_nothing(
    storage: Storage, template: str, outside: Path, tmp_path: Path
) -> None:
    staged = storage.new_staging()
    (staged / "B4.tif").write_bytes(b"x")
    with pytest.raises(InvalidInput), storage.publish(staged, _key(template, outside)):
        pass
    assert (staged / "B4.tif").read_bytes() == b"x"  # still staged, for its maker to remove
    assert _untouched(outside)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["assets", "outside"]
    assert storage.list("c") == []


@pytest.mark.parametrize("template", ["/assets/{outside}", "/assets/../outside/secret.txt",
                                      "/assets/c/../../outside/secret.txt"])  # fmt: skip
def test_localise_never_points_outside_the_storage(
    storage: Storage, template: str, outside: Path
) -> None:
    href = _key(template, outside)
    item = {"assets": {"evil": {"href": href}}}
    with pytest.raises(InvalidInput):
        storage.localise(item)
    assert item["assets"]["evil"]["href"] == href  # not the outside file's path


@pytest.mark.parametrize("key", ["c/i/B 4.tif", "c/i/été.tif", "c/i/a.b.tif", "c/i-1/x_y.tif"])
def test_ordinary_names_round_trip(storage: Storage, key: str) -> None:
    prefix, name = key.rsplit("/", 1)
    put(storage, prefix, {name: b"ok"})
    assert storage.list(prefix) == [key]
    assert storage.exists(key)
    assert storage.local_path(key).read_bytes() == b"ok"


# --- open_storage ----------------------------------------------------------------------------


def test_open_storage_takes_settings_and_uses_their_assets_folder(tmp_path: Path) -> None:
    from terrapole.config import Settings

    settings = Settings(data_dir=tmp_path / "data")
    storage = open_storage(settings)
    put(storage, "c/i", {"B4.tif": b"x"})
    assert (settings.assets_dir / "c" / "i" / "B4.tif").read_bytes() == b"x"
    assert open_storage(settings.assets_dir).list("c") == ["c/i/B4.tif"]


def test_open_storage_refuses_a_url_it_cannot_serve(tmp_path: Path) -> None:
    from terrapole.errors import ConfigError

    with pytest.raises(ConfigError, match="only local folders"):
        open_storage("s3://bucket/assets")
