"""The time series of one pixel: a preset's bands (and index) over a collection's items.

``pixel_series`` reads, at a longitude/latitude, the assets a preset draws from every item of
a collection the caller may see whose footprint holds the point, oldest first. A preset with an
expression (NDVI, NDSI, MNDWI) gives its value; a one-band preset the band's value; each date
also carries the bands it was computed from, in physical units (``raster:bands`` scale and
offset applied). A date is cloudy when the item's cloud mask (an asset with the ``cloud``
role) is non-zero at the point, when its classification (an asset with
``classification:classes``) holds a cloud class there, or, without either, when its cloud cover
is at least ``CLOUDY_COVER`` per cent.

What is not a value: a band's ``raster:bands`` nodata, in a band stored without scale or offset
the code the item's classification names cloud or no data where it holds that code, and a
percentage (a band in ``%``, the fsc and occurrence presets) outside 0..100.

Only presets with a value make a series (``SERIES_PRESETS``; truecolor and falsecolor give
their bands only); hillshade and classes are refused, and so is a preset none of the
collection's items has. Instead of a preset, a series may read one asset by its key (any raster
asset: a band, an index product's layer, a snow or water product): items without it are left
out, and a key none of the items has is refused. A period keeps the items whose date lies in it.
This one reader serves the portal's pixel plot, the ``point-series`` service (OGC API Processes)
and a station's EO series beside its in-situ observations.

One request reads at most ``MAX_DATES`` items, of which at most ``MAX_REMOTE`` with assets
outside the server's storage (http); ``truncated`` says when some were left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from rio_tiler.errors import PointOutsideBounds

from terrapole.catalog.model import SearchQuery, SortKey, TimeRange
from terrapole.catalog.store import ReadStore
from terrapole.errors import InvalidInput
from terrapole.jsontypes import Json
from terrapole.maps.presets import PRESETS, Preset, available, named, resolve
from terrapole.maps.tiles import AssetReader
from terrapole.storage import Storage

MAX_DATES = 500  # items read for one series (the newest when a collection has more)
MAX_REMOTE = 20  # of those, items read over http (the newest); remote reads are slow
CLOUDY_COVER = 50.0  # per cent; the cloudy mark of an item without a cloud mask
PERCENT_PRESETS = frozenset({"fsc", "occurrence"})  # values are percentages (0..100)
BANDS_ONLY = frozenset({"truecolor", "falsecolor"})  # no value: their bands only
SERIES_PRESETS = tuple(
    p.name for p in PRESETS.values() if not p.algorithm and p.bands != (("classes",),)
)
VALUE_PRESETS = tuple(p for p in SERIES_PRESETS if p not in BANDS_ONLY)  # one value per date


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
    """The series of ``preset`` (or of ``asset``) at ``lon``, ``lat`` over ``collection``;
    ``truncated`` when the collection held more than ``MAX_DATES`` items there, or more than
    ``MAX_REMOTE`` with remote assets (the newest are kept)."""

    collection: str
    lon: float
    lat: float
    preset: str | None
    points: tuple[SeriesPoint, ...] = field(default_factory=tuple)
    truncated: bool = False
    asset: str | None = None


DEFAULT_PRESET = "ndvi"
"""What a series reads when neither a preset nor an asset is named."""


def preset_or_default(preset: str | None, asset: str | None) -> str | None:
    """``preset``, or :data:`DEFAULT_PRESET` when neither a preset nor an asset is named."""
    return preset if preset is not None or asset is not None else DEFAULT_PRESET


def check_point(lon: float, lat: float) -> None:
    """A longitude and latitude in range, or InvalidInput naming them."""
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput("lon,lat", f"{lon:g},{lat:g} is not a longitude,latitude pair")


def series_preset(name: str) -> Preset:
    """The preset ``name`` if it makes a series (InvalidInput naming those that do)."""
    preset = named(name)
    if name not in SERIES_PRESETS:
        makes = ", ".join(SERIES_PRESETS)
        raise InvalidInput(
            "preset", f"{name!r} does not make a series; presets that do: {makes} "
            f"({', '.join(sorted(BANDS_ONLY))} give their bands only)"
        )  # fmt: skip
    return preset


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


def _stated_nodata(asset: Json) -> float | None:
    nodata = (asset.get("raster:bands") or [{}])[0].get("nodata")
    try:
        return None if nodata is None else float(nodata)
    except (TypeError, ValueError):  # "nan", "inf": the reader masks those itself
        return None


def _raw_at(asset: Json, lon: float, lat: float) -> float | None:
    """An asset's stored value at the point; None where it holds no data (its file's nodata
    or the nodata its ``raster:bands`` state)."""
    raw = _value_at(asset["href"], lon, lat)
    return None if raw is None or raw == _stated_nodata(asset) else raw


def _class_words(cls: Json) -> str:
    return f"{cls.get('name', '')} {cls.get('description', '')}".lower().replace("_", " ")


def _is_cloud(cls: Json) -> bool:
    words = _class_words(cls).split()
    return any(w.startswith("cloud") for w in words) and not {"no", "not", "clear"} & set(words)


def _is_no_data(cls: Json) -> bool:
    words = _class_words(cls).replace("-", " ")
    return "no data" in words or "nodata" in words.replace(" ", "")


@dataclass(frozen=True)
class _ClassesAt:
    """What the item's classification says at the point: cloud, and the codes that are not
    values there (the code it holds when that is a cloud or no-data class)."""

    cloudy: bool = False
    not_values: frozenset[float] = frozenset()


def _classes_at(item: Json, lon: float, lat: float) -> _ClassesAt | None:
    """The item's classification at the point, or None when it has none with cloud classes."""
    for asset in item.get("assets", {}).values():
        classes = asset.get("classification:classes") or []
        clouds = {float(c["value"]) for c in classes if "value" in c and _is_cloud(c)}
        if not clouds:
            continue
        empty = {float(c["value"]) for c in classes if "value" in c and _is_no_data(c)}
        code = _value_at(asset["href"], lon, lat)
        if code is None or code not in clouds | empty:
            return _ClassesAt()
        return _ClassesAt(cloudy=code in clouds, not_values=frozenset({code}))
    return None


def _cloudy(item: Json, lon: float, lat: float, classes: _ClassesAt | None) -> bool:
    masks = [a for a in item.get("assets", {}).values() if "cloud" in a.get("roles", [])]
    if masks:
        value = _value_at(masks[0]["href"], lon, lat)
        return bool(value)
    if classes is not None:
        return classes.cloudy
    cover = item["properties"].get("eo:cloud_cover")
    return cover is not None and float(cover) >= CLOUDY_COVER


def _normalised_difference(first: float | None, second: float | None) -> float | None:
    if first is None or second is None or first + second == 0:
        return None
    return (first - second) / (first + second)


def _band_value(
    asset: Json, percent: bool, raw: float | None, classes: _ClassesAt | None
) -> float | None:
    if raw is None:
        return None
    band = (asset.get("raster:bands") or [{}])[0]
    coded = "scale" not in band and "offset" not in band  # stored as is, like class codes
    if coded and classes is not None and raw in classes.not_values:
        return None  # e.g. FSC_TOC holding the snow classification's cloud code (205)
    value = round(_physical(asset, raw), 6)
    if (band.get("unit") == "%" or percent) and not 0 <= value <= 100:
        return None  # a code (cloud, no data) stored beside percentages
    return value


def read_point(
    item: Json, preset_name: str | None, lon: float, lat: float, *, asset: str | None = None
) -> SeriesPoint:
    """One item's date of the series (its hrefs already on local files): the preset's value,
    or the value of the asset keyed ``asset`` when one is named."""
    preset = None if asset is not None else named(str(preset_name))
    keys = (
        [str(asset)] if preset is None else [str(k) for k in resolve(preset.name, item)["assets"]]
    )
    percent = preset is not None and preset.name in PERCENT_PRESETS
    classes = _classes_at(item, lon, lat)
    bands: dict[str, float | None] = {}
    for key in keys:
        read = item["assets"][key]
        bands[key] = _band_value(read, percent, _raw_at(read, lon, lat), classes)
    if preset is not None and preset.expression:  # each one a normalised difference
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
        cloudy=_cloudy(item, lon, lat, classes),
        cloud_cover=None if cover is None else float(cover),
    )


@dataclass(frozen=True)
class _Reading:
    """What a series reads from each item: a preset, or one asset by key."""

    preset: Preset | None
    asset: str | None

    def fits(self, item: Json) -> bool:
        """Whether the item has what is read."""
        if self.preset is None:
            return _is_raster(item.get("assets", {}).get(self.asset))
        return self.preset in available(item)

    def keys(self, item: Json) -> list[str]:
        """The keys of the item's assets read."""
        if self.preset is None:
            return [str(self.asset)]
        return [str(k) for k in resolve(self.preset.name, item)["assets"]]


def _is_raster(asset: Json | None) -> bool:
    return asset is not None and (
        "raster:bands" in asset or "image/tiff" in str(asset.get("type", ""))
    )


def _reading(preset: str | None, asset: str | None) -> _Reading:
    if asset is not None:
        if preset is not None:
            raise InvalidInput("preset,asset", "name a preset or an asset, not both")
        if not asset.strip():
            raise InvalidInput("asset", "an asset key cannot be empty")
        return _Reading(None, asset)
    if preset is None:
        raise InvalidInput("preset,asset", "name a preset (an index, a band) or an asset key")
    return _Reading(series_preset(preset), None)


def _is_remote(item: Json, reading: _Reading) -> bool:
    """Whether an asset the series reads is outside the server's storage (http)."""
    return any(
        str(item["assets"][key].get("href", "")).startswith(("http://", "https://"))
        for key in reading.keys(item)
    )


def _applies_to_collection(store: ReadStore, collection_id: str, reading: _Reading,
                           hidden: frozenset[str]) -> bool:  # fmt: skip
    """Whether any of the collection's items (the newest ``MAX_DATES``) has what is read."""
    query = SearchQuery(collections=(collection_id,), limit=MAX_DATES, hidden_collections=hidden)
    return any(reading.fits(item) for item in store.search(query).items)


def _not_applicable(collection_id: str, reading: _Reading) -> InvalidInput:
    if reading.preset is None:
        return InvalidInput("asset", f"{reading.asset!r} is not a raster asset of any item of "
                            f"collection {collection_id!r}")  # fmt: skip
    return InvalidInput(
        "preset", f"{reading.preset.name!r} does not apply to collection {collection_id!r}: "
        "none of its items has the bands it needs"
    )  # fmt: skip


def pixel_series(
    store: ReadStore,
    storage: Storage,
    collection_id: str,
    lon: float,
    lat: float,
    *,
    preset: str | None = None,
    hidden: frozenset[str],
    asset: str | None = None,
    period: TimeRange | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PixelSeries:
    """The series of ``preset`` (or of ``asset``) at a point over the items of a collection
    the caller may see, within ``period`` when one is given.

    A hidden or unknown collection is a NotFound (as for tiles); a preset that makes no series,
    or that none of the collection's items has, is an InvalidInput (so is an asset key no item
    has); items the preset cannot draw (other bands) are left out. A point outside every item
    has no dates. ``progress(done, total)`` is called after each item read.

    Example:
        >>> pixel_series(store, storage, "theia-sentinel-2-l2a", 5.35, 49.28,
        ...              preset="ndvi", hidden=frozenset())  # doctest: +SKIP
    """
    check_point(lon, lat)
    reading = _reading(preset, asset)  # named before any read
    store.get_collection(collection_id, hidden=hidden)  # NotFound when hidden or missing
    query = SearchQuery(
        collections=(collection_id,),
        intersects={"type": "Point", "coordinates": [lon, lat]},
        datetime=period,
        sortby=(SortKey("datetime", "desc"),),
        limit=MAX_DATES + 1,
        hidden_collections=hidden,
    )
    items = store.search(query).items
    truncated = len(items) > MAX_DATES
    fitting = [item for item in items[:MAX_DATES] if reading.fits(item)]
    if not fitting and not _applies_to_collection(store, collection_id, reading, hidden):
        raise _not_applicable(collection_id, reading)
    chosen, remote = [], 0
    for item in fitting:  # newest first
        if _is_remote(item, reading):
            remote += 1
            if remote > MAX_REMOTE:
                truncated = True
                continue
        chosen.append(item)
    points = []
    for done, item in enumerate(reversed(chosen), start=1):
        points.append(read_point(storage.localise(item), preset, lon, lat, asset=asset))
        if progress is not None:
            progress(done, len(chosen))
    return PixelSeries(collection_id, lon, lat, preset, tuple(points), truncated, asset)
