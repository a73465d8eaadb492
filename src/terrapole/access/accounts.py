"""Nominative accounts: sign-up with a mailed verification link, login with a rate limit,
password reset by mail, roles, and the API tokens a user owns.

Links sent by mail carry a random secret; only its SHA-256 is stored, with its purpose, its
expiry and the time it was used (a link works once). Failed logins are counted per account and
per client address over a sliding window; past the limit a login is refused before the password
is even checked.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from terrapole import db
from terrapole.access.mail import Mail, Mailer
from terrapole.access.passwords import check_password, hash_password, needs_rehash
from terrapole.access.passwords import verify_password as _verify
from terrapole.access.service import TOKEN_PREFIX, hash_token
from terrapole.access.tables import (
    account_links,
    api_tokens,
    login_failures,
    token_owners,
    users,
)
from terrapole.errors import AlreadyExists, Forbidden, InvalidInput, NotFound, Unauthorized

ROLES = frozenset({"admin", "curator", "producer"})  # producer: writes in-situ data (SensorThings)
VERIFY_TTL = timedelta(hours=48)
RESET_TTL = timedelta(hours=2)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def utc(value: datetime) -> datetime:
    """``value`` as an aware UTC time (SQLite gives back naive datetimes)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class TooManyAttempts(Unauthorized):
    """Too many failed logins for an account or from an address; ``retry_after_s`` says when."""

    def __init__(self, what: str, retry_after_s: float) -> None:
        seconds = max(1, int(retry_after_s + 0.999))
        super().__init__(f"too many failed logins for this {what}: try again in {seconds} s")
        self.what = what
        self.retry_after_s = seconds


@dataclass(frozen=True)
class User:
    """An account as stored (never its password hash)."""

    id: str
    email: str
    display_name: str
    verified: bool
    roles: frozenset[str]
    disabled: bool
    created: datetime

    @property
    def admin(self) -> bool:
        """Whether the user holds the admin role."""
        return "admin" in self.roles


@dataclass(frozen=True)
class RateLimit:
    """Failed logins allowed within ``window`` per account and per client address."""

    per_account: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)


def email_key(email: str) -> str:
    """The address as accounts are keyed: trimmed and folded to lower case.

    >>> email_key("  Ana.Lopez@Example.ORG ")
    'ana.lopez@example.org'
    """
    return email.strip().lower()


def check_email(email: str) -> str:
    """The trimmed address, or :class:`InvalidInput` when it is not one."""
    email = email.strip()
    if len(email) > 320 or not _EMAIL.match(email):
        raise InvalidInput("e-mail", f"{email[:80]!r} is not an e-mail address")
    return email


def _user(row: Any) -> User:
    return User(
        id=row.id,
        email=row.email,
        display_name=row.display_name,
        verified=row.verified,
        roles=frozenset(row.roles),
        disabled=row.disabled,
        created=utc(row.created),
    )


class Accounts:
    """The accounts of one database; mails go through ``mailer``.

    ``link_base``: the URL the mailed links start with (the portal's page that reads the
    ``token`` parameter); ``clock``: the current time, which tests drive.
    """

    def __init__(
        self,
        engine: sa.Engine,
        *,
        mailer: Mailer,
        link_base: str,
        clock: Clock = _now,
        rate_limit: RateLimit | None = None,
    ) -> None:
        self.engine = engine
        self.mailer = mailer
        self.link_base = link_base.rstrip("/")
        self.clock = clock
        self.rate_limit = rate_limit or RateLimit()

    # -- reading ------------------------------------------------------------------------------
    def get(self, user_id: str) -> User:
        """The user ``user_id`` or :class:`NotFound`."""
        with db.reading(self.engine) as con:
            row = con.execute(sa.select(users).where(users.c.id == user_id)).first()
        if row is None:
            raise NotFound("user", user_id)
        return _user(row)

    def by_email(self, email: str) -> User:
        """The user of ``email`` (any case) or :class:`NotFound`."""
        with db.reading(self.engine) as con:
            query = sa.select(users).where(users.c.email_key == email_key(email))
            row = con.execute(query).first()
        if row is None:
            raise NotFound("user", email)
        return _user(row)

    def all(self) -> list[User]:
        """Every account, by address."""
        with db.reading(self.engine) as con:
            rows = con.execute(sa.select(users).order_by(users.c.email_key)).all()
        return [_user(r) for r in rows]

    # -- sign-up and verification -------------------------------------------------------------
    def sign_up(self, email: str, password: str, display_name: str) -> User:
        """Create an unverified account and mail it its verification link (valid 48 h)."""
        user = self._insert(email, password, display_name, verified=False)
        self._mail_verification(user)
        return user

    def _insert(self, email: str, password: str, display_name: str, *, verified: bool) -> User:
        email = check_email(email)
        name = display_name.strip()
        if not name or len(name) > 200:
            raise InvalidInput("display name", "must have 1 to 200 characters")
        check_password(password, email=email)
        user_id = uuid.uuid4().hex
        with self.engine.begin() as con:
            taken = sa.select(users.c.id).where(users.c.email_key == email_key(email))
            if con.execute(taken).first():
                raise AlreadyExists("account", email)
            con.execute(
                users.insert().values(
                    id=user_id,
                    email=email,
                    email_key=email_key(email),
                    display_name=name,
                    password_hash=hash_password(password),
                    verified=verified,
                    roles=[],
                    disabled=False,
                    created=self.clock(),
                )
            )
        return self.get(user_id)

    def create_verified(
        self, email: str, password: str, display_name: str, *, roles: frozenset[str] = frozenset()
    ) -> User:
        """An account whose address the operator vouches for (the first admin, the demo's
        users): verified at once, no mail sent; the password policy applies all the same."""
        user = self._insert(email, password, display_name, verified=True)
        return self.set_roles(user.id, roles) if roles else user

    def verify_email(self, token: str) -> User:
        """Mark the account of a verification link verified (the link then stops working)."""
        with self.engine.begin() as con:
            user_id = self._use_link(con, token, "verify", "verification link")
            con.execute(users.update().where(users.c.id == user_id).values(verified=True))
        return self.get(user_id)

    def resend_verification(self, email: str) -> None:
        """Mail a new verification link to an unverified account (nothing for others)."""
        try:
            user = self.by_email(email)
        except NotFound:
            return
        if user.verified:
            return
        self._mail_verification(user)

    def _mail_verification(self, user: User) -> None:
        """Store a new verification link for ``user`` and mail it."""
        with self.engine.begin() as con:
            secret = self._new_link(con, user.id, "verify", self.clock() + VERIFY_TTL)
        self.mailer.send(
            Mail(
                to=user.email,
                subject="Confirm your terrapole account",
                body=f"Hello {user.display_name},\n\nconfirm your address within 48 hours by "
                f"opening\n{self.link_base}/verify?token={secret}\n",
            )
        )

    # -- login ------------------------------------------------------------------------------
    def login(self, email: str, password: str, *, address: str) -> User:
        """The user whose address and password these are.

        Refused with :class:`TooManyAttempts` past the rate limit (even with the right
        password), :class:`Unauthorized` for a wrong pair (the same message whether the
        account exists or not), :class:`Forbidden` for an unverified or disabled account.
        """
        key, now = email_key(email), self.clock()
        self._check_rate(key, address, now)
        with db.reading(self.engine) as con:
            row = con.execute(sa.select(users).where(users.c.email_key == key)).first()
        if row is None or not row.password_hash or not _verify(row.password_hash, password):
            with self.engine.begin() as con:
                con.execute(login_failures.insert().values(email_key=key, address=address, at=now))
            raise Unauthorized("wrong e-mail or password")
        user = _user(row)
        if user.disabled:
            raise Forbidden("this account is disabled")
        if not user.verified:
            raise Forbidden("this account's e-mail address is not verified yet")
        with self.engine.begin() as con:
            con.execute(login_failures.delete().where(login_failures.c.email_key == key))
            if needs_rehash(row.password_hash):
                new = users.update().where(users.c.id == user.id)
                con.execute(new.values(password_hash=hash_password(password)))
        return user

    def _check_rate(self, key: str, address: str, now: datetime) -> None:
        since = now - self.rate_limit.window
        limits = (
            ("account", login_failures.c.email_key == key, self.rate_limit.per_account),
            ("address", login_failures.c.address == address, self.rate_limit.per_address),
        )
        with db.reading(self.engine) as con:
            for what, where, limit in limits:
                query = sa.select(sa.func.count(), sa.func.min(login_failures.c.at)).where(
                    where, login_failures.c.at > since
                )
                count, oldest = con.execute(query).one()
                if count >= limit:
                    wait = utc(oldest) + self.rate_limit.window - now
                    raise TooManyAttempts(what, wait.total_seconds())

    # -- passwords ----------------------------------------------------------------------------
    def request_password_reset(self, email: str) -> None:
        """Mail a reset link (valid 2 h) to the account of ``email``; silent for an unknown
        address, so that the answer tells nobody which addresses have accounts."""
        try:
            user = self.by_email(email)
        except NotFound:
            return
        with self.engine.begin() as con:
            secret = self._new_link(con, user.id, "reset", self.clock() + RESET_TTL)
        self.mailer.send(
            Mail(
                to=user.email,
                subject="Reset your terrapole password",
                body=f"Choose a new password within 2 hours at\n"
                f"{self.link_base}/reset?token={secret}\n"
                "If you did not ask for it, ignore this mail.\n",
            )
        )

    def reset_password(self, token: str, new_password: str) -> User:
        """Set a new password from a reset link; the link, and any other of the account's
        reset links, stop working. A reset proves the address, so it also verifies it."""
        with self.engine.begin() as con:
            user_id = self._peek_link(con, token, "reset", "reset link")
            row = con.execute(sa.select(users).where(users.c.id == user_id)).one()
            check_password(new_password, email=row.email, current_hash=row.password_hash)
            self._use_link(con, token, "reset", "reset link")
            unused = account_links.c.used.is_(None)
            con.execute(
                account_links.update()
                .where(account_links.c.user_id == user_id, account_links.c.purpose == "reset")
                .where(unused)
                .values(used=self.clock())
            )
            con.execute(
                users.update()
                .where(users.c.id == user_id)
                .values(password_hash=hash_password(new_password), verified=True)
            )
            con.execute(login_failures.delete().where(login_failures.c.email_key == row.email_key))
        return self.get(user_id)

    def change_password(self, user_id: str, current: str, new_password: str) -> None:
        """Change a password, knowing the current one."""
        with self.engine.begin() as con:
            row = con.execute(sa.select(users).where(users.c.id == user_id)).first()
            if row is None:
                raise NotFound("user", user_id)
            if not row.password_hash or not _verify(row.password_hash, current):
                raise Unauthorized("the current password is wrong")
            check_password(new_password, email=row.email, current_hash=row.password_hash)
            con.execute(
                users.update()
                .where(users.c.id == user_id)
                .values(password_hash=hash_password(new_password))
            )

    # -- roles and state ----------------------------------------------------------------------
    def set_roles(self, user_id: str, roles: set[str] | frozenset[str]) -> User:
        """Give the user exactly ``roles`` (admin, curator, producer)."""
        unknown = set(roles) - ROLES
        if unknown:
            raise InvalidInput("roles", f"unknown {sorted(unknown)}; known: {sorted(ROLES)}")
        self._update(user_id, roles=sorted(roles))
        return self.get(user_id)

    def set_disabled(self, user_id: str, disabled: bool) -> User:
        """Disable (no login) or enable an account."""
        self._update(user_id, disabled=disabled)
        return self.get(user_id)

    def _update(self, user_id: str, **values: Any) -> None:
        with self.engine.begin() as con:
            done = con.execute(users.update().where(users.c.id == user_id).values(**values))
            if done.rowcount == 0:
                raise NotFound("user", user_id)

    # -- API tokens ---------------------------------------------------------------------------
    def create_token(self, user_id: str, label: str) -> tuple[str, str]:
        """A new API token of the user: its name (``<user id>:<label>``) and its secret (shown
        once). It carries the user's admin role as the token's admin flag."""
        label = label.strip()
        if not label or len(label) > 100 or ":" in label:
            raise InvalidInput("token label", "must have 1 to 100 characters and no ':'")
        user = self.get(user_id)
        name, secret = f"{user.id}:{label}", TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.engine.begin() as con:
            if con.execute(sa.select(api_tokens.c.name).where(api_tokens.c.name == name)).first():
                raise AlreadyExists("token", name)
            con.execute(
                api_tokens.insert().values(
                    name=name,
                    token_hash=hash_token(secret),
                    groups=[],
                    admin=user.admin,
                    created=self.clock(),
                )
            )
            con.execute(token_owners.insert().values(token_name=name, user_id=user.id))
        return name, secret

    def assign_token(self, token_name: str, user_id: str) -> None:
        """Make an existing token (one made before accounts) the user's; it keeps its secret,
        groups and role, so the clients that use it see no change."""
        self.get(user_id)
        with self.engine.begin() as con:
            query = sa.select(api_tokens.c.name).where(api_tokens.c.name == token_name)
            if con.execute(query).first() is None:
                raise NotFound("token", token_name)
            con.execute(token_owners.delete().where(token_owners.c.token_name == token_name))
            con.execute(token_owners.insert().values(token_name=token_name, user_id=user_id))

    def tokens_of(self, user_id: str) -> list[str]:
        """Names of the user's tokens."""
        query = (
            sa.select(token_owners.c.token_name)
            .where(token_owners.c.user_id == user_id)
            .order_by(token_owners.c.token_name)
        )
        with db.reading(self.engine) as con:
            return list(con.scalars(query))

    def owner_of_token(self, token_name: str) -> User | None:
        """The user a token belongs to (None: a deployment token made before accounts)."""
        query = sa.select(users).join(token_owners, token_owners.c.user_id == users.c.id)
        with db.reading(self.engine) as con:
            row = con.execute(query.where(token_owners.c.token_name == token_name)).first()
        return None if row is None else _user(row)

    def revoke_token(self, user_id: str, token_name: str) -> None:
        """Delete one of the user's tokens (another user's is :class:`NotFound`)."""
        with self.engine.begin() as con:
            owned = token_owners.c.token_name == token_name
            gone = con.execute(
                token_owners.delete().where(owned, token_owners.c.user_id == user_id)
            )
            if gone.rowcount == 0:
                raise NotFound("token", token_name)
            con.execute(api_tokens.delete().where(api_tokens.c.name == token_name))

    # -- mailed links -------------------------------------------------------------------------
    def _new_link(self, con: sa.Connection, user_id: str, purpose: str, expires: datetime) -> str:
        secret = secrets.token_urlsafe(32)
        con.execute(
            account_links.insert().values(
                token_hash=hash_token(secret),
                user_id=user_id,
                purpose=purpose,
                created=self.clock(),
                expires=expires,
                used=None,
            )
        )
        return secret

    def _peek_link(self, con: sa.Connection, token: str, purpose: str, what: str) -> str:
        """The user of a live link, or :class:`InvalidInput` saying why it is not one."""
        query = sa.select(account_links).where(
            account_links.c.token_hash == hash_token(token.strip()),
            account_links.c.purpose == purpose,
        )
        row = con.execute(query).first()
        if row is None:
            raise InvalidInput(what, "unknown link (copy the whole link from the mail)")
        if row.used is not None:
            raise InvalidInput(what, "this link was already used")
        if utc(row.expires) <= self.clock():
            raise InvalidInput(what, "this link has expired: ask for a new one")
        return str(row.user_id)

    def _use_link(self, con: sa.Connection, token: str, purpose: str, what: str) -> str:
        user_id = self._peek_link(con, token, purpose, what)
        con.execute(
            account_links.update()
            .where(account_links.c.token_hash == hash_token(token.strip()))
            .where(account_links.c.used.is_(None))
            .values(used=self.clock())
        )
        return user_id
