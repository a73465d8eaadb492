"""openEO process graphs as a terrapole service: every openEO batch job and synchronous request
is a job of this process, so credits, CPU·s, logs, results and purge work as for any service.

A graph may load no collection (``add(1, 2)``): it costs the base CPU·s and its result, with or
without save_result, is a file (JSON for a value). A collection that does not exist (or is
hidden from the owner) is not refused when the job is quoted or created: the job fails when it
runs, with the openEO error ``CollectionNotFound``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from shapely.geometry import box, mapping
from shapely.ops import unary_union
from typing_extensions import override

from terrapole.catalog.store import ReadStore
from terrapole.errors import InvalidInput, NotFound
from terrapole.jobs.process import File, JobContext, Layer, Parameter, Process, Result
from terrapole.jsontypes import Json
from terrapole.openeo import cube, formats, graph
from terrapole.openeo.cube import LoadRequest

CPU_S_PER_MVALUE = 0.3  # reading, computing and writing a million values, with margin
BASE_CPU_S = 1.0
LIMITS = {"sync": 20_000_000, "batch": 400_000_000}  # values a request may load
# where a result that loads nothing lies: a pure computation is about no place in particular
WORLD: Json = mapping(box(-180.0, -90.0, 180.0, 90.0))


def collection_exists(store: ReadStore) -> Any:
    """A test of whether a collection id exists in ``store`` (the caller's visible view)."""

    def known(collection_id: str) -> bool:
        try:
            store.get_collection(collection_id)
        except NotFound:
            return False
        return True

    return known


def _moment(text: str | None, default: datetime) -> datetime:
    if not text:
        return default
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class ProcessGraph(Process):
    """An openEO process graph run on the catalogue's products."""

    id: ClassVar[str] = "openeo-process-graph"
    title: ClassVar[str] = "openEO process graph"
    description: ClassVar[str] = (
        "Runs an openEO process graph (load_collection from this catalogue, the "
        "openeo-processes-dask processes, save_result as GeoTIFF, netCDF or JSON)."
    )
    keywords: ClassVar[tuple[str, ...]] = ("openEO", "process graph", "datacube")
    parameters: ClassVar[tuple[Parameter, ...]] = (
        Parameter("process", "Process", {"type": "object", "required": ["process_graph"],
                                         "properties": {"process_graph": {"type": "object"}}},
                  "an openEO process: {process_graph: {...}}"),
        Parameter("mode", "Mode", {"enum": ["batch", "sync"]},
                  "sync: a synchronous request, limited to smaller loads", expert=True,
                  default="batch"),
        Parameter("user_processes", "User-defined processes",
                  {"type": "object", "additionalProperties": {"type": "object"}},
                  "the owner's processes the graph calls, by id", expert=True, default={}),
    )  # fmt: skip
    outputs: ClassVar[dict[str, Json]] = {
        "result": {"title": "save_result's files", "schema": {"type": "string"}},
    }
    stages: ClassVar[tuple[str, ...]] = ("PREPARATION", "PROCESSING", "PUBLICATION")

    @override
    def estimate(self, inputs: Json, store: ReadStore) -> float:
        loads = graph.check(inputs["process"]["process_graph"], user=inputs.get("user_processes"))
        missing = set(graph.unknown_collections(loads, collection_exists(store)))
        limit = LIMITS[inputs["mode"]]
        values = 0
        for arguments in loads:
            if str(arguments.get("id")) in missing:  # fails when it runs: CollectionNotFound
                continue
            if graph.parameterised(arguments):  # limited when it runs (the running total)
                continue
            asked, _ = cube.values_asked(store, cube.request_from(arguments))
            values += asked
        if values > limit:
            why = f"{values:,} values to load (dates x bands x pixels)"
            raise InvalidInput(
                "process graph", f"{why}; a {inputs['mode']} request may load {limit:,}"
            )
        return BASE_CPU_S + CPU_S_PER_MVALUE * values / 1e6

    @override
    def run(self, context: JobContext, inputs: Json) -> Result:
        context.stage("PREPARATION", 0)
        process_graph = inputs["process"]["process_graph"]
        requests: list[LoadRequest] = []
        items: list[tuple[str, str]] = []
        crs: list[str] = []
        written: list[formats.Written] = []
        limit = LIMITS[inputs["mode"]]
        loaded = [0]  # values loaded so far, by every load_collection of the run

        def load(request: LoadRequest) -> Any:
            period = f"{request.start} .. {request.end}"
            context.log(f"load_collection {request.collection} {request.bbox} {period} "
                        f"{request.bands or 'all bands'}")  # fmt: skip
            data = cube.load(context.store, context.storage, request, limit - loaded[0])
            loaded[0] += int(data.size)
            if loaded[0] > limit:
                raise InvalidInput("process graph", f"{loaded[0]:,} values loaded; a "
                                   f"{inputs['mode']} request may load {limit:,}")  # fmt: skip
            requests.append(request)
            items.extend(i for i in data.attrs["items"] if i not in items)
            crs.append(data.attrs["crs"])
            context.stage("PROCESSING", 10)
            return data

        def save(data: Any, name: str, options: Json) -> bool:
            context.stage("PROCESSING", 50)
            written.extend(formats.save(data, name, context.folder, crs[0] if crs else None))
            return True

        value = graph.evaluate(process_graph, load, save, collection_exists(context.store),
                               inputs.get("user_processes"), max_values=limit)  # fmt: skip
        if not written:  # no save_result: the result node's value is the result
            written.extend(formats.save(value, formats.default_format(value), context.folder,
                                        crs[0] if crs else None))  # fmt: skip
        context.stage("PROCESSING", 100)
        now = datetime.now(UTC)
        footprint = mapping(unary_union([box(*r.bbox) for r in requests])) if requests else WORLD
        return Result(
            geometry=footprint,
            start=min((_moment(r.start, now) for r in requests), default=now),
            end=max((_moment(r.end, now) for r in requests), default=now),
            layers=[Layer(w.key, w.path, f"save_result {w.key}") for w in written if w.raster],
            files=[File(w.key, w.path, w.media_type, f"save_result {w.key}")
                   for w in written if not w.raster],
            properties={"openeo:process_graph_nodes": len(process_graph)},
            derived_from=items,
        )  # fmt: skip
