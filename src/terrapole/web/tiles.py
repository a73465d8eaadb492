"""Tiles, TileJSON, previews, point values and info of catalogued items: titiler.core's factory.

Mounted at ``/maps/collections/{collection_id}/items/{item_id}``. The factory's path dependency
resolves the item through the access policy (a hidden collection is a 404, like everywhere)
and points its asset hrefs at the stored files. ``?preset=NAME`` is translated into the
factory's own query parameters (assets, expression, rescale, colormap, algorithm) by
``PresetMiddleware`` before the factory sees the request.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import Depends, Query, Request
from starlette.types import ASGIApp, Receive, Scope, Send
from titiler.core.algorithm import algorithms
from titiler.core.algorithm.base import BaseAlgorithm
from titiler.core.dependencies import HistogramParams, StatisticsParams
from titiler.core.factory import MultiBaseTilerFactory

from terrapole.errors import InvalidInput, TerrapoleError
from terrapole.maps.params import MAX_BINS, check_zoom
from terrapole.maps.presets import resolve
from terrapole.maps.tiles import ItemReader, tiler_item
from terrapole.web.asgi import answer_error, principal
from terrapole.web.services import WebServices

PREFIX = "/maps/collections/{collection_id}/items/{item_id}"
ITEM_PATH = re.compile(r"^/maps/collections/(?P<c>[^/]+)/items/(?P<i>[^/]+)/")


@dataclass
class BoundedStatistics(StatisticsParams):
    """titiler's statistics options, with percentiles between 0 and 100."""

    def __post_init__(self) -> None:
        """Refuse percentiles numpy cannot compute."""
        super().__post_init__()  # type: ignore[no-untyped-call]
        for value in self.percentiles or []:
            if not 0 <= value <= 100:
                raise InvalidInput("p", f"percentile {value} is not between 0 and 100")


@dataclass
class HistogramOptions(HistogramParams):
    """titiler's histogram options, with 1..MAX_BINS bins, increasing edges and min <= max."""

    def __post_init__(self) -> None:
        """Refuse bins and ranges numpy cannot use."""
        super().__post_init__()  # type: ignore[no-untyped-call]
        bins: int | list[float] = self.bins  # type: ignore[assignment]
        if isinstance(bins, int) and not 0 < bins <= MAX_BINS:
            raise InvalidInput("histogram_bins", f"{bins} is not between 1 and {MAX_BINS}")
        if isinstance(bins, list) and (
            len(bins) > MAX_BINS + 1 or any(b >= a for a, b in zip(bins[1:], bins, strict=False))
        ):
            raise InvalidInput(
                "histogram_bins", f"edges must increase, at most {MAX_BINS + 1} of them"
            )
        value_range: list[float] | None = self.range  # type: ignore[assignment]
        if value_range is not None and value_range[0] > value_range[1]:
            raise InvalidInput("histogram_range", f"minimum {value_range[0]:g} exceeds maximum")


def _params_object(
    algorithm_params: Annotated[str | None, Query(include_in_schema=False)] = None,
) -> None:
    """``algorithm_params`` must be a JSON object (titiler passes it as keyword arguments)."""
    try:
        params = json.loads(algorithm_params) if algorithm_params else {}
    except json.JSONDecodeError:
        return  # titiler's own validator says what is wrong with it
    if not isinstance(params, dict):
        raise InvalidInput(
            "algorithm_params", f"{str(algorithm_params)[:40]!r} is not a JSON object"
        )


def post_process(
    _: Annotated[None, Depends(_params_object)],
    algorithm: Annotated[BaseAlgorithm | None, Depends(algorithms.dependency)],
) -> BaseAlgorithm | None:
    """titiler's algorithm dependency, once its parameters are known to be an object."""
    return algorithm


def tiler(services: WebServices) -> MultiBaseTilerFactory:
    """The titiler factory for items, with terrapole's path dependency."""

    def item_dependency(collection_id: str, item_id: str, request: Request) -> Any:
        hidden = services.hidden(request)
        return tiler_item(services.store, services.storage, collection_id, item_id, hidden)

    return MultiBaseTilerFactory(
        reader=ItemReader,
        path_dependency=item_dependency,
        router_prefix=PREFIX,
        add_viewer=False,
        add_part=False,
        process_dependency=post_process,
        stats_dependency=BoundedStatistics,
        histogram_dependency=HistogramOptions,
    )


class PresetMiddleware:
    """Rewrite ``?preset=NAME`` on item map URLs into the tiler's explicit parameters.

    Parameters the caller gives next to the preset (e.g. ``colormap_name``) override it.
    """

    def __init__(self, app: ASGIApp, services: WebServices) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Resolve the preset for the item in the path; errors are answered as the app maps them."""
        if scope["type"] == "http":
            match = ITEM_PATH.match(scope["path"])
            query = parse_qsl(scope.get("query_string", b"").decode(), keep_blank_values=True)
            try:
                for key, value in query:
                    if key in ("minzoom", "maxzoom"):
                        check_zoom(key, value)
            except InvalidInput as exc:
                await answer_error(exc, scope, receive, send)
                return
            preset = next((v for k, v in query if k == "preset"), None)
            if match and preset:
                try:
                    hidden = self.services.access.hidden_for(principal(self.services, scope))
                    item = self.services.store.get_item(match["c"], match["i"], hidden=hidden)
                    params = resolve(preset, item)
                except TerrapoleError as exc:
                    await answer_error(exc, scope, receive, send)
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
