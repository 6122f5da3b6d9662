"""Flows and fixtures-as-functions shared by the GitHub tests: browser sign-in, linked accounts."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx

from autodevops.auth import oauth
from autodevops.auth import service as auth_service
from autodevops.config import Settings
from autodevops.crypto import Keyring
from autodevops.db import Database, tenant_session
from autodevops.github.client import OAuthToken
from autodevops.models import GitHubAccount

from .fake_github import FakeGitHub, FakeUser


async def start_login(client: httpx.AsyncClient, next_path: str = "/dashboard") -> str:
    """Begin sign-in in the app and let the fake GitHub approve it; returns the callback path+query."""
    resp = await client.get("/auth/github/login", params={"next": next_path})
    assert resp.status_code == 302
    authorize = resp.headers["location"]
    assert "code_challenge_method=S256" in authorize
    assert "code_challenge=" in authorize
    async with httpx.AsyncClient() as browser:  # the user's browser visiting GitHub
        approved = await browser.get(authorize, follow_redirects=False)
    assert approved.status_code == 302, approved.text
    callback = urlsplit(approved.headers["location"])
    assert callback.path == "/auth/github/callback"
    return f"{callback.path}?{callback.query}"


async def sign_in(client: httpx.AsyncClient, fake: FakeGitHub, user: FakeUser) -> httpx.Response:
    fake.authorize_as = user.id
    resp = await client.get(await start_login(client))
    assert resp.status_code == 303, resp.text
    return resp


async def csrf_headers(client: httpx.AsyncClient) -> dict[str, str]:
    token = (await client.get("/api/v1/auth/session")).json()["csrf_token"]
    return {"X-CSRF-Token": token}


def app_of(client: httpx.AsyncClient) -> Any:
    transport: Any = client._transport
    return transport.app


def app_settings(client: httpx.AsyncClient) -> Settings:
    settings: Settings = app_of(client).state.settings
    return settings


async def add_account(database: Database, keyring: Keyring, github_user_id: int, token: str) -> uuid.UUID:
    """A user with a linked GitHub account whose tokens are encrypted under `keyring`."""
    async with tenant_session(database) as session:
        user = await auth_service.create_user(session, f"gh{github_user_id}@example.com")
    async with tenant_session(database, user_id=user.id) as session:
        account = GitHubAccount(
            id=uuid.uuid4(), user_id=user.id, github_user_id=github_user_id, login=f"u{github_user_id}"
        )
        oauth.store_tokens(keyring, account, OAuthToken(access_token=token, refresh_token=f"ghr_{github_user_id}"))
        session.add(account)
    return user.id
