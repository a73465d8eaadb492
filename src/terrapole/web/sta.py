"""OGC SensorThings API 1.1 at ``/sta/v1.1``: a thin adapter over the in-situ core.

It parses resource paths (``Things(1)/Datastreams``, ``Observations(3)/Datastream/Thing``,
``Things(1)/name/$value``, ``Datastreams/$ref``), hands the query options to
:mod:`terrapole.insitu.query`, and writes the answers with ``@iot.id``, ``@iot.selfLink``,
``<Nav>@iot.navigationLink``, ``@iot.count`` and ``@iot.nextLink``. Creates, updates and
deletes (:mod:`terrapole.insitu.sta_writes`) are for admins and principals with the
``producer`` role. Every read is filtered by the caller's hidden datasets in SQL: an entity
of a hidden dataset answers 404 exactly like an unknown id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from terrapole import db
from terrapole.access import Principal
from terrapole.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from terrapole.insitu.query import Found, Page, QueryOptions, parse_options, read_one, read_page
from terrapole.insitu.sta_sets import SETS, EntitySet
from terrapole.insitu.sta_writes import Writer, create_observations
from terrapole.insitu.store import InsituStore
from terrapole.web.insitu import RowId
from terrapole.web.services import WebServices

PREFIX = "/sta/v1.1"
CONFORMANCE = [
    "http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/request-data",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/create-update-delete",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/data-array/data-array",
]
"""The conformance classes implemented (no MQTT, no batch requests, no multi-datastream)."""
PRODUCER = "producer"
_SEGMENT = re.compile(r"^([A-Za-z$][A-Za-z]*)(?:\((\d{1,18})\))?$")
SetName = Literal[
    "Things", "Locations", "HistoricalLocations", "Sensors", "ObservedProperties",
    "Datastreams", "Observations", "FeaturesOfInterest",
]  # fmt: skip
_DEFAULT_COMPONENTS = ("id", "phenomenonTime", "result", "resultTime")
Select = Annotated[str | None, Query(alias="$select")]
Expand = Annotated[str | None, Query(alias="$expand")]


@dataclass
class Target:
    """What a resource path names: a collection (``ident`` None) or an entity, maybe one of
    its properties (``prop``, ``raw`` for ``$value``) or references only (``ref``)."""

    set: EntitySet
    ident: int | None = None
    where: list[Any] = field(default_factory=list)
    parent: tuple[str, int] | None = None
    prop: str | None = None
    raw: bool = False
    ref: bool = False


def resolve(con: sa.Connection, path: str, hidden: frozenset[str]) -> Target:
    """The target of ``path`` (below the prefix); 404 for unknown or hidden entities."""
    segments = [s for s in path.split("/") if s]
    first = _SEGMENT.match(segments[0]) if segments else None
    if first is None or first.group(1) not in SETS:
        raise NotFound("entity set", segments[0] if segments else "")
    target = Target(SETS[first.group(1)], _id(first.group(2)))
    for segment in segments[1:]:
        if target.prop is not None or target.ref:
            if segment == "$value" and target.prop is not None and not target.raw:
                target.raw = True
                continue
            raise NotFound("path", path)
        if segment == "$ref":
            target.ref = True
            continue
        match = _SEGMENT.match(segment)
        if target.ident is None or match is None:
            raise NotFound("path", path)
        name, ident = match.group(1), _id(match.group(2))
        read_one(con, target.set, target.ident, QueryOptions(), hidden, *target.where)
        if name in target.set.navs and not (ident is not None and not target.set.navs[name].many):
            nav = target.set.navs[name]
            parent = (target.set.name, target.ident)
            related = target.set.target_of(nav, target.ident)
            if nav.many:
                target = Target(SETS[nav.target], ident, [related], parent)
            else:
                one = read_page(con, SETS[nav.target], QueryOptions(top=1), hidden, related)
                if not one.items:
                    raise NotFound(nav.target, f"of {parent[0]}({parent[1]})")
                target = Target(SETS[nav.target], one.items[0].id)
        elif name in target.set.props and ident is None:
            target.prop = name
        else:
            raise NotFound("path", path)
    return target


def _id(text: str | None) -> int | None:
    return None if text is None else int(text)


# -- JSON out -----------------------------------------------------------------------------------
class Links:
    """Builds the @iot links of one request."""

    def __init__(self, request: Request) -> None:
        self.base = str(request.base_url).rstrip("/") + PREFIX
        self.request = request

    def self_link(self, entity_set: EntitySet, ident: int) -> str:
        """The URL of one entity."""
        return f"{self.base}/{entity_set.name}({ident})"

    def entity(self, found: Found) -> dict[str, Any]:
        """An entity with its annotations, links and expansions."""
        select = found.select
        out: dict[str, Any] = {}
        if not select or "id" in select:
            out["@iot.id"] = found.id
            out["@iot.selfLink"] = self.self_link(found.set, found.id)
        out.update(found.doc)
        for name in found.set.navs:
            if name in found.expanded:
                value = found.expanded[name]
                if isinstance(value, Page):
                    here = f"{self.self_link(found.set, found.id)}/{name}"
                    out.update(self.page(value, prefix=name, collection=here))
                else:
                    out[name] = None if value is None else self.entity(value)
            elif not select or name in select:
                link = f"{self.self_link(found.set, found.id)}/{name}"
                out[f"{name}@iot.navigationLink"] = link
        return out

    def page(
        self, page: Page, prefix: str = "", ref: bool = False, collection: str = ""
    ) -> dict[str, Any]:
        """A collection (``prefix``: the navigation name of an expanded one, ``collection``
        its URL, e.g. ``…/Datastreams(5)/Observations``)."""
        key = prefix or "value"
        out: dict[str, Any] = {}
        if page.count is not None:
            out[f"{prefix}@iot.count"] = page.count
        if ref:
            items = [{"@iot.selfLink": self.self_link(f.set, f.id)} for f in page.items]
        else:
            items = [self.entity(f) for f in page.items]
        out[key] = items
        if page.more and prefix:
            # SensorThings 1.1, 9.3.3.6: an expanded collection cut by the server carries
            # <Nav>@iot.nextLink to the navigation path with the nested options
            params = dict(page.options.given)
            out[f"{prefix}@iot.nextLink"] = f"{collection}?{urlencode(self._next(page, params))}"
        elif page.more:
            params = dict(self.request.query_params)
            out["@iot.nextLink"] = f"{self._here()}?{urlencode(self._next(page, params))}"
        return out

    def _here(self) -> str:
        return str(self.request.url).split("?")[0]

    @staticmethod
    def _next(page: Page, params: dict[str, str]) -> dict[str, str]:
        """``params`` moved on to the page after ``page``."""
        params["$skip"] = str(page.options.skip + page.options.top)
        params["$top"] = str(page.options.top)
        return params

    def data_array(self, page: Page) -> dict[str, Any]:
        """Observations as ``$resultFormat=dataArray``: one group per Datastream."""
        components = [c for c in (page.options.select or _DEFAULT_COMPONENTS)]
        groups: dict[int, list[list[Any]]] = {}
        for f in page.items:
            row = [f.id if c == "id" else f.set.to_json(f.row).get(c) for c in components]
            groups.setdefault(int(f.row.datastream_id), []).append(row)
        value = [
            {
                "Datastream@iot.navigationLink": f"{self.base}/Datastreams({ds})",
                "components": components,
                "dataArray@iot.count": len(rows),
                "dataArray": rows,
            }
            for ds, rows in groups.items()
        ]
        out: dict[str, Any] = {"value": value}
        if page.count is not None:
            out = {"@iot.count": page.count, **out}
        if page.more:
            params = dict(self.request.query_params)
            out["@iot.nextLink"] = f"{self._here()}?{urlencode(self._next(page, params))}"
        return out


# -- the router ---------------------------------------------------------------------------------
def router(services: WebServices) -> APIRouter:  # noqa: C901 - one closure per route
    """Routes under ``/sta/v1.1``."""
    api = APIRouter(prefix=PREFIX, tags=["sensorthings"])
    store = InsituStore(services.access.engine)

    def writer_of(request: Request) -> Writer:
        principal: Principal = services.principal(request)
        if principal.anonymous:
            raise Unauthorized("creating, updating or deleting needs a producer or admin token")
        if not principal.admin and PRODUCER not in principal.roles:
            raise Forbidden(f"{principal.name} has neither the producer role nor admin")
        return Writer(store, services.hidden(request))

    def _created(request: Request, set_name: str, ident: int) -> Response:
        with db.reading(store.engine) as con:
            found = read_one(con, SETS[set_name], ident, QueryOptions(), frozenset())
        body = Links(request).entity(found)
        return JSONResponse(body, status_code=201, headers={"Location": body["@iot.selfLink"]})

    def read(request: Request, path: str) -> Response:
        hidden = services.hidden(request)
        params = {k: v for k, v in request.query_params.items()}
        with db.reading(store.engine) as con:
            target = resolve(con, path, hidden)
            options = parse_options(params, target.set)
            links = Links(request)
            if target.ident is None:
                if options.result_format == "dataArray":
                    _check_data_array(target.set, options)
                page = read_page(con, target.set, options, hidden, *target.where)
                if options.result_format == "dataArray":
                    return JSONResponse(links.data_array(page))
                return JSONResponse(links.page(page, ref=target.ref))
            found = read_one(con, target.set, target.ident, options, hidden, *target.where)
        if target.ref:
            return JSONResponse({"@iot.selfLink": links.self_link(found.set, found.id)})
        if target.prop is not None:
            value = found.set.to_json(found.row).get(target.prop)
            if target.raw:
                return PlainTextResponse("" if value is None else str(value))
            return JSONResponse({target.prop: value})
        return JSONResponse(links.entity(found))

    @api.get("")
    @api.get("/")
    def root(request: Request) -> dict[str, Any]:
        """The entity sets and the server settings (conformance classes implemented)."""
        base = str(request.base_url).rstrip("/") + PREFIX
        return {
            "value": [{"name": n, "url": f"{base}/{n}"} for n in SETS],
            "serverSettings": {"conformance": CONFORMANCE},
        }

    @api.get("/{entity_set}({ident})")
    def entity(
        entity_set: SetName,
        ident: RowId,
        request: Request,
        select: Select = None,
        expand: Expand = None,
    ) -> Response:
        """One entity."""
        return read(request, f"{entity_set}({ident})")

    @api.get("/{entity_set}({ident})/{rest:path}")
    def navigation(entity_set: SetName, ident: RowId, rest: str, request: Request) -> Response:
        """A navigation path, a property, ``$value`` or ``$ref`` below an entity."""
        return read(request, f"{entity_set}({ident})/{rest}")

    @api.get("/{entity_set}")
    def collection(
        entity_set: SetName,
        request: Request,
        filter_: Annotated[str | None, Query(alias="$filter")] = None,
        select: Annotated[str | None, Query(alias="$select")] = None,
        expand: Annotated[str | None, Query(alias="$expand")] = None,
        orderby: Annotated[str | None, Query(alias="$orderby")] = None,
        top: Annotated[int | None, Query(alias="$top", ge=0)] = None,
        skip: Annotated[int | None, Query(alias="$skip", ge=0)] = None,
        count: Annotated[bool | None, Query(alias="$count")] = None,
        result_format: Annotated[str | None, Query(alias="$resultFormat")] = None,
    ) -> Response:
        """An entity set, with the SensorThings query options."""
        return read(request, entity_set)

    @api.get("/{entity_set}/$ref")
    def collection_refs(
        entity_set: SetName,
        request: Request,
        filter_: Annotated[str | None, Query(alias="$filter")] = None,
        orderby: Annotated[str | None, Query(alias="$orderby")] = None,
        top: Annotated[int | None, Query(alias="$top", ge=0)] = None,
        skip: Annotated[int | None, Query(alias="$skip", ge=0)] = None,
        count: Annotated[bool | None, Query(alias="$count")] = None,
    ) -> Response:
        """The selfLinks of an entity set (``Things/$ref``), as below an entity."""
        return read(request, f"{entity_set}/$ref")

    @api.post("/CreateObservations", status_code=201)
    def create_many(request: Request, body: Any = Body(...)) -> list[str]:  # noqa: B008
        """dataArray bulk creation: one selfLink per row, or "error"."""
        ids = create_observations(writer_of(request), body)
        links = Links(request)
        return ["error" if i is None else links.self_link(SETS["Observations"], i) for i in ids]

    @api.post("/{entity_set}({ident})/{nav}", status_code=201)
    def create_under(
        entity_set: SetName,
        ident: RowId,
        nav: str,
        request: Request,
        body: Any = Body(...),  # noqa: B008
    ) -> Response:
        """Create an entity linked to ``entity_set(ident)`` (e.g. Datastreams(1)/Observations)."""
        chosen = writer_of(request)
        with db.reading(store.engine) as con:
            target = resolve(con, f"{entity_set}({ident})/{nav}", services.hidden(request))
        if target.ident is not None or target.prop or target.ref or target.parent is None:
            raise InvalidInput("path", "POST to an entity set or a to-many navigation")
        name, new = chosen.create(target.set.name, body, parent=target.parent)
        return _created(request, name, new)

    @api.post("/{entity_set}", status_code=201)
    def create(
        entity_set: SetName,
        request: Request,
        body: Any = Body(...),  # noqa: B008
    ) -> Response:
        """Create an entity (deep insert of related entities inline)."""
        name, ident = writer_of(request).create(entity_set, body)
        return _created(request, name, ident)

    @api.patch("/{entity_set}({ident})")
    @api.put("/{entity_set}({ident})")
    def update(
        entity_set: SetName,
        ident: RowId,
        request: Request,
        body: Any = Body(...),  # noqa: B008
    ) -> Response:
        """Update an entity's members (PATCH with a JSON object; PUT likewise)."""
        chosen = writer_of(request)
        _visible(store, entity_set, ident, services.hidden(request))
        if isinstance(body, list):
            raise InvalidInput("body", "not implemented: JSON Patch (send a JSON object)")
        chosen.update(entity_set, ident, body)
        return Response(status_code=200)

    @api.delete("/{entity_set}({ident})")
    def delete(entity_set: SetName, ident: RowId, request: Request) -> Response:
        """Delete an entity (and what SensorThings deletes with it)."""
        chosen = writer_of(request)
        _visible(store, entity_set, ident, services.hidden(request))
        chosen.delete(entity_set, ident)
        return Response(status_code=200)

    return api


def _check_data_array(entity_set: EntitySet, options: QueryOptions) -> None:
    """dataArray lists Observations' own properties: a navigation has no value to list."""
    if entity_set.name != "Observations":
        raise InvalidInput("$resultFormat", "dataArray is for Observations")
    navigations = [name for name in options.select if name in entity_set.navs]
    if navigations:
        raise InvalidInput(
            "$select", f"{navigations[0]} is a navigation property, not a dataArray component"
        )


def _visible(store: InsituStore, set_name: str, ident: int, hidden: frozenset[str]) -> None:
    with db.reading(store.engine) as con:
        read_one(con, SETS[set_name], ident, QueryOptions(), hidden)
