"""The accounts' JSON API: sign-up, mailed verification, login and logout (session cookie),
password reset, the signed-in user and their API tokens.

Every rule lives in :mod:`terrapole.access.accounts`; this module turns requests into its calls
and opens or closes the portal's sessions.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from terrapole.access.accounts import User
from terrapole.web.account_auth import AccountAuth, Caller
from terrapole.web.services import WebServices
from terrapole.web.sessions import clear_cookie, set_cookie


class SignUp(BaseModel):
    """A new account."""

    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)
    display_name: str = Field(max_length=200)


class Login(BaseModel):
    """An e-mail address and its password."""

    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class ResetRequest(BaseModel):
    """The address to mail a reset link to."""

    email: str = Field(max_length=320)


class Reset(BaseModel):
    """A mailed reset link's token and the new password."""

    token: str = Field(max_length=200)
    password: str = Field(max_length=1024)


class NewToken(BaseModel):
    """A label for a new API token."""

    label: str = Field(max_length=100)


def user_json(user: User) -> dict[str, Any]:
    """An account as the API shows it (never its password hash)."""
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "verified": user.verified,
        "roles": sorted(user.roles),
        "created": user.created.isoformat(),
    }


def address(request: Request) -> str:
    """The client's address, which failed logins are counted by."""
    return request.client.host if request.client else "unknown"


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def router(services: WebServices) -> APIRouter:
    """Routes under ``/account``."""
    api = APIRouter(prefix="/account", tags=["accounts"])
    auth = AccountAuth(services)
    accounts = services.accounts

    @api.post("/signup", status_code=201)
    def sign_up(body: SignUp) -> dict[str, Any]:
        """Create an account; its verification link is mailed."""
        user = accounts.sign_up(body.email, body.password, body.display_name)
        return user_json(user)

    @api.get("/verify", response_model=None)
    def verify(token: str, request: Request) -> dict[str, Any] | RedirectResponse:
        """Verify the address with the mailed link's token (once). A browser following the
        mailed link is sent to the portal's page, which verifies when the user confirms."""
        if _wants_html(request):
            return RedirectResponse(f"{request.base_url}verify?{urlencode({'token': token})}", 303)
        return user_json(accounts.verify_email(token))

    @api.get("/reset", include_in_schema=False)
    def reset_page(token: str, request: Request) -> RedirectResponse:
        """The mailed reset link: the portal's page that asks for the new password."""
        return RedirectResponse(f"{request.base_url}reset?{urlencode({'token': token})}", 303)

    @api.post("/login")
    def login(body: Login, request: Request) -> Response:
        """Open a session: the cookie, and the CSRF token to send with every change."""
        # past the rate limit: TooManyAttempts, 429 with Retry-After (app.py's table)
        user = accounts.login(body.email, body.password, address=address(request))
        secret, session = auth.sessions.open(user.id)
        response = JSONResponse({"user": user_json(user), "csrf_token": session.csrf_token})
        set_cookie(response, secret, secure=auth.secure, lifetime=auth.sessions.lifetime)
        return response

    @api.post("/logout", status_code=204)
    async def logout(request: Request) -> Response:
        """Close the session (with its CSRF token)."""
        caller = await auth.caller(request)
        response = Response(status_code=204)
        if caller.session is not None:
            auth.sessions.close(request.cookies.get("tp_session", ""))
            clear_cookie(response, secure=auth.secure)
        return response

    @api.post("/reset-request", status_code=202)
    def reset_request(body: ResetRequest) -> dict[str, str]:
        """Mail a reset link if the address has an account (the answer does not say)."""
        accounts.request_password_reset(body.email)
        return {"status": "if this address has an account, a reset link was mailed to it"}

    @api.post("/reset")
    def reset(body: Reset) -> dict[str, Any]:
        """Set a new password with a mailed reset link; every session of the account ends."""
        user = accounts.reset_password(body.token, body.password)
        auth.sessions.close_all(user.id)
        return user_json(user)

    @api.get("/me")
    async def me(request: Request) -> dict[str, Any]:
        """The signed-in user, their entities, tokens and (with a session) its CSRF token."""
        caller = await auth.caller(request)
        return _me(services, caller)

    _token_routes(api, services, auth)
    return api


def _token_routes(api: APIRouter, services: WebServices, auth: AccountAuth) -> None:
    """The signed-in user's API tokens: list, create, revoke."""
    accounts = services.accounts

    @api.get("/tokens")
    async def tokens(request: Request) -> dict[str, list[str]]:
        """Names of the signed-in user's API tokens."""
        caller = await auth.caller(request)
        return {"tokens": accounts.tokens_of(caller.user.id)}

    @api.post("/tokens", status_code=201)
    async def new_token(body: NewToken, request: Request) -> dict[str, str]:
        """A new API token: its secret is shown this once."""
        caller = await auth.caller(request)
        name, secret = accounts.create_token(caller.user.id, body.label)
        return {"name": name, "token": secret}

    @api.delete("/tokens/{name}", status_code=204)
    async def revoke(name: str, request: Request) -> Response:
        """Revoke one of the signed-in user's tokens."""
        caller = await auth.caller(request)
        accounts.revoke_token(caller.user.id, name)
        auth.changed()
        return Response(status_code=204)


def _me(services: WebServices, caller: Caller) -> dict[str, Any]:
    entities = services.entities.of_user(caller.user.id)
    return {
        **user_json(caller.user),
        "entities": [
            {"id": e.id, "name": e.name, "referent": e.referent_id == caller.user.id}
            for e in entities
        ],
        "tokens": services.accounts.tokens_of(caller.user.id),
        "csrf_token": caller.session.csrf_token if caller.session else None,
    }
