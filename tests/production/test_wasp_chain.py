"""The runner on the monthly WASP chain: output, provenance, idempotence, scheduling, bad input."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import rasterio
from distributed import Client

from terrapole.catalog.documents import prepare_item
from terrapole.catalog.store import open_store
from terrapole.config import Settings
from terrapole.ingest.service import Ingestor
from terrapole.production import runner
from terrapole.production.chain import Area
from terrapole.production.registry import chain
from terrapole.production.scheduler import Scheduler, due
from terrapole.production.wasp_chain import WaspMonthly
from terrapole.storage import LocalStorage

from ..oracles import wasp as oracle
from .conftest import PRODUCTS, ingest_demo

AREA = Area(tile="T31UFQ")
CLEAR = PRODUCTS / "theia" / "SENTINEL2A_20180826-104155-257_L2A_T31UFQ_D_V1-8"
WASP = WaspMonthly()  # needs no settings


def test_monthly_chain_produces_and_is_idempotent(tmp_path: Path, client: Client) -> None:
    settings = Settings(data_dir=tmp_path)
    store = ingest_demo(settings, ("theia",))
    storage = LocalStorage(settings.assets_dir)

    def run() -> runner.ProductionReport:
        return runner.run(WASP, store, storage, client, area=AREA,
                          start=date(2018, 8, 1), end=date(2018, 10, 28))  # fmt: skip

    first = run()
    # Aug (Jul 23-Sep 7: Aug 26 clear + Sep 5 cloudy), Sep (Aug 23-Oct 8: the same two),
    # Oct (Sep 22-Nov 7: nothing)
    assert first.produced == ["WASP_T31UFQ_20180815", "WASP_T31UFQ_20180915"]
    assert first.empty == ["WASP_T31UFQ_20181015"] and first.failed == []
    item = store.get_item("theia-l3a-wasp", "WASP_T31UFQ_20180915")
    derived = sorted(link["title"] for link in item["links"] if link["rel"] == "derived_from")
    assert derived == [CLEAR.name, "SENTINEL2A_20180905-104527-122_L2A_T31UFQ_D_V1-9"]
    assert item["properties"]["processing:level"] == "L3A"
    assert item["properties"]["start_datetime"] == "2018-08-23T00:00:00Z"
    # the fully cloudy date weighs nothing: the composite is the clear date's reflectance
    frc = storage.local_path("theia-l3a-wasp/WASP_T31UFQ_20180915/FRC_B4.tif")
    with rasterio.open(frc) as out, rasterio.open(next(CLEAR.glob("*_FRE_B4.tif"))) as src:
        assert np.array_equal(out.read(1), src.read(1))
        assert out.transform == src.transform and out.crs == src.crs  # native grid kept
    with rasterio.open(storage.local_path("theia-l3a-wasp/WASP_T31UFQ_20180915/DTS_R1.tif")) as ds:
        assert np.allclose(ds.read(1), -20.0)  # Aug 26 is D0 - 20 days
    # same inputs: nothing new; a changed input: exactly the two windows holding it again
    again = run()
    assert again.produced == [] and len(again.unchanged) == 2
    changed = store.get_item("theia-sentinel-2-l2a", CLEAR.name)
    changed["properties"]["updated"] = "2030-01-01T00:00:00.000000Z"
    store.update_item(prepare_item(changed))
    assert run().produced == ["WASP_T31UFQ_20180815", "WASP_T31UFQ_20180915"]
    store.close()


def test_scheduler_produces_what_new_inputs_affect(tmp_path: Path, client: Client) -> None:
    settings = Settings(data_dir=tmp_path)
    store = ingest_demo(settings, ("theia",))
    scheduler = Scheduler(settings, ["indices", "wasp-monthly"])
    first = scheduler.tick(client, store)
    assert len(first["indices"].produced) == 4  # 6 products, 2 fully cloudy (empty)
    assert len(first["wasp-monthly"].produced) == 8  # the months holding the 6 dates
    second = scheduler.tick(client, store)  # nothing new since the watermark: no work at all
    assert all(not (r.produced or r.unchanged or r.empty) for r in second.values())
    changed = store.get_item("theia-sentinel-2-l2a", CLEAR.name)
    changed["properties"]["updated"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    store.update_item(prepare_item(changed))
    third = scheduler.tick(client, store)
    assert third["indices"].produced == [f"INDICES_{CLEAR.name}"]
    assert sorted(third["wasp-monthly"].produced) == [
        "WASP_T31UFQ_20180815", "WASP_T31UFQ_20180915"
    ]  # fmt: skip
    store.close()


def test_open_windows_wait_until_they_close(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    store = ingest_demo(settings, ("theia",))
    before_close = datetime(2018, 9, 1, tzinfo=UTC)  # the Aug 15 window ends Sep 7
    found = due(WASP, store, "1970-01-01T00:00:00Z", before_close)
    keys = {w.key for windows in found.work.values() for w in windows}
    assert "20180815" not in keys and found.waiting > 0
    updated = store.get_item("theia-sentinel-2-l2a", CLEAR.name)["properties"]["updated"]
    assert found.watermark < updated  # held back: a later tick looks at those items again
    after = due(WASP, store, "1970-01-01T00:00:00Z", datetime(2030, 1, 1, tzinfo=UTC))
    assert "20180815" in {w.key for windows in after.work.values() for w in windows}
    store.close()


def test_missing_band_fails_cleanly_and_writes_nothing(tmp_path: Path, client: Client) -> None:
    settings = Settings(data_dir=tmp_path)
    store = ingest_demo(settings, ("theia",))
    storage = LocalStorage(settings.assets_dir)
    item = store.get_item("theia-sentinel-2-l2a", CLEAR.name)
    del item["assets"]["FRE_B11"]
    store.update_item(prepare_item(item))
    report = runner.run(chain("water", settings), store, storage, client, area=AREA,
                        start=date(2018, 8, 26), end=date(2018, 8, 26))  # fmt: skip
    reason = f"invalid inputs: {CLEAR.name} has no B11 band (neither FRE_ nor SRE_B11)"
    assert report.failed == [(f"WATER_{CLEAR.name}", reason)]
    assert store.count_items("theia-water") == 0
    assert not storage.list("theia-water") and not list(storage.staging_root.iterdir())
    report = runner.run(WASP, store, storage, client, area=Area(bbox=(0.0, 0.0, 1.0, 1.0)),
                        start=date(2018, 8, 1), end=date(2018, 8, 31))  # fmt: skip
    assert report.empty == ["WASP_BBOX0.00_0.00_1.00_1.00_20180815"]  # no input there
    store.close()


def test_the_chains_monthly_items_match_the_wasp_oracle(tmp_path: Path, client: Client) -> None:
    """Every 2018 composite of the 31 demo products, as written by the chain, against the
    independent transcription of CNES/WASP (tests/oracles/wasp.py) on the same files."""
    settings = Settings(data_dir=tmp_path)
    store = ingest_demo(settings)
    storage = LocalStorage(settings.assets_dir)
    report = runner.run(WASP, store, storage, client, area=AREA,
                        start=date(2018, 1, 1), end=date(2018, 12, 31))  # fmt: skip
    assert report.failed == [] and len(report.produced) == 11  # December: no input
    folders = [p for name in ("theia", "theia-2018") for p in (PRODUCTS / name).iterdir()
               if p.is_dir()]  # fmt: skip
    groups = {"R1": (("B2", "B3", "B4"), 10.0), "R2": (("B8A", "B11", "B12"), 20.0)}
    series = {group: oracle.read_dates(folders, group) for group in groups}
    partly_cloudy = 0
    for item_id in report.produced:
        d0 = date(int(item_id[-8:-4]), int(item_id[-4:-2]), 15)
        item = store.get_item("theia-l3a-wasp", item_id)
        assert item["properties"]["wasp:aot"].startswith("absent: W_AOT = 1")
        assert item["properties"]["wasp:snow_water"].startswith("absent")
        assert item["properties"]["terrapole:deviations"] == list(WASP.deviations)
        for group, (bands, pixel) in groups.items():
            window = [d for d in series[group] if abs((d.day - d0).days) <= 23]
            partly_cloudy += sum(0 < (d.clm & 1).mean() < 1 for d in window)
            ref = oracle.synthesis(window, d0, pixel)

            def layer(key: str, id: str = item_id) -> np.ndarray:
                with rasterio.open(storage.local_path(f"theia-l3a-wasp/{id}/{key}.tif")) as ds:
                    return ds.read(1)

            for n, band in enumerate(bands):
                assert np.abs(layer(f"FRC_{band}").astype(int) - ref.frc[n]).max() <= 1
            assert np.abs(layer(f"WGT_{group}") / 1000 - ref.weight).max() <= 0.001
            assert np.array_equal(layer(f"FLG_{group}"), ref.flg)
            dts = layer(f"DTS_{group}")
            assert np.allclose(dts, np.nan_to_num(ref.dts, nan=-9999.0), atol=1e-3)
    assert partly_cloudy >= 4  # cloud edges inside the windows: the blur and BCO matter
    store.close()


def _with_atb(source: Path, target: Path, n: int) -> Path:
    """A copy of a real THEIA product with an ATB file per resolution added: band 1 water
    vapour, band 2 AOT as DN (AOT = DN / 200) rising from west to east and from date to date,
    from clean air (DN 10, AOT 0.05) past the 0.8 bound (DN 160) where the weight is flat."""
    product = target / source.name
    shutil.copytree(source, product)
    for res, like in (("R1", "B2"), ("R2", "B11")):
        with rasterio.open(next(product.glob(f"*_FRE_{like}.tif"))) as ds:
            profile = {**ds.profile, "count": 2, "dtype": "uint8", "nodata": None}
            width, height = ds.width, ds.height
        east = np.linspace(10 + 20 * n, 200, width).astype("uint8")
        aot = np.broadcast_to(east, (height, width))
        water = np.full((height, width), 40, dtype="uint8")
        with rasterio.open(product / f"{source.name}_ATB_{res}.tif", "w", **profile) as ds:
            ds.write(np.stack([water, aot]))
    return product


def test_the_aot_of_the_atb_band_weighs_the_dates_as_the_reference(
    tmp_path: Path, client: Client
) -> None:
    """July 2018 from the real demo products given ATB files: the chain loads the AOT, and its
    composite equals the oracle's with WeightOnAOT, not the one without."""
    month = sorted(p for name in ("theia", "theia-2018") for p in (PRODUCTS / name).iterdir()
                   if p.is_dir() and "_201807" in p.name)  # fmt: skip
    assert len(month) >= 3
    folders = [_with_atb(p, tmp_path / "products", n) for n, p in enumerate(month)]
    settings = Settings(data_dir=tmp_path / "data")
    store = open_store(settings)
    storage = LocalStorage(settings.assets_dir)
    assert not Ingestor(store, storage).run([str(f) for f in folders], workers=1).rejected
    l2a = store.get_item("theia-sentinel-2-l2a", month[0].name)
    assert l2a["assets"]["AOT_R2"]["raster:bands"][0]["scale"] == 0.005
    report = runner.run(WASP, store, storage, client, area=AREA,
                        start=date(2018, 7, 1), end=date(2018, 7, 31))  # fmt: skip
    assert report.failed == [] and report.produced == ["WASP_T31UFQ_20180715"]
    item = store.get_item("theia-l3a-wasp", "WASP_T31UFQ_20180715")
    assert item["properties"]["wasp:aot"].startswith("ATB band 2")
    d0 = date(2018, 7, 15)
    for group, (bands, pixel) in {"R1": (("B2", "B3", "B4"), 10.0),
                                  "R2": (("B8A", "B11", "B12"), 20.0)}.items():  # fmt: skip
        dates = oracle.read_dates(folders, group)
        assert all(d.aot is not None for d in dates)
        ref = oracle.synthesis(dates, d0, pixel)
        without = oracle.synthesis([replace(d, aot=None) for d in dates], d0, pixel)
        with rasterio.open(
            storage.local_path(f"theia-l3a-wasp/{item['id']}/WGT_{group}.tif")
        ) as ds:
            weight = ds.read(1) / 1000
        assert np.abs(weight - ref.weight).max() <= 0.001
        assert np.abs(weight - without.weight).max() > 0.1  # the AOT changed the weights
        for n, band in enumerate(bands):
            path = storage.local_path(f"theia-l3a-wasp/{item['id']}/FRC_{band}.tif")
            with rasterio.open(path) as ds:
                assert np.abs(ds.read(1).astype(int) - ref.frc[n]).max() <= 1
    store.close()
