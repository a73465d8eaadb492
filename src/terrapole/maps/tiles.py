"""Reading catalogued items for maps: rio-tiler readers over an item document, with limits.

``ItemReader`` reads an item already fetched through the access policy (``tiler_item``: a
hidden collection is a NotFound, like everywhere), its asset hrefs pointed at the stored files;
``AssetReader`` opens one COG, naming it when it cannot. The tile, preview, point and info
routes over them are titiler.core's factory, in ``terrapole.web.tiles``.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from typing import Any

import attr
import pystac
from rasterio.errors import RasterioError, RasterioIOError
from rasterio.warp import transform_bounds
from rio_tiler.constants import WGS84_CRS
from rio_tiler.errors import PointOutsideBounds
from rio_tiler.io import Reader, STACReader
from rio_tiler.models import ImageData, PointData
from rio_tiler.types import AssetInfo, AssetType

from terrapole.catalog.documents import shape_of
from terrapole.catalog.geojson import check_structure
from terrapole.catalog.store import Store
from terrapole.errors import InvalidInput, OutsideBounds, SourceUnavailable
from terrapole.jsontypes import Json
from terrapole.maps.params import MAX_PIXELS, check_nodata, check_size
from terrapole.storage import Storage


@attr.s
class AssetReader(Reader):
    """rio-tiler's COG reader; a file it cannot open is SourceUnavailable (502), not a 500."""

    def __attrs_post_init__(self) -> None:
        """Open the file, naming it when that fails."""
        try:
            super().__attrs_post_init__()  # type: ignore[no-untyped-call]
        except RasterioIOError as exc:
            raise SourceUnavailable(str(self.input)) from exc

    def part(self, bbox: Any, *args: Any, **kwargs: Any) -> ImageData:
        """A window; at the raster's own resolution (no size given) at most MAX_PIXELS."""
        self._check_nodata(kwargs)
        if not (kwargs.get("max_size") or (kwargs.get("width") and kwargs.get("height"))):
            crs = kwargs.get("bounds_crs") or WGS84_CRS
            try:
                west, south, east, north = transform_bounds(crs, self.crs, *bbox)
            except (ValueError, RasterioError) as exc:  # GDAL cannot project it
                raise InvalidInput("bbox", f"{bbox} cannot be placed on this raster") from exc
            grid = self._opened().transform
            xres, yres = abs(grid.a), abs(grid.e)
            pixels = (east - west) / xres * (north - south) / yres
            if not math.isfinite(pixels) or pixels > MAX_PIXELS:
                raise InvalidInput("bbox", f"{bbox} covers {pixels:.3g} pixels of this raster; "
                                   f"at most {MAX_PIXELS:,} without max_size")  # fmt: skip
        image: ImageData = super().part(bbox, *args, **kwargs)
        return image

    def read(self, *args: Any, **kwargs: Any) -> ImageData:
        """The whole raster (previews go through here)."""
        self._check_nodata(kwargs)
        image: ImageData = super().read(*args, **kwargs)
        return image

    def point(self, *args: Any, **kwargs: Any) -> PointData:
        """The values under a point."""
        self._check_nodata(kwargs)
        data: PointData = super().point(*args, **kwargs)
        return data

    def _check_nodata(self, kwargs: dict[str, Any]) -> None:
        nodata = kwargs.get("nodata", self.options.get("nodata"))
        check_nodata(nodata, str(self._opened().dtypes[0]))

    def _opened(self) -> Any:
        """The open dataset (set once the reader is constructed)."""
        if self.dataset is None:
            raise SourceUnavailable(str(self.input))
        return self.dataset


@attr.s
class ItemReader(STACReader):
    """STACReader over an item document already fetched (and access-checked) by terrapole."""

    reader: type[Reader] = attr.ib(default=AssetReader)

    def __attrs_post_init__(self) -> None:
        """Take the item from ``input`` when it is a document, not a URL."""
        if isinstance(self.input, pystac.Item):
            self.item, self.input = self.input, None
        elif isinstance(self.input, dict):
            self.item, self.input = pystac.Item.from_dict(self.input), None
        super().__attrs_post_init__()  # type: ignore[no-untyped-call]

    def tile(
        self,
        tile_x: int,
        tile_y: int,
        tile_z: int,
        assets: Any = None,
        expression: str | None = None,
        asset_as_band: bool = False,
        **kwargs: Any,
    ) -> ImageData:
        """One asset without expression: read its COG directly (no per-call thread pool)."""
        if tile_z < 0:
            raise InvalidInput("z", f"zoom level {tile_z} is negative")
        check_size("tilesize", kwargs.get("tilesize"))
        names = [assets] if isinstance(assets, str) else list(assets or [])
        if len(names) != 1 or expression:
            return super().tile(
                tile_x, tile_y, tile_z, assets=assets, expression=expression,
                asset_as_band=asset_as_band, **kwargs,
            )  # fmt: skip
        info = self._get_asset_info(names[0])
        with self.ctx(**info.get("env", {})), self.reader(info["url"], tms=self.tms) as src:
            image: ImageData = src.tile(tile_x, tile_y, tile_z, **kwargs)
        image.band_descriptions = [f"{names[0]}_{b}" for b in image.band_descriptions]
        return image

    def point(self, lon: float, lat: float, *args: Any, **kwargs: Any) -> PointData:
        """The values under a point; a point outside the item's rasters is a NotFound naming both.

        A coordinate outside longitude -180..180 or latitude -90..90 is invalid input (400); a
        valid point where this item has no raster is a 404, as a tile outside it is.
        """
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise InvalidInput("point", f"{lon:g},{lat:g} is not a longitude,latitude pair")
        try:
            data: PointData = super().point(lon, lat, *args, **kwargs)
        except PointOutsideBounds as exc:
            bounds = self.get_geographic_bounds(WGS84_CRS)
            raise OutsideBounds(f"point {lon:g},{lat:g}", bounds) from exc
        return data

    def preview(self, *args: Any, **kwargs: Any) -> ImageData:
        """The whole item at most ``MAX_SIZE`` pixels wide and high."""
        _check_sizes(kwargs)
        image: ImageData = super().preview(*args, **kwargs)
        return image

    def part(self, *args: Any, **kwargs: Any) -> ImageData:
        """A window of the item at most ``MAX_SIZE`` pixels wide and high."""
        _check_sizes(kwargs)
        image: ImageData = super().part(*args, **kwargs)
        return image

    def feature(self, shape: Json, *args: Any, **kwargs: Any) -> ImageData:
        """A shape of the item at most ``MAX_SIZE`` pixels wide and high; a shape that is not a
        GeoJSON geometry with coordinates (an empty collection...) is invalid input naming it."""
        _check_sizes(kwargs)
        geometry = shape.get("geometry", shape) if shape.get("type") == "Feature" else shape
        shape_of(check_structure(geometry, field="geometry"), "geometry")
        image: ImageData = super().feature(shape, *args, **kwargs)
        return image

    def info(self, assets: Any = None, **kwargs: Any) -> Any:
        """Metadata of assets by name: per-asset band options (``data|bidx=1``) select bands
        to read, which metadata does not take (rio-tiler passed them on: a TypeError, 500)."""
        if assets:
            listed = [assets] if isinstance(assets, str | dict) else list(assets)
            assets = [a.split("|", 1)[0] if isinstance(a, str) else a.get("name") for a in listed]
        return super().info(assets, **kwargs)

    def _get_asset_info(self, asset: AssetType) -> AssetInfo:
        """An empty asset name is invalid input naming the assets there are."""
        name = asset if isinstance(asset, str) else asset.get("name")
        if not name:
            raise InvalidInput("assets", f"an asset name is empty; this item has {self.assets}")
        info: AssetInfo = super()._get_asset_info(asset)
        return info


def _check_sizes(options: dict[str, Any]) -> None:
    for name in ("max_size", "width", "height"):
        check_size(name, options.get(name))


def local_item(
    store: Store, storage: Storage, collection_id: str, item_id: str, hidden: frozenset[str]
) -> Json:
    """The item as the tiler reads it: visible to the caller, asset hrefs on local files."""
    return storage.localise(store.get_item(collection_id, item_id, hidden=hidden))


_ITEMS: OrderedDict[tuple[str, str, str], pystac.Item] = OrderedDict()
_ITEMS_LOCK = threading.Lock()


def tiler_item(
    store: Store, storage: Storage, collection_id: str, item_id: str, hidden: frozenset[str]
) -> Any:
    """``local_item`` as a pystac Item, reused while the item is unchanged (a tile asks often).

    The access check and the store read happen on every call; only the pystac conversion
    (about 2 ms) is cached, keyed by the item's ``updated`` time.
    """
    doc = local_item(store, storage, collection_id, item_id, hidden)
    key = (collection_id, item_id, str(doc["properties"].get("updated")))
    with _ITEMS_LOCK:
        cached = _ITEMS.get(key)
        if cached is not None:
            _ITEMS.move_to_end(key)
            return cached
    item = pystac.Item.from_dict(doc)
    with _ITEMS_LOCK:
        _ITEMS[key] = item
        while len(_ITEMS) > 512:
            _ITEMS.popitem(last=False)
    return item
