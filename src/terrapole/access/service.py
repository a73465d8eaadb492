"""API tokens (stored as SHA-256 hashes), the principals they stand for, and the rules on
collections (group restrictions, declared terms), kept in the database."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from terrapole import db
from terrapole.access.eligibility import Standing, read_terms, standing
from terrapole.access.policy import (
    ANONYMOUS,
    Principal,
    Restrictions,
    TermsByCollection,
    can_read,
    hidden_collections,
)
from terrapole.access.tables import api_tokens, collection_access, token_owners
from terrapole.errors import AlreadyExists, InvalidInput, NotFound, Unauthorized

TOKEN_PREFIX = "tp_"


def hash_token(token: str) -> str:
    """Tokens are 256-bit random strings, so a plain SHA-256 is a safe stored form."""
    return hashlib.sha256(token.encode()).hexdigest()


USER_PREFIX = "user:"
"""Names the principal of an account signed in without a token: ``user:<account id>``."""

_MAX_CACHED_ACCOUNTS = 10_000


class AccessService:
    """Tokens, the principals they resolve to, restrictions and collection terms.

    A token is looked up on every request (one indexed query, its owner joined); what its
    account holds (roles, entities, profiles, licences), the restrictions and the terms are
    read on every request too, so they are cached in-process; the caches are dropped
    on a change made here (or by :meth:`forget`) and expire after ``ttl`` seconds, so that a
    change made elsewhere (``terrapole collections restrict`` next to a running server, other
    workers, an accepted licence or an approved membership) takes effect within that delay.
    """

    def __init__(
        self, database_url: str, *, ttl: float = 2.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.engine = db.open_engine(database_url)
        self._lock = threading.Lock()
        self._restrictions: dict[str, frozenset[str]] | None = None
        self._terms: TermsByCollection | None = None
        self._standings: dict[str, tuple[float, Standing | None]] = {}
        self._ttl = ttl
        self._clock = clock  # seconds; tests drive it
        self._read_at = 0.0
        self._terms_read_at = 0.0
        # bumped by forget(): a standing read before a change is not cached after it
        self._generation = 0

    def close(self) -> None:
        """Dispose of the connection pool."""
        self.engine.dispose()

    # -- tokens -----------------------------------------------------------------------
    def create_token(self, name: str, *, groups: list[str], admin: bool = False) -> str:
        """Create a token and return its secret (shown once, never stored)."""
        if not name.strip():
            raise InvalidInput("token name", "must not be empty")
        if name.startswith(USER_PREFIX):
            raise InvalidInput("token name", f"{USER_PREFIX!r} names signed-in accounts")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row: dict[str, Any] = {
            "name": name,
            "token_hash": hash_token(secret),
            "groups": sorted(set(groups)),
            "admin": admin,
            "created": datetime.now(UTC),
        }
        with self.engine.begin() as con:
            if con.execute(sa.select(api_tokens.c.name).where(api_tokens.c.name == name)).first():
                raise AlreadyExists("token", name)
            con.execute(api_tokens.insert().values(**row))
        return secret

    def list_tokens(self) -> list[dict[str, Any]]:
        """Names, groups and roles of all tokens (never the secrets)."""
        cols = [api_tokens.c.name, api_tokens.c.groups, api_tokens.c.admin, api_tokens.c.created]
        with db.reading(self.engine) as con:
            rows = con.execute(sa.select(*cols).order_by(api_tokens.c.name)).mappings().all()
        return [dict(r) for r in rows]

    def revoke_token(self, name: str) -> None:
        """Delete a token by name."""
        with self.engine.begin() as con:
            if con.execute(api_tokens.delete().where(api_tokens.c.name == name)).rowcount == 0:
                raise NotFound("token", name)

    def authenticate(self, authorization: str | None) -> Principal:
        """Resolve an ``Authorization: Bearer <token>`` header to a principal."""
        if not authorization:
            return ANONYMOUS
        scheme, _, secret = authorization.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthorized("Authorization must be 'Bearer <token>'")
        secret = secret.strip().removeprefix("basic//")  # openEO clients: "Bearer basic//<token>"
        query = (
            sa.select(api_tokens, token_owners.c.user_id)
            .outerjoin(token_owners, token_owners.c.token_name == api_tokens.c.name)
            .where(api_tokens.c.token_hash == hash_token(secret))
        )
        with db.reading(self.engine) as con:  # every request: a revoked token stops at once
            row = con.execute(query).first()
        if row is None:
            raise Unauthorized("unknown or revoked API token")
        principal = self._principal(row.name, frozenset(row.groups), row.admin, row.user_id)
        if principal is None:
            raise Unauthorized(f"the account owning token {row.name!r} is disabled")
        return principal

    def principal_named(self, name: str) -> Principal:
        """The principal of the token ``name`` as it stands now (for work done on its behalf
        later, such as a queued job). A revoked token, or one whose account is disabled, keeps
        only its personal group, so its own results stay readable and nothing restricted does."""
        if not name:
            return ANONYMOUS
        if name.startswith(USER_PREFIX):  # an account signed in without a token
            return self.principal_of_user(name.removeprefix(USER_PREFIX)) or Principal(name=name)
        query = (
            sa.select(api_tokens.c.groups, api_tokens.c.admin, token_owners.c.user_id)
            .outerjoin(token_owners, token_owners.c.token_name == api_tokens.c.name)
            .where(api_tokens.c.name == name)
        )
        with db.reading(self.engine) as con:
            row = con.execute(query).first()
        found = (
            None
            if row is None
            else self._principal(name, frozenset(row.groups), row.admin, row.user_id)
        )
        return found or Principal(name=name)

    def principal_of_user(self, user_id: str) -> Principal | None:
        """The principal ``user:<id>`` of an account signed in without an API token (a portal
        session, an OpenID Connect bearer); None for a disabled or deleted account."""
        return self._account_principal(f"{USER_PREFIX}{user_id}", frozenset(), user_id)

    def _principal(
        self, name: str, groups: frozenset[str], admin: bool, owner: str | None
    ) -> Principal | None:
        """The principal of a token: a deployment token as stored; a token an account owns
        with the account's roles (its admin flag follows the account's role, so taking the role
        away takes it from every token), entities, profiles and licences. None: the account
        is disabled."""
        if owner is None:
            return Principal(name=name, groups=groups, admin=admin)
        return self._account_principal(name, groups, owner)

    def _account_principal(
        self, name: str, groups: frozenset[str], user_id: str
    ) -> Principal | None:
        """The principal ``name`` acting for account ``user_id``, with what the account holds
        now; None for a disabled or deleted account."""
        held = self.standing(user_id)
        if held is None or held.disabled:
            return None
        return Principal(
            name=name,
            groups=groups,
            admin="admin" in held.roles,
            user_id=user_id,
            roles=held.roles,
            entities=held.entities,
            profiles=held.profiles,
            licences=held.licences,
        )

    def standing(self, user_id: str) -> Standing | None:
        """The account's roles, entities, profiles and accepted licences (None: no such
        account), cached for the TTL: the token itself is looked up on every request, what
        its account holds at most every ``ttl`` seconds."""
        with self._lock:
            cached = self._standings.get(user_id)
            generation = self._generation
        now = self._clock()
        if cached is not None and now - cached[0] <= self._ttl:
            return cached[1]
        with db.reading(self.engine) as con:
            held = standing(con, user_id)
        with self._lock:
            if generation != self._generation:
                return held  # a change came while reading: answer it, but do not keep it
            if len(self._standings) >= _MAX_CACHED_ACCOUNTS:
                self._standings.clear()
            self._standings[user_id] = (now, held)
        return held

    def forget(self) -> None:
        """Drop the cached accounts' standings, restrictions and terms (after a change made here to
        accounts, memberships, licences or terms), so the next request reads them anew."""
        with self._lock:
            self._generation += 1
            self._standings.clear()
            self._restrictions = None
            self._terms = None

    # -- restrictions -----------------------------------------------------------------
    def restrict(self, collection_id: str, groups: list[str]) -> None:
        """Restrict a collection to ``groups``; an empty list makes it public again."""
        with self.engine.begin() as con:
            con.execute(
                collection_access.delete().where(collection_access.c.collection_id == collection_id)
            )
            if groups:
                con.execute(
                    collection_access.insert().values(
                        collection_id=collection_id, groups=sorted(set(groups))
                    )
                )
        with self._lock:
            self._restrictions = None

    def restrictions(self) -> Restrictions:
        """Map of restricted collection id -> groups allowed to read it."""
        with self._lock:
            now = self._clock()
            if self._restrictions is None or now - self._read_at > self._ttl:
                with db.reading(self.engine) as con:
                    rows = con.execute(sa.select(collection_access)).all()
                self._restrictions = {r.collection_id: frozenset(r.groups) for r in rows}
                self._read_at = now
            return self._restrictions

    def terms(self) -> TermsByCollection:
        """Map of collection id -> its declared terms (licences required, profiles eligible)."""
        with self._lock:
            now = self._clock()
            if self._terms is None or now - self._terms_read_at > self._ttl:
                with db.reading(self.engine) as con:
                    self._terms = read_terms(con)
                self._terms_read_at = now
            return self._terms

    def is_restricted(self, collection_id: str) -> bool:
        """Whether some rule (groups or terms) keeps ``collection_id`` from somebody."""
        return collection_id in self.restrictions() or collection_id in self.terms()

    def can_read(self, principal: Principal, collection_id: str) -> bool:
        """May ``principal`` read (and download) ``collection_id`` (see :mod:`policy`)?"""
        return can_read(principal, collection_id, self.restrictions(), self.terms())

    def hidden_for(self, principal: Principal) -> frozenset[str]:
        """Collections hidden from ``principal`` (see :func:`policy.hidden_collections`)."""
        return hidden_collections(principal, self.restrictions(), self.terms())
