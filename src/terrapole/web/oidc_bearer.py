"""The provider's user-info endpoint, asked who an OpenID Connect access token stands for (the
HTTP half of :mod:`terrapole.access.oidc_tokens`).

The endpoint comes from the provider's discovery document (fetched once, again after a
failure). The request is synchronous: principals are resolved in synchronous code (routes
run in the thread pool), and the answer is cached per token by the caller.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import httpx2

from terrapole.access.oidc_tokens import ProviderUnavailable
from terrapole.errors import Unauthorized

TIMEOUT_S = 10.0  # of each request to the provider


class UserInfoClient:
    """Calls ``userinfo_endpoint`` of the provider at ``issuer`` with an access token."""

    def __init__(self, issuer: str, *, client: httpx2.Client | None = None) -> None:
        self.issuer = issuer
        self.client = client or httpx2.Client(timeout=TIMEOUT_S)
        self._endpoint: str | None = None
        self._lock = threading.Lock()

    def __call__(self, access_token: str) -> Mapping[str, Any]:
        """The user info of ``access_token`` (with a ``sub``).

        Raises :class:`Unauthorized` when the provider refuses the token,
        :class:`ProviderUnavailable` when it cannot be reached or answers nonsense.
        """
        endpoint = self.endpoint()
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        try:
            answer = self.client.get(endpoint, headers=headers)
        except httpx2.HTTPError as exc:
            raise ProviderUnavailable(self.issuer, _failure(exc)) from exc
        if answer.status_code in (400, 401, 403):
            raise Unauthorized(
                "the OpenID Connect provider refuses this access token (expired, revoked or "
                "malformed): sign in again with your openEO client"
            )
        if answer.status_code != 200:
            raise ProviderUnavailable(
                self.issuer, f"its user-info endpoint answered HTTP {answer.status_code}"
            )
        info = _json_object(answer)
        if info is None or not isinstance(info.get("sub"), str) or not info["sub"]:
            raise ProviderUnavailable(self.issuer, "its user info is no JSON object with a 'sub'")
        return info

    def endpoint(self) -> str:
        """The user-info endpoint named by the discovery document (read once)."""
        with self._lock:
            if self._endpoint is not None:
                return self._endpoint
        url = f"{self.issuer}/.well-known/openid-configuration"
        try:
            answer = self.client.get(url, headers={"Accept": "application/json"})
            answer.raise_for_status()
        except httpx2.HTTPError as exc:
            raise ProviderUnavailable(
                self.issuer, f"no discovery document ({_failure(exc)})"
            ) from exc
        metadata = _json_object(answer) or {}
        if metadata.get("issuer") != self.issuer:
            raise ProviderUnavailable(
                self.issuer, f"its discovery document names the issuer {metadata.get('issuer')!r}"
            )
        endpoint = metadata.get("userinfo_endpoint")
        if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
            raise ProviderUnavailable(
                self.issuer, "its discovery document names no userinfo_endpoint"
            )
        with self._lock:
            self._endpoint = endpoint
        return endpoint


def _json_object(answer: httpx2.Response) -> dict[str, Any] | None:
    try:
        value = answer.json()
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _failure(exc: httpx2.HTTPError) -> str:
    """What went wrong with a request, in words (never the token: headers are not quoted)."""
    if isinstance(exc, httpx2.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    return str(exc) or type(exc).__name__
