"""The openeo Python client against terrapole: connect, log in, list collections, build
load_collection -> ndvi -> mean over time -> save_result, run it synchronously and as a batch
job, download the result and check it against NDVI computed by hand from the product files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import openeo
import pytest
import rasterio

from .conftest import THEIA

BBOX = {"west": 5.3446556, "south": 49.2750273, "east": 5.3559872, "north": 49.282441}
PERIOD = ["2018-07-01", "2018-09-30"]  # holds 3 products: 2018-07-07, 08-26, 09-05


def _reflectance(folder: Path, band: str) -> np.ndarray:
    with rasterio.open(next(folder.glob(f"*_FRE_{band}.tif"))) as ds:
        stored = ds.read(1).astype("float64")
    values = np.where(stored == -10000, np.nan, stored * 1e-4)
    return np.repeat(np.repeat(values, 2, axis=0), 2, axis=1) if values.shape[0] == 40 else values


def expected_mean_ndvi() -> np.ndarray:
    """Mean NDVI over the period's products, (B8A - B4) / (B8A + B4), B8A (20 m) on 10 m."""
    layers = []
    for folder in sorted(THEIA.glob("SENTINEL2*_2018*")):
        day = folder.name.split("_")[1][:8]
        if "20180701" <= day <= "20180930":
            nir, red = _reflectance(folder, "B8A"), _reflectance(folder, "B4")
            layers.append((nir - red) / (nir + red))
    assert len(layers) == 3
    return np.nanmean(np.stack(layers), axis=0)


def connect(url: str, token: str, user: str = "ana") -> Any:
    connection = openeo.connect(f"{url}/openeo/1.2")
    connection.authenticate_basic(user, token)
    return connection


def ndvi_cube(connection: Any) -> Any:
    cube = connection.load_collection("theia-sentinel-2-l2a", spatial_extent=BBOX,
                                      temporal_extent=PERIOD, bands=["FRE_B4", "FRE_B8A"])  # fmt: skip
    return cube.ndvi(nir="FRE_B8A", red="FRE_B4").reduce_dimension(dimension="t", reducer="mean")


def test_connect_log_in_and_list(url: str, tokens: dict[str, str]) -> None:
    connection = connect(url, tokens["ana"])
    assert connection.capabilities().api_version() == "1.2.0"
    assert "theia-sentinel-2-l2a" in connection.list_collection_ids()
    metadata = connection.describe_collection("theia-sentinel-2-l2a")
    assert "FRE_B4" in metadata["cube:dimensions"]["bands"]["values"]
    processes = {p["id"] for p in connection.list_processes()}
    assert {"load_collection", "ndvi", "reduce_dimension", "mean", "save_result"} <= processes
    assert "GTiff" in connection.list_output_formats()
    assert connection.describe_account()["user_id"] == "ana"


def test_synchronous_ndvi_mean_matches_the_hand_computed_one(
    url: str, tokens: dict[str, str], tmp_path: Path
) -> None:
    connection = connect(url, tokens["ana"])
    target = tmp_path / "ndvi.tif"
    ndvi_cube(connection).download(target, format="GTiff")
    with rasterio.open(target) as ds:
        got = ds.read(1)
        assert ds.crs.to_epsg() == 32631 and ds.res == (10.0, 10.0)
    expected = expected_mean_ndvi()
    assert got.shape == expected.shape == (80, 80)
    np.testing.assert_allclose(got, expected, atol=1e-5, equal_nan=True)  # float32 rounding


def test_batch_job_runs_reports_cpu_and_gives_its_result(
    url: str, tokens: dict[str, str], tmp_path: Path
) -> None:
    connection = connect(url, tokens["ana"])
    job = ndvi_cube(connection).create_job(out_format="GTiff", title="mean NDVI summer 2018")
    assert job.status() == "created"
    job.start_and_wait(max_poll_interval=0.5, connection_retry_interval=0.5)
    assert job.status() == "finished"
    metadata = job.describe()
    assert (
        metadata["usage"]["cpu"]["unit"] == "cpu-seconds" and metadata["usage"]["cpu"]["value"] > 0
    )
    files = job.get_results().download_files(tmp_path)
    tiffs = [f for f in files if f.suffix == ".tif"]
    assert len(tiffs) == 1
    with rasterio.open(tiffs[0]) as ds:
        np.testing.assert_allclose(ds.read(1), expected_mean_ndvi(), atol=1e-5, equal_nan=True)
    logs = job.logs()
    assert any("load_collection" in log.message for log in logs)
    assert {log.level for log in logs} == {"info"}  # the store's INFO lines, openEO's level names
    # the other user sees nothing of it
    other = connect(url, tokens["bob"], "bob")
    with pytest.raises(openeo.rest.OpenEoApiError):
        other.job(job.job_id).describe()


def test_processes_named_like_python_builtins_run(
    url: str, tokens: dict[str, str], tmp_path: Path
) -> None:
    """max, min, if... are implemented as _max, _min, _if upstream: offered by their openEO ids."""
    connection = connect(url, tokens["ana"])
    processes = {p["id"] for p in connection.list_processes()}
    assert {"max", "min", "and", "or", "if", "sum"} <= processes
    assert not any(p.startswith("_") for p in processes)
    cube = connection.load_collection("theia-sentinel-2-l2a", spatial_extent=BBOX,
                                      temporal_extent=PERIOD, bands=["FRE_B4"])  # fmt: skip
    target = tmp_path / "max.tif"
    cube.reduce_dimension(dimension="t", reducer="max").download(target, format="GTiff")
    days = [f for f in sorted(THEIA.glob("SENTINEL2*_2018*"))
            if "20180701" <= f.name.split("_")[1][:8] <= "20180930"]  # fmt: skip
    expected = np.nanmax(np.stack([_reflectance(f, "B4") for f in days]), axis=0)
    with rasterio.open(target) as ds:
        np.testing.assert_allclose(ds.read(1), expected, atol=1e-6, equal_nan=True)
