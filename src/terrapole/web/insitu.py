"""The observatory portal's JSON: stations as GeoJSON, a station's Datastreams, a Datastream's
series decimated for a plot, and its CSV over a period (``terrapole.insitu`` does the work).

Every read passes the caller's hidden dataset keys (``AccessService.hidden_for``): a station of
a dataset one may not read is absent from the map and answers 404 everywhere else.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse

from terrapole.errors import InvalidInput
from terrapole.insitu import Datastream, InsituStore
from terrapole.insitu.series import csv_lines, period_bound, plot_series
from terrapole.insitu.stations import StationQuery, stations
from terrapole.insitu.times import time_json
from terrapole.web.services import WebServices

DEFAULT_WIDTH = 800
RowId = Annotated[int, Path(ge=0, le=2**63 - 1, description="a 64-bit id")]
"""An id in a path: no row has one beyond 64 bits (400 instead of a database overflow)."""


def insitu_store(services: WebServices) -> InsituStore:
    """The in-situ store on the project database (the access service's engine)."""
    return InsituStore(services.access.engine)


def _int(text: str, field: str) -> int | None:
    if not text.strip():
        return None
    try:
        return int(text)
    except ValueError as exc:
        raise InvalidInput(field, f"{text!r} is not an integer id") from exc


def _bbox(text: str) -> tuple[float, float, float, float] | None:
    if not text.strip():
        return None
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError as exc:
        raise InvalidInput("bbox", f"{text!r} is not four numbers west,south,east,north") from exc
    return west, south, east, north


def station_query(
    *,
    observed_property: str = "",
    category: str = "",
    producer: str = "",
    dataset: str = "",
    start: str = "",
    end: str = "",
    bbox: str = "",
    q: str = "",
) -> StationQuery:
    """The map's filters as given in a query string (empty fields match everything)."""
    return StationQuery(
        observed_property=_int(observed_property, "observed_property"),
        category=category.strip() or None,
        producer=_int(producer, "producer"),
        dataset=_int(dataset, "dataset"),
        start=period_bound(start, "start"),
        end=period_bound(end, "end"),
        bbox=_bbox(bbox),
        text=q.strip() or None,
    )


def datastream_json(stream: Datastream) -> dict[str, Any]:
    """A Datastream as the station page lists it."""
    return {
        "id": stream.id,
        "name": stream.name,
        "description": stream.description,
        "unit": stream.unit.to_json(),
        "observed_property_id": stream.observed_property_id,
        "sensor_id": stream.sensor_id,
        "phenomenonTime": time_json(stream.phenomenon_time),
    }


def router(services: WebServices) -> APIRouter:
    """The in-situ JSON endpoints under ``/insitu``."""
    api = APIRouter(tags=["insitu"])
    store = insitu_store(services)

    @api.get("/insitu/stations", summary="Stations as GeoJSON, filtered")
    def station_features(
        request: Request,
        observed_property: str = "",
        category: str = "",
        producer: str = "",
        dataset: str = "",
        start: Annotated[str, Query(description="date or date-time with zone")] = "",
        end: Annotated[str, Query(description="date or date-time with zone")] = "",
        bbox: Annotated[str, Query(description="west,south,east,north (WGS84)")] = "",
        q: Annotated[str, Query(description="text in name, identifier, dataset, producer")] = "",
    ) -> dict[str, Any]:
        """The visible stations matching every filter given, as a FeatureCollection."""
        query = station_query(
            observed_property=observed_property, category=category, producer=producer,
            dataset=dataset, start=start, end=end, bbox=bbox, q=q,
        )  # fmt: skip
        found = stations(store.engine, query, hidden=services.hidden(request))
        return {"type": "FeatureCollection", "features": [s.to_feature() for s in found]}

    @api.get("/insitu/stations/{thing_id}/datastreams", summary="A station's Datastreams")
    def station_datastreams(thing_id: RowId, request: Request) -> list[dict[str, Any]]:
        """The Datastreams of a visible station (404 for an unknown or hidden one)."""
        hidden = services.hidden(request)
        store.get_thing(thing_id, hidden=hidden)
        return [datastream_json(d) for d in store.datastreams_of(thing_id, hidden=hidden)]

    @api.get("/insitu/datastreams/{datastream_id}/series", summary="A series to plot")
    def series(
        datastream_id: RowId,
        request: Request,
        start: str = "",
        end: str = "",
        width: Annotated[int, Query(description="plot width in pixels")] = DEFAULT_WIDTH,
    ) -> dict[str, Any]:
        """Every observation in [start, end) when fewer than 2×width, else the min and max of
        each of ``width`` time buckets; ``t`` in seconds since 1970, ``v`` the values."""
        found = plot_series(
            store, datastream_id, period_bound(start, "start"), period_bound(end, "end"), width,
            hidden=services.hidden(request),
        )  # fmt: skip
        return found.to_json()

    @api.get("/insitu/datastreams/{datastream_id}/csv", summary="Observations of a period, CSV")
    def csv(
        datastream_id: RowId, request: Request, start: str = "", end: str = ""
    ) -> StreamingResponse:
        """The observations in [start, end) (the whole series by default) as CSV."""
        lines = csv_lines(
            store, datastream_id, period_bound(start, "start"), period_bound(end, "end"),
            hidden=services.hidden(request),
        )  # fmt: skip
        name = f"datastream-{datastream_id}.csv"
        return StreamingResponse(
            lines,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    return api
