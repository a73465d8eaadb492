"""The snow chain end to end: with a real DEM (snow line, pass 2, FSC_OG) and on real dates.

1. The DEM is the real Copernicus GLO-30 tile of Grenoble (demo bundle). The reflectances are
   hand-made on a 6 km x 6 km UTM 31N grid around Chamrousse (about 500-2500 m), by elevation
   band:

   - z >= 1800 m: bright snow (green 0.60, red 0.55, SWIR 0.10: NDSI 0.714) -> pass-1 snow;
   - 1500 <= z < 1800 m: thin snow (green 0.30, red 0.10, SWIR 0.20: NDSI 0.2) -> not pass 1,
     snow in pass 2 only above the snow line;
   - z < 1500 m: vegetation (NDSI < 0) -> no snow.

   The snow line's bins start at the DEM's minimum (LIS): from 510 m to 2539 m there are 20
   bins of 101.45 m; the first one > 10 % snowy is [1727.4, 1828.85) (bright snow from 1800
   m), so z_s = floor(centre of [1524.5, 1625.95) - 50) = 1525 m: thin snow above 1525 m
   becomes snow, below stays no snow (100 m bins from 0 m would have given 1500 m).
   FSC_TOC of bright snow: 0.5 tanh(2.65 x 0.714 - 1.42) + 0.5 = 0.72 -> 72 %; with 20 % tree
   cover FSC_OG = 0.72 / 0.8 = 90 %; where the tree-cover raster says 255 (no data),
   FSC_OG = FSC_TOC.
2. Real THEIA L2A dates of tile T31UFQ (tests/data/t31ufq) through the chain in 16 px chunks:
   the SNOW asset equals the plain-numpy oracle (tests/oracles/lis.py) on each, with shadows,
   high clouds and dark clouds in them; the fully cloudy 2018-09-05 has no snow pixel.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
import rasterio
from distributed import Client

from terrapole.catalog.model import SearchQuery
from terrapole.catalog.search import search_all
from terrapole.config import Settings
from terrapole.cube import loading
from terrapole.ingest.service import Ingestor
from terrapole.production import runner
from terrapole.production.chain import Area
from terrapole.production.registry import chain
from terrapole.storage import LocalStorage

from ..oracles import lis
from ..oracles.test_lis_oracle import SERIES, series
from .chamrousse import elevation, write
from .conftest import Produced, ingest_demo

NAME = "SENTINEL2A_20190215-103015-123_L2A_T31TGL_C_V2-2"
SIZE = 300  # 20 m pixels


def _product(folder: Path, z: np.ndarray) -> Path:
    product = folder / NAME
    (product / "MASKS").mkdir(parents=True)
    bright, thin = z >= 1800, (z >= 1500) & (z < 1800)
    values = {  # reflectance x 10000 per band: (bright snow, thin snow, vegetation)
        "B2": (6000, 3000, 500), "B3": (6000, 3000, 800), "B4": (5500, 1000, 500),
        "B8A": (5000, 2500, 3000), "B11": (1000, 2000, 2000), "B12": (800, 1500, 1200),
    }  # fmt: skip
    for band, (snow, light, other) in values.items():
        data = np.where(bright, snow, np.where(thin, light, other)).astype("int16")
        if band in ("B2", "B3", "B4"):  # 10 m bands
            write(product / f"{NAME}_FRE_{band}.tif", np.repeat(np.repeat(data, 2, 0), 2, 1), 10)
        else:
            write(product / f"{NAME}_FRE_{band}.tif", data, 20)
    write(product / "MASKS" / f"{NAME}_CLM_R2.tif", np.zeros((SIZE, SIZE), "uint8"), 20)
    return product


@pytest.mark.parametrize("chunk", [None, 128])
def test_snow_line_pass_two_and_fsc_og(
    tmp_path: Path, client: Client, chunk: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whole (one chunk) and in 3 x 3 chunks of 128 px, which split the coarse red cells: the
    scene's snow line comes from every chunk's pass 1."""
    if chunk:
        monkeypatch.setattr(loading, "CHUNK", chunk)
    settings = Settings(data_dir=tmp_path / "data")
    store = ingest_demo(settings, ())
    storage = LocalStorage(settings.assets_dir)
    z = elevation(SIZE)
    assert z.min() < 1400 and z.max() > 2000  # the grid spans the three bands
    ingestor = Ingestor(store, storage)
    assert not ingestor.run([str(_product(tmp_path, z))], workers=1).rejected
    tcd = tmp_path / "tree_cover_20.tif"
    cover = np.full((SIZE, SIZE), 20, dtype="uint8")
    cover[:, :50] = 255  # no data in the Copernicus tree cover density
    write(tcd, cover, 20)
    assert not ingestor.run([str(tcd)], collection="tree-cover", workers=1).rejected

    day = date(2019, 2, 15)
    report = runner.run(chain("snow", settings), store, storage, client, area=Area(tile="T31TGL"),
                        start=day, end=day)  # fmt: skip
    assert report.failed == [] and report.produced == [f"SNOW_{NAME}"]
    item = store.get_item("theia-snow", f"SNOW_{NAME}")
    # the chain's own bilinear mosaic of the DEM may move its extremes by a metre or so
    assert abs(item["properties"]["terrapole:snowline_m"] - 1525) <= 2
    assert item["properties"]["terrapole:dem_coverage"] == 1.0
    with rasterio.open(storage.local_path(f"theia-snow/SNOW_{NAME}/SNOW.tif")) as ds:
        codes = ds.read(1)
    sure = np.abs(z - 1525) > 10  # pixels the DEM resampling cannot move across z_s
    above = (z >= 1525) & sure
    assert (codes[above] == 100).all()
    assert (codes[(z < 1525) & sure] == 0).all()
    assert ((z >= 1500) & (z < 1515)).sum() > 100  # thin snow below z_s exists, stays no snow
    with rasterio.open(storage.local_path(f"theia-snow/SNOW_{NAME}/FSC_TOC.tif")) as ds:
        toc = ds.read(1)
    with rasterio.open(storage.local_path(f"theia-snow/SNOW_{NAME}/FSC_OG.tif")) as ds:
        og = ds.read(1)
    bright = (z > 1810) & (z < 5000)
    known = np.zeros_like(bright)
    known[:, 50:] = True
    assert (toc[bright] == 72).all() and (og[bright & known] == 90).all()
    assert bright[:, :50].sum() > 100 and (og[bright & ~known] == 72).all()  # TCD unknown
    store.close()


REAL_DATES = ("20160418", "20170806", "20171020", "20180905")  # shadows, high, dark clouds


def test_real_dates_through_the_chain_equal_the_oracle(
    tmp_path: Path, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four real T31UFQ dates ingested and run by the chain in 3 x 3 chunks of 16 px (the
    chunks split the 3 x 3 coarse cells of 13.3 px): SNOW equals the oracle (no DEM covers the
    tile, so no pass 2), and 2018-09-05, cloudy everywhere, has no snow pixel (30 before)."""
    monkeypatch.setattr(loading, "CHUNK", 16)
    settings = Settings(data_dir=tmp_path / "data")
    store = ingest_demo(settings, ())
    storage = LocalStorage(settings.assets_dir)
    folders = [
        f for f in sorted(SERIES.glob("SENTINEL2*")) if f.name.split("_")[1][:8] in REAL_DATES
    ]
    assert len(folders) == 4
    assert not Ingestor(store, storage).run([str(f) for f in folders], workers=1).rejected
    report = runner.run(chain("snow", settings), store, storage, client, area=Area(tile="T31UFQ"),
                        start=date(2016, 4, 1), end=date(2018, 9, 30))  # fmt: skip
    assert report.failed == [] and len(report.produced) == 4
    no_dem = np.full((40, 40), np.nan)
    seen = {"shadow": 0, "high": 0, "dark": 0}
    for folder in folders:
        day = folder.name.split("_")[1][:8]
        d = next(x for x in series() if x.day.strftime("%Y%m%d") == day)
        expected = lis.detect(d.green, d.red, d.swir, d.clm, no_dem)
        with rasterio.open(storage.local_path(f"theia-snow/SNOW_{folder.name}/SNOW.tif")) as ds:
            np.testing.assert_array_equal(ds.read(1), expected.codes, err_msg=day)
        item = store.get_item("theia-snow", f"SNOW_{folder.name}")
        assert item["properties"]["terrapole:snowline_m"] is None
        assert item["properties"]["terrapole:dem_coverage"] == 0.0
        seen = {"shadow": seen["shadow"] + int(expected.shadow.sum()),
                "high": seen["high"] + int(expected.high.sum()),
                "dark": seen["dark"] + int(expected.dark.sum())}  # fmt: skip
        if day == "20180905":
            assert (d.clm > 0).all() and not (expected.codes == lis.SNOW).any()
    assert min(seen.values()) > 300, seen
    store.close()


def test_every_demo_snow_product_equals_the_oracle(produced: Produced) -> None:
    """The snow products the scheduler made of the 31 demo products (default chunks, no DEM
    over the tile) equal the oracle on the same real dates, code for code."""
    items = search_all(produced.store, SearchQuery(collections=("theia-snow",)))
    assert len(items) == 31
    by_day = {d.day.strftime("%Y%m%d"): d for d in series()}
    no_dem = np.full((40, 40), np.nan)
    clouds = 0
    for item in items:
        d = by_day[item["id"].split("_")[2][:8]]
        expected = lis.detect(d.green, d.red, d.swir, d.clm, no_dem)
        path = produced.storage.local_path(f"theia-snow/{item['id']}/SNOW.tif")
        with rasterio.open(path) as ds:
            np.testing.assert_array_equal(ds.read(1), expected.codes, err_msg=item["id"])
        clouds += int(((d.clm > 0) & (d.clm < 255)).any())
    assert clouds >= 10  # cloudy and partly cloudy dates among them
