"""OpenID Connect login against a real provider run by the test: a small Starlette app on
loopback serving discovery, an authorize endpoint that approves at once, a token endpoint that
checks the client and PKCE and signs an RS256 ID token, its JWKS, and a user-info endpoint for
the access tokens it issued. terrapole's own code does the rest: state and nonce, signature,
issuer, audience, sessions, account linking."""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from terrapole.app import create_app
from terrapole.config import Settings

from ..stac_api.live import serve

CLIENT_ID, CLIENT_SECRET = "terrapole-hub", "client secret of the test"
PASSWORD = "a long passphrase 42"


class Provider:
    """A tiny OpenID provider; the test changes what it signs and with which key."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})
        self.signing_key = self.key
        self.url = ""  # known once served
        self.user: dict[str, Any] = {"sub": "u-1", "email": "ana@lab.fr",
                                     "email_verified": True, "name": "Ana Lopez"}  # fmt: skip
        self.audience = CLIENT_ID
        self.nonce: str | None = None  # None: echo the one asked for
        self.codes: dict[str, dict[str, str]] = {}
        self.access_tokens: dict[str, dict[str, Any]] = {}  # token -> the user it stands for
        self.userinfo_calls = 0

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/.well-known/openid-configuration", self.discovery),
            Route("/authorize", self.authorize),
            Route("/token", self.token, methods=["POST"]),
            Route("/jwks", self.jwks),
            Route("/userinfo", self.userinfo),
        ])  # fmt: skip

    async def discovery(self, request: Request) -> Response:
        return JSONResponse({
            "issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token", "jwks_uri": f"{self.url}/jwks",
            "userinfo_endpoint": f"{self.url}/userinfo",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        })  # fmt: skip

    async def authorize(self, request: Request) -> Response:
        asked = request.query_params
        assert asked["response_type"] == "code" and asked["client_id"] == CLIENT_ID
        assert asked["code_challenge_method"] == "S256" and "openid" in asked["scope"].split()
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"challenge": asked["code_challenge"], "nonce": asked["nonce"],
                            "redirect_uri": asked["redirect_uri"]}  # fmt: skip
        back = urlencode({"code": code, "state": asked["state"]})
        return RedirectResponse(f"{asked['redirect_uri']}?{back}", 302)

    async def token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))
        basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {basic}":
            return JSONResponse({"error": "invalid_client"}, 401)
        asked = self.codes.pop(str(form.get("code")), None)
        verifier = str(form.get("code_verifier", ""))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if (asked is None or form.get("redirect_uri") != asked["redirect_uri"]
                or challenge.rstrip(b"=").decode() != asked["challenge"]):  # fmt: skip
            return JSONResponse({"error": "invalid_grant"}, 400)
        now = int(time.time())
        claims = {"iss": self.url, "aud": self.audience, "iat": now, "exp": now + 300,
                  "nonce": self.nonce or asked["nonce"], **self.user}  # fmt: skip
        header = {"alg": "RS256", "kid": self.signing_key.kid}
        return JSONResponse({"access_token": self.issue(), "token_type": "Bearer",
                             "expires_in": 300,
                             "id_token": jwt.encode(header, claims, self.signing_key)})  # fmt: skip

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    def issue(self) -> str:
        """A new access token for the current user (as a device-code flow at the provider
        would give an openEO client)."""
        token = secrets.token_urlsafe(16)
        self.access_tokens[token] = dict(self.user)
        return token

    async def userinfo(self, request: Request) -> Response:
        self.userinfo_calls += 1
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        user = self.access_tokens.get(token) if scheme == "Bearer" else None
        if user is None:
            return JSONResponse({"error": "invalid_token"}, 401,
                                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})  # fmt: skip
        return JSONResponse(user)


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    provider = Provider()
    with serve(provider.app()) as url:
        provider.url = url
        yield provider


@pytest.fixture
def idp(provider: Provider) -> Iterator[Provider]:
    """The provider, put back as it was after each test."""
    yield provider
    provider.signing_key, provider.audience, provider.nonce = provider.key, CLIENT_ID, None
    provider.user = {"sub": "u-1", "email": "ana@lab.fr", "email_verified": True,
                     "name": "Ana Lopez"}  # fmt: skip


@pytest.fixture
def app(tmp_path: Path, idp: Provider) -> Any:
    return create_app(Settings(data_dir=tmp_path, oidc_issuer=idp.url, oidc_client_id=CLIENT_ID,
                               oidc_client_secret=CLIENT_SECRET, oidc_title="Lab ID"))  # fmt: skip


def _at_provider(client: TestClient) -> str:
    """Start a login; follow it at the provider (real HTTP); the callback URL it sends back."""
    start = client.get("/auth/oidc/login", params={"next": "/profile"}, follow_redirects=False)
    assert start.status_code == 303, start.text
    answer = httpx.get(start.headers["location"], follow_redirects=False)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["location"])
    assert back.path == "/auth/oidc/callback"
    return f"{back.path}?{back.query}"


def _sign_in(client: TestClient) -> httpx.Response:
    return client.get(_at_provider(client), follow_redirects=False)


def test_a_first_login_creates_the_account_and_opens_a_session(app: Any, idp: Provider) -> None:
    with TestClient(app) as client:
        done = _sign_in(client)
        assert done.status_code == 303 and done.headers["location"].endswith("/profile")
        assert "tp_session" in client.cookies
        assert "tp_oidc_state=" in done.headers["set-cookie"]  # the login's cookie is dropped
        assert client.get("/account/me").json()["email"] == "ana@lab.fr"
        assert "ana@lab.fr" in client.get("/profile").text
    user = app.state.services.accounts.by_email("ana@lab.fr")
    assert user.verified and user.display_name == "Ana Lopez"


def test_a_second_login_finds_the_same_account(app: Any, idp: Provider) -> None:
    with TestClient(app) as first, TestClient(app) as second:
        _sign_in(first)
        done = _sign_in(second)
        assert done.status_code == 303 and "tp_session" in second.cookies
        assert first.get("/account/me").json()["id"] == second.get("/account/me").json()["id"]
    assert len(app.state.services.accounts.all()) == 1


def test_an_existing_account_with_the_verified_address_is_linked(app: Any, idp: Provider) -> None:
    mine = app.state.services.accounts.create_verified("ana@lab.fr", PASSWORD, "Ana")
    with TestClient(app) as client:
        assert _sign_in(client).status_code == 303
        assert client.get("/account/me").json()["id"] == mine.id


def test_a_disabled_account_is_refused_on_the_login_page(app: Any, idp: Provider) -> None:
    accounts = app.state.services.accounts
    accounts.set_disabled(accounts.create_verified("ana@lab.fr", PASSWORD, "Ana").id, True)
    with TestClient(app) as client:
        refused = _sign_in(client)
        assert refused.status_code == 403 and "this account is disabled" in html.unescape(
            refused.text
        )
        assert (
            'id="login-form"' in html.unescape(refused.text) and "tp_session" not in client.cookies
        )


def test_a_bad_state_is_refused(app: Any, idp: Provider) -> None:
    with TestClient(app) as client:
        callback = _at_provider(client)
        forged = client.get(callback.replace("state=", "state=x"), follow_redirects=False)
        assert forged.status_code == 400
        assert "not for the login this browser started" in html.unescape(forged.text)
        with TestClient(app) as other:  # another browser: no cookie of that login
            stolen = other.get(callback, follow_redirects=False)
            assert stolen.status_code == 400 and "tp_session" not in other.cookies
        callback = _at_provider(client)
        assert client.get(callback, follow_redirects=False).status_code == 303
        client.cookies.set("tp_oidc_state", callback.split("state=")[1], path="/auth/oidc")
        replayed = client.get(callback, follow_redirects=False)
        assert replayed.status_code == 400 and "already finished" in html.unescape(replayed.text)


def test_an_id_token_signed_by_another_key_is_refused(app: Any, idp: Provider) -> None:
    idp.signing_key = RSAKey.generate_key(2048, parameters={"kid": "k1"})  # the same key id
    with TestClient(app) as client:
        refused = _sign_in(client)
        assert refused.status_code == 401
        assert "signature does not verify with the provider's published keys" in html.unescape(
            refused.text
        )
        idp.signing_key = RSAKey.generate_key(2048, parameters={"kid": "k2"})
        unknown = _sign_in(client)
        assert (
            unknown.status_code == 401
            and "a key the provider does not publish" in html.unescape(unknown.text)
        )
        assert "tp_session" not in client.cookies
    assert app.state.services.accounts.all() == []


def test_a_token_for_another_audience_or_another_login_is_refused(app: Any, idp: Provider) -> None:
    idp.audience = "another-client"
    with TestClient(app) as client:
        refused = _sign_in(client)
        assert refused.status_code == 401 and "'aud' claim" in html.unescape(refused.text)
        idp.user["azp"] = CLIENT_ID  # authorised party this client, audience another: no
        refused = _sign_in(client)
        assert refused.status_code == 401 and "'aud' claim" in html.unescape(refused.text)
        del idp.user["azp"]
        idp.audience, idp.nonce = CLIENT_ID, "a nonce of another login"
        replayed = _sign_in(client)
        assert replayed.status_code == 401 and "'nonce' claim" in html.unescape(replayed.text)
        assert "tp_session" not in client.cookies
    assert app.state.services.accounts.all() == []


def test_the_login_page_and_openeo_name_the_provider(app: Any, idp: Provider) -> None:
    with TestClient(app) as client:
        page = client.get("/login").text
        assert "Sign in with Lab ID" in page and "/auth/oidc/login?next=" in page
        providers = client.get("/openeo/1.2/credentials/oidc").json()["providers"]
        assert [(p["issuer"], p["title"]) for p in providers] == [(idp.url, "Lab ID")]


def test_with_oidc_off_there_are_no_routes_and_no_button(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        assert client.get("/auth/oidc/login").status_code == 404
        assert client.get("/auth/oidc/callback?code=x&state=y").status_code == 404
        assert "Sign in with" not in client.get("/login").text
        assert client.get("/openeo/1.2/credentials/oidc").json() == {"providers": []}


def test_oidc_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="oidc_client_id is required"):
        Settings(oidc_issuer="https://id.example.org")
    with pytest.raises(ValueError, match="must start with https://"):
        Settings(oidc_issuer="id.example.org", oidc_client_id="x")
