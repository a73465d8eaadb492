"""openEO process graphs: checked before anything runs, then evaluated with openeo-processes-dask.

:func:`check` refuses, with the node named, what cannot run: not a graph, no or several result
nodes, a ``from_node`` to a missing node, a cycle, an unknown process or namespace (in
callbacks too), our internal text marker; it expands the user-defined processes called, each
call counted, up to :data:`MAX_EXPANDED_NODES` nodes and :data:`MAX_DEPTH` nested calls.
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
from terrapole.openeo import geometries, nodata, sizes
from terrapole.openeo.cube import LoadRequest, request_from
from terrapole.openeo.errors import CollectionNotFound

OWN = ("load_collection", "save_result")
# implemented by openeo-processes-dask but not offered here: they read or write elsewhere
LEFT_OUT = frozenset({
    "load_stac", "load_url", "load_geojson", "load_ml_model", "save_ml_model",
    "load_uploaded_files", "run_udf", "export_workspace", "save_vector_cube",
})  # fmt: skip


MAX_EXPANDED_NODES = 10_000  # nodes a graph may run, a stored process counted at each call
MAX_DEPTH = 16  # stored processes calling stored processes, nested
NAMESPACES = (None, "user", "backend")  # backend: a predefined process only


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


def _references(value: Any, parameters: bool = False) -> Iterator[tuple[str, Any]]:
    """(kind, value) of every from_node reference, callback graph, object of our internal text
    marker and (``parameters``) from_parameter reference inside an argument."""
    if isinstance(value, dict):
        if nodata.TEXT in value:
            yield "marker", nodata.TEXT
        if "from_node" in value:
            yield "from_node", value["from_node"]
        elif "from_parameter" in value:
            if parameters:
                yield "from_parameter", value["from_parameter"]
        elif "process_graph" in value:
            yield "callback", value["process_graph"]
        else:
            for inner in value.values():
                yield from _references(inner, parameters)
    elif isinstance(value, list):
        for inner in value:
            yield from _references(inner, parameters)


def predefined(process_id: object) -> bool:
    """Whether ``process_id`` is one of the processes this back-end offers."""
    return process_id in OWN or process_id in library()


def user_call(node: Json) -> bool:
    """Whether a node calls a user-defined process: namespace ``user``, or no namespace and an
    id that is no predefined process."""
    namespace = node.get("namespace")
    return namespace == "user" or (namespace is None and not predefined(node.get("process_id")))


def user_process_ids(graph: Any) -> set[str]:
    """The ids of the user-defined processes a graph (callbacks included) calls."""
    found: set[str] = set()
    for node in graph.values() if isinstance(graph, dict) else []:
        if not isinstance(node, dict):
            continue
        if isinstance(node.get("process_id"), str) and user_call(node):
            found.add(node["process_id"])
        for kind, target in _references(node.get("arguments", {})):
            if kind == "callback":
                found |= user_process_ids(target)
    return found


def check(
    graph: Any, where: str = "process graph", user: Mapping[str, Json] | None = None
) -> list[Json]:
    """Check a graph; returns the arguments of the load_collection nodes it runs (callbacks and
    the user-defined processes it calls included, once per call).

    ``user``: the caller's user-defined processes the graph may call, by id. A graph that would
    run over :data:`MAX_EXPANDED_NODES` nodes (stored processes expanded at each call) or nest
    stored processes deeper than :data:`MAX_DEPTH` is refused, naming the process."""
    user = user or {}
    calls = {ident: sorted(user_process_ids(d.get("process_graph")) & user.keys())
             for ident, d in user.items()}  # fmt: skip
    _acyclic(calls, "user-defined processes")  # one calling itself would never end
    _, _, loads = _Checker(user).graph(graph, where, 0)
    return loads


class _Checker:
    """Checks graphs and the stored processes they call, each stored process once (memoised:
    its expanded node count, nesting depth and loads)."""

    def __init__(self, user: Mapping[str, Json]) -> None:
        self.user = user
        self.done: dict[str, tuple[int, int, list[Json]]] = {}

    def graph(self, graph: Any, where: str, level: int) -> tuple[int, int, list[Json]]:
        """(expanded node count, nesting depth of stored processes, loads) of a graph."""
        nodes = _nodes(graph, where)
        results = [n for n, node in nodes.items() if node.get("result")]
        if len(results) != 1:
            raise InvalidInput(where, f"needs exactly one result node, not {len(results)}")
        edges: dict[str, list[str]] = {}
        count, depth, loads = 0, 0, []
        for node_id, node in nodes.items():
            here = f"{where} node {node_id!r}"
            inner = [self.node(node, here, level)]
            edges[node_id] = []
            for kind, target in _references(node.get("arguments", {})):
                if kind == "callback":
                    inner.append(self.graph(target, f"{here} callback", level))
                elif kind == "marker":
                    raise InvalidInput(here, f"{target!r} is a name reserved by this back-end")
                elif target not in nodes:
                    raise InvalidInput(here, f"from_node {target!r} is not a node")
                else:
                    edges[node_id].append(target)
            for size, nesting, loaded in inner:
                count, depth = count + size, max(depth, nesting)
                if count > MAX_EXPANDED_NODES:
                    raise InvalidInput(here, f"runs over {MAX_EXPANDED_NODES:,} nodes (stored "
                                       "processes counted at each call)")  # fmt: skip
                loads += loaded
        _acyclic(edges, where)
        return count, depth, loads

    def node(self, node: Json, where: str, level: int) -> tuple[int, int, list[Json]]:
        """(node count, depth, loads) of one node, a call of a stored process expanded."""
        process_id, namespace = node["process_id"], node.get("namespace")
        if namespace not in NAMESPACES:
            raise InvalidInput(where, f"unknown namespace {namespace!r}: give null or 'user'")
        if user_call(node):
            if process_id not in self.user:
                raise InvalidInput(where, f"unknown process {process_id!r}")
            size, depth, loads = self.process(process_id, level + 1)
            return 1 + size, depth, loads
        if not predefined(process_id):
            raise InvalidInput(where, f"unknown process {process_id!r}")
        if process_id == "load_collection":
            return 1, 0, [node.get("arguments", {})]
        return 1, 0, []

    def process(self, ident: str, level: int) -> tuple[int, int, list[Json]]:
        where = f"user-defined process {ident!r}"
        if level > MAX_DEPTH:
            raise InvalidInput(where, f"stored processes nest deeper than {MAX_DEPTH}")
        if ident not in self.done:
            size, depth, loads = self.graph(self.user[ident]["process_graph"], where, level)
            self.done[ident] = (size, depth + 1, loads)
        size, depth, loads = self.done[ident]
        if level - 1 + depth > MAX_DEPTH:
            raise InvalidInput(where, f"stored processes nest deeper than {MAX_DEPTH}")
        return size, depth, loads


def parameterised(arguments: Json) -> bool:
    """Whether a node's arguments use a ``from_parameter`` (outside callbacks): a load in a
    stored process whose extent is a parameter, which only its call knows."""
    return any(kind == "from_parameter" for kind, _ in _references(arguments, parameters=True))


def undeclared_parameters(graph: Json, declared: set[str]) -> list[str]:
    """The ``from_parameter`` names a graph uses that are neither ``declared`` nor parameters
    of the callback they are in (as the called process's definition names them)."""
    found: list[str] = []
    for node in graph.values():
        for name, value in (node.get("arguments") or {}).items():
            for kind, target in _references(value, parameters=True):
                if kind == "callback":
                    inner = declared | _callback_parameters(str(node.get("process_id")), name)
                    found += undeclared_parameters(target, inner)
                elif kind == "from_parameter" and target not in declared:
                    found.append(str(target))
    return found


def _callback_parameters(process_id: str, argument: str) -> set[str]:
    """The parameters a predefined process passes to its callback argument ``argument``."""
    names: set[str] = set()
    for parameter in vendored().get(process_id, {}).get("parameters", []):
        if parameter.get("name") != argument:
            continue
        schemas = parameter.get("schema", [])
        for schema in schemas if isinstance(schemas, list) else [schemas]:
            names |= {str(p.get("name")) for p in schema.get("parameters") or []}
    return names


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
    max_values: int | None = None,
) -> Any:
    """Run a checked graph; ``load`` and ``save`` implement load_collection and save_result;
    a load_collection of a collection ``known`` does not know raises CollectionNotFound;
    ``user``: the user-defined processes it may call, by id; ``max_values``: the most values
    an array argument or result of a process may hold."""
    implemented = library()  # first, so the library is imported with its warnings silenced
    from openeo_pg_parser_networkx import OpenEOProcessGraph
    from openeo_pg_parser_networkx.process_registry import Process
    from openeo_processes_dask.process_implementations.exceptions import OpenEOException

    official = vendored()
    # the parser's node results of each graph being run (a stored process's call: its own),
    # innermost last
    caches: list[dict[str, Any]] = [{}]
    registry = _library_registry(caches, max_values)

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

    def values_only(process_id: str) -> bool:
        return process_id in implemented and not nodata.on_cubes(official[process_id])

    def prepared(body: Json) -> Json:
        return nodata.texts_kept(_user_calls_renamed(body), values_only)

    for name, definition in (user or {}).items():
        registry[USER_KEY.format(name)] = Process(
            spec={"id": name}, implementation=_user_process(definition, registry, caches, prepared)
        )
    parsed = OpenEOProcessGraph(pg_data={"process_graph": prepared(graph)})
    try:
        return parsed.to_callable(process_registry=registry, results_cache=caches[0])()
    except OpenEOException as exc:
        # the library's errors about the graph (a parameter missing...): said to its author
        raise InvalidInput("process graph", f"{type(exc).__name__}: {exc}") from exc
    except MemoryError as exc:
        raise InvalidInput("process graph", "needs more memory than this back-end has: "
                           "compute on smaller arrays") from exc  # fmt: skip


def _library_registry(caches: list[dict[str, Any]], max_values: int | None) -> Any:
    """A process registry of the library's processes, with openEO's no-data rules, callbacks
    run afresh for each element and (``max_values``) array sizes limited."""
    from openeo_pg_parser_networkx import ProcessRegistry
    from openeo_pg_parser_networkx.process_registry import Process
    from openeo_processes_dask.process_implementations.core import process

    registry = ProcessRegistry(wrap_funcs=[process])
    official = vendored()
    for name, (spec, function) in library().items():
        if name == "aggregate_spatial":  # any GeoJSON, a bare Point included
            function = geometries.any_geojson(function)
        implementation = nodata.wrapped(name, official[name], function)
        if name in PER_ELEMENT:
            implementation = _per_element(implementation, PER_ELEMENT[name], caches)
        if max_values is not None:
            implementation = sizes.limited(name, implementation, max_values)
        registry[name] = Process(spec=spec, implementation=implementation)
    return registry


# how a user-defined process is registered: apart from the predefined ones (ids are ``\w+``,
# and the parser strips leading and trailing ``_``)
USER_KEY = "u__{}__u"


def _user_calls_renamed(graph: Json) -> Json:
    """``graph`` with its calls of user-defined processes (callbacks included) renamed to
    their :data:`USER_KEY`: a stored process never stands for a predefined one."""
    renamed: Json = {}
    for node_id, node in graph.items():
        arguments = {k: _callbacks_renamed(v) for k, v in (node.get("arguments") or {}).items()}
        node = {**node, "arguments": arguments}
        if user_call(node):
            node = {**node, "process_id": USER_KEY.format(node["process_id"]), "namespace": None}
        renamed[node_id] = node
    return renamed


def _callbacks_renamed(value: Any) -> Any:
    if isinstance(value, dict):
        if isinstance(value.get("process_graph"), dict):
            return {**value, "process_graph": _user_calls_renamed(value["process_graph"])}
        return {k: _callbacks_renamed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_callbacks_renamed(v) for v in value]
    return value


# processes that call their callback once per array element, and the callback's parameter
PER_ELEMENT = {"array_apply": "process", "array_filter": "condition"}


def _per_element(
    implementation: Callable[..., Any], parameter: str, caches: list[dict[str, Any]]
) -> Callable[..., Any]:
    """``implementation`` with a callback whose node results are forgotten after each call.

    The graph parser keeps each node's first result for the whole evaluation, so a callback
    called once per element would answer every element with the first one's result. The
    callback's results are in the cache of the graph being run when it is called (the last)."""

    @functools.wraps(implementation)
    def run(*args: Any, **kwargs: Any) -> Any:
        callback = kwargs.get(parameter)
        if callable(callback):
            cache = caches[-1]

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


def _user_process(
    definition: Json,
    registry: Any,
    caches: list[dict[str, Any]],
    prepared: Callable[[Json], Json],
) -> Callable[..., Any]:
    """A user-defined process as an implementation: its graph (``prepared`` as the main one is)
    run with the node's arguments (and the defaults of the parameters not given) as its
    parameters, with node results of its own for each call."""
    from openeo_pg_parser_networkx import OpenEOProcessGraph

    defaults = {p["name"]: p["default"] for p in definition.get("parameters") or []
                if isinstance(p, dict) and "default" in p}  # fmt: skip
    body = prepared(definition["process_graph"])

    def run(**arguments: Any) -> Any:
        parsed = OpenEOProcessGraph(pg_data={"process_graph": body})
        parameters = defaults | arguments
        own: dict[str, Any] = {}
        caches.append(own)
        try:
            run_graph = parsed.to_callable(
                process_registry=registry, results_cache=own, parameters=parameters
            )
            return run_graph(named_parameters=parameters)
        finally:
            caches.pop()

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
    """The collection ids ``loads`` (from :func:`check`) name that ``known`` does not know (an
    id that is a stored process's parameter is known when it runs)."""
    return [str(a.get("id")) for a in loads
            if not isinstance(a.get("id"), dict) and not known(str(a.get("id")))]  # fmt: skip


def specs() -> dict[str, Json]:
    """Every offered process's official openEO definition, by id, as vendored."""
    official = vendored()
    return {name: official[name] for name in sorted([*library(), *OWN])}
