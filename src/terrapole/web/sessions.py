"""Server-side sessions of signed-in browsers, their cookie and their CSRF token.

The cookie carries a random secret; the database keeps only its SHA-256, the user, a CSRF
token and an expiry, so a stolen database opens no session and signing out (or a password
reset) ends a session for good. Every state-changing request made with the cookie must repeat
the session's CSRF token (header ``X-CSRF-Token`` or form field ``csrf_token``); requests
authenticated by a Bearer token carry no ambient credential and need none. The forms posted
before a session exists (login, sign-up, reset) repeat a token held in a cookie instead.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response

from terrapole import db
from terrapole.errors import Forbidden, InvalidInput
from terrapole.web.tables import sessions

COOKIE = "tp_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LIFETIME = timedelta(days=7)
MAX_FORM_FIELDS = 100


def _now() -> datetime:
    return datetime.now(UTC)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Session:
    """A live session: whose it is, and the CSRF token its forms must repeat."""

    user_id: str
    csrf_token: str
    expires: datetime


class SessionStore:
    """Sessions in the database of ``engine`` (table ``tp_sessions``, revision 0005)."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        lifetime: timedelta = LIFETIME,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.engine = engine
        self.lifetime = lifetime
        self.clock = clock

    def open(self, user_id: str) -> tuple[str, Session]:
        """A new session of ``user_id``: the cookie's secret and the session."""
        secret = secrets.token_urlsafe(32)
        now = self.clock()
        session = Session(user_id, secrets.token_urlsafe(32), now + self.lifetime)
        with self.engine.begin() as con:
            con.execute(sessions.delete().where(sessions.c.expires <= now))  # sweep the dead
            con.execute(
                sessions.insert().values(
                    id_hash=_hash(secret),
                    user_id=user_id,
                    csrf_token=session.csrf_token,
                    created=now,
                    expires=session.expires,
                )
            )
        return secret, session

    def get(self, secret: str) -> Session | None:
        """The live session of a cookie's secret (None: unknown or expired)."""
        with db.reading(self.engine) as con:
            row = con.execute(
                sa.select(sessions).where(sessions.c.id_hash == _hash(secret))
            ).first()
        if row is None or _utc(row.expires) <= self.clock():
            return None
        return Session(row.user_id, row.csrf_token, _utc(row.expires))

    def close(self, secret: str) -> None:
        """End one session (signing out)."""
        with self.engine.begin() as con:
            con.execute(sessions.delete().where(sessions.c.id_hash == _hash(secret)))

    def close_all(self, user_id: str) -> None:
        """End every session of a user (after a password reset)."""
        with self.engine.begin() as con:
            con.execute(sessions.delete().where(sessions.c.user_id == user_id))


def local_target(target: str) -> str:
    """Where to go after signing in: ``target`` when it is a path of this site, else
    ``/profile`` (a login link must not send the browser to another site).

    >>> local_target("/orders"), local_target("//evil.example"), local_target("https://x.org")
    ('/orders', '/profile', '/profile')
    """
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/profile"
    return target


def set_cookie(response: Response, secret: str, *, secure: bool, lifetime: timedelta) -> None:
    """Put the session cookie on ``response``: HttpOnly, SameSite=Lax, Secure over https."""
    response.set_cookie(
        COOKIE,
        secret,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        secure=secure,
        samesite="lax",
        path="/",
    )


def clear_cookie(response: Response, *, secure: bool) -> None:
    """Remove the session cookie from the browser."""
    response.delete_cookie(COOKIE, path="/", httponly=True, secure=secure, samesite="lax")


def check_csrf(session: Session, sent: str | None) -> None:
    """Raise :class:`Forbidden` unless ``sent`` is the session's CSRF token."""
    if not sent:
        raise Forbidden(
            f"this request is made with a session cookie: send its CSRF token in the "
            f"{CSRF_HEADER} header or the {CSRF_FIELD} form field"
        )
    if not secrets.compare_digest(sent.encode(), session.csrf_token.encode()):
        raise Forbidden("the CSRF token does not match this session: reload the page")


async def form_fields(request: Request) -> dict[str, str]:
    """The fields of a URL-encoded form post (the portal's forms; nothing else is a form)."""
    kind = request.headers.get("content-type", "")
    if not kind.startswith("application/x-www-form-urlencoded"):
        return {}
    text = (await request.body()).decode("utf-8", errors="replace")
    try:
        return dict(parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS))
    except ValueError:
        raise InvalidInput("form", f"more than {MAX_FORM_FIELDS} fields") from None


async def sent_csrf(request: Request) -> str | None:
    """The CSRF token a request carries: its header, else its form field."""
    return request.headers.get(CSRF_HEADER) or (await form_fields(request)).get(CSRF_FIELD)


# -- forms posted before a session exists (login, sign-up, password reset) ---------------------
# No session holds their CSRF token, so the browser does: the page sets a random token in a
# cookie and in the form's hidden field, and the post must carry both, equal (double submit).
# A forging site can make a browser post but can neither read the cookie nor write it: the
# cookie is HttpOnly and SameSite=Strict, and over https its ``__Host-`` prefix keeps sibling
# subdomains from planting one.
FORM_COOKIE = "tp_form_csrf"
_FORM_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # what secrets.token_urlsafe(32) makes


def form_cookie_name(*, secure: bool) -> str:
    """The name of the pre-session CSRF cookie (``__Host-`` prefixed over https)."""
    return f"__Host-{FORM_COOKIE}" if secure else FORM_COOKIE


def form_token(request: Request, *, secure: bool) -> str:
    """The browser's pre-session CSRF token: the one its cookie holds, else a new one (so that
    pages open in several tabs share it)."""
    held = request.cookies.get(form_cookie_name(secure=secure), "")
    return held if _FORM_TOKEN.match(held) else secrets.token_urlsafe(32)


def set_form_cookie(response: Response, token: str, *, secure: bool) -> None:
    """Put the pre-session CSRF token in its cookie (until the browser closes)."""
    response.set_cookie(
        form_cookie_name(secure=secure),
        token,
        httponly=True,
        secure=secure,
        samesite="strict",
        path="/",
    )


def check_form_csrf(request: Request, sent: str | None, *, secure: bool) -> None:
    """Raise :class:`Forbidden` unless a pre-session form repeats its cookie's token."""
    held = request.cookies.get(form_cookie_name(secure=secure), "")
    if not sent or not held:
        raise Forbidden(
            "this form was not sent from this site's page (its CSRF token or cookie is "
            "missing): reload the page, with cookies allowed, and send it again"
        )
    if not secrets.compare_digest(sent.encode(), held.encode()):
        raise Forbidden("the form's CSRF token does not match this browser's: reload the page")
