"""Portal pages: thin handlers that ask the Store (through the access policy) and render Jinja2."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from terrapole.catalog.model import CollectionQuery, SearchQuery
from terrapole.catalog.query import search_query
from terrapole.errors import InvalidInput
from terrapole.jsontypes import Json
from terrapole.maps.legends import legend
from terrapole.maps.pixel_series import VALUE_PRESETS
from terrapole.maps.presets import Preset, available
from terrapole.portal import timeline
from terrapole.portal.basemap import basemap
from terrapole.portal.i18n import LANGUAGES, translator
from terrapole.portal.order_links import order_link
from terrapole.web.services import WebServices as Services

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
PAGE_SIZE = 20
STATIC = StaticFiles(directory=HERE / "static")


def _lang(request: Request) -> str:
    lang = request.cookies.get("lang", "en")
    return lang if lang in LANGUAGES else "en"


def _root(request: Request) -> str:
    return str(request.base_url)


def _page(request: Request, name: str, **context: Any) -> HTMLResponse:
    lang = _lang(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    static = f"{_root(request)}static"
    base = {
        "lang": lang,
        "t": translator(lang),
        "root": _root(request),
        "base": _root(request),
        "static": static,
        "here": here,
        "basemap": basemap(request.app.state.services.settings, static),
    }
    return TEMPLATES.TemplateResponse(request, name, {**base, **context})


def _human(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return ""


def _absolute(href: str, request: Request) -> str:
    return _root(request) + href[1:] if href.startswith("/") else href


def _order_link(
    services: Services, request: Request, collection_id: str, item_ids: list[str]
) -> dict[str, str] | None:
    """The "Order these images" link of a restricted collection, for whom may order it."""
    return order_link(
        services.access, services.principal(request), root=_root(request), lang=_lang(request),
        collection_id=collection_id, item_ids=item_ids,
    )  # fmt: skip


def _card(item: Json, request: Request) -> dict[str, Any]:
    thumb = item.get("assets", {}).get("thumbnail", {}).get("href")
    return {
        "id": item["id"],
        "collection": item["collection"],
        "date": (item["properties"].get("datetime") or "")[:10],
        "cloud": item["properties"].get("eo:cloud_cover"),
        "thumbnail": _absolute(thumb, request) if thumb else None,
    }


def _legends(presets: list[Preset], item: Json) -> dict[str, Json]:
    """Legend of each preset that has one, by preset name."""
    found = {p.name: legend(p, item) for p in presets}
    return {name: asdict(found) for name, found in found.items() if found is not None}


def _filter(platforms: list[str], cloud: float | None) -> Json | None:
    parts: list[Json] = []
    if platforms:
        parts.append({"op": "in", "args": [{"property": "platform"}, platforms]})
    if cloud is not None:
        parts.append({"op": "<=", "args": [{"property": "eo:cloud_cover"}, cloud]})
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"op": "and", "args": parts}


def _search(services: Services, request: Request, form: dict[str, Any], token: str) -> Json:
    """Results, facet counts, footprints and next-page URL of the search page."""
    hidden = services.hidden(request)
    try:
        cloud_max = float(form["cloud"]) if form["cloud"] else None
    except ValueError as exc:
        raise InvalidInput("cloud", f"{form['cloud']!r} is not a number") from exc
    start, end = form["start"], form["end"]
    datetime = f"{start or '..'}/{end + 'T23:59:59Z' if end else '..'}" if start or end else None
    params: dict[str, Any] = {
        "q": form["q"] or None,
        "bbox": form["bbox"].split(",") if form["bbox"] else None,
        "datetime": datetime,
        "collections": form["collection"] or None,
        "limit": PAGE_SIZE,
    }
    platform = form["platform"]
    flt = _filter(platform, cloud_max)
    query = search_query(
        {**params, "filter": flt, "token": token or None}, max_limit=PAGE_SIZE, hidden=hidden
    )
    page = services.store.search(query)

    def facet(name: str, **drop: Any) -> list[Any]:
        base = search_query({**params, **drop}, max_limit=1, hidden=hidden)
        buckets = services.store.aggregate(base, [name])[0].buckets or ()
        return sorted(buckets, key=lambda b: b.key)

    facets = {
        "collection": facet("collection_frequency", collections=None, filter=flt),
        "platform": facet("platform_frequency", filter=_filter([], cloud_max)),
        "cloud": facet("cloud_cover_frequency", filter=_filter(platform, None)),
    }
    total = services.store.aggregate(
        search_query({**params, "filter": flt}, max_limit=1, hidden=hidden), ["total_count"]
    )[0].value
    footprints = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": i["id"],
                "bbox": i.get("bbox"),
                "geometry": i["geometry"],
                "properties": {"id": i["id"], "collection": i["collection"]},
            }
            for i in page.items
            if i.get("geometry")
        ],
    }
    wide = search_query({**params, "filter": flt}, max_limit=timeline.TIMELINE_MAX, hidden=hidden)
    next_url = None
    if page.next_token:
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
        next_url = f"{_root(request)}search?{urlencode([*kept, ('token', page.next_token)])}"
    return {
        "items": [_card(i, request) for i in page.items],
        "facets": facets,
        "matched": total,
        "footprints": footprints,
        "next_url": next_url,
        "acquisitions": timeline.acquisitions(services.store, wide),
    }


def router(services: Services) -> APIRouter:
    """Routes of the portal pages (the STAC API and maps are elsewhere)."""
    api = APIRouter(include_in_schema=False)

    @api.get("/lang/{lang}")
    def set_language(lang: str, next: str = "/") -> RedirectResponse:
        target = next if next.startswith("/") and not next.startswith("//") else "/"
        response = RedirectResponse(target, status_code=303)
        if lang in LANGUAGES:
            response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax")
        return response

    @api.get("/", response_class=HTMLResponse)
    @api.get("/search", response_class=HTMLResponse)
    def search(
        request: Request,
        q: str = "",
        bbox: str = "",
        start: str = "",
        end: str = "",
        cloud: str = "",
        collection: list[str] = Query(default=[]),  # noqa: B008
        platform: list[str] = Query(default=[]),  # noqa: B008
        token: str = "",
    ) -> HTMLResponse:
        form = {
            "q": q, "bbox": bbox, "start": start, "end": end, "cloud": cloud,
            "collection": collection, "platform": platform,
        }  # fmt: skip
        return _page(request, "search.html", form=form, **_search(services, request, form, token))

    @api.get("/collections", response_class=HTMLResponse)
    def collections(request: Request) -> HTMLResponse:
        docs, _ = services.store.list_collections(
            CollectionQuery(limit=1000, hidden_collections=services.hidden(request))
        )
        return _page(request, "collections.html", collections=docs)

    @api.get("/collections/{collection_id}", response_class=HTMLResponse)
    def collection_page(collection_id: str, request: Request) -> HTMLResponse:
        hidden = services.hidden(request)
        doc = services.store.get_collection(collection_id, hidden=hidden)
        query = SearchQuery(collections=(collection_id,), limit=5, hidden_collections=hidden)
        months = services.store.aggregate(query, ["datetime_frequency"], interval="month")
        buckets = list(months[0].buckets or ())
        top = max((b.frequency for b in buckets), default=1)
        bars = [{"key": b.key[:7], "frequency": b.frequency, "h": 95 * b.frequency // top}
                for b in buckets]  # fmt: skip
        latest = [_card(i, request) for i in services.store.search(query).items]
        extent = doc.get("extent", {})
        return _page(
            request,
            "collection.html",
            c=doc,
            count=services.store.count_items(collection_id),
            bars=bars,
            latest=latest,
            bbox=", ".join(f"{v:.4f}" for v in extent.get("spatial", {}).get("bbox", [[]])[0]),
            interval=" – ".join(
                str(v or "..") for v in extent.get("temporal", {}).get("interval", [[]])[0]
            ),
            order=_order_link(services, request, collection_id, [i["id"] for i in latest]),
        )

    @api.get("/collections/{collection_id}/items/{item_id}", response_class=HTMLResponse)
    def item_page(collection_id: str, item_id: str, request: Request) -> HTMLResponse:
        hidden = services.hidden(request)
        item = services.store.get_item(collection_id, item_id, hidden=hidden)
        presets = available(item)
        tiles = (
            f"{_root(request)}maps/collections/{collection_id}/items/{item_id}"
            "/tiles/WebMercatorQuad/{z}/{x}/{y}.png?preset=PRESET&tilesize=256"
        )
        assets = [
            (key, {"href": _absolute(a["href"], request), "title": a.get("title"),
                   "size": _human(a.get("file:size"))})
            for key, a in sorted(item.get("assets", {}).items())
        ]  # fmt: skip
        quicklook = item.get("assets", {}).get("quicklook", {}).get("href")
        props = sorted((k, v) for k, v in item["properties"].items() if k != "proj:geometry")
        series = [p for p in presets if p.name in VALUE_PRESETS]
        return _page(
            request,
            "item.html",
            item=item,
            presets=presets,
            legends=_legends(presets, item),
            series_presets=series,
            series_url=f"{_root(request)}maps/collections/{collection_id}/series",
            acquisitions=timeline.acquisitions(services.store, timeline.near(item, hidden)),
            tiles=tiles,
            xyz=tiles.replace("PRESET", presets[0].name if presets else "truecolor"),
            assets=assets,
            quicklook=_absolute(quicklook, request) if quicklook else None,
            props=props,
            order=_order_link(services, request, collection_id, [item_id]),
        )

    @api.get("/compare", response_class=HTMLResponse)
    def compare(
        request: Request, a: str = "", b: str = "", preset: str = "truecolor"
    ) -> HTMLResponse:
        return _page(request, "compare.html", **_compare(services, request, a, b, preset))

    return api


def _item(services: Services, ref: str, hidden: frozenset[str]) -> Json:
    """The item named ``collection/item`` (InvalidInput when not so written; NotFound if absent)."""
    collection_id, _, item_id = ref.partition("/")
    if not collection_id or not item_id:
        raise InvalidInput("a/b", f"{ref!r} is not collection/item")
    return services.store.get_item(collection_id, item_id, hidden=hidden)


def _pair(
    services: Services, hidden: frozenset[str], a: str, b: str
) -> tuple[Json | None, Json | None]:
    """The compared items: those asked for, the clearest partner of a lone one, or the default
    pair (two overlapping dates of one collection)."""
    if not a and not b:
        pair = timeline.default_pair(services.store, hidden)
        return pair if pair else (None, None)
    left = _item(services, a or b, hidden)
    if a and b:
        return left, _item(services, b, hidden)
    pool = timeline.drawable(services.store, left["collection"], hidden)
    return left, timeline.partner(left, pool) or left


def _compare(services: Services, request: Request, a: str, b: str, preset: str) -> Json:
    """The compare page's context: the pair, its shared presets, the timeline, the tiles."""
    hidden = services.hidden(request)
    left, right = _pair(services, hidden, a, b)
    chosen, presets = timeline.shared_preset(preset, left, right) if left else (preset, [])
    options = (
        [f"{i['collection']}/{i['id']}"
         for i in timeline.drawable(services.store, left["collection"], hidden)]
        if left else []
    )  # fmt: skip

    def ref(item: Json | None) -> str:
        return f"{item['collection']}/{item['id']}" if item else ""

    def tiles(item: Json | None) -> str:
        if item is None:
            return ""
        return (
            f"{_root(request)}maps/collections/{item['collection']}/items/{item['id']}"
            f"/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}.png?preset={chosen}&tilesize=256"
        )

    for item in (left, right):
        if item and ref(item) not in options:
            options.insert(0, ref(item))
    return dict(
        options=options,
        a=ref(left),
        b=ref(right),
        preset=chosen,
        presets=presets,
        legend=_legends(presets, left).get(chosen) if left else None,
        acquisitions=(
            timeline.acquisitions(services.store, timeline.near(left, hidden)) if left else []
        ),
        left_tiles=tiles(left),
        right_tiles=tiles(right),
        bounds=left["bbox"] if left else [-10, 35, 30, 60],
        right_bounds=right["bbox"] if right else [-180, -85, 180, 85],
    )
