"""openEO clients signed in with OpenID Connect: ``Bearer oidc/terrapole/<access token>``.

The provider is the real one of ``test_oidc`` (loopback, with a user-info endpoint); terrapole
runs under uvicorn and the ``openeo`` client talks to it as it would to any back-end."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openeo
import pytest
import requests
from openeo.rest import OpenEoApiError

from terrapole.app import create_app
from terrapole.config import Settings

from ..stac_api.live import serve
from .test_oidc import CLIENT_ID, CLIENT_SECRET, PASSWORD, Provider, idp, provider

__all__ = ["idp", "provider"]  # the fixtures, used by name below


def _settings(tmp_path: Path, issuer: str | None) -> Settings:
    if issuer is None:
        return Settings(data_dir=tmp_path)
    return Settings(data_dir=tmp_path, oidc_issuer=issuer, oidc_client_id=CLIENT_ID,
                    oidc_client_secret=CLIENT_SECRET, oidc_title="Lab ID")  # fmt: skip


@pytest.fixture
def hub(tmp_path: Path, idp: Provider) -> Iterator[tuple[str, Any]]:
    """terrapole served on loopback with the test provider configured: (URL, app)."""
    app = create_app(_settings(tmp_path, idp.url))
    with serve(app) as url:
        yield url, app


def _bearer(token: str, provider_id: str = "terrapole") -> dict[str, str]:
    return {"Authorization": f"Bearer oidc/{provider_id}/{token}"}


def test_the_openeo_client_signs_in_with_an_access_token(
    hub: tuple[str, Any], idp: Provider
) -> None:
    url, app = hub
    connection = openeo.connect(f"{url}/openeo/1.2")
    connection.authenticate_oidc_access_token(idp.issue())
    me = connection.describe_account()
    user = app.state.services.accounts.by_email("ana@lab.fr")  # made on first use, verified
    assert me["user_id"] == f"user:{user.id}" and user.verified
    assert connection.list_jobs() == []
    linker = app.state.services.oidc_tokens.linker
    assert linker.identities_of(user.id) == [(idp.url, "u-1")]
    # another token of the same person is the same account; the account endpoints know it too
    again = requests.get(f"{url}/account/me", headers=_bearer(idp.issue()), timeout=10)
    assert again.status_code == 200 and again.json()["id"] == user.id


def test_an_existing_account_is_linked_through_its_verified_address(
    hub: tuple[str, Any], idp: Provider
) -> None:
    url, app = hub
    mine = app.state.services.accounts.create_verified("ana@lab.fr", PASSWORD, "Ana")
    answer = requests.get(f"{url}/openeo/1.2/me", headers=_bearer(idp.issue()), timeout=10)
    assert answer.status_code == 200 and answer.json()["user_id"] == f"user:{mine.id}"
    assert len(app.state.services.accounts.all()) == 1


def test_the_provider_is_asked_once_per_token_within_the_cache(
    hub: tuple[str, Any], idp: Provider
) -> None:
    url, _ = hub
    token = idp.issue()
    before = idp.userinfo_calls
    for _ in range(3):
        answer = requests.get(f"{url}/openeo/1.2/jobs", headers=_bearer(token), timeout=10)
        assert answer.status_code == 200, answer.text
    assert idp.userinfo_calls == before + 1


def test_a_token_the_provider_refuses_is_401(hub: tuple[str, Any], idp: Provider) -> None:
    url, app = hub
    connection = openeo.connect(f"{url}/openeo/1.2")
    connection.authenticate_oidc_access_token("not-a-token-of-the-provider")
    with pytest.raises(OpenEoApiError) as refused:
        connection.list_jobs()
    assert refused.value.http_status_code == 401
    assert "provider refuses this access token" in refused.value.message
    assert app.state.services.accounts.all() == []


def test_an_unknown_provider_id_or_a_malformed_bearer_is_401(
    hub: tuple[str, Any], idp: Provider
) -> None:
    url, _ = hub
    calls = idp.userinfo_calls
    other = requests.get(f"{url}/openeo/1.2/me", headers=_bearer(idp.issue(), "egi"), timeout=10)
    assert other.status_code == 401
    assert "unknown OpenID Connect provider 'egi'" in other.json()["message"]
    bare = requests.get(f"{url}/openeo/1.2/me",
                        headers={"Authorization": "Bearer oidc/terrapole"}, timeout=10)  # fmt: skip
    assert bare.status_code == 401 and "oidc/<provider id>/<access token>" in bare.json()["message"]
    assert idp.userinfo_calls == calls  # neither was sent to the provider


def test_a_disabled_account_is_refused_even_with_a_token_already_known(
    hub: tuple[str, Any], idp: Provider
) -> None:
    url, app = hub
    services = app.state.services
    token = idp.issue()
    me = requests.get(f"{url}/openeo/1.2/me", headers=_bearer(token), timeout=10)
    assert me.status_code == 200
    services.accounts.set_disabled(services.accounts.by_email("ana@lab.fr").id, True)
    services.access.forget()
    known = requests.get(f"{url}/openeo/1.2/me", headers=_bearer(token), timeout=10)
    assert known.status_code == 401 and "this account is disabled" in known.json()["message"]
    fresh = requests.get(f"{url}/openeo/1.2/me", headers=_bearer(idp.issue()), timeout=10)
    assert fresh.status_code == 403 and "this account is disabled" in fresh.json()["message"]


def test_an_unreachable_provider_is_502_saying_so(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        gone = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with serve(create_app(_settings(tmp_path, gone))) as url:
        answer = requests.get(f"{url}/openeo/1.2/me", headers=_bearer("t"), timeout=30)
    assert answer.status_code == 502
    assert "OpenID Connect provider cannot be asked now" in answer.json()["message"]


def test_without_a_provider_an_oidc_bearer_is_401(tmp_path: Path) -> None:
    with serve(create_app(_settings(tmp_path, None))) as url:
        answer = requests.get(f"{url}/openeo/1.2/me", headers=_bearer("t"), timeout=10)
    assert answer.status_code == 401
    assert "OpenID Connect is not configured" in answer.json()["message"]
