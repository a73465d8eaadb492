"""Tiles, TileJSON, previews, point values and info of catalogued items: titiler.core's factory.

Mounted at ``/maps/collections/{collection_id}/items/{item_id}``. The factory's path dependency
resolves the item through the access policy (a hidden collection is a 404, like everywhere)
and points its asset hrefs at the stored files. ``?preset=NAME`` is translated into the
factory's own query parameters (assets, expression, rescale, colormap, algorithm) by
``PresetMiddleware`` before the factory sees the request.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Any
from urllib.parse import parse_qsl, urlencode

import attr
import pystac
from fastapi import Request
from rio_tiler.io import Reader, STACReader
from rio_tiler.models import ImageData
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from titiler.core.factory import MultiBaseTilerFactory

from terrapole.errors import TerrapoleError
from terrapole.maps.presets import resolve
from terrapole.stac_api.client import Services

STATUS = {"NotFound": 404, "Unauthorized": 401}
PREFIX = "/maps/collections/{collection_id}/items/{item_id}"
ITEM_PATH = re.compile(r"^/maps/collections/(?P<c>[^/]+)/items/(?P<i>[^/]+)/")


@attr.s
class ItemReader(STACReader):
    """STACReader over an item document already fetched (and access-checked) by terrapole."""

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
        names = [assets] if isinstance(assets, str) else list(assets or [])
        if len(names) != 1 or expression:
            return super().tile(
                tile_x, tile_y, tile_z, assets=assets, expression=expression,
                asset_as_band=asset_as_band, **kwargs,
            )  # fmt: skip
        info = self._get_asset_info(names[0])
        with self.ctx(**info.get("env", {})), Reader(info["url"], tms=self.tms) as src:
            image: ImageData = src.tile(tile_x, tile_y, tile_z, **kwargs)
        image.band_descriptions = [f"{names[0]}_{b}" for b in image.band_descriptions]
        return image


def local_item(services: Services, collection_id: str, item_id: str, request: Request) -> Json:
    """The item as the tiler reads it: visible to the caller, asset hrefs on local files."""
    hidden = services.hidden(request)
    return services.storage.localise(services.store.get_item(collection_id, item_id, hidden=hidden))


_ITEMS: OrderedDict[tuple[str, str, str], pystac.Item] = OrderedDict()
_ITEMS_LOCK = threading.Lock()


def tiler_item(services: Services, collection_id: str, item_id: str, request: Request) -> Any:
    """``local_item`` as a pystac Item, reused while the item is unchanged (a tile asks often).

    The access check and the store read happen on every call; only the pystac conversion
    (about 2 ms) is cached, keyed by the item's ``updated`` time.
    """
    doc = local_item(services, collection_id, item_id, request)
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


Json = dict[str, Any]


def tiler(services: Services) -> MultiBaseTilerFactory:
    """The titiler factory for items, with terrapole's path dependency."""

    def item_dependency(collection_id: str, item_id: str, request: Request) -> Any:
        return tiler_item(services, collection_id, item_id, request)

    return MultiBaseTilerFactory(
        reader=ItemReader,
        path_dependency=item_dependency,
        router_prefix=PREFIX,
        add_viewer=False,
        add_part=False,
    )


class PresetMiddleware:
    """Rewrite ``?preset=NAME`` on item map URLs into the tiler's explicit parameters.

    Parameters the caller gives next to the preset (e.g. ``colormap_name``) override it.
    """

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Resolve the preset for the item in the path; a bad preset is a 400."""
        if scope["type"] == "http":
            match = ITEM_PATH.match(scope["path"])
            query = parse_qsl(scope.get("query_string", b"").decode(), keep_blank_values=True)
            preset = next((v for k, v in query if k == "preset"), None)
            if match and preset:
                headers = dict(scope.get("headers") or [])
                auth = headers.get(b"authorization", b"").decode() or None
                try:
                    hidden = self.services.access.hidden_for(
                        self.services.access.authenticate(auth)
                    )
                    item = self.services.store.get_item(match["c"], match["i"], hidden=hidden)
                    params = resolve(preset, item)
                except TerrapoleError as exc:
                    status = STATUS.get(type(exc).__name__, 400)
                    body = {"code": type(exc).__name__, "description": str(exc)}
                    await JSONResponse(body, status_code=status)(scope, receive, send)
                    return
                given = {k for k, _ in query}  # what the caller sets explicitly wins
                kept = [(k, v) for k, v in query if k != "preset"]
                for key, value in params.items():
                    if key not in given:
                        values = value if isinstance(value, list) else [value]
                        kept += [(key, str(v)) for v in values]
                scope = dict(scope)
                scope["query_string"] = urlencode(kept).encode()
        await self.app(scope, receive, send)
