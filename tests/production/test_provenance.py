"""Provenance: a chain's outputs say how to make them again, and are made again when that changes.

The chain here is small on purpose (elevation above a base height, per L2A product), so that what
is tested is the runner: the version derived from code and parameters, the auxiliary DEM linked
and fingerprinted, the lineage kept through ingest, the software with its commit.

The inputs are the real THEIA L2A products of the demo (tile T31UFQ, Lorraine). No real DEM of
that area is bundled, so the DEM item is the real Copernicus GLO-30 tile of Grenoble with its
georeferencing moved by 4° north (elevations real, place relabelled): the test needs a DEM item
under the products, not a true one.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import rasterio
from affine import Affine
from distributed import Client
from typing_extensions import override

from terrapole import __version__
from terrapole import software as software_module
from terrapole.catalog.links import derived_from
from terrapole.catalog.store import Store
from terrapole.config import Settings
from terrapole.ingest.service import Ingestor
from terrapole.production import provenance, runner
from terrapole.production.chain import Area, Auxiliary, Cadence, Chain, Context, Layer, Output
from terrapole.production.layers import band_key, on_grid
from terrapole.software import package_version, software
from terrapole.storage import LocalStorage

from .conftest import PRODUCTS, ingest_demo

GRENOBLE = PRODUCTS / "dem" / "Copernicus_DSM_10_N45_00_E005_00_DEM.tif"
PERIOD = (date(2015, 1, 1), date(2019, 12, 31))


class Relief(Chain):
    """Elevation above ``base`` metres on the grid of each L2A product (DEM read as auxiliary)."""

    name: ClassVar[str] = "relief-test"
    title: ClassVar[str] = "Relief"
    cadence: ClassVar[Cadence] = "per-product"
    input_collection: ClassVar[str] = "theia-sentinel-2-l2a"
    output_collection: ClassVar[str] = "test-relief"
    prefix: ClassVar[str] = "RELIEF"
    collection_title: ClassVar[str] = "Relief (test)"
    collection_description: ClassVar[str] = "Elevation above a base height."
    auxiliaries: ClassVar[tuple[Auxiliary, ...]] = (Auxiliary("dem", "data"),)
    deviations: ClassVar[tuple[str, ...]] = ("none: a test chain",)

    def __init__(self, base: float = 0.0) -> None:
        self.base = base

    @override
    def parameters(self) -> dict[str, Any]:
        return {"base_m": self.base}

    @override
    def produce(self, context: Context) -> Output:
        stack = context.load((band_key(context.inputs[0], "B11"),), 20.0)
        dem = context.auxiliary("dem", "data", stack)
        assert dem is not None
        above = (dem.data - self.base).astype("float32")
        like = stack[band_key(context.inputs[0], "B11")]
        return Output([Layer("RELIEF", on_grid(above, like), "relief", unit="m")])


def _dem(folder: Path, offset: float) -> Path:
    """The Grenoble tile 4° further north, ``offset`` metres added (one file, same name)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "DEM_N49_E005.tif"
    with rasterio.open(GRENOBLE) as src:
        data = src.read(1).astype("float32")
        profile = {**src.profile, "dtype": "float32", "nodata": -32767.0}
        transform = src.transform
    profile["transform"] = Affine(transform.a, 0, transform.c, 0, transform.e, transform.f + 4)
    values = np.where(data == -32767, -32767.0, data + offset).astype("float32")
    with rasterio.open(target, "w", **profile) as out:
        out.write(values, 1)
    return target


def _ingest_dem(store: Store, settings: Settings, path: Path) -> None:
    storage = LocalStorage(settings.assets_dir)
    assert not Ingestor(store, storage).run([str(path)], collection="dem", workers=1).rejected


def _run(chain: Chain, store: Store, settings: Settings, client: Client) -> runner.ProductionReport:
    storage = LocalStorage(settings.assets_dir)
    area = Area(tile="T31UFQ")
    return runner.run(chain, store, storage, client, area=area, start=PERIOD[0], end=PERIOD[1])


def _relief(store: Store, settings: Settings, name: str) -> np.ndarray:
    item = store.get_item("test-relief", name)
    href = LocalStorage(settings.assets_dir).localise(item)["assets"]["RELIEF"]["href"]
    with rasterio.open(href) as ds:
        values: np.ndarray = ds.read(1)
    return values


def test_outputs_are_made_again_exactly_when_their_code_parameters_or_dem_change(
    tmp_path: Path, client: Client
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    store = ingest_demo(settings, ("theia",))
    _ingest_dem(store, settings, _dem(tmp_path / "dem", 0.0))
    first = _run(Relief(), store, settings, client)
    assert first.failed == [] and len(first.produced) >= 3
    name = first.produced[0]
    item = store.get_item("test-relief", name)
    props = item["properties"]
    before = _relief(store, settings, name)
    assert np.isfinite(before).all() and np.nanmax(before) > 300  # real elevations came through

    # the item says how to make it again
    assert props["terrapole:chain_version"] == provenance.chain_version(Relief())
    assert props["terrapole:parameters"] == {"base_m": 0.0}
    assert props["terrapole:deviations"] == ["none: a test chain"]
    assert props["processing:software"] == software()
    assert {"numpy", "numba", "GDAL", "rasterio", "dask"} <= set(props["processing:software"])
    lineage = props["processing:lineage"]  # the runner's, not overwritten at ingest
    assert lineage.startswith("terrapole relief-test chain (version ")
    assert "dem DEM_N49_E005" in lineage
    derived = [link for link in item["links"] if link["rel"] == "derived_from"]
    assert derived == [  # the input, then the auxiliary; the links jobs' results get too
        derived_from("theia-sentinel-2-l2a", name.removeprefix("RELIEF_")),
        derived_from("dem", "DEM_N49_E005"),
    ]

    # nothing changed: nothing produced, the items untouched
    again = _run(Relief(), store, settings, client)
    assert again.produced == [] and sorted(again.unchanged) == sorted(first.produced)
    assert store.get_item("test-relief", name)["properties"]["updated"] == props["updated"]

    # a parameter changed: every output made again, with the new values and version
    moved = _run(Relief(base=500.0), store, settings, client)
    assert sorted(moved.produced) == sorted(first.produced)
    after = _relief(store, settings, name)
    assert np.allclose(after, before - 500.0, equal_nan=True)
    new = store.get_item("test-relief", name)["properties"]
    assert new["terrapole:chain_version"] != props["terrapole:chain_version"]

    # the DEM changed (same item, new file): made again
    _ingest_dem(store, settings, _dem(tmp_path / "dem", 100.0))
    redone = _run(Relief(base=500.0), store, settings, client)
    assert sorted(redone.produced) == sorted(first.produced)
    assert np.allclose(_relief(store, settings, name), before - 400.0, equal_nan=True)
    store.close()


def test_the_version_follows_the_code_of_the_algorithm_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = tmp_path / "kernel_under_test.py"
    module.write_text("THRESHOLD = 0.40\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    class Kernelled(Relief):
        algorithm_modules: ClassVar[tuple[str, ...]] = ("kernel_under_test",)

    one = provenance.chain_version(Kernelled())
    assert provenance.chain_version(Kernelled()) == one  # stable
    assert one != provenance.chain_version(Relief())  # the module takes part
    module.write_text("THRESHOLD = 0.45\n")
    sys.modules.pop("kernel_under_test", None)
    importlib.invalidate_caches()
    provenance.source_digest.cache_clear()
    assert provenance.chain_version(Kernelled()) != one
    assert provenance.chain_version(Kernelled(base=1.0)) != provenance.chain_version(Kernelled())


def test_the_package_version_names_the_commit_it_runs_from() -> None:
    source = Path(provenance.__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=source,
                              capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        pytest.fail("the tests run from terrapole's git checkout")
    assert package_version().split("+g")[1].startswith(head)


def test_an_installed_package_names_the_commit_stamped_at_its_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(software_module, "HERE", tmp_path)  # not a git checkout
    package_version.cache_clear()
    try:
        assert package_version() == __version__
        (tmp_path / "COMMIT").write_text("0123456789abcdef0123456789abcdef01234567\n")
        package_version.cache_clear()
        assert package_version() == f"{__version__}+g0123456789ab"
    finally:
        package_version.cache_clear()
