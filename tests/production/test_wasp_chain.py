"""The monthly WASP chain on the real demo products: output item, provenance, idempotence."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import rasterio

from terrapole.catalog.store import open_store
from terrapole.config import Settings
from terrapole.ingest.service import Ingestor
from terrapole.production import wasp_chain
from terrapole.stac_api.links import item_links
from terrapole.storage import LocalStorage

from ..conftest import ROOT
from ..schemas import stac_errors

THEIA = ROOT / "demo" / "products" / "theia"
AREA = (5.34, 49.27, 5.36, 49.29)
CLEAR = THEIA / "SENTINEL2A_20180826-104155-257_L2A_T31UFQ_D_V1-8"


def test_monthly_chain_produces_catalogues_and_is_idempotent(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    store = open_store(settings)
    storage = LocalStorage(settings.assets_dir)
    assert not Ingestor(store, storage).run([str(THEIA)], workers=1).rejected

    def run() -> wasp_chain.ProductionReport:
        return wasp_chain.run(
            store, storage, input_collection="theia-sentinel-2-l2a", bbox=AREA,
            start=date(2018, 8, 1), end=date(2018, 10, 28), tile="T31UFQ",
        )  # fmt: skip

    first = run()
    # Aug (Jul 23-Sep 7: Aug 26 clear + Sep 5 cloudy), Sep (Aug 23-Oct 8: the same two),
    # Oct (Sep 22-Nov 7: nothing)
    assert first.produced == ["WASP_T31UFQ_20180815", "WASP_T31UFQ_20180915"]
    assert first.empty == ["WASP_T31UFQ_20181015"] and first.failed == []
    item = store.get_item("theia-l3a-wasp", "WASP_T31UFQ_20180915")
    derived = sorted(link["title"] for link in item["links"] if link["rel"] == "derived_from")
    assert derived == [CLEAR.name, "SENTINEL2A_20180905-104527-122_L2A_T31UFQ_D_V1-9"]
    assert item["properties"]["processing:level"] == "L3A"
    assert stac_errors(item_links(dict(item), "http://testserver/stac/")) == []
    # the fully cloudy date weighs nothing: the composite is the clear date's reflectance
    frc = storage.local_path("theia-l3a-wasp/WASP_T31UFQ_20180915/FRC_B4.tif")
    with rasterio.open(frc) as out, rasterio.open(next(CLEAR.glob("*_FRE_B4.tif"))) as src:
        assert np.array_equal(out.read(1), src.read(1))
    with rasterio.open(storage.local_path("theia-l3a-wasp/WASP_T31UFQ_20180915/DTS_R1.tif")) as ds:
        assert np.allclose(ds.read(1), -20.0)  # Aug 26 is D0 - 20 days
    # same inputs: nothing new
    again = run()
    assert again.produced == [] and len(again.unchanged) == 2
    store.close()
