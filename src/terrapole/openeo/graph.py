"""openEO process graphs: checked before anything runs, then evaluated with openeo-processes-dask.

:func:`check` refuses, with the node named, what cannot run: not a graph, no or several result
nodes, a ``from_node`` to a missing node, a cycle, an unknown process (in callbacks too).
Whether the collections a graph loads exist is the caller's question (:func:`unknown_collections`):
a batch job naming an unknown one is created and fails when it runs.
:func:`evaluate` runs a checked graph: our ``load_collection`` reads the catalogue
(:mod:`terrapole.openeo.cube`), openeo-processes-dask implements the other processes, and our
``save_result`` writes the files (:mod:`terrapole.openeo.formats`). A graph may load nothing
(``add(1, 2)``): its result node's value is the result.

The processes offered are those with both an implementation and a vendored openeo-processes
definition (``specs/``, served verbatim by :func:`specs`).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import warnings
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

from terrapole.errors import InvalidInput
from terrapole.jsontypes import Json
from terrapole.openeo import nodata
from terrapole.openeo.cube import LoadRequest, request_from
from terrapole.openeo.errors import CollectionNotFound

OWN = ("load_collection", "save_result")
# implemented by openeo-processes-dask but not offered here: they read or write elsewhere
LEFT_OUT = frozenset({
    "load_stac", "load_url", "load_geojson", "load_ml_model", "save_ml_model",
    "load_uploaded_files", "run_udf", "export_workspace", "save_vector_cube",
})  # fmt: skip


# errors the processes raise on values they do not accept (our own are TerrapoleErrors)
PROCESS_ERRORS = (TypeError, ValueError, KeyError, IndexError, ArithmeticError)


@cache
def vendored() -> dict[str, Json]:
    """The official openeo-processes definitions in ``specs/`` (proposals included), by id."""
    folder = resources.files("terrapole.openeo") / "specs"
    found: dict[str, Json] = {}
    for where in (folder, folder / "proposals"):
        for entry in where.iterdir():
            if entry.name.endswith(".json"):
                spec = json.loads(entry.read_text(encoding="utf-8"))
                found[str(spec["id"])] = spec
    return found


@cache
def library() -> dict[str, tuple[Json, Callable[..., Any]]]:
    """openeo-processes-dask's processes that have a spec, an implementation and an official
    definition vendored here (the spec is the library's own: the one its parser expects)."""
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
        if process_id not in LEFT_OUT and process_id not in OWN and process_id in vendored():
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


def user_process_ids(graph: Any) -> set[str]:
    """The ids a graph (callbacks included) calls that are no predefined process: user-defined
    ones if their namespace is ``user`` or none."""
    found: set[str] = set()
    for node in graph.values() if isinstance(graph, dict) else []:
        if not isinstance(node, dict):
            continue
        process_id = node.get("process_id")
        predefined = process_id in OWN or process_id in library()
        if (
            isinstance(process_id, str)
            and node.get("namespace") in (None, "user")
            and (not predefined or node.get("namespace") == "user")
        ):
            found.add(process_id)
        for kind, target in _references(node.get("arguments", {})):
            if kind == "callback":
                found |= user_process_ids(target)
    return found


def check(
    graph: Any, where: str = "process graph", user: Mapping[str, Json] | None = None
) -> list[Json]:
    """Check a graph; returns the arguments of its load_collection nodes (callbacks included).
    ``user``: the caller's user-defined processes the graph may call, by id."""
    user = user or {}
    calls = {ident: sorted(user_process_ids(d.get("process_graph")) & user.keys())
             for ident, d in user.items()}  # fmt: skip
    _acyclic(calls, "user-defined processes")  # one calling itself would never end
    nodes = _nodes(graph, where)
    results = [n for n, node in nodes.items() if node.get("result")]
    if len(results) != 1:
        raise InvalidInput(where, f"needs exactly one result node, not {len(results)}")
    edges: dict[str, list[str]] = {}
    loads: list[Json] = []
    for node_id, node in nodes.items():
        process_id = node["process_id"]
        if node.get("namespace") == "user" or (
            process_id not in OWN and process_id not in library()
        ):
            if node.get("namespace") not in (None, "user") or process_id not in user:
                raise InvalidInput(f"{where} node {node_id!r}", f"unknown process {process_id!r}")
        edges[node_id] = []
        for kind, target in _references(node.get("arguments", {})):
            if kind == "callback":
                loads += check(target, f"{where} node {node_id!r} callback", user)
            elif target not in nodes:
                raise InvalidInput(
                    f"{where} node {node_id!r}", f"from_node {target!r} is not a node"
                )
            else:
                edges[node_id].append(target)
        if process_id == "load_collection":
            loads.append(node.get("arguments", {}))
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
    known: Callable[[str], bool] = lambda _: True,
    user: Mapping[str, Json] | None = None,
) -> Any:
    """Run a checked graph; ``load`` and ``save`` implement load_collection and save_result;
    a load_collection of a collection ``known`` does not know raises CollectionNotFound;
    ``user``: the user-defined processes it may call, by id."""
    implemented = library()  # first, so the library is imported with its warnings silenced
    from openeo_pg_parser_networkx import OpenEOProcessGraph, ProcessRegistry
    from openeo_pg_parser_networkx.process_registry import Process
    from openeo_processes_dask.process_implementations.core import process

    registry = ProcessRegistry(wrap_funcs=[process])
    official = vendored()
    results: dict[str, Any] = {}  # the parser's node results, shared by the whole evaluation
    for name, (spec, function) in implemented.items():
        implementation = nodata.wrapped(name, official[name], function)
        if name in PER_ELEMENT:
            implementation = _per_element(implementation, PER_ELEMENT[name], results)
        registry[name] = Process(spec=spec, implementation=implementation)

    def load_collection(id: str, spatial_extent: Any = None, temporal_extent: Any = None,
                        bands: Any = None, properties: Any = None, **_: Any) -> Any:  # fmt: skip
        if not known(str(id)):
            raise CollectionNotFound(str(id))
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

    ndvi_spec, ndvi_function = implemented["ndvi"]
    registry["ndvi"] = Process(spec=ndvi_spec, implementation=_nir08_fallback(ndvi_function))
    registry["load_collection"] = Process(spec={"id": "load_collection"},
                                          implementation=load_collection)  # fmt: skip
    registry["save_result"] = Process(spec={"id": "save_result"}, implementation=save_result)
    for name, definition in (user or {}).items():
        registry[name] = Process(
            spec={"id": name}, implementation=_user_process(definition, registry)
        )
    from openeo_processes_dask.process_implementations.exceptions import OpenEOException

    def values_only(process_id: str) -> bool:
        return process_id in implemented and not nodata.on_cubes(official[process_id])

    graph = nodata.texts_kept(graph, values_only)
    parsed = OpenEOProcessGraph(pg_data={"process_graph": graph})
    try:
        return parsed.to_callable(process_registry=registry, results_cache=results)()
    except (OpenEOException, *PROCESS_ERRORS) as exc:
        # the processes' own errors (theirs, or Python's on values they do not handle, as
        # None in sort): what is wrong with the graph, said to its author, not a crash
        raise InvalidInput("process graph", f"{type(exc).__name__}: {exc}") from exc


# processes that call their callback once per array element, and the callback's parameter
PER_ELEMENT = {"array_apply": "process", "array_filter": "condition"}


def _per_element(
    implementation: Callable[..., Any], parameter: str, cache: dict[str, Any]
) -> Callable[..., Any]:
    """``implementation`` with a callback whose node results are forgotten after each call.

    The graph parser keeps each node's first result for the whole evaluation, so a callback
    called once per element would answer every element with the first one's result."""

    @functools.wraps(implementation)
    def run(*args: Any, **kwargs: Any) -> Any:
        callback = kwargs.get(parameter)
        if callable(callback):

            def fresh(*call_args: Any, **call_kwargs: Any) -> Any:
                kept = set(cache)
                try:
                    return callback(*call_args, **call_kwargs)
                finally:
                    for node in set(cache) - kept:
                        del cache[node]

            kwargs[parameter] = fresh
        return implementation(*args, **kwargs)

    return run


def _user_process(definition: Json, registry: Any) -> Callable[..., Any]:
    """A user-defined process as an implementation: its graph run with the node's arguments
    (and the defaults of the parameters not given) as its parameters."""
    from openeo_pg_parser_networkx import OpenEOProcessGraph

    defaults = {p["name"]: p["default"] for p in definition.get("parameters") or []
                if isinstance(p, dict) and "default" in p}  # fmt: skip

    def run(**arguments: Any) -> Any:
        parsed = OpenEOProcessGraph(pg_data={"process_graph": definition["process_graph"]})
        parameters = defaults | arguments
        run_graph = parsed.to_callable(process_registry=registry, parameters=parameters)
        return run_graph(named_parameters=parameters)

    return run


def _nir08_fallback(ndvi: Callable[..., Any]) -> Callable[..., Any]:
    """ndvi whose default NIR band is the ``nir08`` one (Sentinel-2 B8A) where the cube has no
    band of common name ``nir`` (B8): products with only the 20 m NIR band still get NDVI."""

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        data = kwargs.get("data", args[0] if args else None)
        names = getattr(data, "coords", {}).get("common_name")
        if "nir" not in kwargs and names is not None:
            common = [str(n) for n in names.values]
            if "nir" not in common and "nir08" in common:
                kwargs["nir"] = "nir08"
        return ndvi(*args, **kwargs)

    return wrapped


def _moment(value: Any) -> str | None:
    """A temporal extent bound from the parser (a wrapped pendulum DateTime, or None)."""
    inner = getattr(value, "root", value)
    return (
        None if inner is None else str(inner.isoformat() if hasattr(inner, "isoformat") else inner)
    )


def unknown_collections(loads: list[Json], known: Callable[[str], bool]) -> list[str]:
    """The collection ids ``loads`` (from :func:`check`) name that ``known`` does not know."""
    return [str(a.get("id")) for a in loads if not known(str(a.get("id")))]


def specs() -> dict[str, Json]:
    """Every offered process's official openEO definition, by id, as vendored."""
    official = vendored()
    return {name: official[name] for name in sorted([*library(), *OWN])}
