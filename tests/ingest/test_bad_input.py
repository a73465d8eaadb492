"""A corpus of broken inputs, made from the real demo products: each is refused, named and harmless."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from terrapole.catalog.store import open_store
from terrapole.config import Settings
from terrapole.ingest.service import Ingestor
from terrapole.storage import LocalStorage

from .conftest import CLEAR, DEM, EMPTY, THEIA
from .test_readers import build_safe

DEM_FILE = DEM / "Copernicus_DSM_10_N45_00_E005_00_DEM.tif"


def _band(folder: Path, name: str) -> Path:
    return next(folder.glob(f"*_{name}.tif"))


def make_corpus(root: Path) -> dict[str, tuple[Path, str]]:
    """name -> (input path, words the rejection must contain)."""
    corpus: dict[str, tuple[Path, str]] = {}

    truncated = root / "truncated.tif"
    truncated.write_bytes(DEM_FILE.read_bytes()[:4000])
    corpus["truncated tiff"] = (truncated, "truncated.tif")

    lfs = shutil.copytree(CLEAR, root / "lfs" / CLEAR.name)
    _band(lfs, "FRE_B3").write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 12845\n"
    )
    corpus["git lfs pointer"] = (lfs, "Git LFS pointer")

    unknown = root / "notes.zip"
    with zipfile.ZipFile(unknown, "w") as archive:
        archive.writestr("README.txt", "not a product")
    corpus["unknown format"] = (unknown, "unknown format")

    safe = build_safe(root / "nometa")
    (safe / "MTD_MSIL2A.xml").unlink()
    corpus["missing metadata xml"] = (safe, "no MTD_MSIL2A.xml")

    mismatched = shutil.copytree(CLEAR, root / "mismatch" / CLEAR.name)
    band = _band(mismatched, "FRE_B3")
    with rasterio.open(band) as ds:
        profile = ds.profile
        data = ds.read(1)[:60, :60]
    profile.update(width=60, height=60)
    with rasterio.open(band, "w", **profile) as ds:
        ds.write(data, 1)
    corpus["mismatched band sizes"] = (mismatched, "band sizes do not match")

    no_crs = root / "nocrs.tif"
    with rasterio.open(
        no_crs, "w", driver="GTiff", width=8, height=8, count=1, dtype="uint8",
        transform=from_origin(0, 8, 1, 1),
    ) as ds:  # fmt: skip
        ds.write(np.ones((8, 8), dtype="uint8"), 1)
    corpus["unreadable crs"] = (no_crs, "no coordinate reference system")

    bomb = root / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{CLEAR.name}/{CLEAR.name}_FRE_B2.tif", b"\0" * (200 * 1024**2))
    corpus["zip bomb"] = (bomb, "zip bomb")

    corpus["empty product"] = (EMPTY, "no valid pixel")
    return corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    return make_corpus(tmp_path_factory.mktemp("corpus"))


def test_each_bad_input_is_refused_with_its_reason_and_the_rest_goes_through(
    tmp_path: Path, corpus: dict[str, tuple[Path, str]]
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    store = open_store(settings)
    storage = LocalStorage(settings.assets_dir)
    good = THEIA / "SENTINEL2B_20190915-104723-867_L2A_T31UFQ_C_V2-2"
    inputs = [str(path) for path, _ in corpus.values()] + [str(good)]
    report = Ingestor(store, storage).run(inputs, collection="bad-inputs", workers=2)
    assert report.ingested == [good.name]
    reasons = dict(report.rejected)
    for name, (path, words) in corpus.items():
        assert words in reasons.get(str(path), ""), (name, reasons.get(str(path)))
        assert path.name in reasons[str(path)] or str(path) in reasons[str(path)], name
    # nothing of the bad inputs reached the catalogue or the storage
    assert store.count_items() == 1
    assert {k.split("/")[1] for k in storage.list("bad-inputs")} == {good.name}
    assert list(storage.staging_root.iterdir()) == []
    store.close()


def test_a_path_outside_the_allowed_roots_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    store = open_store(settings)
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    report = Ingestor(store, LocalStorage(settings.assets_dir), roots=[allowed]).run([str(CLEAR)])
    assert report.ingested == [] and "outside the allowed ingest roots" in report.rejected[0][1]
    assert store.count_items() == 0
    store.close()


def test_a_failed_catalogue_write_puts_the_old_files_back(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    store = open_store(settings)
    storage = LocalStorage(settings.assets_dir)
    assert Ingestor(store, storage).run([str(CLEAR)]).ingested == [CLEAR.name]
    key = f"theia-sentinel-2-l2a/{CLEAR.name}/FRE_B2.tif"
    before = storage.local_path(key).read_bytes()

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    copy = shutil.copytree(CLEAR, tmp_path / "again" / CLEAR.name)
    os.utime(_band(copy, "FRE_B2"), (1, 1))  # same product, touched: to be ingested again
    store.load_items = broken  # type: ignore[method-assign]
    with pytest.raises(OSError, match="disk full"):
        Ingestor(store, storage).run([str(copy)])
    assert storage.local_path(key).read_bytes() == before
    assert list(storage.staging_root.iterdir()) == []
    store.close()


def test_sen2cor_safe_is_ingested_with_cloud_cover_from_scl(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    store = open_store(settings)
    safe = build_safe(tmp_path / "in")
    report = Ingestor(store, LocalStorage(settings.assets_dir)).run([str(safe)])
    assert report.rejected == [] and len(report.ingested) == 1
    item = store.get_item("sentinel-2-l2a-sen2cor", report.ingested[0])
    assert item["properties"]["eo:cloud_cover"] == 50.0  # SCL class 9 on the top half
    assert item["assets"]["B5"]["gsd"] == 20.0
    store.close()


def test_existing_cogs_are_registered_in_place_without_copying(tmp_path: Path) -> None:
    from terrapole.ingest.cog import write_cog
    from terrapole.ingest.readers import read_product

    archive = tmp_path / "archive"
    archive.mkdir()
    cog = archive / "grenoble_dem.tif"
    write_cog(read_product(DEM_FILE, "dem").raster("data"), cog)
    settings = Settings(data_dir=tmp_path / "data")
    store = open_store(settings)
    storage = LocalStorage(settings.assets_dir)
    report = Ingestor(store, storage).run([str(cog)], collection="dem", in_place=True)
    assert report.ingested == ["grenoble_dem"]
    stored = storage.root / "dem" / "grenoble_dem" / "data.tif"
    assert stored.is_symlink() and stored.resolve() == cog.resolve()
    item = store.get_item("dem", "grenoble_dem")
    assert item["assets"]["data"]["file:size"] == cog.stat().st_size
    # a plain (striped, 1000 x 1000, no overviews) GeoTIFF is converted even when asked in place
    srtm = DEM / "srtm_eastern_turkey.tif"
    plain = Ingestor(store, storage).run([str(srtm)], collection="dem", in_place=True)
    converted = storage.root / "dem" / srtm.stem / "data.tif"
    assert plain.ingested == [srtm.stem] and not converted.is_symlink()
    store.close()
