"""Validation and normalisation of STAC item and collection documents before they are stored."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import orjson
import shapely
from shapely.errors import ShapelyError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from terrapole.catalog.model import Json
from terrapole.catalog.timeutil import normalise
from terrapole.errors import InvalidInput, InvalidItem

_ID_FORBIDDEN = set("/?#\\")
MAX_ID_LENGTH = 256


@dataclass(frozen=True)
class PreparedItem:
    """An item document checked and reduced to the columns a store indexes.

    ``encoded`` is the document as JSON, what stores write; ``doc`` is decoded from it on first
    use. Pickled (to or from a loader worker process), an item travels as bytes only.
    """

    encoded: bytes
    id: str
    collection: str
    start: str | None
    end: str | None
    datetime: str | None
    bbox: tuple[float, float, float, float] | None
    wkb: bytes | None
    platform: str | None
    cloud_cover: float | None
    text: tuple[str, str, str]

    @cached_property
    def doc(self) -> Json:
        """The item document."""
        decoded: Json = orjson.loads(self.encoded)
        return decoded

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the decoded document (it is rebuilt from ``encoded`` when needed)."""
        state = dict(self.__dict__)
        state.pop("doc", None)
        return state


def check_id(value: object, *, what: str) -> str:
    """Return ``value`` if it is a usable STAC id, else raise naming the problem."""
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{what} id", "must be a non-empty string")
    if len(value) > MAX_ID_LENGTH or _ID_FORBIDDEN & set(value) or value != value.strip():
        raise InvalidInput(
            f"{what} id", f"{value[:60]!r} has forbidden characters (/ ? # \\ or edge spaces)"
        )
    return value


def parse_geometry(geojson: object, *, field: str) -> BaseGeometry:
    """Build a valid shapely geometry from GeoJSON with WGS84 coordinates, or raise."""
    if not isinstance(geojson, dict) or "type" not in geojson:
        raise InvalidInput(field, "must be a GeoJSON geometry object")
    try:
        geom = shape(geojson)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, ShapelyError) as exc:
        raise InvalidInput(field, f"not a GeoJSON geometry ({exc})") from exc
    if geom.is_empty:
        raise InvalidInput(field, "geometry is empty")
    minx, miny, maxx, maxy = geom.bounds
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise InvalidInput(field, "coordinates must be finite numbers")
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise InvalidInput(field, "coordinates must be longitude/latitude in EPSG:4326")
    if not geom.is_valid:
        raise InvalidInput(field, f"not a valid geometry ({shapely.is_valid_reason(geom)})")
    return geom


def parse_bbox(values: Any, *, field: str = "bbox") -> tuple[float, float, float, float]:
    """Check a 2D or 3D bbox and return it in 2D; antimeridian-crossing boxes are refused."""
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError) as exc:
        raise InvalidInput(field, "must be a list of numbers") from exc
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(v) for v in numbers):
        raise InvalidInput(field, "must have 4 (or 6) finite numbers: minx,miny,maxx,maxy")
    minx, miny, maxx, maxy = numbers
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InvalidInput(field, "must be longitude/latitude within [-180,180]x[-90,90]")
    if minx > maxx:
        raise InvalidInput(field, "minx > maxx (antimeridian-crossing boxes are not supported)")
    return (minx, miny, maxx, maxy)


def _text_of(doc: Json) -> tuple[str, str, str]:
    props = doc.get("properties") or {}
    keywords = props.get("keywords") or doc.get("keywords") or []
    return (
        str(props.get("title") or doc.get("title") or ""),
        str(props.get("description") or doc.get("description") or ""),
        " ".join(str(k) for k in keywords) if isinstance(keywords, list) else str(keywords),
    )


def _temporal(ident: str, props: Json) -> tuple[str | None, str | None, str | None]:
    try:
        dt = props.get("datetime")
        start = props.get("start_datetime")
        end = props.get("end_datetime")
        dt_n = normalise(dt, field="properties.datetime") if isinstance(dt, str) else None
        start_n = normalise(start, field="start_datetime") if isinstance(start, str) else dt_n
        end_n = normalise(end, field="end_datetime") if isinstance(end, str) else dt_n
    except InvalidInput as exc:
        raise InvalidItem(ident, exc.message) from exc
    if dt is not None and not isinstance(dt, str):
        raise InvalidItem(ident, "properties.datetime must be a string or null")
    if start_n is None or end_n is None:
        raise InvalidItem(
            ident, "properties.datetime is null and start_datetime/end_datetime are not both set"
        )
    if start_n > end_n:
        raise InvalidItem(ident, "start_datetime is after end_datetime")
    return dt_n, start_n, end_n


def prepare_item(doc: object, *, collection: str | None = None) -> PreparedItem:
    """Validate a STAC item (GeoJSON Feature) and extract its indexed columns.

    ``collection`` (from the URL of a transaction) wins over a missing ``collection`` field and
    must agree with a present one.
    """
    if not isinstance(doc, dict):
        raise InvalidInput("item", "must be a JSON object (a GeoJSON Feature)")
    raw_id = doc.get("id")
    ident = check_id(raw_id, what="item")
    if doc.get("type") != "Feature":
        raise InvalidItem(ident, "type must be 'Feature'")
    coll = doc.get("collection") or collection
    if collection is not None and coll != collection:
        raise InvalidItem(ident, f"collection {coll!r} does not match the URL's {collection!r}")
    coll = check_id(coll, what="collection")
    props = doc.get("properties")
    if not isinstance(props, dict):
        raise InvalidItem(ident, "properties must be an object")
    dt, start, end = _temporal(ident, props)
    geometry: BaseGeometry | None = None
    bbox: tuple[float, float, float, float] | None = None
    if doc.get("geometry") is not None:
        try:
            geometry = parse_geometry(doc["geometry"], field="geometry")
        except InvalidInput as exc:
            raise InvalidItem(ident, exc.message) from exc
        bbox = geometry.bounds
    cloud = props.get("eo:cloud_cover")
    if cloud is not None and (
        isinstance(cloud, bool) or not isinstance(cloud, int | float) or not 0 <= cloud <= 100
    ):
        raise InvalidItem(ident, f"properties.eo:cloud_cover must be a number 0-100, not {cloud!r}")
    out = dict(doc)
    out["collection"] = coll
    out.setdefault("stac_version", "1.0.0")
    out.setdefault("links", [])
    out.setdefault("assets", {})
    if bbox is not None and "bbox" not in out:
        out["bbox"] = list(bbox)
    prepared = PreparedItem(
        encoded=orjson.dumps(out),
        id=ident,
        collection=coll,
        start=start,
        end=end,
        datetime=dt,
        bbox=bbox,
        wkb=geometry.wkb if geometry is not None else None,
        platform=props.get("platform") if isinstance(props.get("platform"), str) else None,
        cloud_cover=float(cloud) if isinstance(cloud, int | float) else None,
        text=_text_of(out),
    )
    prepared.__dict__["doc"] = out  # already decoded here: no need to parse it back
    return prepared


def prepare_collection(doc: object) -> Json:
    """Validate a STAC collection document and return a copy with required defaults filled."""
    if not isinstance(doc, dict):
        raise InvalidInput("collection", "must be a JSON object")
    ident = check_id(doc.get("id"), what="collection")
    if doc.get("type", "Collection") != "Collection":
        raise InvalidItem(ident, "type must be 'Collection'")
    if not isinstance(doc.get("description", ""), str):
        raise InvalidItem(ident, "description must be a string")
    extent = doc.get("extent")
    out = dict(doc)
    out["type"] = "Collection"
    out.setdefault("stac_version", "1.0.0")
    out.setdefault("description", out.get("title") or ident)
    out.setdefault("license", "other")
    out.setdefault("links", [])
    if extent is None:
        out["extent"] = {
            "spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]]},
            "temporal": {"interval": [[None, None]]},
        }
    else:
        try:
            for box in extent["spatial"]["bbox"]:
                parse_bbox(box, field="extent.spatial.bbox")
            for interval in extent["temporal"]["interval"]:
                for value in interval:
                    if value is not None:
                        normalise(value, field="extent.temporal.interval")
        except (KeyError, TypeError) as exc:
            raise InvalidItem(ident, "extent must have spatial.bbox and temporal.interval") from exc
        except InvalidInput as exc:
            raise InvalidItem(ident, exc.message) from exc
    return out
