"""Sign in with GitLab: authorization code with PKCE (checked by the fake for real), a single-use state bound
to the browser, encrypted tokens refreshed when they expire, and the user's project listing."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from autodevops.crypto import Key, Keyring, key_id_of
from autodevops.db import Database, tenant_session
from autodevops.gitlab import secrets as sealed
from autodevops.gitlab.client import GitLabClient, GitLabError
from autodevops.models import GitLabAccount, User, utcnow

from .conftest import gitlab_overrides, settings_for
from .fake_gitlab import FakeGitLab, FakeUser

pytestmark = pytest.mark.usefixtures("clean_db")


async def start(client: httpx.AsyncClient) -> str:
    """Begin sign-in in the app and let the fake GitLab approve it; returns the callback path and query."""
    response = await client.get("/auth/gitlab/login", params={"next": "/orgs"})
    assert response.status_code == 302
    authorize = response.headers["location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == ["http://localhost:8000/auth/gitlab/callback"]
    async with httpx.AsyncClient() as browser:  # the user's browser at GitLab
        approved = await browser.get(authorize, follow_redirects=False)
    assert approved.status_code in (302, 307), approved.text
    callback = urlsplit(approved.headers["location"])
    assert callback.path == "/auth/gitlab/callback"
    return f"{callback.path}?{callback.query}"


async def sign_in(client: httpx.AsyncClient, fake: FakeGitLab, user: FakeUser) -> httpx.Response:
    fake.authorize_as = user.id
    response = await client.get(await start(client))
    assert response.status_code == 303, response.text
    return response


async def test_sign_in_creates_a_user_who_lists_their_projects(
    app: httpx.AsyncClient, fake_gitlab: FakeGitLab, pg_admin: AsyncEngine
) -> None:
    alice = fake_gitlab.add_user("alice")
    fake_gitlab.add_project("acme/api", members={alice: 30})
    fake_gitlab.add_project("other/secret", members={fake_gitlab.add_user("bob"): 40})
    signed_in = await sign_in(app, fake_gitlab, alice)
    assert signed_in.headers["location"] == "/orgs"
    me = (await app.get("/api/v1/auth/session")).json()
    assert me["email"] == "alice@example.com"
    assert [o["name"] for o in (await app.get("/api/v1/organizations")).json()["items"]] == ["alice"]
    listed = await app.get("/api/v1/gitlab/projects")
    assert listed.status_code == 200, listed.text
    assert [p["path_with_namespace"] for p in listed.json()["items"]] == ["acme/api"]

    # Signing in again finds the same user (counted as the owner role: the app role sees no one unbound).
    await sign_in(app, fake_gitlab, alice)
    async with async_sessionmaker(pg_admin)() as session:
        assert len((await session.scalars(select(User))).all()) == 1


async def test_the_state_is_single_use_and_bound_to_the_browser(
    app: httpx.AsyncClient, fake_gitlab: FakeGitLab
) -> None:
    fake_gitlab.authorize_as = fake_gitlab.add_user("alice").id
    callback = await start(app)
    async with httpx.AsyncClient(transport=app._transport, base_url=app.base_url) as another_browser:
        foreign = await another_browser.get(callback)
    assert foreign.status_code == 400
    assert "start again" in foreign.json()["detail"]
    # Refused before GitLab was asked anything; and the state is gone, even for the right browser.
    assert fake_gitlab.count("POST", "/oauth/token") == 0
    assert (await app.get(callback)).status_code == 400
    callback = await start(app)
    assert (await app.get(callback)).status_code == 303
    assert (await app.get(callback)).status_code == 400  # replayed


async def test_the_code_exchange_needs_the_pkce_verifier(fake_gitlab: FakeGitLab) -> None:
    client = GitLabClient(settings_for(fake_gitlab))
    fake_gitlab.authorize_as = fake_gitlab.add_user("alice").id
    redirect = "http://localhost:8000/auth/gitlab/callback"
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()

    def code() -> str:
        url = client.authorize_url(state="s", code_challenge=challenge, redirect_uri=redirect)
        return parse_qs(urlsplit(httpx.get(url).headers["location"]).query)["code"][0]

    with pytest.raises(GitLabError, match="grant is invalid"):
        await client.exchange_code(code=code(), code_verifier=secrets.token_urlsafe(48), redirect_uri=redirect)
    token = await client.exchange_code(code=code(), code_verifier=verifier, redirect_uri=redirect)
    assert token.access_token not in repr(token)
    assert (await client.get_user(token.access_token)).username == "alice"


async def test_an_expired_token_is_refreshed_and_keys_rotate_covers_accounts(
    make_api_client: Any, fake_gitlab: FakeGitLab, database: Database, pg_admin: AsyncEngine
) -> None:
    old, new = Key.generate("k1"), Key.generate("k2")
    app: httpx.AsyncClient = await make_api_client(**gitlab_overrides(fake_gitlab, token_encryption_key=old.spec()))
    alice = fake_gitlab.add_user("alice")
    fake_gitlab.add_project("acme/api", members={alice: 30})
    await sign_in(app, fake_gitlab, alice)
    user_id = (await app.get("/api/v1/auth/session")).json()["user_id"]
    async with tenant_session(database, user_id=user_id) as session:
        account = await session.scalar(select(GitLabAccount))
        assert account is not None
        account.access_token_expires_at = utcnow() - timedelta(seconds=1)
    used_refresh_tokens = set(fake_gitlab.refresh_tokens)
    assert (await app.get("/api/v1/gitlab/projects")).status_code == 200
    assert fake_gitlab.refresh_tokens.keys().isdisjoint(used_refresh_tokens)  # the refresh token was spent

    report = await sealed.rotate_account_tokens(
        async_sessionmaker(pg_admin, expire_on_commit=False), Keyring(new, [old])
    )
    assert (report.scanned, report.rotated, report.failed) == (1, 1, [])
    async with tenant_session(database, user_id=user_id) as session:
        account = await session.scalar(select(GitLabAccount))
        assert account is not None
        assert {key_id_of(account.access_token_enc), key_id_of(account.refresh_token_enc or "")} == {"k2"}


async def test_listing_without_a_linked_account_says_what_to_do(app: httpx.AsyncClient, make_tenant: Any) -> None:
    tenant = await make_tenant()
    response = await app.get("/api/v1/gitlab/projects", headers=tenant.headers)
    assert response.status_code == 409
    assert "sign in with GitLab" in response.json()["detail"]
