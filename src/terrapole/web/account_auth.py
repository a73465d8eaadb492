"""Who is signed in, for the account, entity and order endpoints and pages.

A request is made either with an API token (``Authorization: Bearer``) that an account owns,
with an OpenID Connect access token (``Bearer oidc/<provider id>/<token>``), or with the
portal's session cookie; with the cookie, every state-changing request must also
carry the session's CSRF token (:mod:`terrapole.web.sessions`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, is_dataclass
from typing import Any

from fastapi.encoders import jsonable_encoder
from starlette.requests import Request

from terrapole.access import Principal
from terrapole.access.accounts import User
from terrapole.access.order_workflow import Actor
from terrapole.errors import Unauthorized
from terrapole.web.services import WebServices
from terrapole.web.sessions import (
    COOKIE,
    SAFE_METHODS,
    Session,
    SessionStore,
    check_csrf,
    sent_csrf,
)


def json_of(record: Any) -> dict[str, Any]:
    """A record (a dataclass of the access core) as JSON: times as ISO text, enums as text."""
    encoded = jsonable_encoder(
        asdict(record) if is_dataclass(record) and not isinstance(record, type) else record
    )
    if not isinstance(encoded, dict):
        raise TypeError(f"{type(record).__name__} is not a record")
    return encoded


@dataclass(frozen=True)
class Caller:
    """A signed-in user, and the session they came with (None: an API token)."""

    user: User
    session: Session | None
    principal: Principal


class AccountAuth:
    """Resolves the caller of a request from its token or its session cookie."""

    def __init__(self, services: WebServices) -> None:
        self.services = services
        self.sessions = SessionStore(services.accounts.engine)

    @property
    def secure(self) -> bool:
        """Whether the session cookie is Secure (the public URL is https)."""
        public = self.services.settings.public_url or ""
        return public.startswith("https://")

    def session_of(self, request: Request) -> Session | None:
        """The live session of the request's cookie, if any."""
        secret = request.cookies.get(COOKIE)
        return self.sessions.get(secret) if secret else None

    async def caller(self, request: Request, *, csrf: bool | None = None) -> Caller:
        """The signed-in user, or :class:`Unauthorized`; with a session cookie, a request that
        changes state (``csrf`` unset: any method but GET/HEAD/OPTIONS) without the session's
        CSRF token is :class:`~terrapole.errors.Forbidden`."""
        if request.headers.get("authorization"):
            principal = self.services.principal(request)
            if principal.user_id and principal.name == f"user:{principal.user_id}":
                user: User | None = self.services.accounts.get(principal.user_id)  # OIDC bearer
            else:
                user = self.services.accounts.owner_of_token(principal.name)
            if user is None:
                raise Unauthorized(f"token {principal.name!r} belongs to no account")
            return Caller(self._usable(user), None, principal)
        session = self.session_of(request)
        if session is None:
            raise Unauthorized("sign in first (no session, or it has expired)")
        needs_csrf = request.method not in SAFE_METHODS if csrf is None else csrf
        if needs_csrf:
            check_csrf(session, await sent_csrf(request))
        user = self._usable(self.services.accounts.get(session.user_id))
        held = self.services.principal_of_session(session)  # the session read above, once
        return Caller(user, session, held or Principal(name=f"user:{user.id}"))

    async def optional(self, request: Request) -> Caller | None:
        """The signed-in user of a page that also shows to visitors (no CSRF: GET only)."""
        try:
            return await self.caller(request, csrf=False)
        except Unauthorized:
            return None

    def actor(self, caller: Caller) -> Actor:
        """The caller as the order workflow sees them (referent of which entities, operator)."""
        led = frozenset(
            e.id
            for e in self.services.entities.of_user(caller.user.id)
            if e.referent_id == caller.user.id
        )
        return Actor(caller.user.id, referent_of=led, operator=caller.user.admin)

    def changed(self) -> None:
        """Tell the access service that memberships or acceptances changed (drop its caches)."""
        self.services.access.forget()

    @staticmethod
    def _usable(user: User) -> User:
        if user.disabled:
            raise Unauthorized("this account is disabled")
        return user
