"""The snow chain with a real DEM: the snow line from pass 1, pass 2 above it, FSC_OG with TCD.

The DEM is the real Copernicus GLO-30 tile of Grenoble (demo bundle). The reflectances are
hand-made on a 6 km x 6 km UTM 31N grid around Chamrousse (510-2540 m), by elevation band, so that
the expected result can be worked out by hand:

- z >= 1800 m: bright snow (green 0.60, red 0.55, SWIR 0.10: NDSI 0.714) -> pass-1 snow;
- 1500 <= z < 1800 m: thin snow (green 0.30, red 0.10, SWIR 0.20: NDSI 0.2) -> not pass 1,
  snow in pass 2 only above the snow line;
- z < 1500 m: vegetation (NDSI < 0) -> no snow.

The lowest 100 m band that is > 10 % snowy in pass 1 is [1800, 1900), so z_s = 1600 m: thin
snow above 1600 m becomes snow, below stays no snow. FSC_TOC of bright snow:
0.5 tanh(2.65 x 0.714 - 1.42) + 0.5 = 0.72 -> 72 %; with 20 % tree cover FSC_OG = 0.72 / 0.8 = 90 %.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from distributed import Client
from rasterio.warp import Resampling, reproject

from terrapole.config import Settings
from terrapole.ingest.service import Ingestor
from terrapole.production import loading, runner
from terrapole.production.chain import Area
from terrapole.production.registry import chain
from terrapole.storage import LocalStorage

from .conftest import PRODUCTS, ingest_demo

NAME = "SENTINEL2A_20190215-103015-123_L2A_T31TGL_C_V2-2"
ORIGIN = (728000.0, 5000000.0)  # UTM 31N, upper left: Chamrousse, south-east of Grenoble
SIZE = 300  # 20 m pixels


def _write(path: Path, data: np.ndarray, pixel: float) -> None:
    transform = Affine(pixel, 0, ORIGIN[0], 0, -pixel, ORIGIN[1])
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0],
                       count=1, dtype=data.dtype, crs="EPSG:32631", transform=transform) as ds:  # fmt: skip
        ds.write(data, 1)


def _elevation() -> np.ndarray:
    dem = PRODUCTS / "dem" / "Copernicus_DSM_10_N45_00_E005_00_DEM.tif"
    out = np.zeros((SIZE, SIZE), dtype="float32")
    with rasterio.open(dem) as src:
        reproject(rasterio.band(src, 1), out, dst_transform=Affine(20, 0, ORIGIN[0], 0, -20, ORIGIN[1]),
                  dst_crs="EPSG:32631", resampling=Resampling.bilinear)  # fmt: skip
    return out


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
            _write(product / f"{NAME}_FRE_{band}.tif", np.repeat(np.repeat(data, 2, 0), 2, 1), 10)
        else:
            _write(product / f"{NAME}_FRE_{band}.tif", data, 20)
    _write(product / "MASKS" / f"{NAME}_CLM_R2.tif", np.zeros((SIZE, SIZE), "uint8"), 20)
    return product


@pytest.mark.parametrize("chunk", [None, 128])
def test_snow_line_pass_two_and_fsc_og(
    tmp_path: Path, client: Client, chunk: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whole (one chunk) and in 3 x 3 chunks of 128 px, which split the 12 px blocks of the
    dark-cloud test: the scene's snow line comes from every chunk's pass 1."""
    if chunk:
        monkeypatch.setattr(loading, "CHUNK", chunk)
    settings = Settings(data_dir=tmp_path / "data")
    store = ingest_demo(settings, ())
    storage = LocalStorage(settings.assets_dir)
    z = _elevation()
    assert z.min() < 1400 and z.max() > 2000  # the grid spans the three bands
    ingestor = Ingestor(store, storage)
    assert not ingestor.run([str(_product(tmp_path, z))], workers=1).rejected
    tcd = tmp_path / "tree_cover_20.tif"
    _write(tcd, np.full((SIZE, SIZE), 20, dtype="uint8"), 20)
    assert not ingestor.run([str(tcd)], collection="tree-cover", workers=1).rejected

    day = date(2019, 2, 15)
    report = runner.run(chain("snow"), store, storage, client, area=Area(tile="T31TGL"),
                        start=day, end=day)  # fmt: skip
    assert report.failed == [] and report.produced == [f"SNOW_{NAME}"]
    item = store.get_item("theia-snow", f"SNOW_{NAME}")
    assert item["properties"]["terrapole:snowline_m"] == 1600.0
    assert item["properties"]["terrapole:dem_coverage"] == 1.0
    with rasterio.open(storage.local_path(f"theia-snow/SNOW_{NAME}/SNOW.tif")) as ds:
        codes = ds.read(1)
    sure = np.abs(z - 1600) > 10  # pixels the DEM resampling cannot move across z_s
    above = (z >= 1600) & sure
    assert (codes[above] == 100).all()
    assert (codes[(z < 1600) & sure] == 0).all()
    assert ((z >= 1500) & (z < 1600)).sum() > 100  # thin snow below z_s exists, stays no snow
    with rasterio.open(storage.local_path(f"theia-snow/SNOW_{NAME}/FSC_TOC.tif")) as ds:
        toc = ds.read(1)
    with rasterio.open(storage.local_path(f"theia-snow/SNOW_{NAME}/FSC_OG.tif")) as ds:
        og = ds.read(1)
    bright = (z > 1810) & (z < 5000)
    assert (toc[bright] == 72).all() and (og[bright] == 90).all()
    store.close()
