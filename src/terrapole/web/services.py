"""The service container as the HTTP adapters hold it: plus who is asking, from a request.

``terrapole.services.Services`` knows no HTTP; the request-bound helpers (the caller's
principal, the collections hidden from them, the admin check) live here, on the adapters' side,
and ``create_app`` builds this class so that every adapter gets them.
"""

from __future__ import annotations

from starlette.requests import Request

from terrapole.access import Principal, require_admin
from terrapole.services import Services


class WebServices(Services):
    """The service container with the helpers that read the caller from a request."""

    def principal(self, request: Request) -> Principal:
        """Who is asking (raises Unauthorized on a bad token).

        Resolved once per request and kept in the request's state, which every ``Request``
        made from the same ASGI scope shares: middlewares, dependencies and the endpoint all
        get the same principal for one token lookup.
        """
        cached: Principal | None = getattr(request.state, "principal", None)
        if cached is None:
            cached = self.access.authenticate(request.headers.get("authorization"))
            request.state.principal = cached
        return cached

    def hidden(self, request: Request) -> frozenset[str]:
        """Collections the caller may not read."""
        return self.access.hidden_for(self.principal(request))

    def admin(self, request: Request) -> None:
        """Raise unless the caller holds an admin token."""
        require_admin(self.principal(request))
