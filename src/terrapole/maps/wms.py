"""WMS 1.3.0 at /wms, as QGIS uses it: layers are collection x preset, with a TIME dimension.

GetCapabilities lists, for every collection the caller may see, one layer per preset its items
support, the days available as a TIME dimension on each layer (QGIS reads it there, not from a
parent), and CRS EPSG:3857, EPSG:4326, EPSG:2154, CRS:84 and the WGS 84 UTM zones. GetMap draws
the least-cloudy mosaic of the items matching the layer, BBOX and TIME (see
``terrapole.maps.wmstime``), exactly WIDTH x HEIGHT pixels, class rasters in their palette;
GetFeatureInfo answers the pixel values under a point. Errors are ServiceExceptionReport XML
documents (status 400).

Plain functions of the request's parameters, the store, the storage and the caller's hidden
collections; the ``/wms`` route that calls ``answer`` is in ``terrapole.web.wms``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from xml.sax.saxutils import escape

from pyproj import Transformer
from rasterio.crs import CRS

from terrapole.catalog.model import CollectionQuery, SearchQuery, SortKey
from terrapole.catalog.store import Store
from terrapole.errors import InvalidInput, NotFound, OutsideBounds, SourceUnavailable
from terrapole.jsontypes import Json
from terrapole.maps.mosaic import Window, blank, compose, find_items, render
from terrapole.maps.params import MAX_SIZE
from terrapole.maps.presets import PRESETS, available, resolve
from terrapole.maps.wmstime import InvalidTime, TimeSelection, advertised, parse_time
from terrapole.storage import Storage

CRS_LIST = ("EPSG:3857", "EPSG:4326", "EPSG:2154", "CRS:84")
UTM_LIST = tuple(f"EPSG:{326 + south}{zone:02d}" for south in (0, 1) for zone in range(1, 61))
"""WGS 84 / UTM zones north (EPSG:32601-32660) and south (EPSG:32701-32760), listed once on the
root layer (WMS 1.3.0 layers inherit their parent's CRS)."""
FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}
XML = "application/vnd.ogc.se_xml"

Hidden = Callable[[], frozenset[str]]
"""The collections the caller may not see, asked only once the parameters before it are valid
(a malformed request is a ServiceException whoever asks, as WMS clients expect)."""


@dataclass(frozen=True)
class Answer:
    """What a WMS request answers: a document (JSON for GetFeatureInfo's default), its type."""

    content: str | bytes | Json
    media_type: str
    status: int = 200


class WmsError(Exception):
    """A WMS ServiceException: ``code`` is one of the standard exception codes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def exception_document(code: str, message: str) -> str:
    """The WMS 1.3.0 ServiceExceptionReport document."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ServiceExceptionReport version="1.3.0" xmlns="http://www.opengis.net/ogc">'
        f'<ServiceException code="{code}">{escape(message)}</ServiceException>'
        "</ServiceExceptionReport>"
    )


def _param(params: dict[str, str], name: str, default: str | None = None) -> str:
    value = params.get(name.lower(), default)
    if value is None:
        raise WmsError("MissingParameterValue", f"{name} is required")
    return value


def _crs(name: str) -> CRS:
    if name.upper() not in CRS_LIST + UTM_LIST:
        raise WmsError(
            "InvalidCRS", f"CRS {name} is not one of {', '.join(CRS_LIST)} or a WGS 84 UTM zone"
        )
    return CRS.from_user_input("OGC:CRS84" if name.upper() == "CRS:84" else name)


def _bbox(value: str, crs_name: str) -> tuple[float, float, float, float]:
    try:
        a, b, c, d = (float(v) for v in value.split(","))
    except ValueError as exc:
        raise WmsError("InvalidParameterValue", f"BBOX {value!r} is not 4 numbers") from exc
    if not all(math.isfinite(v) for v in (a, b, c, d)):
        raise WmsError("InvalidParameterValue", f"BBOX {value!r} is not 4 finite numbers")
    if crs_name.upper() == "EPSG:4326":  # WMS 1.3.0: latitude first for EPSG:4326
        a, b, c, d = b, a, d, c
    if a >= c or b >= d:
        raise WmsError("InvalidParameterValue", "BBOX min must be below max")
    return a, b, c, d


def _layer_query(
    store: Store, hidden_for: Hidden, layer: str, time: str | None
) -> tuple[SearchQuery, str, TimeSelection | None]:
    if ":" not in layer:
        raise WmsError("LayerNotDefined", f"layer {layer!r} is not COLLECTION:PRESET")
    collection, preset = layer.rsplit(":", 1)
    hidden = hidden_for()
    try:
        store.get_collection(collection, hidden=hidden)
    except NotFound as exc:  # other failures (a store unavailable) are the app's to answer
        raise WmsError("LayerNotDefined", f"layer {layer!r}: no such collection") from exc
    if preset not in PRESETS:
        raise WmsError("StyleNotDefined", f"layer {layer!r}: unknown preset {preset!r}")
    query = SearchQuery(collections=(collection,), hidden_collections=hidden)
    if not time:
        return query, preset, None  # the default: every date, least cloudy on top
    try:
        selection = parse_time(time, _latest(store, query))
    except InvalidTime as exc:
        raise WmsError("InvalidDimensionValue", str(exc)) from exc
    return replace(query, datetime=selection.enclosing()), preset, selection


def _latest(store: Store, query: SearchQuery) -> str | None:
    """The datetime of the layer's latest item (what TIME=current stands for)."""
    newest = replace(query, sortby=(SortKey("datetime", "desc"),), limit=1)
    items = store.search(newest).items
    when = items[0]["properties"].get("datetime") if items else None
    return str(when) if when else None


def _layer_xml(doc: Json, name: str, title: str, dates: list[str]) -> str:
    minx, miny, maxx, maxy = doc["extent"]["spatial"]["bbox"][0][:4]
    time = ""
    if dates:  # on every named layer: QGIS does not inherit a Dimension from the parent layer
        extent, default = advertised(dates)
        time = (
            f'<Dimension name="time" units="ISO8601" default="{default}" multipleValues="1" '
            f'nearestValue="0" current="1">{extent}</Dimension>'
        )
    return (
        f'<Layer queryable="1"><Name>{escape(name)}</Name>'
        f"<Title>{escape(str(doc.get('title') or doc['id']))} - {escape(title)}</Title>"
        f"<Abstract>{escape(str(doc.get('description', '')))}</Abstract>"
        + "".join(f"<CRS>{c}</CRS>" for c in CRS_LIST)
        + "<EX_GeographicBoundingBox>"
        f"<westBoundLongitude>{minx}</westBoundLongitude>"
        f"<eastBoundLongitude>{maxx}</eastBoundLongitude>"
        f"<southBoundLatitude>{miny}</southBoundLatitude>"
        f"<northBoundLatitude>{maxy}</northBoundLatitude></EX_GeographicBoundingBox>"
        f'<BoundingBox CRS="CRS:84" minx="{minx}" miny="{miny}" maxx="{maxx}" maxy="{maxy}"/>'
        f'<BoundingBox CRS="EPSG:4326" minx="{miny}" miny="{minx}" '
        f'maxx="{maxy}" maxy="{maxx}"/>{time}</Layer>'
    )


def capabilities(store: Store, hidden: frozenset[str], url: str) -> str:
    """The GetCapabilities document of the layers visible to the caller, served at ``url``."""
    docs, _ = store.list_collections(CollectionQuery(limit=1000, hidden_collections=hidden))
    layers = []
    for doc in docs:
        items = store.search(
            SearchQuery(collections=(doc["id"],), limit=1000, hidden_collections=hidden)
        ).items
        if not items or not any(a.get("href", "").startswith("/assets/")
                                for a in items[0].get("assets", {}).values()):  # fmt: skip
            continue  # metadata-only collections have nothing to draw
        dates = sorted(
            {i["properties"]["datetime"][:10] for i in items if i["properties"].get("datetime")}
        )
        for preset in available(items[0]):
            layers.append(_layer_xml(doc, f"{doc['id']}:{preset.name}", preset.title, dates))
    op = (
        '<DCPType><HTTP><Get><OnlineResource xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'xlink:type="simple" xlink:href="{escape(url)}?"/></Get></HTTP></DCPType>'
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<WMS_Capabilities version="1.3.0" xmlns="http://www.opengis.net/wms" '
        'xmlns:xlink="http://www.w3.org/1999/xlink">'
        "<Service><Name>WMS</Name><Title>terrapole</Title>"
        "<Abstract>Catalogued Earth-observation products, one layer per collection and preset"
        f'</Abstract><OnlineResource xlink:type="simple" xlink:href="{escape(url)}"/>'
        f"<MaxWidth>{MAX_SIZE}</MaxWidth><MaxHeight>{MAX_SIZE}</MaxHeight></Service>"
        "<Capability><Request>"
        f"<GetCapabilities><Format>text/xml</Format>{op}</GetCapabilities>"
        f"<GetMap><Format>image/png</Format><Format>image/jpeg</Format>{op}</GetMap>"
        f"<GetFeatureInfo><Format>application/json</Format><Format>text/plain</Format>{op}"
        "</GetFeatureInfo></Request><Exception><Format>XML</Format></Exception>"
        "<Layer><Title>terrapole</Title>"
        + "".join(f"<CRS>{c}</CRS>" for c in CRS_LIST + UTM_LIST)
        + "".join(layers)
        + "</Layer></Capability></WMS_Capabilities>"
    )


def _window(params: dict[str, str]) -> tuple[Window, str]:
    crs_name = _param(params, "CRS", params.get("srs"))
    crs = _crs(crs_name)
    bounds = _bbox(_param(params, "BBOX"), crs_name)
    try:
        width, height = int(_param(params, "WIDTH")), int(_param(params, "HEIGHT"))
    except ValueError as exc:
        raise WmsError("InvalidParameterValue", "WIDTH and HEIGHT must be integers") from exc
    if not (0 < width <= MAX_SIZE and 0 < height <= MAX_SIZE):
        raise WmsError("InvalidParameterValue", f"WIDTH and HEIGHT must be 1..{MAX_SIZE}")
    return Window(bounds, crs, width, height), crs_name


def get_map(store: Store, storage: Storage, params: dict[str, str], hidden_for: Hidden) -> Answer:
    """GetMap: the layer's mosaic over BBOX at TIME (``params``: lower-case names)."""
    window, _ = _window(params)
    fmt_name = _param(params, "FORMAT", "image/png").lower()
    if fmt_name not in FORMATS:
        raise WmsError("InvalidFormat", f"FORMAT {fmt_name} is not image/png or image/jpeg")
    fmt = FORMATS[fmt_name]
    transparent = params.get("transparent", "false").lower() == "true"
    layers = [name for name in _param(params, "LAYERS").split(",") if name]
    if len(layers) != 1:
        raise WmsError("LayerNotDefined", "ask for exactly one layer per GetMap")
    query, preset, when = _layer_query(store, hidden_for, layers[0], params.get("time"))
    style = params.get("styles", "")
    if style not in ("", "default", preset):  # the layer name holds the rendering
        raise WmsError("StyleNotDefined", f"STYLES {style!r}: layer {layers[0]!r} has one style")
    items = find_items(store, _in_window(query, window))
    if when is not None:  # a list of days searched as one interval: keep the days asked
        items = [item for item in items if when.holds(item)]
    image = compose(items, preset, window, storage)
    if image is None:
        return Answer(blank(window, fmt, transparent), fmt_name)
    return Answer(render(image, resolve(preset, items[0]), fmt, transparent), fmt_name)


def _in_window(query: SearchQuery, window: Window) -> SearchQuery:
    to_wgs84 = Transformer.from_crs(window.crs, "OGC:CRS84", always_xy=True)
    minx, miny, maxx, maxy = to_wgs84.transform_bounds(*window.bounds)
    bbox = (max(minx, -180.0), max(miny, -90.0), min(maxx, 180.0), min(maxy, 90.0))
    return replace(query, bbox=bbox)


def feature_info(
    store: Store, storage: Storage, params: dict[str, str], hidden_for: Hidden
) -> Answer:
    """GetFeatureInfo: the values of the layer's items under pixel I, J (JSON or text)."""
    window, _ = _window(params)
    try:
        i, j = int(_param(params, "I")), int(_param(params, "J"))
    except ValueError as exc:
        raise WmsError("InvalidPoint", "I and J must be integers") from exc
    if not (0 <= i < window.width and 0 <= j < window.height):
        raise WmsError("InvalidPoint", "I/J lie outside WIDTH/HEIGHT")
    layer = _param(params, "QUERY_LAYERS", params.get("layers"))
    query, preset, when = _layer_query(store, hidden_for, layer.split(",")[0], params.get("time"))
    minx, miny, maxx, maxy = window.bounds
    x = minx + (i + 0.5) * (maxx - minx) / window.width
    y = maxy - (j + 0.5) * (maxy - miny) / window.height
    lon, lat = Transformer.from_crs(window.crs, "OGC:CRS84", always_xy=True).transform(x, y)
    point = replace(query, intersects={"type": "Point", "coordinates": [lon, lat]})
    features: list[Json] = []
    from terrapole.maps.tiles import ItemReader

    # the search already excluded hidden collections: no second read per item
    found = find_items(store, point)
    for item in [i for i in found if when is None or when.holds(i)][:5]:
        options = resolve(preset, item)
        with ItemReader(storage.localise(item)) as src:  # type: ignore[arg-type]
            try:
                values = src.point(lon, lat, assets=options["assets"])
            except (OutsideBounds, SourceUnavailable):  # no raster there, or none readable
                continue
        features.append(
            {
                "item": item["id"],
                "datetime": item["properties"].get("datetime"),
                "values": dict(
                    zip(options["assets"], [float(v) for v in values.data], strict=False)
                ),
            }
        )
    body: dict[str, Any] = {"type": "FeatureInfo", "lon": lon, "lat": lat, "features": features}
    if params.get("info_format", "application/json") == "text/plain":
        lines = [f"{f['item']} {f['datetime']}: {f['values']}" for f in features]
        return Answer("\n".join(lines) or "no data", "text/plain")
    return Answer(body, "application/json")


def answer(
    store: Store, storage: Storage, params: dict[str, str], *, url: str, hidden: Hidden
) -> Answer:
    """Answer a WMS KVP request (``params``: names lower-cased); errors as exception reports."""
    try:
        if params.get("service", "WMS").upper() != "WMS":
            raise WmsError("InvalidParameterValue", "SERVICE must be WMS")
        kind = _param(params, "REQUEST").lower()
        if kind == "getcapabilities":
            return Answer(capabilities(store, hidden(), url), "text/xml")
        if kind == "getmap":
            return get_map(store, storage, params, hidden)
        if kind == "getfeatureinfo":
            return feature_info(store, storage, params, hidden)
        raise WmsError("OperationNotSupported", f"REQUEST {params['request']} is not supported")
    except WmsError as exc:
        return Answer(exception_document(exc.code, str(exc)), "text/xml", 400)
    except InvalidInput as exc:
        return Answer(exception_document("InvalidParameterValue", str(exc)), "text/xml", 400)
