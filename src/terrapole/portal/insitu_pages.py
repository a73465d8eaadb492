"""The observatory pages: the stations map, a station (metadata, series chart, CSV), a dataset
and a producer. Thin: the rows come from ``terrapole.insitu`` through the caller's hidden
dataset keys; the chart and map read the JSON of ``terrapole.web.insitu`` in the browser."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from terrapole.errors import NotFound
from terrapole.insitu import NOTHING_HIDDEN, Datastream, InsituStore
from terrapole.insitu.stations import StationQuery, choices, station, stations
from terrapole.portal.i18n import translate
from terrapole.portal.insitu_strings import STRINGS
from terrapole.portal.routes import _lang, _page, _root
from terrapole.web.insitu import RowId, datastream_json, insitu_store, station_query
from terrapole.web.services import WebServices

LISTED = 200
"""Stations listed beside the map (the map shows them all)."""
_BARS = re.compile(r"precip|rain|pluie|snowfall", re.IGNORECASE)


def category_label(uri: str) -> str:
    """The last part of a category URI, readable: ``…/theia/surface_water`` → ``surface water``."""
    return re.split(r"[/#]", uri.rstrip("/#"))[-1].replace("_", " ")


def chart_series(streams: list[Datastream], names: dict[int, str]) -> list[dict[str, Any]]:
    """How the chart draws each Datastream: precipitation-like ones as bars; the first unit on
    the left axis and any other unit on the right one (rain in mm/d over discharge in m³/s)."""
    units = [d.unit.symbol or d.unit.name for d in streams]
    lines = [u for d, u in zip(streams, units, strict=True) if not _BARS.search(names[d.id or 0])]
    first = lines[0] if lines else (units[0] if units else "")
    return [
        {
            **datastream_json(d),
            "property": names[d.id or 0],
            "bars": bool(_BARS.search(names[d.id or 0])),
            "axis": "left" if unit == first else "right",
            "shown": n < 4,
        }
        for n, (d, unit) in enumerate(zip(streams, units, strict=True))
    ]


def _query_string(form: dict[str, str]) -> str:
    return urlencode({k: v for k, v in form.items() if v})


def router(services: WebServices) -> APIRouter:
    """The pages ``/insitu``, ``/insitu/stations/{id}``, ``/insitu/datasets/{id}`` and
    ``/insitu/producers/{id}``."""
    api = APIRouter(tags=["portal"], include_in_schema=False)
    store: InsituStore = insitu_store(services)

    def strings(request: Request) -> dict[str, str]:
        return translate(STRINGS, _lang(request))

    @api.get("/insitu", response_class=HTMLResponse)
    def observatory_map(
        request: Request,
        observed_property: str = "",
        category: str = "",
        producer: str = "",
        start: str = "",
        end: str = "",
        bbox: str = "",
        q: str = "",
    ) -> HTMLResponse:
        form = {
            "observed_property": observed_property, "category": category, "producer": producer,
            "start": start, "end": end, "bbox": bbox, "q": q,
        }  # fmt: skip
        hidden = services.hidden(request)
        found = stations(store.engine, station_query(**form), hidden=hidden)
        offered = choices(store.engine, hidden=hidden)
        return _page(
            request, "insitu_map.html", u=strings(request), form=form, stations=found[:LISTED],
            matched=len(found), choices=offered,
            categories=[(c, category_label(c)) for c in offered.categories],
            geojson=f"{_root(request)}insitu/stations?{_query_string(form)}",
        )  # fmt: skip

    @api.get("/insitu/stations/{thing_id}", response_class=HTMLResponse)
    def station_page(thing_id: RowId, request: Request) -> HTMLResponse:
        hidden = services.hidden(request)
        thing = store.get_thing(thing_id, hidden=hidden)
        seen = station(store.engine, thing_id, hidden=hidden)
        if seen is None:  # deleted since get_thing
            raise NotFound("Thing", str(thing_id))
        streams = store.datastreams_of(thing_id, hidden=hidden)
        props = {d.id or 0: store.get_observed_property(d.observed_property_id) for d in streams}
        sensors = {d.sensor_id: store.get_sensor(d.sensor_id) for d in streams}
        dataset = store.get_dataset(thing.dataset_id, hidden=hidden) if thing.dataset_id else None
        producer = store.get_producer(dataset.producer_id) if dataset else None
        series = chart_series(streams, {k: p.name for k, p in props.items()})
        return _page(
            request, "insitu_station.html", u=strings(request), thing=thing, station=seen,
            locations=store.locations_of(thing_id, hidden=hidden), dataset=dataset,
            producer=producer, sensors=sorted({s.name for s in sensors.values()}),
            series=series, props=props, api=f"{_root(request)}insitu/datastreams",
        )  # fmt: skip

    @api.get("/insitu/datasets/{dataset_id}", response_class=HTMLResponse)
    def dataset_page(dataset_id: RowId, request: Request) -> HTMLResponse:
        hidden = services.hidden(request)
        dataset = store.get_dataset(dataset_id, hidden=hidden)
        found = stations(store.engine, StationQuery(dataset=dataset_id), hidden=hidden)
        return _page(
            request, "insitu_dataset.html", u=strings(request), dataset=dataset,
            producer=store.get_producer(dataset.producer_id), stations=found,
            geojson=f"{_root(request)}insitu/stations?dataset={dataset_id}",
        )  # fmt: skip

    @api.get("/insitu/producers/{producer_id}", response_class=HTMLResponse)
    def producer_page(producer_id: RowId, request: Request) -> HTMLResponse:
        hidden = services.hidden(request)
        producer = store.get_producer(producer_id)
        shown = store.datasets(hidden=hidden, producer_id=producer_id)
        if not shown and store.datasets(hidden=NOTHING_HIDDEN, producer_id=producer_id):
            raise NotFound("Producer", str(producer_id))  # all its data is kept from the caller
        found = stations(store.engine, StationQuery(producer=producer_id), hidden=hidden)
        return _page(
            request, "insitu_producer.html", u=strings(request), producer=producer,
            datasets=shown, stations=found,
            geojson=f"{_root(request)}insitu/stations?producer={producer_id}",
        )  # fmt: skip

    return api
