"""Sign-in with GitHub (OAuth + PKCE + state), session cookies, revocation and CSRF, through the real app."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import text
from starlette.responses import Response

from autodevops.auth import oauth, sessions
from autodevops.auth import service as auth_service
from autodevops.crypto import Key, Keyring, aad
from autodevops.db import tenant_session

from .conftest import app_overrides
from .fake_github import FakeGitHub
from .flows import app_settings, sign_in, start_login

pytestmark = pytest.mark.usefixtures("clean_db")


async def test_full_login_creates_user_and_personal_org_then_reuses_them(
    app_client: httpx.AsyncClient, fake_github: FakeGitHub, pg_admin: Any
) -> None:
    mona = fake_github.add_user("mona")
    resp = await sign_in(app_client, fake_github, mona)
    assert resp.headers["location"] == "/dashboard"
    cookie = resp.headers["set-cookie"]
    assert "autodevops_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie.replace("samesite", "SameSite")

    me = await app_client.get("/api/v1/auth/session")
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "mona@example.com"
    assert me.json()["csrf_token"]
    orgs = (await app_client.get("/api/v1/organizations")).json()
    assert [o["name"] for o in orgs["items"]] == ["mona"]

    # The GitHub token is stored encrypted, bound to its row, and decrypts to what GitHub issued.
    async with pg_admin.connect() as conn:
        row = (await conn.execute(text("SELECT id, access_token_enc FROM github_accounts"))).one()
    issued = [t for t, uid in fake_github.user_tokens.items() if uid == mona.id]
    assert issued[-1] not in row.access_token_enc
    keyring = Keyring.from_settings(app_settings(app_client))
    assert (
        keyring.decrypt(row.access_token_enc, associated_data=aad("github_accounts", row.id, "access_token"))
        == (issued[-1])
    )

    # Signing in again: same user, still one organization.
    app_client.cookies.clear()
    await sign_in(app_client, fake_github, mona)
    orgs = (await app_client.get("/api/v1/organizations")).json()
    assert [o["name"] for o in orgs["items"]] == ["mona"]
    async with pg_admin.connect() as conn:
        assert (await conn.scalar(text("SELECT count(*) FROM users"))) == 1


async def test_github_links_an_existing_user_by_verified_primary_email_only(
    app_client: httpx.AsyncClient, fake_github: FakeGitHub, database: Any, pg_admin: Any
) -> None:
    async with tenant_session(database) as session:
        sam = await auth_service.create_user(session, "sam@example.com")
        pat = await auth_service.create_user(session, "pat@example.com")
        kim = await auth_service.create_user(session, "kim@example.com")
    # Verified primary address of an existing user: the GitHub account joins that user, no new organization.
    samgh = fake_github.add_user("samgh")
    samgh.emails = [{"email": "Sam@Example.com", "primary": True, "verified": True}]
    await sign_in(app_client, fake_github, samgh)
    assert (await app_client.get("/api/v1/auth/session")).json()["user_id"] == str(sam.id)
    assert (await app_client.get("/api/v1/organizations")).json()["items"] == []

    # Unverified, or verified but not primary: a user of its own (GitHub's no-reply address, the other is taken).
    app_client.cookies.clear()
    patgh = fake_github.add_user("patgh")
    patgh.emails = [
        {"email": "pat@example.com", "primary": True, "verified": False},
        {"email": "kim@example.com", "primary": False, "verified": True},
    ]
    patgh.email = "pat@example.com"  # the public profile address proves nothing either
    await sign_in(app_client, fake_github, patgh)
    me = (await app_client.get("/api/v1/auth/session")).json()
    assert me["user_id"] not in (str(pat.id), str(kim.id))
    assert me["email"] == f"{patgh.id}+patgh@users.noreply.github.com"

    # The App may not read email addresses (403): no linking, sign-in still works.
    app_client.cookies.clear()
    kimgh = fake_github.add_user("kimgh")
    kimgh.emails = None
    kimgh.email = None  # type: ignore[assignment]
    await sign_in(app_client, fake_github, kimgh)
    assert (await app_client.get("/api/v1/auth/session")).json()["user_id"] != str(kim.id)

    # A user already linked to one GitHub account is never taken over by a second one with the same address.
    app_client.cookies.clear()
    other = fake_github.add_user("samsecond")
    other.emails = [{"email": "sam@example.com", "primary": True, "verified": True}]
    await sign_in(app_client, fake_github, other)
    assert (await app_client.get("/api/v1/auth/session")).json()["user_id"] != str(sam.id)

    async with pg_admin.connect() as conn:
        linked = (
            await conn.scalars(
                text("SELECT data->>'login' FROM audit_events WHERE action = 'user.github_linked' AND user_id = :u"),
                {"u": sam.id},
            )
        ).all()
    assert linked == ["samgh"]


async def test_missing_replayed_foreign_and_expired_state_are_refused(
    app_client: httpx.AsyncClient, fake_github: FakeGitHub
) -> None:
    fake_github.authorize_as = fake_github.add_user("mona").id
    callback = await start_login(app_client)
    path, _, query = callback.partition("?")
    code = dict(p.split("=", 1) for p in query.split("&"))["code"]

    missing = await app_client.get(path, params={"code": code})
    assert missing.status_code == 400
    assert "state parameter is missing" in missing.json()["detail"]

    # Another browser (no nonce cookie) presenting a valid state: refused, and the state is burnt.
    other = httpx.AsyncClient(transport=app_client._transport, base_url="http://testserver")
    foreign = await other.get(callback)
    assert foreign.status_code == 400
    assert "does not belong to this browser" in foreign.json()["detail"]
    replay = await app_client.get(callback)
    assert replay.status_code == 400
    assert "already used" in replay.json()["detail"]

    # A valid login, then the same callback again: the second use is refused.
    ok = await app_client.get(await start_login(app_client))
    assert ok.status_code == 303
    app_client.cookies.clear()
    callback = await start_login(app_client)
    assert (await app_client.get(callback)).status_code == 303
    again = await app_client.get(callback)
    assert again.status_code == 400

    # Expired: the record is older than the state lifetime.
    callback = await start_login(app_client)
    state = dict(p.split("=", 1) for p in callback.partition("?")[2].split("&"))["state"]
    redis = app_client._transport.app.state.redis  # type: ignore[attr-defined]
    key = oauth._key(oauth.GITHUB_FLOW, state)
    record = json.loads(await redis.get(key))
    record["created"] = time.time() - oauth.STATE_TTL_SECONDS - 1
    await redis.set(key, json.dumps(record), ex=60)
    expired = await app_client.get(callback)
    assert expired.status_code == 400
    assert "took too long" in expired.json()["detail"]


async def test_open_redirects_are_neutralised() -> None:
    for bad in ["https://evil.example", "//evil.example", "/\\evil.example", "evil", None, ""]:
        assert oauth.safe_next(bad) == "/"
    assert oauth.safe_next("/repos/1?tab=ci") == "/repos/1?tab=ci"


async def test_session_expiry_tampering_and_algorithm_confusion(
    app_client: httpx.AsyncClient, fake_github: FakeGitHub
) -> None:
    await sign_in(app_client, fake_github, fake_github.add_user("mona"))
    settings = app_settings(app_client)
    name = sessions.cookie_name(settings)
    good = app_client.cookies[name]
    claims = jwt.decode(good, options={"verify_signature": False})
    user_id = claims["sub"]

    async def status_with(token: str) -> int:
        app_client.cookies.set(name, token)
        return (await app_client.get("/api/v1/auth/session")).status_code

    assert await status_with(good) == 200
    expired = sessions.issue_session_token(settings, uuid.UUID(user_id), 1, now=int(time.time()) - 3601)
    assert await status_with(expired) == 401
    unsigned = jwt.encode({**claims, "alg": "none"}, key="", algorithm="none")
    assert await status_with(unsigned) == 401
    forged = jwt.encode(claims, "a-different-key-of-sufficient-length-32", algorithm="HS256")
    assert await status_with(forged) == 401
    other_aud = jwt.encode({**claims, "aud": "someone-else"}, sessions._key(settings, "session"), algorithm="HS256")
    assert await status_with(other_aud) == 401
    assert claims["exp"] - claims["iat"] == 3600


async def test_logout_and_disabling_revoke_every_session(
    app_client: httpx.AsyncClient, fake_github: FakeGitHub, database: Any
) -> None:
    mona = fake_github.add_user("mona")
    await sign_in(app_client, fake_github, mona)
    name = sessions.cookie_name(app_settings(app_client))
    first = app_client.cookies[name]
    app_client.cookies.clear()
    await sign_in(app_client, fake_github, mona)  # a second browser session
    csrf = (await app_client.get("/api/v1/auth/session")).json()["csrf_token"]

    assert (await app_client.post("/auth/logout")).status_code == 403  # CSRF required
    out = await app_client.post("/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 303
    app_client.cookies.clear()
    app_client.cookies.set(name, first)
    revoked = await app_client.get("/api/v1/auth/session")
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["detail"]

    # Sign in again (new version), then disable the user: refused at once, and no new session either.
    app_client.cookies.clear()
    await sign_in(app_client, fake_github, mona)
    user_id = uuid.UUID(jwt.decode(app_client.cookies[name], options={"verify_signature": False})["sub"])
    async with tenant_session(database, user_id=user_id) as session:
        await sessions.disable_user(session, user_id)
    assert (await app_client.get("/api/v1/auth/session")).status_code == 401
    app_client.cookies.clear()
    fake_github.authorize_as = mona.id
    refused = await app_client.get(await start_login(app_client))
    assert refused.status_code == 403


async def test_csrf_is_required_for_cookie_writes_but_not_for_bearer_clients(
    app_client: httpx.AsyncClient, fake_github: FakeGitHub, make_tenant: Any
) -> None:
    await sign_in(app_client, fake_github, fake_github.add_user("mona"))
    csrf = (await app_client.get("/api/v1/auth/session")).json()["csrf_token"]
    no_token = await app_client.post("/api/v1/organizations", json={"name": "Team"})
    assert no_token.status_code == 403
    assert "CSRF" in no_token.json()["detail"]
    wrong = await app_client.post("/api/v1/organizations", json={"name": "Team"}, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    ok = await app_client.post("/api/v1/organizations", json={"name": "Team"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.text

    tenant = await make_tenant()
    bearer = httpx.AsyncClient(transport=app_client._transport, base_url="http://testserver")
    made = await bearer.post("/api/v1/organizations", json={"name": "API"}, headers=tenant.headers)
    assert made.status_code == 201


async def test_secure_cookie_attributes(make_api_client: Any, fake_github: FakeGitHub) -> None:
    client = await make_api_client(**app_overrides(fake_github, session_cookie_secure=True))
    login = await client.get("/auth/github/login")
    assert "secure" in login.headers["set-cookie"].lower()
    settings = app_settings(client)
    assert sessions.cookie_name(settings) == "__Host-autodevops_session"
    response = Response()
    sessions.set_session_cookie(response, settings, "token")
    header = response.headers["set-cookie"].lower()
    assert "__host-autodevops_session=token" in header
    for attribute in ("httponly", "secure", "samesite=lax", "path=/", "max-age=3600"):
        assert attribute in header
    assert "domain" not in header


async def test_csrf_token_in_a_form_field(app_client: httpx.AsyncClient, fake_github: FakeGitHub) -> None:
    await sign_in(app_client, fake_github, fake_github.add_user("mona"))
    csrf = (await app_client.get("/api/v1/auth/session")).json()["csrf_token"]
    refused = await app_client.post("/auth/logout", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    out = await app_client.post("/auth/logout", data={"csrf_token": csrf})
    assert out.status_code == 303


async def test_expired_github_token_is_refreshed_then_reencrypted(
    app_client: httpx.AsyncClient, fake_github: FakeGitHub, pg_admin: Any
) -> None:
    fake_github.issue_refresh_tokens = True
    mona = fake_github.add_user("mona")
    fake_github.add_installation("mona", users=[mona])
    await sign_in(app_client, fake_github, mona)
    async with pg_admin.begin() as conn:
        before = (await conn.execute(text("SELECT access_token_enc, refresh_token_enc FROM github_accounts"))).one()
        await conn.execute(text("UPDATE github_accounts SET access_token_expires_at = now() - interval '1 minute'"))
    [old_refresh] = list(fake_github.refresh_tokens)

    listed = await app_client.get("/api/v1/github/installations")
    assert listed.status_code == 200, listed.text
    assert [i["account_login"] for i in listed.json()] == ["mona"]
    assert old_refresh not in fake_github.refresh_tokens  # spent: GitHub refresh tokens are single-use
    async with pg_admin.connect() as conn:
        after = (await conn.execute(text("SELECT access_token_enc, refresh_token_enc FROM github_accounts"))).one()
    assert after.access_token_enc != before.access_token_enc
    assert after.refresh_token_enc != before.refresh_token_enc

    # A refresh GitHub refuses means: sign in again (not a server error).
    async with pg_admin.begin() as conn:
        await conn.execute(text("UPDATE github_accounts SET access_token_expires_at = now() - interval '1 minute'"))
    fake_github.refresh_tokens.clear()
    again = await app_client.get("/api/v1/github/installations")
    assert again.status_code == 409
    assert again.json()["error"] == "github_account_required"


async def test_token_under_a_dropped_key_asks_to_sign_in_again(
    app_client: httpx.AsyncClient, fake_github: FakeGitHub, pg_admin: Any
) -> None:
    await sign_in(app_client, fake_github, fake_github.add_user("mona"))
    lost = Keyring(Key.generate("lost")).encrypt("ghu_x", associated_data=b"irrelevant")
    async with pg_admin.begin() as conn:
        await conn.execute(text("UPDATE github_accounts SET access_token_enc = :v"), {"v": lost})
    response = await app_client.get("/api/v1/github/installations")
    assert response.status_code == 409
    assert response.json()["error"] == "github_account_required"


async def test_sliding_renewal_keeps_the_session_and_its_csrf_token(
    app_client: httpx.AsyncClient, fake_github: FakeGitHub
) -> None:
    await sign_in(app_client, fake_github, fake_github.add_user("mona"))
    settings = app_settings(app_client)
    name = sessions.cookie_name(settings)
    fresh = await app_client.get("/api/v1/auth/session")
    assert "set-cookie" not in fresh.headers  # young sessions are left alone
    claims = jwt.decode(app_client.cookies[name], options={"verify_signature": False})

    now = int(time.time())
    aged = sessions.issue_session_token(
        settings, uuid.UUID(claims["sub"]), claims["sv"], now=now - 2400, jti=claims["jti"], auth_time=now - 2400
    )
    app_client.cookies.clear()
    app_client.cookies.set(name, aged)
    renewed = await app_client.get("/api/v1/auth/session")
    assert renewed.status_code == 200
    assert renewed.json()["csrf_token"] == fresh.json()["csrf_token"]
    assert "httponly" in renewed.headers["set-cookie"].lower()
    new_claims = jwt.decode(renewed.cookies[name], options={"verify_signature": False})
    assert new_claims["jti"] == claims["jti"]
    assert new_claims["exp"] >= now + 3600 - 5
    assert new_claims["auth_time"] == now - 2400

    # Past the absolute limit since sign-in, the session is not extended any more.
    ancient = sessions.issue_session_token(
        settings,
        uuid.UUID(claims["sub"]),
        claims["sv"],
        now=now - 2400,
        jti=claims["jti"],
        auth_time=now - sessions.MAX_SESSION_SECONDS,
    )
    app_client.cookies.clear()
    app_client.cookies.set(name, ancient)
    kept = await app_client.get("/api/v1/auth/session")
    assert kept.status_code == 200
    assert "set-cookie" not in kept.headers


async def test_operator_commands_revoke_disable_and_enable(
    app_client: httpx.AsyncClient, fake_github: FakeGitHub, pg_settings: Any
) -> None:
    mona = fake_github.add_user("mona")
    await sign_in(app_client, fake_github, mona)
    env = {
        **os.environ,
        "AUTODEVOPS_ENV": "test",
        "AUTODEVOPS_DATABASE_URL": pg_settings.database_url.get_secret_value(),
        "AUTODEVOPS_DATABASE_ADMIN_URL": pg_settings.database_admin_url.get_secret_value(),
    }

    async def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [str(Path(sys.executable).parent / "autodevops"), "sessions", *args]
        return await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True, timeout=60)

    done = await cli("disable", "mona@example.com")
    assert done.returncode == 0, done.stderr
    assert (await app_client.get("/api/v1/auth/session")).status_code == 401
    app_client.cookies.clear()
    fake_github.authorize_as = mona.id
    assert (await app_client.get(await start_login(app_client))).status_code == 403
    assert (await cli("enable", "mona@example.com")).returncode == 0
    await sign_in(app_client, fake_github, mona)
    assert (await app_client.get("/api/v1/auth/session")).status_code == 200
    assert (await cli("revoke", "mona@example.com")).returncode == 0
    assert (await app_client.get("/api/v1/auth/session")).status_code == 401
    missing = await cli("revoke", "nobody@example.com")
    assert missing.returncode == 1
    assert "not found" in missing.stderr
