"""Vegetation indicators on the 25 real 2018 products: a pixel's season by hand, per-zone means."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import requests

from terrapole.processing.phenology import prepare, season

from .conftest import PRODUCTS, THEIA_PRODUCT, YEAR
from .test_processes_api import _auth, _wait, _zone


def _read(folder: Path, name: str) -> np.ndarray:
    with rasterio.open(next(folder.glob(f"**/*_{name}.tif"))) as ds:
        data = ds.read(1)
    return np.repeat(np.repeat(data, 2, axis=0), 2, axis=1) if data.shape[0] == 40 else data


def _pixel_season(row: int, col: int) -> Any:
    """NDVI of the pixel on every clear date of the 26 catalogued 2018 products, its season."""
    days, values = [], []
    folders = [*YEAR.glob("SENTINEL2*"), PRODUCTS / "theia" / THEIA_PRODUCT]
    for folder in sorted(folders, key=lambda f: f.name[11:19]):
        day = np.datetime64(f"{folder.name[11:15]}-{folder.name[15:17]}-{folder.name[17:19]}")
        nir, red = _read(folder, "FRE_B8A")[row, col], _read(folder, "FRE_B4")[row, col]
        cloud = _read(folder, "CLM_R2")[row, col]
        valid = nir != -10000 and red != -10000 and cloud == 0
        days.append(float((day - np.datetime64("2018-01-01")).astype(int)))
        values.append((nir - red) / (nir + red) if valid else np.nan)
    return season(np.array(days), prepare(np.array(days), np.array(values), 7))


def test_metrics_by_hand_and_zone_means(year_url: tuple[str, str]) -> None:
    url, token = year_url
    b4 = next((YEAR / "SENTINEL2A_20180408-104539-942_L2A_T31UFQ_C_V2-2").glob("*_FRE_B4.tif"))
    zone = _zone(str(b4), (10, 30), (20, 50))
    body = {"inputs": {"zones": zone, "start": "2018-01-01", "end": "2018-12-31"}}
    response = requests.post(f"{url}/ogcapi/processes/vegetation-indicators/execution",
                             json=body, headers=_auth(token), timeout=60)  # fmt: skip
    assert response.status_code == 201, response.text
    status = _wait(url, response.json()["jobID"], token, timeout=180)
    assert status["status"] == "successful", status
    links = requests.get(f"{url}/ogcapi/jobs/{status['jobID']}/results", headers=_auth(token),
                         timeout=30).json()  # fmt: skip
    assert {"SOS", "EOS", "LOS", "POS", "zones", "series", "plot"} <= set(links)
    rasters = {}
    for name in ("SOS", "EOS", "POS", "AOS", "LIOS"):
        data = requests.get(links[name]["href"], headers=_auth(token), timeout=30).content
        with rasterio.MemoryFile(data) as memory, memory.open() as ds:
            rasters[name] = ds.read(1)
            grid = ds.transform
    with rasterio.open(b4) as ds:
        product = ds.transform
    # the output covers the zone's bounding box on the products' grid: where it starts there
    col0, row0 = (round(v) for v in ~product * (grid.c, grid.f))
    inside = np.zeros(rasters["SOS"].shape, dtype=bool)
    inside[10 - row0 : 30 - row0, 20 - col0 : 50 - col0] = True
    for row, col in ((15, 27), (25, 45)):
        expected = _pixel_season(row, col)
        # the service computes in float32, the hand path in float64: crossings within 0.05 day,
        # index values within 1e-4, integrals within 0.01 %
        for name, value, tolerance in (
            ("SOS", expected.sos, {"abs": 0.05}), ("EOS", expected.eos, {"abs": 0.05}),
            ("POS", expected.pos, {"abs": 1e-4}), ("AOS", expected.aos, {"abs": 1e-4}),
            ("LIOS", expected.lios, {"rel": 1e-4}),
        ):  # fmt: skip
            got = rasters[name][row - row0, col - col0]
            assert got == pytest.approx(value, **tolerance), name
    table = requests.get(links["zones"]["href"], headers=_auth(token), timeout=30).text
    rows = list(csv.DictReader(io.StringIO(table)))
    assert len(rows) == 1 and int(rows[0]["pixels"]) == 600
    assert float(rows[0]["sos"]) == pytest.approx(np.nanmean(rasters["SOS"][inside]), abs=1e-3)
    series = list(csv.DictReader(io.StringIO(
        requests.get(links["series"]["href"], headers=_auth(token), timeout=30).text)))  # fmt: skip
    assert len(series) == 26 and all(0 <= int(r["clear_pixels"]) <= 600 for r in series)


def test_too_few_dates_and_reversed_periods_are_refused(year_url: tuple[str, str]) -> None:
    url, token = year_url
    b4 = next((YEAR / "SENTINEL2A_20180408-104539-942_L2A_T31UFQ_C_V2-2").glob("*_FRE_B4.tif"))
    zone = _zone(str(b4), (0, 10), (0, 10))
    for period, reason in ((("2018-04-01", "2018-04-20"), "needs at least 4 dates"),
                           (("2018-06-01", "2018-01-01"), "must come after")):  # fmt: skip
        body = {"inputs": {"zones": zone, "start": period[0], "end": period[1]}}
        response = requests.post(f"{url}/ogcapi/processes/vegetation-indicators/execution",
                                 json=body, headers=_auth(token), timeout=60)  # fmt: skip
        assert response.status_code == 400 and reason in response.json()["description"]
