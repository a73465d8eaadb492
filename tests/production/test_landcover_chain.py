"""The land-cover chain on the 28 real 2018 demo products, trained on polygons derived from the
real IGN BD Foret crop; idempotency; and bad training files failing with nothing catalogued."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import rasterio
from distributed import Client

from terrapole.catalog.store import Store
from terrapole.config import Settings
from terrapole.errors import NotFound
from terrapole.production import runner
from terrapole.production.chain import Area, Chain
from terrapole.production.landcover_chain import LandCoverYearly
from terrapole.production.registry import chain
from terrapole.production.runner import ProductionReport
from terrapole.storage import LocalStorage

from ..conftest import ROOT
from .conftest import PRODUCTS, ingest_demo, read

TRAINING = ROOT / "demo" / "training" / "bdforet_training.geojson"
FOREST = PRODUCTS / "landcover" / "BDForet_ZoneTest.tif"
ITEM = "LANDCOVER_T31UFQ_2018"
YEAR = {"start": date(2018, 1, 1), "end": date(2018, 12, 31)}


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Store]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("landcover"))
    return settings, ingest_demo(settings)


def _landcover(settings: Settings, training: Path) -> Chain:
    """The registry's land-cover chain for settings naming ``training``."""
    return chain("landcover", settings.model_copy(update={"landcover_training": training}))


def _run(catalogue: tuple[Settings, Store], client: Client, training: Path) -> ProductionReport:
    settings, store = catalogue
    storage = LocalStorage(settings.assets_dir)
    landcover = _landcover(settings, training)
    return runner.run(landcover, store, storage, client, area=Area(tile="T31UFQ"), **YEAR)


def _training(tmp_path: Path, edit: object) -> Path:
    document = json.loads(TRAINING.read_text())
    edit(document)  # type: ignore[operator]
    path = tmp_path / "training.geojson"
    path.write_text(json.dumps(document))
    return path


def test_land_cover_matches_the_forest_map_with_an_accuracy_report(
    catalogue: tuple[Settings, Store], client: Client
) -> None:
    report = _run(catalogue, client, TRAINING)
    assert report.produced == [ITEM], report.failed
    settings, store = catalogue
    item = store.get_item("theia-landcover", ITEM)
    properties = item["properties"]
    accuracy = properties["terrapole:accuracy"]
    assert accuracy["classes"] == [0, 1]
    assert sum(map(sum, accuracy["confusion"])) == accuracy["pixels"] > 0
    assert accuracy["overall"] >= 0.85 and accuracy["kappa"] >= 0.6  # held-out polygons
    assert properties["terrapole:features"] == 7 * 12  # 6 bands + NDVI, every 30 days
    assert properties["terrapole:observations"] == len(item["links"]) - _own_links(item) == 28
    digest = hashlib.sha256(TRAINING.read_bytes()).hexdigest()
    assert properties["terrapole:parameters"]["training_sha256"] == digest
    legend = item["assets"]["CLASSES"]["classification:classes"]
    assert [(c["value"], c["name"] if "name" in c else c["description"]) for c in legend] == [
        (0, "other land"), (1, "forest")]  # fmt: skip
    storage = LocalStorage(settings.assets_dir)
    with rasterio.open(read(storage, "theia-landcover", ITEM, "CLASSES")) as ds:
        classes = ds.read(1)
    with rasterio.open(read(storage, "theia-landcover", ITEM, "CONFIDENCE")) as ds:
        confidence = ds.read(1)
    with rasterio.open(FOREST) as ds:
        forest = ds.read(1)
    assert classes.shape == forest.shape == (80, 80)
    # every pixel has a clear observation in 2018: all classified; 85 % agree with BD Foret
    assert set(np.unique(classes)) == {0, 1}
    assert np.mean(classes == forest) >= 0.85
    assert confidence.min() >= 50 and confidence.max() == 100
    # same inputs and training: no work
    assert _run(catalogue, client, TRAINING).unchanged == [ITEM]
    # 2015 and 2019 hold 1 and 2 products (no series to classify), 2016-2017 none: all empty
    settings, store = catalogue
    storage = LocalStorage(settings.assets_dir)
    other = runner.run(_landcover(settings, TRAINING), store, storage, client, area=Area(tile="T31UFQ"),
                       start=date(2015, 1, 1), end=date(2019, 12, 31))  # fmt: skip
    assert other.empty == [f"LANDCOVER_T31UFQ_{year}" for year in (2015, 2016, 2017, 2019)]
    assert other.failed == [] and other.unchanged == [ITEM]


def test_the_chain_takes_its_training_from_the_settings_never_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERRAPOLE_LANDCOVER_TRAINING", str(TRAINING))
    assert "TERRAPOLE_LANDCOVER_TRAINING" in (LandCoverYearly().unavailable() or "")
    unset = Settings(data_dir=tmp_path, landcover_training=None)
    assert chain("landcover", unset).unavailable() is not None
    configured = Settings(data_dir=tmp_path, landcover_training=TRAINING)
    assert chain("landcover", configured).unavailable() is None
    assert chain("landcover", configured).parameters()["training_file"] == TRAINING.name


def _own_links(item: dict) -> int:  # type: ignore[type-arg]
    return sum(1 for link in item["links"] if link["rel"] != "derived_from")


def test_new_training_polygons_produce_the_year_again(
    catalogue: tuple[Settings, Store], client: Client, tmp_path: Path
) -> None:
    edited = _training(tmp_path, lambda d: d["features"].pop())
    assert _run(catalogue, client, edited).produced == [ITEM]
    settings, store = catalogue
    parameters = store.get_item("theia-landcover", ITEM)["properties"]["terrapole:parameters"]
    assert parameters["training_sha256"] == hashlib.sha256(edited.read_bytes()).hexdigest()


def _one_class(document: dict) -> None:  # type: ignore[type-arg]
    for feature in document["features"]:
        feature["properties"]["class"] = 1


def _far_away(document: dict) -> None:  # type: ignore[type-arg]
    for feature in document["features"]:
        for ring in feature["geometry"]["coordinates"]:
            for point in ring:
                point[1] -= 20.0


def _bow_tie(document: dict) -> None:  # type: ignore[type-arg]
    document["features"][3]["geometry"]["coordinates"] = [
        [[5, 49], [6, 50], [6, 49], [5, 50], [5, 49]]
    ]


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (_one_class, "at least two classes"),
        (_far_away, "outside the data"),
        (_bow_tie, "feature 3"),
        (lambda d: d["features"][0]["properties"].update({"class": "forest"}), "'class' must be"),
        (lambda d: d.update({"type": "Feature"}), "must be a GeoJSON FeatureCollection"),
    ],
)  # fmt: skip
def test_bad_training_fails_with_a_reason_and_nothing_catalogued(
    client: Client, tmp_path: Path, edit: object, reason: str
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    store = ingest_demo(settings, ("theia-2018",))
    report = _run((settings, store), client, _training(tmp_path, edit))
    assert [name for name, _ in report.failed] == [ITEM]
    assert reason in report.failed[0][1]
    with pytest.raises(NotFound):
        store.get_item("theia-landcover", ITEM)
    assert not (settings.assets_dir / "theia-landcover").exists()
    store.close()
