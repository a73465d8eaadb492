"""Legends of presets: ramps sampled from the colormap the tiles use, palettes from the asset."""

from __future__ import annotations

from typing import Any

from rio_tiler.colormap import cmap

from terrapole.maps.legends import legend, ramp_colors
from terrapole.maps.presets import PRESETS, available

from ..ingest.conftest import CLEAR, COLLECTION


def test_ndvi_ramp_runs_from_the_colormaps_first_to_last_colour_over_the_preset_range(
    maps_app: Any,
) -> None:
    item = maps_app.state.services.store.get_item(COLLECTION, CLEAR.name)
    found = legend(PRESETS["ndvi"], item)
    assert found is not None and found.kind == "ramp"
    table = cmap.get("rdylgn")
    assert found.colors[0] == "#{:02x}{:02x}{:02x}".format(*(int(v) for v in table[0][:3]))
    assert found.colors[-1] == "#{:02x}{:02x}{:02x}".format(*(int(v) for v in table[255][:3]))
    assert (found.low, found.high) == (-0.2, 0.9)
    assert legend(PRESETS["truecolor"], item) is None  # bands as they are: nothing to explain


def test_elevation_ramp_spans_the_rasters_statistics(maps_app: Any) -> None:
    store = maps_app.state.services.store
    item = store.get_item("dem", "Copernicus_DSM_10_N45_00_E005_00_DEM")
    stats = next(a for a in item["assets"].values() if "raster:bands" in a)["raster:bands"][0]
    found = legend(PRESETS["elevation"], item)
    assert found is not None and found.unit == "m"
    assert found.low == stats["statistics"]["minimum"]
    assert found.high == stats["statistics"]["maximum"]


def test_class_palette_lists_the_assets_classes(maps_app: Any) -> None:
    store = maps_app.state.services.store
    item = store.get_item("landcover", "BDForet_ZoneTest")
    assert PRESETS["classes"] in available(item)
    found = legend(PRESETS["classes"], item)
    asset = next(a for a in item["assets"].values() if a.get("classification:classes"))
    assert found is not None and found.kind == "classes"
    assert [(c.value, c.color) for c in found.classes] == [
        (c["value"], f"#{c['color_hint']}") for c in asset["classification:classes"]
    ]


def test_ramp_colors_are_css_hex() -> None:
    colors = ramp_colors("blues_r", 5)
    assert len(colors) == 5 and all(len(c) == 7 and c.startswith("#") for c in colors)
