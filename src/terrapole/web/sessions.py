"""Server-side sessions of signed-in browsers, their cookie and their CSRF token.

The cookie carries a random secret; the database keeps only its SHA-256, the user, a CSRF
token and an expiry, so a stolen database opens no session and signing out (or a password
reset) ends a session for good. Every state-changing request made with the cookie must repeat
the session's CSRF token (header ``X-CSRF-Token`` or form field ``csrf_token``); requests
authenticated by a Bearer token carry no ambient credential and need none.
"""

from __future__ import annotations

import hashlib
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
