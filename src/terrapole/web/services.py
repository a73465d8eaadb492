"""The service container as the HTTP adapters hold it: plus who is asking, from a request.

``terrapole.services.Services`` knows no HTTP; the request-bound helpers (the caller's
principal, the collections hidden from them, the admin check) live here, on the adapters' side,
and ``create_app`` builds this class so that every adapter gets them.
"""

from __future__ import annotations

from functools import cached_property

from starlette.requests import Request

from terrapole.access import Principal, require_admin
from terrapole.access.oidc_accounts import OidcAccounts
from terrapole.access.oidc_tokens import OidcTokens, parse_bearer
from terrapole.errors import Unauthorized
from terrapole.services import Services
from terrapole.web.oidc_bearer import UserInfoClient
from terrapole.web.sessions import COOKIE, SAFE_METHODS, Session, SessionStore


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
            authorization = request.headers.get("authorization")
            # a portal session stands for its user on reads only: a cookie alone never
            # changes anything (the account endpoints check its CSRF token themselves)
            by_cookie = not authorization and request.method in SAFE_METHODS
            session = self.session_principal(request) if by_cookie else None
            cached = session or self.authenticate(authorization)
            request.state.principal = cached
        return cached

    def authenticate(self, authorization: str | None) -> Principal:
        """The principal of an ``Authorization`` header: an API token's, or the account of an
        OpenID Connect access token (``Bearer oidc/<provider id>/<token>``, as openEO sends)."""
        bearer = parse_bearer(authorization)
        if bearer is None:
            return self.access.authenticate(authorization)
        if self.oidc_tokens is None:
            raise Unauthorized("OpenID Connect is not configured on this server: use an API token")
        principal = self.principal_of_user(self.oidc_tokens.user_id(bearer))
        if principal is None:
            raise Unauthorized("this account is disabled")
        return principal

    @cached_property
    def oidc_tokens(self) -> OidcTokens | None:
        """The resolver of OpenID Connect bearers (None: no provider configured)."""
        issuer = self.settings.oidc_issuer
        if not issuer:
            return None
        return OidcTokens(OidcAccounts(self.accounts), issuer, UserInfoClient(issuer))

    def session_principal(self, request: Request) -> Principal | None:
        """The principal of the request's portal session (``user:<id>``, with the account's
        roles, entities, profiles and licences); None without a live session."""
        secret = request.cookies.get(COOKIE)
        session = SessionStore(self.access.engine).get(secret) if secret else None
        return self.principal_of_session(session) if session else None

    def principal_of_session(self, session: Session) -> Principal | None:
        """The principal of a live session's user (None for a disabled or deleted account)."""
        return self.principal_of_user(session.user_id)

    def principal_of_user(self, user_id: str) -> Principal | None:
        """The principal ``user:<id>`` of an account signed in without an API token (a portal
        session, an OpenID Connect bearer); None for a disabled or deleted account."""
        return self.access.principal_of_user(user_id)

    def hidden(self, request: Request) -> frozenset[str]:
        """Collections the caller may not read."""
        return self.access.hidden_for(self.principal(request))

    def admin(self, request: Request) -> None:
        """Raise unless the caller holds an admin token."""
        require_admin(self.principal(request))
