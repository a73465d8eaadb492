"""WMS 1.3.0 checked with OWSLib's WebMapService, the client library QGIS-like tools use."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import requests
from owslib.wms import WebMapService
from PIL import Image
from pyproj import Transformer

from ..ingest.conftest import COLLECTION

LAYER = f"{COLLECTION}:truecolor"
TO_3857 = Transformer.from_crs("OGC:CRS84", "EPSG:3857", always_xy=True)
# the real THEIA crop: lon 5.3447-5.3560, lat 49.2750-49.2824
CROP_3857 = (*TO_3857.transform(5.3447, 49.2750), *TO_3857.transform(5.3560, 49.2824))


@pytest.fixture(scope="module")
def wms(maps_url: str) -> WebMapService:
    return WebMapService(f"{maps_url}/wms", version="1.3.0")


def test_capabilities_list_collection_presets_with_dates_and_crs(wms: WebMapService) -> None:
    assert {LAYER, f"{COLLECTION}:ndvi", "dem:elevation", "dem:hillshade"} <= set(wms.contents)
    layer = wms[LAYER]
    assert {"EPSG:3857", "EPSG:4326", "EPSG:2154"} <= set(layer.crsOptions)
    assert layer.timepositions == [
        "2015-12-30", "2018-07-07", "2018-08-26", "2018-09-05", "2019-06-17", "2019-09-15",
    ]  # fmt: skip
    assert layer.defaulttimeposition == "2015-12-30/2019-09-15"  # no TIME: every date
    assert "GetMap" in [op.name for op in wms.operations]
    assert "naip:truecolor" not in wms.contents  # metadata-only collections have no layers


def test_getmap_returns_an_image_of_the_asked_size_with_real_data(wms: WebMapService) -> None:
    response = wms.getmap(
        layers=[LAYER], styles=[""], srs="EPSG:3857", bbox=CROP_3857, size=(300, 200),
        format="image/png", transparent=True, time="2018-08-26",
    )  # fmt: skip
    image = Image.open(io.BytesIO(response.read()))
    assert image.size == (300, 200) and image.mode == "RGBA"
    pixels = np.asarray(image)
    assert pixels[..., 3].mean() > 200  # the crop covers the window: mostly opaque
    assert pixels[..., :3].std() > 5  # and it is a picture, not a flat fill


def test_getmap_in_lambert93_and_jpeg(wms: WebMapService) -> None:
    to_2154 = Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True)
    x0, y0 = to_2154.transform(5.3447, 49.2750)
    x1, y1 = to_2154.transform(5.3560, 49.2824)
    response = wms.getmap(
        layers=[f"{COLLECTION}:ndvi"], styles=[""], srs="EPSG:2154", bbox=(x0, y0, x1, y1),
        size=(128, 128), format="image/jpeg",
    )  # fmt: skip
    image = Image.open(io.BytesIO(response.read()))
    assert image.format == "JPEG" and image.size == (128, 128)


def test_getfeatureinfo_gives_pixel_values(maps_url: str) -> None:
    params = {
        "SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetFeatureInfo", "LAYERS": LAYER,
        "QUERY_LAYERS": LAYER, "CRS": "EPSG:3857", "BBOX": ",".join(map(str, CROP_3857)),
        "WIDTH": 100, "HEIGHT": 100, "I": 50, "J": 50, "INFO_FORMAT": "application/json",
        "TIME": "2018-08-26",
    }  # fmt: skip
    body = requests.get(f"{maps_url}/wms", params=params, timeout=30).json()
    assert [f["item"] for f in body["features"]] == [
        "SENTINEL2A_20180826-104155-257_L2A_T31UFQ_D_V1-8"
    ]
    assert all(v > 0 for v in body["features"][0]["values"].values())


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"REQUEST": "GetMap", "LAYERS": "nope:truecolor"}, "LayerNotDefined"),
        ({"REQUEST": "GetMap", "LAYERS": f"{COLLECTION}:sepia"}, "StyleNotDefined"),
        ({"REQUEST": "GetMap", "CRS": "EPSG:27700"}, "InvalidCRS"),  # UTM zones are served
        ({"REQUEST": "GetMap", "WIDTH": "100000"}, "InvalidParameterValue"),
        ({"REQUEST": "GetMap", "FORMAT": "image/gif"}, "InvalidFormat"),
        ({"REQUEST": "GetMap", "TIME": "yesterday"}, "InvalidDimensionValue"),
        ({"REQUEST": "GetMap", "BBOX": "1,2,3"}, "InvalidParameterValue"),
        ({"REQUEST": "Frobnicate"}, "OperationNotSupported"),
    ],
)
def test_bad_requests_are_service_exception_reports(
    maps_url: str, params: dict[str, str], code: str
) -> None:
    base = {
        "SERVICE": "WMS", "VERSION": "1.3.0", "LAYERS": LAYER, "STYLES": "", "CRS": "EPSG:3857",
        "BBOX": ",".join(map(str, CROP_3857)), "WIDTH": "64", "HEIGHT": "64",
        "FORMAT": "image/png",
    }  # fmt: skip
    response = requests.get(f"{maps_url}/wms", params={**base, **params}, timeout=30)
    assert response.status_code == 400
    root = ET.fromstring(response.content)
    exception = root.find("{http://www.opengis.net/ogc}ServiceException")
    assert exception is not None and exception.get("code") == code


def test_a_bad_token_is_refused_once_the_request_is_well_formed(maps_url: str) -> None:
    bad = {"Authorization": "Bearer not-a-token"}
    malformed = {"SERVICE": "WMS", "REQUEST": "GetMap", "LAYERS": LAYER}
    refused = requests.get(f"{maps_url}/wms", params=malformed, headers=bad, timeout=30)
    capabilities = {"SERVICE": "WMS", "REQUEST": "GetCapabilities"}
    denied = requests.get(f"{maps_url}/wms", params=capabilities, headers=bad, timeout=30)
    assert refused.status_code == 400  # the parameters are checked first, as before the token
    exception = ET.fromstring(refused.content).find("{http://www.opengis.net/ogc}ServiceException")
    assert exception is not None and exception.get("code") == "MissingParameterValue"
    assert denied.status_code == 401
