"""Portal pages of the accounts: sign-up, login and logout, the mailed links' landing pages
(verification, password reset) and the profile with its API tokens.

Forms post to these pages; every post made with the session cookie carries the session's CSRF
token in a hidden ``csrf_token`` field (checked by :class:`~terrapole.web.account_auth.
AccountAuth`); the forms posted before a session exists (login, sign-up, reset) carry the
browser's pre-session token instead (:func:`~terrapole.web.sessions.check_form_csrf`). A refused
form is shown again with the core's message and a 4xx status.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from terrapole.access.accounts import TooManyAttempts
from terrapole.access.order_workflow import InvalidOrderTransition
from terrapole.access.profiles import EntityKind, Profile
from terrapole.access.quotas import QuotaExceeded
from terrapole.errors import (
    AlreadyExists,
    Forbidden,
    InvalidInput,
    NotFound,
    SourceUnavailable,
    TerrapoleError,
    Unauthorized,
)
from terrapole.portal.account_strings import account_translator
from terrapole.portal.routes import _lang, _page
from terrapole.web.account_auth import AccountAuth, Caller
from terrapole.web.accounts import address
from terrapole.web.services import WebServices
from terrapole.web.sessions import (
    COOKIE,
    CSRF_FIELD,
    check_form_csrf,
    clear_cookie,
    form_fields,
    form_token,
    local_target,
    set_cookie,
    set_form_cookie,
)

# the statuses of a refused form; the same as app.py's table for the errors these pages meet
_FORM_STATUS: tuple[tuple[type[TerrapoleError], int], ...] = (
    (TooManyAttempts, 429),
    (InvalidOrderTransition, 409),
    (QuotaExceeded, 409),
    (AlreadyExists, 409),
    (InvalidInput, 400),
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (SourceUnavailable, 502),
)


def status_of(exc: TerrapoleError) -> int:
    """The HTTP status of a refused form."""
    return next((status for kind, status in _FORM_STATUS if isinstance(exc, kind)), 400)


def render(
    request: Request, name: str, *, caller: Caller | None = None, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page with the account strings and, when signed in, the user and the CSRF token
    (``csrf`` in ``context``: the token to put in the page's forms instead)."""
    csrf = context.pop("csrf", None) or (
        caller.session.csrf_token if caller and caller.session else ""
    )
    response = _page(
        request, name, t=account_translator(_lang(request)), me=caller.user if caller else None,
        csrf=csrf, **context,
    )  # fmt: skip
    response.status_code = status
    return response


def refused(
    request: Request, name: str, exc: TerrapoleError, *, caller: Caller | None = None,
    **context: Any,
) -> HTMLResponse:  # fmt: skip
    """The page again, with the error's message and its status."""
    response = render(
        request, name, caller=caller, status=status_of(exc), error=exc.message, **context
    )
    if isinstance(exc, TooManyAttempts):
        response.headers["Retry-After"] = str(exc.retry_after_s)
    return response


def form_page(
    request: Request, name: str, *, secure: bool, exc: TerrapoleError | None = None,
    status: int = 200, **context: Any,
) -> HTMLResponse:  # fmt: skip
    """A page whose forms are posted before a session exists (login, sign-up, reset): its
    forms and its cookie carry the browser's pre-session CSRF token; with ``exc``, the page
    again with the error's message and status."""
    token = form_token(request, secure=secure)
    if exc is None:
        response = render(request, name, status=status, csrf=token, **context)
    else:
        response = refused(request, name, exc, csrf=token, **context)
    set_form_cookie(response, token, secure=secure)
    return response


def login_refused(request: Request, exc: TerrapoleError) -> HTMLResponse:
    """The login page again, saying why a sign-in at the OpenID Connect provider was refused
    (:func:`terrapole.web.oidc.router`'s ``refuse``)."""
    settings = request.app.state.services.settings
    return form_page(
        request, "account_login.html", secure=(settings.public_url or "").startswith("https://"),
        exc=exc, next="/profile", email="",
        oidc=settings.oidc_title if settings.oidc_issuer else None,
    )  # fmt: skip


def to_login(request: Request) -> RedirectResponse:
    """Send a visitor to the login page, coming back here afterwards."""
    return RedirectResponse(f"{request.base_url}login?next={quote(request.url.path)}", 303)


async def form_of(request: Request) -> dict[str, str]:
    """The posted form's fields."""
    return await form_fields(request)


def router(services: WebServices) -> APIRouter:
    """Sign-up, login, logout, verification and reset pages."""
    api = APIRouter(include_in_schema=False)
    auth = AccountAuth(services)
    accounts = services.accounts

    oidc = services.settings.oidc_title if services.settings.oidc_issuer else None

    @api.get("/signup", response_class=HTMLResponse)
    def signup_page(request: Request) -> HTMLResponse:
        return form_page(request, "account_signup.html", secure=auth.secure, form={})

    @api.post("/signup", response_class=HTMLResponse)
    async def signup(request: Request) -> HTMLResponse:
        form = await form_of(request)
        try:
            check_form_csrf(request, form.get(CSRF_FIELD), secure=auth.secure)
            accounts.sign_up(
                form.get("email", ""), form.get("password", ""), form.get("display_name", "")
            )
        except TerrapoleError as exc:
            kept = {k: form.get(k, "") for k in ("email", "display_name")}
            return form_page(request, "account_signup.html", secure=auth.secure, exc=exc, form=kept)
        return render(request, "account_message.html", message="signed_up", status=201)

    @api.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/profile") -> HTMLResponse:
        return form_page(
            request, "account_login.html", secure=auth.secure, next=local_target(next), email="",
            oidc=oidc,
        )  # fmt: skip

    @api.post("/login", response_model=None)
    async def login(request: Request) -> Response:
        form = await form_of(request)
        target = local_target(form.get("next", "/profile"))
        try:
            check_form_csrf(request, form.get(CSRF_FIELD), secure=auth.secure)
            user = accounts.login(
                form.get("email", ""), form.get("password", ""), address=address(request)
            )
        except TerrapoleError as exc:
            return form_page(
                request, "account_login.html", secure=auth.secure, exc=exc, next=target,
                email=form.get("email", ""), oidc=oidc,
            )  # fmt: skip
        secret, _ = auth.sessions.open(user.id)
        response = RedirectResponse(str(request.base_url) + target.lstrip("/"), 303)
        set_cookie(response, secret, secure=auth.secure, lifetime=auth.sessions.lifetime)
        return response

    @api.post("/logout", response_model=None)
    async def logout(request: Request) -> Response:
        await auth.caller(request)  # the CSRF token: no logging out by a forged form
        auth.sessions.close(request.cookies.get(COOKIE, ""))
        response = RedirectResponse(str(request.base_url), 303)
        clear_cookie(response, secure=auth.secure)
        return response

    _link_routes(api, services, auth)
    _profile_routes(api, services, auth)
    return api


def _link_routes(api: APIRouter, services: WebServices, auth: AccountAuth) -> None:
    """The landing pages of the mailed links: verification and password reset."""
    accounts = services.accounts

    @api.get("/verify", response_class=HTMLResponse)
    def verify_page(request: Request, token: str = "") -> HTMLResponse:
        return render(request, "account_verify.html", token=token)

    @api.post("/verify", response_class=HTMLResponse)
    async def verify(request: Request) -> HTMLResponse:
        form = await form_of(request)
        try:
            accounts.verify_email(form.get("token", ""))
        except TerrapoleError as exc:
            return refused(request, "account_verify.html", exc, token="")
        return render(request, "account_message.html", message="verified", link="login")

    @api.get("/reset", response_class=HTMLResponse)
    def reset_page(request: Request, token: str = "") -> HTMLResponse:
        return form_page(request, "account_reset.html", secure=auth.secure, token=token)

    @api.post("/reset-request", response_class=HTMLResponse)
    async def reset_request(request: Request) -> HTMLResponse:
        form = await form_of(request)
        try:
            check_form_csrf(request, form.get(CSRF_FIELD), secure=auth.secure)
            accounts.request_password_reset(form.get("email", ""))
        except TerrapoleError as exc:
            return form_page(request, "account_reset.html", secure=auth.secure, exc=exc, token="")
        return render(request, "account_message.html", message="reset_sent", status=202)

    @api.post("/reset", response_class=HTMLResponse)
    async def reset(request: Request) -> HTMLResponse:
        form = await form_of(request)
        token = form.get("token", "")
        try:
            check_form_csrf(request, form.get(CSRF_FIELD), secure=auth.secure)
            user = accounts.reset_password(token, form.get("password", ""))
        except TerrapoleError as exc:
            return form_page(
                request, "account_reset.html", secure=auth.secure, exc=exc, token=token
            )
        auth.sessions.close_all(user.id)
        return render(request, "account_message.html", message="reset_done", link="login")


def profile_context(services: WebServices, caller: Caller) -> dict[str, Any]:
    """What the profile page shows: the user's entities, the others to join, the tokens, and
    the kinds and profiles an entity may have."""
    mine = services.entities.of_user(caller.user.id)
    return {
        "entities": mine,
        "others": [e for e in services.entities.all() if e not in mine],
        "tokens": services.accounts.tokens_of(caller.user.id),
        "kinds": [kind.value for kind in EntityKind],
        "profiles": [profile.value for profile in Profile],
        "form": {},
    }


def _profile_routes(api: APIRouter, services: WebServices, auth: AccountAuth) -> None:
    """The profile page, its tokens and the entities one may join."""
    accounts = services.accounts

    def profile(request: Request, caller: Caller, status: int = 200, **extra: Any) -> HTMLResponse:
        return render(
            request, "account_profile.html", caller=caller, status=status,
            **profile_context(services, caller), **extra,
        )  # fmt: skip

    @api.get("/profile", response_model=None)
    async def profile_page(request: Request) -> Response:
        caller = await auth.optional(request)
        return to_login(request) if caller is None else profile(request, caller)

    @api.post("/profile/tokens", response_class=HTMLResponse)
    async def new_token(request: Request) -> HTMLResponse:
        caller = await auth.caller(request)
        try:
            name, secret = accounts.create_token(caller.user.id, (await form_of(request))["label"])
        except (TerrapoleError, KeyError) as exc:
            message = exc.message if isinstance(exc, TerrapoleError) else "a label is required"
            return profile(request, caller, status=400, error=message)
        return profile(request, caller, status=201, new_token=(name, secret))

    @api.post("/profile/tokens/revoke", response_model=None)
    async def revoke(request: Request) -> Response:
        caller = await auth.caller(request)
        accounts.revoke_token(caller.user.id, (await form_of(request)).get("name", ""))
        auth.changed()
        return RedirectResponse(f"{request.base_url}profile", 303)
