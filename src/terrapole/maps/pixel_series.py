"""The time series of one pixel: a preset's bands (and index) over a collection's items.

``pixel_series`` reads, at a longitude/latitude, the assets a preset draws from every item of
a collection the caller may see whose footprint holds the point, oldest first. A preset with an
expression (NDVI, NDSI, MNDWI) gives its value; a one-band preset the band's value; each date
also carries the bands it was computed from, in physical units (``raster:bands`` scale and
offset applied). A date is cloudy when the item's cloud mask (an asset with the ``cloud``
role) is non-zero at the point, or, without a mask, when its cloud cover is at least
``CLOUDY_COVER`` per cent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rio_tiler.errors import PointOutsideBounds

from terrapole.catalog.model import SearchQuery, SortKey
from terrapole.catalog.store import Store
from terrapole.errors import InvalidInput
from terrapole.jsontypes import Json
from terrapole.maps.presets import available, named, resolve
from terrapole.maps.tiles import AssetReader
from terrapole.storage import Storage

MAX_DATES = 500  # items read for one series (the newest when a collection has more)
CLOUDY_COVER = 50.0  # per cent; the cloudy mark of an item without a cloud mask


@dataclass(frozen=True)
class SeriesPoint:
    """One date of the series: the value (None where the pixel holds no data) and its bands."""

    item: str
    datetime: str
    value: float | None
    bands: dict[str, float | None]
    cloudy: bool
    cloud_cover: float | None


@dataclass(frozen=True)
class PixelSeries:
    """The series of ``preset`` at ``lon``, ``lat`` over ``collection``; ``truncated`` when the
    collection held more than ``MAX_DATES`` items there (the newest are kept)."""

    collection: str
    lon: float
    lat: float
    preset: str
    points: tuple[SeriesPoint, ...] = field(default_factory=tuple)
    truncated: bool = False


def check_point(lon: float, lat: float) -> None:
    """A longitude and latitude in range, or InvalidInput naming them."""
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput("lon,lat", f"{lon:g},{lat:g} is not a longitude,latitude pair")


def _physical(asset: Json, raw: float) -> float:
    band = (asset.get("raster:bands") or [{}])[0]
    return raw * float(band.get("scale", 1.0)) + float(band.get("offset", 0.0))


def _value_at(href: str, lon: float, lat: float) -> float | None:
    """The first band's value of a COG at the point; None for nodata or outside the raster."""
    try:
        with AssetReader(href) as src:
            data = src.point(lon, lat)
    except PointOutsideBounds:
        return None
    array = data.array
    if bool(array.mask.any() if array.mask is not None else False):
        return None
    value = float(array.data[0])
    return value if math.isfinite(value) else None


def _cloudy(item: Json, lon: float, lat: float) -> bool:
    masks = [a for a in item.get("assets", {}).values() if "cloud" in a.get("roles", [])]
    if masks:
        value = _value_at(masks[0]["href"], lon, lat)
        return bool(value)
    cover = item["properties"].get("eo:cloud_cover")
    return cover is not None and float(cover) >= CLOUDY_COVER


def _normalised_difference(first: float | None, second: float | None) -> float | None:
    if first is None or second is None or first + second == 0:
        return None
    return (first - second) / (first + second)


def read_point(item: Json, preset_name: str, lon: float, lat: float) -> SeriesPoint:
    """One item's date of the series (its hrefs already on local files)."""
    preset = named(preset_name)
    keys = [str(k) for k in resolve(preset_name, item)["assets"]]
    bands: dict[str, float | None] = {}
    for key in keys:
        asset = item["assets"][key]
        raw = _value_at(asset["href"], lon, lat)
        bands[key] = None if raw is None else round(_physical(asset, raw), 6)
    if preset.expression:  # every expression preset is a normalised difference of two bands
        value = _normalised_difference(bands[keys[0]], bands[keys[1]])
    else:
        value = bands[keys[0]] if len(keys) == 1 else None
    props = item["properties"]
    cover = props.get("eo:cloud_cover")
    return SeriesPoint(
        item=item["id"],
        datetime=str(props.get("datetime") or props.get("start_datetime")),
        value=value,
        bands=bands,
        cloudy=_cloudy(item, lon, lat),
        cloud_cover=None if cover is None else float(cover),
    )


def pixel_series(
    store: Store,
    storage: Storage,
    collection_id: str,
    lon: float,
    lat: float,
    *,
    preset: str,
    hidden: frozenset[str],
) -> PixelSeries:
    """The series of ``preset`` at a point over the items of a collection the caller may see.

    A hidden or unknown collection is a NotFound (as for tiles); items the preset cannot draw
    (other bands) are left out.

    Example:
        >>> pixel_series(store, storage, "theia-sentinel-2-l2a", 5.35, 49.28,
        ...              preset="ndvi", hidden=frozenset())  # doctest: +SKIP
    """
    check_point(lon, lat)
    named(preset)  # an unknown preset is named before any read
    store.get_collection(collection_id, hidden=hidden)  # NotFound when hidden or missing
    query = SearchQuery(
        collections=(collection_id,),
        intersects={"type": "Point", "coordinates": [lon, lat]},
        sortby=(SortKey("datetime", "desc"),),
        limit=MAX_DATES + 1,
        hidden_collections=hidden,
    )
    items = store.search(query).items
    truncated = len(items) > MAX_DATES
    wanted = named(preset)
    points = [
        read_point(storage.localise(item), preset, lon, lat)
        for item in reversed(items[:MAX_DATES])
        if wanted in available(item)
    ]
    return PixelSeries(collection_id, lon, lat, preset, tuple(points), truncated)
