"""A product ingested by an older version of its reader's metadata mapping is published again
(DEMs ingested before they were dated from their metadata kept the file time); an identical
ingest with the same reader stays "unchanged"."""

from __future__ import annotations

from pathlib import Path

import pytest

from terrapole.catalog.store import open_store
from terrapole.config import Settings
from terrapole.ingest.readers import geotiff, read_product
from terrapole.ingest.service import FINGERPRINT, Ingestor, fingerprint
from terrapole.storage import LocalStorage

from .conftest import DEM

COPERNICUS = DEM / "Copernicus_DSM_10_N45_00_E005_00_DEM.tif"


def test_the_reader_version_is_part_of_the_fingerprint() -> None:
    product = read_product(COPERNICUS, "dem")
    assert product.reader == f"geotiff/{geotiff.READER_VERSION}"
    assert geotiff.READER_VERSION >= 2  # the DEM dating change
    assert fingerprint(COPERNICUS, product.reader) != fingerprint(COPERNICUS)
    assert fingerprint(COPERNICUS, "geotiff/1") != fingerprint(COPERNICUS, product.reader)


def test_an_item_of_an_older_reader_is_published_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path)
    store = open_store(settings)
    ingestor = Ingestor(store, LocalStorage(settings.assets_dir))
    current = geotiff.READER_VERSION
    with monkeypatch.context() as patch:
        patch.setattr(geotiff, "READER_VERSION", current - 1)
        first = ingestor.run([str(COPERNICUS)], collection="dem")
    assert len(first.ingested) == 1 and first.unchanged == []
    item_id = first.ingested[0]
    old = store.get_item("dem", item_id)["properties"][FINGERPRINT]

    again = ingestor.run([str(COPERNICUS)], collection="dem")
    assert again.ingested == [item_id] and again.unchanged == [] and again.rejected == []
    new = store.get_item("dem", item_id)["properties"][FINGERPRINT]
    assert new != old and new == fingerprint(COPERNICUS, f"geotiff/{current}")

    third = ingestor.run([str(COPERNICUS)], collection="dem")
    assert third.unchanged == [item_id] and third.ingested == []
    store.close()
