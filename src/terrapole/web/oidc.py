"""Sign-in with an OpenID Connect provider (``TERRAPOLE_OIDC_ISSUER``): the authorization-code
flow with PKCE, under ``/auth/oidc``.

``GET /auth/oidc/login`` finds the provider's endpoints in its discovery document, remembers the
login it starts (state, nonce and PKCE verifier, stored as a row keyed by the state's hash and
bound to the browser by a cookie holding the state) and sends the browser to the provider.
``GET /auth/oidc/callback`` takes that login back (once), trades the code for tokens, checks the
ID token's signature against the provider's published keys and its ``iss``, ``aud``, ``exp``
and ``nonce`` (authlib and joserfc do the checking), then signs the user in through
:class:`~terrapole.access.oidc_accounts.OidcAccounts` and opens a session exactly as the
password login does. Without an issuer the routes do not exist (404).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import sqlalchemy as sa
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import BaseApp
from authlib.integrations.base_client.async_app import AsyncOAuth2Mixin
from authlib.integrations.base_client.async_openid import AsyncOpenIDMixin
from authlib.integrations.httpx_client import AsyncOAuth2Client
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
)

from terrapole.access.oidc_accounts import OidcAccounts, OidcClaims
from terrapole.access.oidc_tokens import ProviderUnavailable
from terrapole.access.tables import oidc_logins
from terrapole.config import Settings
from terrapole.errors import InvalidInput, TerrapoleError, Unauthorized
from terrapole.web.account_auth import AccountAuth
from terrapole.web.services import WebServices
from terrapole.web.sessions import local_target, set_cookie

logger = logging.getLogger(__name__)

PREFIX = "/auth/oidc"
STATE_COOKIE = "tp_oidc_state"
LOGIN_TTL = timedelta(minutes=10)  # from the redirect to the provider to the callback
TIMEOUT_S = 10.0  # of each request to the provider

Refuse = Callable[[Request, TerrapoleError], Response]


@dataclass(frozen=True)
class PendingLogin:
    """A login sent to the provider: what the callback must check and where it goes next."""

    nonce: str
    code_verifier: str
    redirect_uri: str
    next: str


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


class PendingLogins:
    """The logins under way, in table ``tp_oidc_logins``; each is taken back once."""

    def __init__(self, engine: sa.Engine, *, clock: Callable[[], datetime] = _now) -> None:
        self.engine = engine
        self.clock = clock

    def put(self, state: str, login: PendingLogin) -> None:
        """Remember a login sent with ``state`` (and forget the expired ones)."""
        now = self.clock()
        with self.engine.begin() as con:
            con.execute(oidc_logins.delete().where(oidc_logins.c.expires <= now))
            con.execute(
                oidc_logins.insert().values(
                    state_hash=_hash(state), nonce=login.nonce,
                    code_verifier=login.code_verifier, redirect_uri=login.redirect_uri,
                    next=login.next, expires=now + LOGIN_TTL,
                )
            )  # fmt: skip

    def take(self, state: str) -> PendingLogin | None:
        """The login sent with ``state``, removed (None: unknown, used or expired)."""
        where = oidc_logins.c.state_hash == _hash(state)
        with self.engine.begin() as con:
            row = con.execute(sa.select(oidc_logins).where(where)).first()
            if row is None or con.execute(oidc_logins.delete().where(where)).rowcount != 1:
                return None  # unknown, or another request took it first
        expires = row.expires.replace(tzinfo=UTC) if row.expires.tzinfo is None else row.expires
        if expires <= self.clock():
            return None
        return PendingLogin(row.nonce, row.code_verifier, row.redirect_uri, row.next)


class _ProviderApp(AsyncOAuth2Mixin, AsyncOpenIDMixin, BaseApp):  # type: ignore[misc]
    """authlib's asynchronous OpenID Connect client without a web framework's session (the
    logins under way are kept by :class:`PendingLogins`)."""

    client_cls = AsyncOAuth2Client


@dataclass(frozen=True)
class Started:
    """A login to send the browser to: the provider's URL and what the callback will need."""

    url: str
    state: str
    login: PendingLogin


class OidcClient:
    """The configured provider: discovery, authorization URL, code exchange, ID token checks."""

    def __init__(self, settings: Settings, **client_kwargs: Any) -> None:
        if not settings.oidc_issuer:
            raise ValueError("OpenID Connect is off: no oidc_issuer")
        self.issuer = settings.oidc_issuer
        # authlib checks 'aud' only through 'azp' by default: a token issued to another client
        # with azp naming this one would pass. Both claims are required and checked here.
        self.expected = {
            "iss": {"essential": True, "value": self.issuer},
            "aud": {"essential": True, "value": settings.oidc_client_id},
        }
        secret = settings.oidc_client_secret
        self.app = _ProviderApp(
            framework=None,
            name="oidc",
            client_id=settings.oidc_client_id,
            client_secret=secret.get_secret_value() if secret else None,
            server_metadata_url=f"{self.issuer}/.well-known/openid-configuration",
            client_kwargs={
                "scope": settings.oidc_scopes,
                "code_challenge_method": "S256",
                "timeout": TIMEOUT_S,
                **client_kwargs,
            },
        )

    async def start(self, redirect_uri: str, next_page: str) -> Started:
        """A new login: the provider's authorization URL with a fresh state, nonce and PKCE
        challenge."""
        await self._metadata()
        made = await self.app.create_authorization_url(redirect_uri)
        login = PendingLogin(made["nonce"], made["code_verifier"], redirect_uri, next_page)
        return Started(made["url"], made["state"], login)

    async def claims(self, code: str, login: PendingLogin) -> Mapping[str, Any]:
        """The verified claims of the ID token the provider gives for ``code``."""
        await self._metadata()
        try:
            token = await self.app.fetch_access_token(
                redirect_uri=login.redirect_uri, code=code, code_verifier=login.code_verifier
            )
            if "id_token" not in token:
                raise Unauthorized("the provider sent no ID token (is 'openid' in the scopes?)")
            claims: Mapping[str, Any] = await self.app.parse_id_token(
                token, nonce=login.nonce, claims_options=self.expected
            )
        except AuthlibBaseError as exc:  # the token endpoint refused the code
            reason = f"{exc.error}: {exc.description}" if exc.description else str(exc.error)
            raise Unauthorized(f"the provider refused the login: {reason}") from exc
        except JoseError as exc:
            raise Unauthorized(f"the provider's ID token is refused: {_why(exc)}") from exc
        except (httpx2.HTTPError, ValueError) as exc:
            raise ProviderUnavailable(self.issuer, str(exc) or type(exc).__name__) from exc
        return claims

    async def _metadata(self) -> Mapping[str, Any]:
        """The discovery document (fetched once), whose issuer must be the configured one."""
        try:
            metadata: Mapping[str, Any] = await self.app.load_server_metadata()
        except (httpx2.HTTPError, ValueError) as exc:
            raise ProviderUnavailable(self.issuer, f"no discovery document ({exc})") from exc
        if metadata.get("issuer") != self.issuer:
            self.app.server_metadata.clear()  # fetch it again next time
            raise ProviderUnavailable(
                self.issuer, f"its discovery document names the issuer {metadata.get('issuer')!r}"
            )
        return metadata


def _why(exc: JoseError) -> str:
    """What is wrong with an ID token, in words."""
    if isinstance(exc, BadSignatureError):
        return "its signature does not verify with the provider's published keys"
    if isinstance(exc, InvalidKeyIdError):
        return "it is signed with a key the provider does not publish"
    if isinstance(exc, ExpiredTokenError):
        return "it has expired"
    if isinstance(exc, ClaimError):
        meaning = {"aud": " (it was issued to another client)", "iss": " (another issuer)",
                   "nonce": " (it answers another login)"}.get(exc.claim, "")  # fmt: skip
        return f"its '{exc.claim}' claim is {exc.error.replace('_claim', '')}{meaning}"
    return f"{exc.error}: {exc.description or 'malformed'}"


def router(services: WebServices, *, refuse: Refuse | None = None) -> APIRouter:
    """The login and callback routes (none when OpenID Connect is off).

    ``refuse``: how a refused callback answers (the portal shows its login page with the
    message); without it, the error goes to the app's error table (JSON).
    """
    api = APIRouter(prefix=PREFIX, tags=["accounts"], include_in_schema=False)
    settings = services.settings
    if not settings.oidc_issuer:
        return api
    client = OidcClient(settings)
    auth = AccountAuth(services)
    pending = PendingLogins(services.accounts.engine)
    linker = OidcAccounts(services.accounts)

    @api.get("/login")
    async def login(request: Request, next: str = "/profile") -> Response:
        """Send the browser to the provider, remembering the login."""
        try:
            started = await client.start(
                f"{request.base_url}auth/oidc/callback", local_target(next)
            )
        except TerrapoleError as exc:
            if refuse is None:
                raise
            return refuse(request, exc)
        pending.put(started.state, started.login)
        response = RedirectResponse(started.url, 303)
        response.set_cookie(
            STATE_COOKIE, started.state, max_age=int(LOGIN_TTL.total_seconds()), httponly=True,
            secure=auth.secure, samesite="lax", path=PREFIX,
        )  # fmt: skip
        return response

    @api.get("/callback")
    async def callback(
        request: Request, state: str = "", code: str = "", error: str = "",
        error_description: str = "",
    ) -> Response:  # fmt: skip
        """Finish a login: check it, sign the user in and open their session."""
        try:
            login = _take(request, pending, state)
            if error:
                raise Unauthorized(f"the provider did not sign you in: {error} {error_description}")
            if not code:
                raise InvalidInput("code", "the provider's answer has no authorization code")
            user = linker.sign_in(OidcClaims.of(await client.claims(code, login)))
        except TerrapoleError as exc:
            logger.info("OpenID Connect login refused: %s", exc.message)
            if refuse is None:
                raise
            response = refuse(request, exc)
        else:
            secret, _ = auth.sessions.open(user.id)
            response = RedirectResponse(str(request.base_url) + login.next.lstrip("/"), 303)
            set_cookie(response, secret, secure=auth.secure, lifetime=auth.sessions.lifetime)
        response.delete_cookie(STATE_COOKIE, path=PREFIX, secure=auth.secure, httponly=True)
        return response

    return api


def _take(request: Request, pending: PendingLogins, state: str) -> PendingLogin:
    """The login this callback finishes: started by this browser, not used, not expired."""
    if not state:
        raise InvalidInput("state", "the provider's answer has no state: start again")
    held = request.cookies.get(STATE_COOKIE, "")
    if not held or not secrets.compare_digest(held.encode(), state.encode()):
        raise InvalidInput(
            "state", "this answer is not for the login this browser started: start again"
        )
    login = pending.take(state)
    if login is None:
        raise InvalidInput(
            "state", "this login is unknown, already finished or expired: start again"
        )
    return login
