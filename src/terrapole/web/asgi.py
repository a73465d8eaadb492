"""What the map middlewares share: the request's principal, and error answers from the app's table.

Middlewares run outside FastAPI's exception handling, so an error they meet is answered here
with the handler the application registered for its class (the one status table in ``app.py``),
never with a status of their own.
"""

from __future__ import annotations

import inspect

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from terrapole.access import Principal
from terrapole.web.services import WebServices


def principal(services: WebServices, scope: Scope) -> Principal:
    """The caller, resolved once per request (kept in the scope's state for the route)."""
    return services.principal(Request(scope))


async def answer_error(exc: Exception, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer ``exc`` with the application's handler for its class (re-raise if it has none)."""
    handlers = scope["app"].exception_handlers
    handler = next((handlers[k] for k in type(exc).__mro__ if k in handlers), None)
    if handler is None:
        raise exc
    response = handler(Request(scope, receive), exc)
    if inspect.isawaitable(response):
        response = await response
    assert isinstance(response, Response)
    await response(scope, receive, send)
