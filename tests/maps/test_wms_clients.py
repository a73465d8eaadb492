"""WMS GetMap as QGIS, OWSLib and GDAL's WMS driver use it, over the demo's real products.

Every layer answers exactly WIDTH x HEIGHT in each CRS (GDAL's WMS driver refuses a block of
another size), class rasters are drawn in their palette, and TIME selects days as advertised.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
import rasterio
import requests
from owslib.wms import WebMapService
from PIL import Image
from pyproj import Transformer
from rasterio.windows import Window

from ..ingest.conftest import COLLECTION

# lon/lat windows over real data: the THEIA crop (and the BD Forêt mask on its grid), and part
# of the Copernicus DEM tile N45 E005
WINDOWS = {
    COLLECTION: (5.3447, 49.2750, 5.3560, 49.2824),
    "landcover": (5.3447, 49.2750, 5.3560, 49.2824),
    "dem": (5.20, 45.20, 5.60, 45.50),
}
CRSS = ("EPSG:4326", "EPSG:3857", "EPSG:32631", "CRS:84")
SIZES = ((512, 400), (257, 129), (1, 1))


def _bbox(collection: str, crs: str) -> str:
    """The collection's window in ``crs``, axis order as WMS 1.3.0 wants (lat first in 4326)."""
    west, south, east, north = WINDOWS[collection]
    if crs == "CRS:84":
        return f"{west},{south},{east},{north}"
    if crs == "EPSG:4326":
        return f"{south},{west},{north},{east}"
    to_crs = Transformer.from_crs("OGC:CRS84", crs, always_xy=True)
    return ",".join(map(str, to_crs.transform_bounds(west, south, east, north)))


def _getmap(url: str, layer: str, crs: str, size: tuple[int, int], **extra: str) -> Any:
    params = {
        "SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap", "LAYERS": layer,
        "STYLES": "", "CRS": crs, "BBOX": _bbox(layer.rsplit(":", 1)[0], crs),
        "WIDTH": str(size[0]), "HEIGHT": str(size[1]), "FORMAT": "image/png", **extra,
    }  # fmt: skip
    return requests.get(f"{url}/wms", params=params, timeout=60)


@pytest.fixture(scope="module")
def wms(maps_url: str) -> WebMapService:
    return WebMapService(f"{maps_url}/wms", version="1.3.0")


@pytest.fixture(scope="module")
def layers(wms: WebMapService) -> list[str]:
    names = sorted(name for name in wms.contents if name.rsplit(":", 1)[0] in WINDOWS)
    assert {"dem:hillshade", "dem:elevation", "landcover:classes", f"{COLLECTION}:ndvi"} <= set(
        names
    )
    return names


@pytest.mark.parametrize("crs", CRSS)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_getmap_answers_exactly_width_by_height_for_every_layer(
    maps_url: str, layers: list[str], crs: str, size: tuple[int, int]
) -> None:
    wrong = {}
    for layer in layers:
        response = _getmap(maps_url, layer, crs, size)
        assert response.status_code == 200, (layer, response.text[:300])
        image = Image.open(io.BytesIO(response.content))
        if image.size != size:
            wrong[layer] = image.size
    assert wrong == {}


def test_hillshade_draws_relief_at_1024_squared(maps_url: str) -> None:
    response = _getmap(maps_url, "dem:hillshade", "EPSG:3857", (1024, 1024))
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (1024, 1024)
    pixels = np.asarray(image.convert("L"), dtype=float)
    assert pixels.std() > 5  # shaded relief, not a flat fill


def test_utm_zones_are_advertised_on_the_root_layer(wms: WebMapService) -> None:
    assert {"EPSG:32631", "EPSG:32740"} <= set(wms["dem:hillshade"].crsOptions)


def _palette(maps_app: Any) -> dict[int, tuple[int, int, int]]:
    """The classes and colours the landcover item declares (classification:classes)."""
    store = maps_app.state.services.store
    from terrapole.catalog.model import SearchQuery

    item = store.search(SearchQuery(collections=("landcover",), limit=1)).items[0]
    classes = next(
        a["classification:classes"]
        for a in item["assets"].values()
        if a.get("classification:classes")
    )
    return {
        int(c["value"]): tuple(int(c["color_hint"][i : i + 2], 16) for i in (0, 2, 4))
        for c in classes
    }


def test_class_layers_are_drawn_in_their_palette(wms: WebMapService, maps_app: Any) -> None:
    palette = _palette(maps_app)
    west, south, east, north = WINDOWS["landcover"]
    response = wms.getmap(
        layers=["landcover:classes"], styles=[""], srs="CRS:84", bbox=(west, south, east, north),
        size=(160, 160), format="image/png", transparent=True,
    )  # fmt: skip
    image = np.asarray(Image.open(io.BytesIO(response.read())).convert("RGBA"))
    opaque = image[image[..., 3] == 255][:, :3]
    colours = {tuple(int(v) for v in rgb) for rgb in np.unique(opaque, axis=0)}
    assert len(opaque) > 0.9 * 160 * 160  # the mask covers the window
    assert colours == set(palette.values())  # every class, in its colour, and nothing else
    # the raster's own values, read through rasterio, give the same picture
    with rasterio.open("demo/products/landcover/BDForet_ZoneTest.tif") as src:
        values, counts = np.unique(src.read(1), return_counts=True)
    share = dict(zip(values.tolist(), (counts / counts.sum()).tolist(), strict=True))
    forest = palette[1]
    drawn_forest = np.all(opaque == forest, axis=1).mean()
    assert abs(drawn_forest - share[1]) < 0.05


def test_gdal_wms_driver_reads_a_window_of_every_kind_of_layer(
    maps_url: str, tmp_path: Any
) -> None:
    to_3857 = Transformer.from_crs("OGC:CRS84", "EPSG:3857", always_xy=True)
    for layer, bands in (("dem:hillshade", 1), ("landcover:classes", 3), (f"{COLLECTION}:ndvi", 3)):
        minx, miny, maxx, maxy = to_3857.transform_bounds(*WINDOWS[layer.rsplit(":", 1)[0]])
        description = tmp_path / f"{layer.replace(':', '-')}.xml"
        description.write_text(
            '<GDAL_WMS><Service name="WMS"><Version>1.3.0</Version>'
            f"<ServerUrl>{maps_url}/wms?</ServerUrl><CRS>EPSG:3857</CRS>"
            f"<ImageFormat>image/png</ImageFormat><Layers>{layer}</Layers><Styles></Styles>"
            "</Service><DataWindow>"
            f"<UpperLeftX>{minx}</UpperLeftX><UpperLeftY>{maxy}</UpperLeftY>"
            f"<LowerRightX>{maxx}</LowerRightX><LowerRightY>{miny}</LowerRightY>"
            "<SizeX>1024</SizeX><SizeY>800</SizeY></DataWindow>"
            f"<BandsCount>{bands}</BandsCount>"
            "<BlockSizeX>512</BlockSizeX><BlockSizeY>400</BlockSizeY></GDAL_WMS>"
        )
        with rasterio.open(description) as src:
            assert (src.width, src.height, src.count) == (1024, 800, bands)
            data = src.read(window=Window(100, 50, 700, 600))  # four blocks, two rows of them
        assert data.shape == (bands, 600, 700), layer
        assert data.std() > 0, layer  # real pixels came back


def test_gdal_reads_a_wms_connection_string(maps_url: str) -> None:
    minx, miny, maxx, maxy = WINDOWS["dem"]
    url = (
        f"WMS:{maps_url}/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=dem:hillshade"
        f"&CRS=CRS:84&BBOX={minx},{miny},{maxx},{maxy}&FORMAT=image/png"
    )
    with rasterio.open(url) as src:  # the whole extent: GDAL asks for one of its overviews
        data = src.read(1, out_shape=(200, 300))
    assert data.shape == (200, 300) and data.std() > 5


def _picture(response: Any) -> np.ndarray:
    assert response.status_code == 200, response.text[:300]
    return np.asarray(Image.open(io.BytesIO(response.content)).convert("RGBA"))


@pytest.mark.parametrize(
    ("time", "same_as"),
    [
        ("2018-08-26T00:00:00Z", "2018-08-26"),  # QGIS's instant: the day it falls on
        ("2018-08-26T10:41:55", "2018-08-26"),  # no zone: UTC
        ("2018-08-01/2018-08-31", "2018-08-26"),  # the one August scene
        ("2018-08-01T00:00:00Z/2018-08-31T00:00:00Z/P1D", "2018-08-26"),
        ("current", "2019-09-15"),  # the latest day
        ("CURRENT", "2019-09-15"),
    ],
)
def test_getmap_honours_time(maps_url: str, time: str, same_as: str) -> None:
    layer = f"{COLLECTION}:truecolor"
    asked = _picture(_getmap(maps_url, layer, "EPSG:3857", (96, 64), TIME=time))
    expected = _picture(_getmap(maps_url, layer, "EPSG:3857", (96, 64), TIME=same_as))
    assert np.array_equal(asked, expected)
    assert asked[..., 3].mean() > 200  # and that day covers the window


def test_time_days_draw_different_scenes_and_a_day_without_one_is_empty(maps_url: str) -> None:
    layer = f"{COLLECTION}:truecolor"
    summer = _picture(_getmap(maps_url, layer, "EPSG:3857", (96, 64), TIME="2018-08-26",
                              TRANSPARENT="TRUE"))  # fmt: skip
    winter = _picture(_getmap(maps_url, layer, "EPSG:3857", (96, 64), TIME="2015-12-30",
                              TRANSPARENT="TRUE"))  # fmt: skip
    both = _picture(_getmap(maps_url, layer, "EPSG:3857", (96, 64), TIME="2015-12-30,2018-08-26",
                            TRANSPARENT="TRUE"))  # fmt: skip
    none = _picture(_getmap(maps_url, layer, "EPSG:3857", (96, 64), TIME="2018-08-27",
                            TRANSPARENT="TRUE"))  # fmt: skip
    assert not np.array_equal(summer, winter)
    assert np.abs(summer[..., :3].astype(int) - winter[..., :3]).mean() > 5
    assert both[..., 3].mean() > 200 and none[..., 3].max() == 0


@pytest.mark.parametrize(
    "time", ["yesterday", "2018-09-01/2018-08-01", "2018-08-01/", "2018-08-01/2018-08-31/P1D/x"]
)
def test_a_bad_time_is_an_invalid_dimension_value(maps_url: str, time: str) -> None:
    response = _getmap(maps_url, f"{COLLECTION}:truecolor", "EPSG:3857", (8, 8), TIME=time)
    assert response.status_code == 400
    assert 'code="InvalidDimensionValue"' in response.text


def test_time_dimension_is_on_each_layer_as_qgis_reads_it(maps_url: str) -> None:
    """QGIS (qgswmscapabilities.cpp parseLayer/parseDimension) reads <Dimension name="time">
    on the named layer itself, its text as the extent; the dialog then adds type=wmst."""
    import xml.etree.ElementTree as ET

    wms_ns = "{http://www.opengis.net/wms}"
    caps = requests.get(f"{maps_url}/wms", params={"REQUEST": "GetCapabilities"}, timeout=30)
    root = ET.fromstring(caps.content)
    named = [
        layer for layer in root.iter(f"{wms_ns}Layer") if layer.find(f"{wms_ns}Name") is not None
    ]
    assert named
    for layer in named:
        dimension = layer.find(f"{wms_ns}Dimension")
        assert dimension is not None, layer.find(f"{wms_ns}Name")
        assert dimension.get("name") == "time" and dimension.get("units") == "ISO8601"
        assert dimension.get("current") == "1" and dimension.get("multipleValues") == "1"
        days = (dimension.text or "").split(",")
        assert days == sorted(days) and all(len(d) == 10 for d in days)
        default = dimension.get("default") or ""
        assert default in days or default == f"{days[0]}/{days[-1]}"


def test_a_time_selects_the_items_whose_range_holds_it() -> None:
    from terrapole.maps.wmstime import parse_time

    ranged = {"properties": {"datetime": None, "start_datetime": "2007-01-01T00:00:00Z",
                             "end_datetime": "2018-12-31T23:59:59Z"}}  # fmt: skip
    dated = {"properties": {"datetime": "2018-08-26T10:41:55Z"}}
    assert parse_time("2012-05-01", None).holds(ranged)
    assert not parse_time("2019-01-01", None).holds(ranged)
    assert parse_time("2018-08-26T00:00:00Z", None).holds(dated)
    assert not parse_time("2018-08-25,2018-08-27", None).holds(dated)
    assert parse_time("current", "2018-08-26T10:41:55Z").holds(dated)
