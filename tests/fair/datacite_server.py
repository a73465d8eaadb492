"""A local DataCite REST API for the tests: the DOI endpoints the provider uses, on a real HTTP
server in a thread.

It does what DataCite does with them: HTTP Basic auth of one repository, JSON:API bodies of
type ``dois`` sent as ``application/vnd.api+json``, a DOI under the repository's prefix only,
a duplicate DOI refused (422), PUT creating or updating (partially) a DOI, the state moves of
the ``event`` attribute (publish: draft|registered → findable; register: draft → registered;
hide: findable → registered; an event from a state it does not leave is refused, stricter than
DataCite may be; nothing goes back to draft and only a draft may be deleted), and
every document it keeps validated against the DataCite 4.5 JSON schema of the ``datacite``
package (a findable DOI needs the whole kernel; a draft only what it holds to be valid), with
DataCite-shaped ``errors[]`` when it refuses. GET answers in the REST API's own shape
(publisher and affiliations as names unless asked for objects, an integer publication year,
``types`` with renderings, nulls for what is missing).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from datacite import schema45

JSON_API = "application/vnd.api+json"
# event → the states it may start from, and the state it leads to
MOVES = {
    "publish": ({"draft", "registered"}, "findable"),
    "register": ({"draft"}, "registered"),
    "hide": ({"findable"}, "registered"),
}
NULLS = ("language", "version", "publisher", "publicationYear", "url")


@dataclass
class FakeDataCite:
    """What the server holds: its DOIs (attributes as sent, merged) and every request seen."""

    prefix: str = "10.5072"
    repository_id: str = "THEIA.TEST"
    password: str = "s3cret"
    dois: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    # per method, how to answer its next requests: None as usual, a status as a failure
    failures: dict[str, list[int | None]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Refusal(Exception):
    def __init__(self, status: int, *errors: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.errors = errors


def _error(title: str, source: str | None = None, status: int = 422) -> dict[str, Any]:
    error: dict[str, Any] = {"status": str(status), "title": title}
    if source:
        error["source"] = source
    return error


def _schema_errors(doc: dict[str, Any], *, whole: bool) -> list[dict[str, Any]]:
    """DataCite-shaped errors for what the 4.5 schema refuses in ``doc`` (missing properties
    only count for a ``whole`` kernel: a draft may hold next to nothing)."""
    found = []
    for error in schema45.validator.iter_errors(doc):
        if error.validator == "required" and not error.absolute_path and not whole:
            continue
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        found.append(_error(error.message, where))
    return found


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet tests
        pass

    def do_GET(self) -> None:  # http.server's naming
        self._answer(self._get)

    def do_POST(self) -> None:
        self._answer(self._post)

    def do_PUT(self) -> None:
        self._answer(self._put)

    def do_DELETE(self) -> None:
        self._answer(self._delete)

    # -- plumbing ---------------------------------------------------------------------------

    def _answer(self, action: Any) -> None:
        fake = self.server.fake
        with fake.lock:
            fake.requests.append((self.command, self.path))
            try:
                failure = (fake.failures.get(self.command) or [None]).pop(0)
                if failure is not None:
                    raise _Refusal(failure, _error("Service Unavailable", status=failure))
                self._authenticate()
                status, body = action()
            except _Refusal as refusal:
                status, body = refusal.status, {"errors": list(refusal.errors)}
        data = b"" if status == 204 else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", JSON_API)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authenticate(self) -> None:
        fake = self.server.fake
        header = self.headers.get("Authorization", "")
        expected = f"{fake.repository_id}:{fake.password}".encode()
        if not header.startswith("Basic ") or base64.b64decode(header[6:]) != expected:
            raise _Refusal(401, _error("Bad credentials.", status=401))

    def _doi(self) -> str:
        path = unquote(urlsplit(self.path).path)
        if not path.startswith("/dois/"):
            raise _Refusal(
                404, _error("The resource you are looking for doesn't exist.", None, 404)
            )
        return path.removeprefix("/dois/").lower()

    def _attributes(self) -> dict[str, Any]:
        if self.headers.get("Content-Type", "").split(";")[0] != JSON_API:
            raise _Refusal(415, _error(f"Content-Type must be {JSON_API}", status=415))
        length = int(self.headers.get("Content-Length", "0"))
        try:
            body = json.loads(self.rfile.read(length))
        except ValueError as exc:
            raise _Refusal(400, _error(f"not JSON: {exc}", status=400)) from exc
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or data.get("type") != "dois":
            raise _Refusal(400, _error("data of type 'dois' is required", "data", 400))
        attributes = data.get("attributes")
        if not isinstance(attributes, dict):
            raise _Refusal(400, _error("data.attributes is required", "attributes", 400))
        return attributes

    # -- endpoints --------------------------------------------------------------------------

    def _get(self) -> tuple[int, dict[str, Any]]:
        doi = self._doi()
        held = self.server.fake.dois.get(doi)
        if held is None:
            raise _Refusal(
                404, _error("The resource you are looking for doesn't exist.", None, 404)
            )
        query = parse_qs(urlsplit(self.path).query)
        return 200, {"data": {"id": doi, "type": "dois", "attributes": _rest(held, query)}}

    def _post(self) -> tuple[int, dict[str, Any]]:
        if urlsplit(self.path).path != "/dois":
            raise _Refusal(
                404, _error("The resource you are looking for doesn't exist.", None, 404)
            )
        attributes = self._attributes()
        fake = self.server.fake
        doi = str(attributes.get("doi") or f"{attributes.get('prefix')}/x{len(fake.dois)}").lower()
        if doi in fake.dois:
            raise _Refusal(422, _error("This DOI has already been taken", "doi"))
        return 201, self._store(doi, {}, attributes)

    def _put(self) -> tuple[int, dict[str, Any]]:
        doi = self._doi()
        attributes = self._attributes()
        held = self.server.fake.dois.get(doi)
        return (201, self._store(doi, {}, attributes)) if held is None else (
            200, self._store(doi, held, attributes))  # fmt: skip

    def _delete(self) -> tuple[int, dict[str, Any]]:
        doi = self._doi()
        held = self.server.fake.dois.get(doi)
        if held is None:
            raise _Refusal(
                404, _error("The resource you are looking for doesn't exist.", None, 404)
            )
        if held["state"] != "draft":
            raise _Refusal(405, _error("Method not allowed", status=405))
        del self.server.fake.dois[doi]
        return 204, {}

    def _store(self, doi: str, held: dict[str, Any], attributes: dict[str, Any]) -> dict[str, Any]:
        fake = self.server.fake
        if not doi.startswith(fake.prefix + "/"):
            raise _Refusal(403, _error(f"{doi} is not under the prefix of {fake.repository_id}",
                                       status=403))  # fmt: skip
        if attributes.get("doi") and str(attributes["doi"]).lower() != doi:
            raise _Refusal(422, _error("does not match the DOI of the URL", "doi"))
        event = attributes.get("event")
        merged = {**held.get("metadata", {}), **attributes}
        merged.pop("event", None)
        merged["doi"] = doi
        state = held.get("state", "draft")
        if event is not None:
            if event not in MOVES:
                raise _Refusal(422, _error(f"unknown event {event!r}", "event"))
            starts, finish = MOVES[event]
            if state not in starts:
                raise _Refusal(422, _error(f"cannot {event} a {state} DOI", "event"))
            state = finish
        whole = state != "draft"
        errors = _schema_errors(merged, whole=whole)
        if whole and not merged.get("url"):
            errors.append(_error("can't be blank", "url"))
        if errors:
            raise _Refusal(422, *errors)
        fake.dois[doi] = {"state": state, "metadata": merged}
        return {"data": {"id": doi, "type": "dois", "attributes": _rest(fake.dois[doi], {})}}


def _rest(held: dict[str, Any], query: dict[str, list[str]]) -> dict[str, Any]:
    """A held DOI as the REST API shows it."""
    out: dict[str, Any] = {key: None for key in NULLS}
    out.update(json.loads(json.dumps(held["metadata"])))
    doi = out["doi"]
    out.update(prefix=doi.split("/")[0], suffix=doi.split("/", 1)[1], state=held["state"],
               identifiers=[], viewCount=0, citationCount=0, isActive=held["state"] == "findable")  # fmt: skip
    if out.get("publicationYear") is not None:
        out["publicationYear"] = int(out["publicationYear"])
    if isinstance(out.get("types"), dict):
        general = out["types"].get("resourceTypeGeneral")
        out["types"].update(ris="DATA", bibtex="misc", citeproc="dataset", schemaOrg=general)
    if query.get("publisher") != ["true"] and isinstance(out.get("publisher"), dict):
        out["publisher"] = out["publisher"].get("name")
    if query.get("affiliation") != ["true"]:
        for agent in (*out.get("creators", ()), *out.get("contributors", ())):
            agent["affiliation"] = [a.get("name") for a in agent.get("affiliation", ())]
    for related in out.get("relatedIdentifiers", ()):
        related.setdefault("resourceTypeGeneral", None)
    return out


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeDataCite) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


@contextmanager
def running(fake: FakeDataCite) -> Iterator[str]:
    """Serve ``fake`` on a free local port; yields its base URL."""
    server = _Server(fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
