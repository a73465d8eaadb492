"""Routes that answer only browsers, so a page and a JSON API may share a path.

The CES directory and the calls for projects have their JSON at ``/ces`` and ``/calls``
(:mod:`terrapole.web.ces`, :mod:`terrapole.web.calls`); their pages are at the same paths. A
route of :class:`HtmlRoute` matches only requests whose ``Accept`` header names
``text/html`` (what a browser sends when it opens a page); every other request goes on to
the next route with that path, the JSON one. The page routers are included before the APIs.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Scope


def wants_html(scope: Scope) -> bool:
    """Whether the request's ``Accept`` header names ``text/html``."""
    for name, value in scope.get("headers", ()):
        if name == b"accept":
            return b"text/html" in value
    return False


class HtmlRoute(APIRoute):
    """A page route that lets non-browser requests through to the next route."""

    def matches(self, scope: Scope) -> tuple[Match, MutableMapping[str, Any]]:
        """No match for a request that does not ask for HTML."""
        if scope["type"] == "http" and not wants_html(scope):
            return Match.NONE, {}
        return super().matches(scope)
