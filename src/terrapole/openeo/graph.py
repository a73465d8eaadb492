"""openEO process graphs: checked before anything runs, then evaluated with openeo-processes-dask.

:func:`check` refuses, with the node named, what cannot run: not a graph, no or several result
nodes, a ``from_node`` to a missing node, a cycle, an unknown process (in callbacks too), a
load_collection of a collection that does not exist or is hidden from the caller.
:func:`evaluate` runs a checked graph: our ``load_collection`` reads the catalogue
(:mod:`terrapole.openeo.cube`), openeo-processes-dask implements the other processes, and our
``save_result`` writes the files (:mod:`terrapole.openeo.formats`).
"""

from __future__ import annotations

import importlib
import inspect
import warnings
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

from terrapole.errors import InvalidInput
from terrapole.jsontypes import Json
from terrapole.openeo.cube import LoadRequest, request_from

OWN = ("load_collection", "save_result")
# implemented by openeo-processes-dask but not offered here: they read or write elsewhere
LEFT_OUT = frozenset({
    "load_stac", "load_url", "load_geojson", "load_ml_model", "save_ml_model",
    "load_uploaded_files", "run_udf", "export_workspace", "save_vector_cube",
})  # fmt: skip


@cache
def library() -> dict[str, tuple[Json, Callable[..., Any]]]:
    """openeo-processes-dask's processes that have both a spec and an implementation."""
    with warnings.catch_warnings():  # its dependencies still use pydantic v1 idioms
        warnings.simplefilter("ignore", DeprecationWarning)
        module = importlib.import_module("openeo_processes_dask.process_implementations")
        specs = importlib.import_module("openeo_processes_dask.specs")
    implementations = dict(inspect.getmembers(module, inspect.isfunction))
    found: dict[str, tuple[Json, Callable[..., Any]]] = {}
    for name, function in implementations.items():
        # processes named like Python builtins are implemented (and specified) as _max, _if...:
        # the spec's own id is the process id
        spec = getattr(specs, name, None)
        if not isinstance(spec, dict):
            continue
        process_id = str(spec.get("id", name))
        if process_id not in LEFT_OUT and process_id not in OWN:
            found[process_id] = (spec, function)
    return found


def _nodes(graph: Any, where: str) -> dict[str, Json]:
    if not isinstance(graph, dict) or not graph:
        raise InvalidInput(where, "a process graph must be a non-empty object of nodes")
    for node_id, node in graph.items():
        if not isinstance(node, dict) or not isinstance(node.get("process_id"), str):
            raise InvalidInput(f"{where} node {node_id!r}", "needs a process_id")
        if not isinstance(node.get("arguments", {}), dict):
            raise InvalidInput(f"{where} node {node_id!r}", "arguments must be an object")
    return graph


def _references(value: Any) -> Iterator[tuple[str, Any]]:
    """(kind, value) of every from_node reference and callback graph inside an argument."""
    if isinstance(value, dict):
        if "from_node" in value:
            yield "from_node", value["from_node"]
        elif "process_graph" in value:
            yield "callback", value["process_graph"]
        else:
            for inner in value.values():
                yield from _references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _references(inner)


def check(graph: Any, known: Callable[[str], bool], where: str = "process graph") -> list[Json]:
    """Check a graph; returns the arguments of its load_collection nodes (callbacks included)."""
    nodes = _nodes(graph, where)
    results = [n for n, node in nodes.items() if node.get("result")]
    if len(results) != 1:
        raise InvalidInput(where, f"needs exactly one result node, not {len(results)}")
    edges: dict[str, list[str]] = {}
    loads: list[Json] = []
    for node_id, node in nodes.items():
        process_id = node["process_id"]
        if process_id not in OWN and process_id not in library():
            raise InvalidInput(f"{where} node {node_id!r}", f"unknown process {process_id!r}")
        edges[node_id] = []
        for kind, target in _references(node.get("arguments", {})):
            if kind == "callback":
                loads += check(target, known, f"{where} node {node_id!r} callback")
            elif target not in nodes:
                raise InvalidInput(
                    f"{where} node {node_id!r}", f"from_node {target!r} is not a node"
                )
            else:
                edges[node_id].append(target)
        if process_id == "load_collection":
            arguments = node.get("arguments", {})
            if not known(str(arguments.get("id"))):
                raise InvalidInput(f"{where} node {node_id!r}",
                                   f"unknown collection {arguments.get('id')!r}")  # fmt: skip
            loads.append(arguments)
    _acyclic(edges, where)
    return loads


def _acyclic(edges: dict[str, list[str]], where: str) -> None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            cycle = " -> ".join([*path[path.index(node) :], node])
            raise InvalidInput(where, f"the graph has a cycle: {cycle}")
        state[node] = 1
        for target in edges[node]:
            visit(target, [*path, node])
        state[node] = 2

    for node in edges:
        visit(node, [])


def evaluate(
    graph: Json,
    load: Callable[[LoadRequest], Any],
    save: Callable[[Any, str, Json], Any],
) -> Any:
    """Run a checked graph; ``load`` and ``save`` implement load_collection and save_result."""
    implemented = library()  # first, so the library is imported with its warnings silenced
    from openeo_pg_parser_networkx import OpenEOProcessGraph, ProcessRegistry
    from openeo_pg_parser_networkx.process_registry import Process
    from openeo_processes_dask.process_implementations.core import process

    registry = ProcessRegistry(wrap_funcs=[process])
    for name, (spec, function) in implemented.items():
        registry[name] = Process(spec=spec, implementation=function)

    def load_collection(id: str, spatial_extent: Any = None, temporal_extent: Any = None,
                        bands: Any = None, properties: Any = None, **_: Any) -> Any:  # fmt: skip
        extent = None
        if spatial_extent is not None:
            extent = {"west": spatial_extent.west, "south": spatial_extent.south,
                      "east": spatial_extent.east, "north": spatial_extent.north,
                      "crs": spatial_extent.crs}  # fmt: skip
        period = None
        if temporal_extent is not None:
            period = [_moment(t) for t in temporal_extent.root]
        arguments = {"id": id, "spatial_extent": extent, "temporal_extent": period,
                     "bands": list(bands) if bands else None}  # fmt: skip
        return load(request_from(arguments))

    def save_result(data: Any, format: str, options: Any = None, **_: Any) -> Any:
        return save(data, format, dict(options or {}))

    registry["load_collection"] = Process(spec={"id": "load_collection"},
                                          implementation=load_collection)  # fmt: skip
    registry["save_result"] = Process(spec={"id": "save_result"}, implementation=save_result)
    from openeo_processes_dask.process_implementations.exceptions import OpenEOException

    parsed = OpenEOProcessGraph(pg_data={"process_graph": graph})
    try:
        return parsed.to_callable(process_registry=registry)()
    except OpenEOException as exc:  # the processes' own errors say what is wrong with the graph
        raise InvalidInput("process graph", f"{type(exc).__name__}: {exc}") from exc


def _moment(value: Any) -> str | None:
    """A temporal extent bound from the parser (a wrapped pendulum DateTime, or None)."""
    inner = getattr(value, "root", value)
    return (
        None if inner is None else str(inner.isoformat() if hasattr(inner, "isoformat") else inner)
    )


def specs() -> dict[str, Json]:
    """Every offered process's openEO description, by id (the standard specs)."""
    standard = importlib.import_module("openeo_processes_dask.specs")
    found = {name: spec for name, (spec, _) in library().items()}
    for name in OWN:
        found[name] = getattr(standard, name)  # load_collection and save_result: not builtins
    return dict(sorted(found.items()))
