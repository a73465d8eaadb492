"""OpenID Connect access tokens used as API credentials: openEO's
``Authorization: Bearer oidc/<provider id>/<access token>``.

An openEO client signs in at the provider itself (device code, refresh token...) and sends the
provider's access token. terrapole asks the provider who the token stands for (its user info:
``sub``, e-mail, name) and signs that identity in exactly as the portal's OpenID Connect login
does (:class:`~terrapole.access.oidc_accounts.OidcAccounts`): the linked account, else the
account of a vouched-for address, else a new one. So a user of an openEO client needs no prior
visit to the portal, and both ways of signing in end on the same account.

The answer for a token is kept for a short while (``ttl``, keyed by the token's hash, a bounded
number of tokens): the provider is not asked on every request, and a revoked token stops
working within that delay. Whether the account is disabled is checked on every request by
the caller (the account's standing).

No HTTP here: the user-info request is a function the web adapter hands in.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from terrapole.access.oidc_accounts import OidcAccounts, OidcClaims
from terrapole.errors import SourceUnavailable, TerrapoleError, Unauthorized

PROVIDER_ID = "terrapole"  # the id ``/credentials/oidc`` lists for the configured provider
BEARER_PREFIX = "oidc/"
TTL_S = 60.0
MAX_TOKENS = 4096

UserInfo = Callable[[str], Mapping[str, Any]]
"""The provider's user info for an access token (a mapping with ``sub``); raises
:class:`Unauthorized` when the provider refuses the token, :class:`ProviderUnavailable` when it
cannot be asked."""


class ProviderUnavailable(SourceUnavailable):
    """The OpenID Connect provider cannot be reached or answers nonsense (502)."""

    def __init__(self, issuer: str, reason: str) -> None:
        TerrapoleError.__init__(
            self, f"the OpenID Connect provider {issuer} cannot be used now: {reason}"
        )
        self.href = issuer
        self.reason = reason


@dataclass(frozen=True)
class OidcBearer:
    """The credentials of an ``oidc/<provider id>/<access token>`` bearer."""

    provider_id: str
    access_token: str = ""

    def __repr__(self) -> str:  # never the token, e.g. in a log line
        return f"OidcBearer(provider_id={self.provider_id!r})"


def parse_bearer(authorization: str | None) -> OidcBearer | None:
    """The OpenID Connect bearer of an ``Authorization`` header; None for any other
    credentials (an API token, ``basic//<token>``, none).

    >>> parse_bearer("Bearer oidc/terrapole/eyJ0eXAi.x.y")
    OidcBearer(provider_id='terrapole')
    >>> parse_bearer("Bearer tp_abc") is None
    True
    """
    scheme, _, secret = (authorization or "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret.startswith(BEARER_PREFIX):
        return None
    provider_id, slash, token = secret.removeprefix(BEARER_PREFIX).partition("/")
    if not provider_id or not slash or not token:
        raise Unauthorized("an OpenID Connect bearer is 'oidc/<provider id>/<access token>'")
    return OidcBearer(provider_id, token)


@dataclass(frozen=True)
class _Known:
    """What a token stood for when the provider was asked: an account, or a refusal."""

    until: float
    user_id: str | None
    refusal: str = ""


class OidcTokens:
    """Resolves OpenID Connect bearers to account ids, through the provider's user info."""

    def __init__(
        self,
        linker: OidcAccounts,
        issuer: str,
        userinfo: UserInfo,
        *,
        ttl: float = TTL_S,
        max_tokens: int = MAX_TOKENS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.linker = linker
        self.issuer = issuer
        self.userinfo = userinfo
        self.ttl = ttl
        self.max_tokens = max_tokens
        self.clock = clock
        self._known: dict[str, _Known] = {}
        self._lock = threading.Lock()

    def user_id(self, bearer: OidcBearer) -> str:
        """The id of the account the bearer's token stands for.

        Raises :class:`Unauthorized` for a provider this server does not list or a token the
        provider refuses; :class:`ProviderUnavailable` when the provider cannot be asked;
        what :meth:`OidcAccounts.sign_in` raises on a first use (no e-mail address, an
        address already taken and not vouched for, a disabled account).
        """
        if bearer.provider_id != PROVIDER_ID:
            raise Unauthorized(
                f"unknown OpenID Connect provider {bearer.provider_id!r}: this server lists "
                f"only {PROVIDER_ID!r} (see /credentials/oidc)"
            )
        key = hashlib.sha256(bearer.access_token.encode()).hexdigest()
        now = self.clock()
        with self._lock:
            known = self._known.get(key)
        if known is None or known.until < now:
            known = self._ask(bearer.access_token, now)
            self._keep(key, known, now)
        if known.user_id is None:
            raise Unauthorized(known.refusal)
        return known.user_id

    def _ask(self, token: str, now: float) -> _Known:
        """Ask the provider; a refused token is remembered too (no provider call per retry)."""
        try:
            info = self.userinfo(token)
        except Unauthorized as exc:
            return _Known(now + self.ttl, None, exc.message)
        subject = info.get("sub")
        if not isinstance(subject, str) or not subject:
            raise ProviderUnavailable(self.issuer, "its user info names no subject ('sub')")
        user = self.linker.sign_in(OidcClaims.of({**info, "iss": self.issuer}))
        return _Known(now + self.ttl, user.id)

    def _keep(self, key: str, known: _Known, now: float) -> None:
        with self._lock:
            if len(self._known) >= self.max_tokens:
                for stale in [k for k, v in self._known.items() if v.until < now]:
                    del self._known[stale]
            while len(self._known) >= self.max_tokens:  # the oldest entries go first
                del self._known[next(iter(self._known))]
            self._known.pop(key, None)
            self._known[key] = known
