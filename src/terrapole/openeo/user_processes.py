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
SUMMARY = ("id", "summary", "description", "parameters", "returns", "categories", "deprecated",
           "experimental")  # fmt: skip


def checked_id(ident: str) -> str:
    """``ident`` if it is a valid user-defined process id (ProcessGraphIdInvalid otherwise)."""
    if not ID.match(ident) or len(ident) > 200:
        raise ProcessGraphIdInvalid(ident)
    return ident


def checked_process(ident: str, body: object, user: dict[str, Json] | None = None) -> Json:
    """The process to store for ``PUT /process_graphs/{ident}`` (InvalidInput naming what is
    wrong): an object with a valid ``process_graph`` (which may call ``user``'s processes);
    its ``id`` is ``ident``."""
    if not isinstance(body, dict):
        raise InvalidInput("body", 'give a process: {"process_graph": {...}, ...}')
    if not isinstance(body.get("process_graph"), dict):
        raise InvalidInput("process_graph", "a user-defined process needs a process_graph object")
    graph.check(body["process_graph"], "process_graph", user)
    return {**body, "id": checked_id(ident)}


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
        """Store ``body`` as the owner's process ``ident``, replacing one of that id."""
        called = self.called(owner, body.get("process_graph")) if isinstance(body, dict) else {}
        process = checked_process(ident, body, called)
        key = (process_graphs.c.owner == owner) & (process_graphs.c.id == ident)
        now = datetime.now(UTC)
        with self.engine.begin() as con:
            if con.execute(sa.select(process_graphs.c.id).where(key)).first() is None:
                values = {"owner": owner, "id": ident, "process": process, "updated": now}
                con.execute(process_graphs.insert().values(**values))
            else:
                con.execute(process_graphs.update().where(key).values(process=process, updated=now))

    def called(self, owner: str, process_graph: object) -> dict[str, Json]:
        """The owner's processes a graph calls, directly or through one another, by id (an id
        the owner has no process of is left out: checking the graph names it)."""
        found: dict[str, Json] = {}
        waiting = (
            graph.user_process_ids(process_graph) if isinstance(process_graph, dict) else set()
        )
        while waiting:
            ident = waiting.pop()
            if ident in found or not ID.match(ident):
                continue
            try:
                found[ident] = self.get(owner, ident)
            except ProcessGraphNotFound:
                continue
            waiting |= graph.user_process_ids(found[ident]["process_graph"]) - set(found)
        return found

    def delete(self, owner: str, ident: str) -> None:
        """Forget the owner's process ``ident`` (ProcessGraphNotFound if there is none)."""
        key = (process_graphs.c.owner == owner) & (process_graphs.c.id == checked_id(ident))
        with self.engine.begin() as con:
            if con.execute(process_graphs.delete().where(key)).rowcount == 0:
                raise ProcessGraphNotFound(ident)
