"""The outermost ASGI layer: request ids, refusal of control characters, no internals leaked.

Every request gets an id, echoed in the ``X-Request-ID`` header of its answer. Before any route
or other middleware runs, a control character (C0 or DEL) in the path or in a query parameter's
name or value, or a NUL in a string of a JSON body, is answered 400 naming where it is. An
exception nothing else answered is logged with the request id and answered 500 with that id
only: never its text (SQL, paths) or a traceback. Each answer has the shape of its API: openEO
``{id, code, message, links}``, WMS a ServiceExceptionReport, all others ``{code, description}``.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from terrapole.catalog.documents import json_has_nul
from terrapole.errors import InvalidInput
from terrapole.web.wms import exception_report

logger = logging.getLogger(__name__)

HEADER = b"x-request-id"
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # all but tab, LF, CR
MULTILINE = frozenset({"filter"})  # CQL2 text: tabs and line breaks are whitespace there
# A control character in a raw query string, as itself or percent-encoded (%00-%1F, %7F).
RAW_CONTROL = re.compile(rb"[\x00-\x1f\x7f]|%[01][0-9a-fA-F]|%7[fF]")


# 5xx answers whose kind alone says what failed, without internals (the logged text has them)
OWN_WORDS = {
    "ProviderUnavailable": "the OpenID Connect provider cannot be asked now (unreachable, or its "
    "answer is not usable): try again later",
}


def request_id(scope: Scope) -> str:
    """The id the guard gave this request (a fresh one outside the guard, e.g. in unit tests)."""
    state = scope.get("state") or {}
    return str(state.get("request_id") or uuid.uuid4().hex)


def error_response(path: str, status: int, code: str, message: str, rid: str) -> Response:
    """An error answer in the shape of the API that ``path`` belongs to."""
    if path.startswith(("/openeo", "/.well-known/openeo")):
        body = {"id": rid, "code": code, "message": message, "links": []}
        return JSONResponse(body, status_code=status)
    if path.startswith("/wms"):
        report = exception_report("InvalidParameterValue" if status == 400 else code, message)
        report.status_code = status
        return report
    return JSONResponse({"code": code, "description": message}, status_code=status)


def internal_error(path: str, status: int, code: str, rid: str) -> Response:
    """The answer to a server-side failure: its kind and the request id, nothing internal."""
    what = {502: "a file of the data asked for cannot be read where it is stored",
            503: "service unavailable"}.get(status, "internal error")  # fmt: skip
    what = OWN_WORDS.get(code, what)
    return error_response(path, status, code, f"{what}, request id {rid}", rid)


def _control_in_target(scope: Scope) -> InvalidInput | None:
    """A control character in the path or the query string, naming where."""
    if found := CONTROL.search(scope.get("path", "")):
        return _refused("path", found.group())
    raw: bytes = scope.get("query_string", b"")
    if not RAW_CONTROL.search(raw):
        return None
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if found := CONTROL.search(name):
            return _refused(f"query parameter name {name!r}", found.group())
        if found := (TEXT_CONTROL if name in MULTILINE else CONTROL).search(value):
            return _refused(name, found.group())
    return None


def _refused(field: str, char: str) -> InvalidInput:
    return InvalidInput(field, f"control character U+{ord(char):04X} is not allowed")


def _wants_json(scope: Scope) -> bool:
    """Whether the body will be read as JSON (FastAPI also parses bodies without a type)."""
    if scope.get("method") not in ("POST", "PUT", "PATCH"):
        return False
    for key, value in scope.get("headers") or []:
        if key == b"content-type":
            return b"json" in value.lower()
    return True


def _nul_paths(value: Any, where: str) -> Iterator[str]:
    """JSON paths (``q[0]``, ``filter.args[1]``) of the strings and keys holding a NUL."""
    if isinstance(value, str):
        if "\x00" in value:
            yield where
    elif isinstance(value, list):
        for index, entry in enumerate(value):
            yield from _nul_paths(entry, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, entry in value.items():
            inner = f"{where}.{key}" if where else str(key)
            if "\x00" in key:
                yield f"key {inner!r}"
            else:
                yield from _nul_paths(entry, inner)


def _nul_in_body(body: bytes) -> InvalidInput | None:
    if not json_has_nul(body):
        return None
    try:
        where = next(_nul_paths(orjson.loads(body), ""), "") or "body"
    except orjson.JSONDecodeError:
        where = "body"
    return InvalidInput(where, "a NUL character (\\u0000) is not allowed in a string")


MAX_INSPECTED_BODY = 32 * 1024 * 1024
"""Bodies are read into memory for the NUL check up to this size; a longer one (an untyped
upload) is passed on as it streams, unchecked, so no request makes the guard hold more."""


async def _read_body(receive: Receive) -> tuple[bytes, list[Message], bool]:
    """The request body up to :data:`MAX_INSPECTED_BODY`, any other message met on the way (a
    disconnect), and whether the body is whole (False: more follows from ``receive``)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), [message], True
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), [], True
        if size > MAX_INSPECTED_BODY:
            return b"".join(chunks), [], False


def _replay(body: bytes, extra: list[Message], receive: Receive, *, whole: bool = True) -> Receive:
    first: Message = {"type": "http.request", "body": body, "more_body": not whole}
    pending: list[Message] = [first, *extra]

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


class GuardMiddleware:
    """Give each request an id; refuse control characters; answer unexpected errors safely.

    The response start is held back until the first body chunk, so that a streamed response
    whose generator fails before yielding anything still becomes a clean 500. A failure after
    bytes went out is logged; the server then ends the connection, the only way left to tell
    the client that the body is incomplete.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request, run the app, and stand in for it when it fails."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = uuid.uuid4().hex
        scope = {**scope, "state": {**(scope.get("state") or {}), "request_id": rid}}
        held: list[Message] = []
        sent = False

        async def send_with_id(message: Message) -> None:
            nonlocal sent
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (HEADER, rid.encode())]
                held.append({**message, "headers": headers})
                return
            if held:
                await send(held.pop())
            sent = True
            await send(message)

        try:
            refused = _control_in_target(scope)
            if refused is None and _wants_json(scope):
                body, extra, whole = await _read_body(receive)
                refused = _nul_in_body(body) if whole else None
                receive = _replay(body, extra, receive, whole=whole)
            if refused is not None:
                logger.info("request %s: %s %s -> 400: %s", rid, scope["method"],
                            scope["path"].encode("unicode_escape").decode(), refused)  # fmt: skip
                path = scope.get("path", "")
                await error_response(path, 400, "InvalidInput", str(refused), rid)(
                    scope, receive, send_with_id
                )
            else:
                await self.app(scope, receive, send_with_id)
        except Exception as exc:
            logger.error("request %s: %s %s failed", rid, scope["method"],
                         scope["path"].encode("unicode_escape").decode(), exc_info=exc)  # fmt: skip
            if sent:
                return
            held.clear()
            answer = internal_error(scope.get("path", ""), 500, "InternalError", rid)
            await answer(scope, receive, send_with_id)
        if held:  # a start without a body: send it as it is
            await send(held.pop())
