"""Users' stored process graphs (openEO user-defined processes), per owner, in the database.

A process is kept as sent (its metadata and ``process_graph``) with its ``id`` set to the
path's id, as openEO API 1.2 asks; the id is openEO's ``^\\w+$``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import sqlalchemy as sa

from terrapole.errors import InvalidInput
from terrapole.jsontypes import Json
from terrapole.openeo import graph
from terrapole.openeo.errors import ProcessGraphIdInvalid, ProcessGraphNotFound
from terrapole.openeo.tables import process_graphs

ID = re.compile(r"^\w+$", re.ASCII)
# what GET /process_graphs lists of each process (the full document: GET /process_graphs/{id})
MAX_PROCESSES = 1000  # stored processes per user
SUMMARY = ("id", "summary", "description", "parameters", "returns", "categories", "deprecated",
           "experimental")  # fmt: skip


def checked_id(ident: str) -> str:
    """``ident`` if it is a valid user-defined process id (ProcessGraphIdInvalid otherwise)."""
    if not ID.match(ident) or len(ident) > 200:
        raise ProcessGraphIdInvalid(ident)
    return ident


def checked_process(ident: str, body: object, user: dict[str, Json] | None = None) -> Json:
    """The process to store for ``PUT /process_graphs/{ident}`` (InvalidInput naming what is
    wrong): an object with a valid ``process_graph`` (which may call ``user``'s processes,
    ``ident`` among them as ``body`` would be), declared ``parameters`` and ``returns``; its
    ``id`` is ``ident``, which may not be a predefined process's."""
    if graph.predefined(ident):
        raise ProcessGraphIdInvalid(ident, "is a predefined process: choose another id")
    if not isinstance(body, dict):
        raise InvalidInput("body", 'give a process: {"process_graph": {...}, ...}')
    if not isinstance(body.get("process_graph"), dict):
        raise InvalidInput("process_graph", "a user-defined process needs a process_graph object")
    declared = _parameters(body.get("parameters"))
    if "returns" in body and not isinstance(body["returns"], dict | None):
        raise InvalidInput("returns", "must be an object (a description and a schema)")
    graph.check(body["process_graph"], "process_graph", user)
    undeclared = graph.undeclared_parameters(body["process_graph"], declared)
    if undeclared:
        raise InvalidInput("process_graph", f"from_parameter {undeclared[0]!r} is no parameter "
                           f"of the process (declared: {sorted(declared)})")  # fmt: skip
    return {**body, "id": checked_id(ident)}


def _parameters(parameters: object) -> set[str]:
    """The names of a process's declared parameters (InvalidInput unless a list of objects
    with a name, a description and a schema)."""
    if parameters is None:
        return set()
    if not isinstance(parameters, list):
        raise InvalidInput("parameters", "must be a list of parameter objects")
    names: set[str] = set()
    for index, parameter in enumerate(parameters):
        if not isinstance(parameter, dict) or not isinstance(parameter.get("name"), str):
            raise InvalidInput(f"parameters[{index}]", "needs a name")
        if not isinstance(parameter.get("description"), str):
            raise InvalidInput(f"parameters[{index}]", "needs a description")
        if not isinstance(parameter.get("schema"), dict | list):
            raise InvalidInput(f"parameters[{index}]", "needs a schema (an object or a list)")
        names.add(parameter["name"])
    return names


class UserProcesses:
    """List, read, store (create or replace) and delete a user's processes."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def list(self, owner: str) -> list[Json]:
        """The owner's processes, by id, with their metadata (no process graph)."""
        query = sa.select(process_graphs.c.process).where(process_graphs.c.owner == owner)
        with self.engine.connect() as con:
            rows = con.execute(query.order_by(process_graphs.c.id)).all()
        return [{k: row.process[k] for k in SUMMARY if k in row.process} for row in rows]

    def get(self, owner: str, ident: str) -> Json:
        """One process, with its graph (ProcessGraphNotFound if the owner has none so named)."""
        query = sa.select(process_graphs.c.process).where(
            process_graphs.c.owner == owner, process_graphs.c.id == checked_id(ident)
        )
        with self.engine.connect() as con:
            row = con.execute(query).first()
        if row is None:
            raise ProcessGraphNotFound(ident)
        return dict(row.process)

    def put(self, owner: str, ident: str, body: object) -> None:
        """Store ``body`` as the owner's process ``ident``, replacing one of that id (checked
        with the processes it calls as they would be: a cycle through ``ident`` is refused)."""
        called: dict[str, Json] = {}
        if isinstance(body, dict):
            called = self.called(owner, body.get("process_graph"), {checked_id(ident): body})
        process = checked_process(ident, body, called)
        key = (process_graphs.c.owner == owner) & (process_graphs.c.id == ident)
        mine = sa.select(sa.func.count()).where(process_graphs.c.owner == owner)
        now = datetime.now(UTC)
        with self.engine.begin() as con:
            if con.execute(sa.select(process_graphs.c.id).where(key)).first() is None:
                if con.execute(mine).scalar_one() >= MAX_PROCESSES:
                    why = f"you have {MAX_PROCESSES:,} stored processes, the most kept per user"
                    raise InvalidInput("process_graph_id", why + ": delete some")
                values = {"owner": owner, "id": ident, "process": process, "updated": now}
                con.execute(process_graphs.insert().values(**values))
            else:
                con.execute(process_graphs.update().where(key).values(process=process, updated=now))

    def called(
        self, owner: str, process_graph: object, replacing: dict[str, Json] | None = None
    ) -> dict[str, Json]:
        """The owner's processes a graph calls, directly or through one another, by id (an id
        the owner has no process of is left out: checking the graph names it); ``replacing``:
        processes read as these, not as stored."""
        replacing = replacing or {}
        found: dict[str, Json] = {}
        waiting = (
            graph.user_process_ids(process_graph) if isinstance(process_graph, dict) else set()
        )
        while waiting:
            ident = waiting.pop()
            if ident in found or not ID.match(ident):
                continue
            try:
                found[ident] = replacing.get(ident) or self.get(owner, ident)
            except ProcessGraphNotFound:
                continue
            if not isinstance(found[ident].get("process_graph"), dict):
                continue
            waiting |= graph.user_process_ids(found[ident]["process_graph"]) - set(found)
        return found

    def delete(self, owner: str, ident: str) -> None:
        """Forget the owner's process ``ident`` (ProcessGraphNotFound if there is none)."""
        key = (process_graphs.c.owner == owner) & (process_graphs.c.id == checked_id(ident))
        with self.engine.begin() as con:
            if con.execute(process_graphs.delete().where(key)).rowcount == 0:
                raise ProcessGraphNotFound(ident)
