"""Fixtures of the single sign-on tests: a local OpenID provider, and the real app pointed at it.

The app reaches the provider over http (`allow_insecure_git_urls`, the insecure-development setting) on
loopback, listed in `git_private_servers` like an internal git server; the production client is used
unchanged, address checks and pinning included.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from autodevops.auth import sessions
from autodevops.config import Settings
from autodevops.db import Database, tenant_session
from platform_support import Tenant

from .fake_idp import CLIENT_ID, CLIENT_SECRET, FakeIdP, IdPServer

PUBLIC_URL = "http://localhost:8000"


def private_server(idp: FakeIdP) -> str:
    """The provider's `ADDRESS:PORT`, listed as a private server the platform may reach (it is on loopback)."""
    return idp.base_url.removeprefix("http://")


def sso_overrides(idp: FakeIdP | None = None, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "public_url": PUBLIC_URL,
        "session_cookie_secure": False,
        "allow_insecure_git_urls": True,  # the local provider speaks http
        "git_private_servers": [private_server(idp)] if idp else [],
        "sso_jwks_min_refresh_s": 60.0,
    }
    values.update(extra)
    return values


@pytest.fixture
def idp() -> Iterator[FakeIdP]:
    provider = FakeIdP()
    server = IdPServer(provider)
    try:
        yield provider
    finally:
        server.stop()


@pytest.fixture
async def sso_client(make_api_client: Any, clean_db: None, idp: FakeIdP) -> httpx.AsyncClient:
    client: httpx.AsyncClient = await make_api_client(**sso_overrides(idp))
    return client


def connection_body(idp: FakeIdP, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "slug": "acme",
        "issuer": idp.issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "allowed_domains": ["example.com"],
        "jit_provisioning": True,
        "default_role": "member",
    }
    body.update(extra)
    return body


async def configure(client: httpx.AsyncClient, tenant: Tenant, idp: FakeIdP, **extra: Any) -> dict[str, Any]:
    """Configure single sign-on for the tenant's organization through the API, as its owner."""
    response = await client.put(
        f"/api/v1/organizations/{tenant.organization_id}/sso",
        json=connection_body(idp, **extra),
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def app_settings(client: httpx.AsyncClient) -> Settings:
    transport: Any = client._transport
    settings: Settings = transport.app.state.settings
    return settings


async def approve_at_idp(authorization_url: str) -> str:
    """The user's browser at the provider: it signs in and is sent back; returns the callback's path+query."""
    async with httpx.AsyncClient() as browser:
        approved = await browser.get(authorization_url, follow_redirects=False)
    assert approved.status_code == 302, approved.text
    callback = urlsplit(approved.headers["location"])
    assert callback.path == "/auth/sso/callback"
    return f"{callback.path}?{callback.query}"


async def start_with_slug(client: httpx.AsyncClient, slug: str = "acme") -> str:
    response = await client.get(f"/auth/sso/{slug}")
    assert response.status_code == 302, response.text
    return response.headers["location"]


def detail(response: httpx.Response) -> str:
    """The message of the error page the browser routes answer."""
    match = re.search(r"<h1>.*?</h1>\s*<p>(.*?)</p>", response.text, re.S)
    assert match, response.text
    return html.unescape(match.group(1))


def forward_url(page: str) -> str:
    """The provider URL of the forwarding page `POST /auth/sso` answers."""
    match = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)">', page)
    assert match, page
    return html.unescape(match.group(1))


async def sso_sign_in(client: httpx.AsyncClient, slug: str = "acme") -> httpx.Response:
    """The whole sign-in from a link; returns the callback's response."""
    return await client.get(await approve_at_idp(await start_with_slug(client, slug)))


async def github_session(client: httpx.AsyncClient, database: Database, tenant: Tenant) -> str:
    """Give `client` a plain (not single sign-on) session cookie for the tenant's user; returns its CSRF token."""
    settings = app_settings(client)
    async with tenant_session(database, user_id=tenant.user_id) as session:
        token = await sessions.start_session(session, settings, tenant.user_id)
    # The domain httpx gives the app's own cookies: the next session the app sets replaces this one.
    client.cookies.set(sessions.cookie_name(settings), token, domain="testserver.local")
    return sessions.csrf_token(settings, sessions.verify_session_token(settings, token))


def session_claims(client: httpx.AsyncClient) -> sessions.SessionClaims:
    """The claims of the session cookie the app set last."""
    settings = app_settings(client)
    values = [cookie.value for cookie in client.cookies.jar if cookie.name == sessions.cookie_name(settings)]
    assert values
    assert values[-1] is not None
    return sessions.verify_session_token(settings, values[-1])


async def csrf_of(client: httpx.AsyncClient) -> dict[str, str]:
    """The CSRF header of the client's current session."""
    return {"X-CSRF-Token": (await client.get("/api/v1/auth/session")).json()["csrf_token"]}


async def link_and_sign_in(client: httpx.AsyncClient, database: Database, tenant: Tenant, slug: str = "acme") -> None:
    """The tenant's user, signed in with a plain session, links the provider's identity and signs in with it."""
    csrf = await github_session(client, database, tenant)
    page = await client.post("/auth/sso", data={"identifier": slug, "csrf_token": csrf})
    done = await client.get(await approve_at_idp(forward_url(page.text)))
    assert done.status_code == 303, done.text
    assert session_claims(client).user_id == tenant.user_id
