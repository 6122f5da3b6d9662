"""Personal API tokens: shown once, stored hashed, usable as Bearer, revocable, expirable."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from autodevops.db import Database, tenant_session
from autodevops.models import APIToken, utcnow


async def test_token_is_shown_once_and_stored_only_hashed(
    api_client: httpx.AsyncClient, make_tenant: Any, pg_admin: AsyncEngine
) -> None:
    tenant = await make_tenant()
    created = await api_client.post("/api/v1/tokens", json={"name": "deploy"}, headers=tenant.headers)
    assert created.status_code == 201
    secret = created.json()["token"]
    assert secret.startswith("adt_")
    assert created.json()["prefix"] == secret[:12]

    listing = (await api_client.get("/api/v1/tokens", headers=tenant.headers)).json()["items"]
    assert {t["name"] for t in listing} == {"tests", "deploy"}
    assert all("token" not in t for t in listing)
    assert secret not in str(listing)

    async with pg_admin.connect() as connection:
        rows = (await connection.execute(text("SELECT prefix, token_hash FROM api_tokens"))).all()
        dump = str((await connection.execute(text("SELECT * FROM api_tokens"))).all())
    assert secret not in dump
    assert (secret[:12], hashlib.sha256(secret.encode()).hexdigest()) in rows

    me = await api_client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    assert me.json()["email"] == tenant.user.email


async def test_revoked_token_stops_working(api_client: httpx.AsyncClient, make_tenant: Any) -> None:
    tenant = await make_tenant()
    created = (await api_client.post("/api/v1/tokens", json={"name": "ci"}, headers=tenant.headers)).json()
    bearer = {"Authorization": f"Bearer {created['token']}"}
    assert (await api_client.get("/api/v1/organizations", headers=bearer)).status_code == 200

    revoked = await api_client.delete(f"/api/v1/tokens/{created['id']}", headers=tenant.headers)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None

    refused = await api_client.get("/api/v1/organizations", headers=bearer)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert refused.json() == {"error": "unauthorized", "detail": "invalid or expired token"}
    # The other token of the same user still works.
    assert (await api_client.get("/api/v1/organizations", headers=tenant.headers)).status_code == 200


async def test_a_token_can_revoke_itself(api_client: httpx.AsyncClient, make_tenant: Any) -> None:
    tenant = await make_tenant()
    token_id = (await api_client.get("/api/v1/tokens", headers=tenant.headers)).json()["items"][0]["id"]
    assert (await api_client.delete(f"/api/v1/tokens/{token_id}", headers=tenant.headers)).status_code == 200
    assert (await api_client.get("/api/v1/tokens", headers=tenant.headers)).status_code == 401


async def test_expired_token_is_refused(api_client: httpx.AsyncClient, make_tenant: Any, database: Database) -> None:
    tenant = await make_tenant()
    created = (
        await api_client.post("/api/v1/tokens", json={"name": "short", "expires_in_days": 1}, headers=tenant.headers)
    ).json()
    bearer = {"Authorization": f"Bearer {created['token']}"}
    assert (await api_client.get("/api/v1/users/me", headers=bearer)).status_code == 200
    async with tenant_session(database, user_id=tenant.user_id) as session:
        await session.execute(
            update(APIToken).where(APIToken.prefix == created["prefix"]).values(expires_at=utcnow() - timedelta(1))
        )
    assert (await api_client.get("/api/v1/users/me", headers=bearer)).status_code == 401


async def test_token_with_right_prefix_but_wrong_secret_is_refused(
    api_client: httpx.AsyncClient, make_tenant: Any
) -> None:
    tenant = await make_tenant()
    real = tenant.token
    forged = real[:12] + ("A" if real[12] != "A" else "B") + real[13:]
    response = await api_client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_last_used_at_is_recorded(api_client: httpx.AsyncClient, make_tenant: Any) -> None:
    tenant = await make_tenant()
    before = (await api_client.get("/api/v1/tokens", headers=tenant.headers)).json()["items"][0]
    after = (await api_client.get("/api/v1/tokens", headers=tenant.headers)).json()["items"][0]
    assert after["last_used_at"] is not None
    assert before["last_used_at"] is None or after["last_used_at"] >= before["last_used_at"]


async def test_token_list_is_paginated(api_client: httpx.AsyncClient, make_tenant: Any) -> None:
    tenant = await make_tenant()
    for i in range(4):
        await api_client.post("/api/v1/tokens", json={"name": f"t{i}"}, headers=tenant.headers)
    first = (await api_client.get("/api/v1/tokens", params={"limit": 3}, headers=tenant.headers)).json()
    assert len(first["items"]) == 3
    assert first["next_offset"] == 3
    rest = (await api_client.get("/api/v1/tokens", params={"limit": 3, "offset": 3}, headers=tenant.headers)).json()
    assert len(rest["items"]) == 2
    assert rest["next_offset"] is None
    assert {t["id"] for t in first["items"]}.isdisjoint({t["id"] for t in rest["items"]})


async def test_disabling_a_user_stops_their_tokens_and_token_minting(
    api_client: httpx.AsyncClient, make_tenant: Any, database: Database, pg_admin: AsyncEngine
) -> None:
    # The assessment: after `autodevops sessions disable USER` the user's bearer tokens still worked and
    # could mint new tokens.
    from autodevops.auth import service as auth_service
    from autodevops.auth import sessions
    from autodevops.errors import Forbidden

    tenant = await make_tenant()
    other = await make_tenant()
    async with tenant_session(database, user_id=tenant.user_id) as session:
        await sessions.disable_user(session, tenant.user_id)

    for request in (
        api_client.get("/api/v1/users/me", headers=tenant.headers),
        api_client.post("/api/v1/tokens", json={"name": "escape"}, headers=tenant.headers),
    ):
        response = await request
        assert response.status_code == 401
        assert response.json() == {"error": "unauthorized", "detail": "invalid or expired token"}
    async with tenant_session(database, user_id=tenant.user_id) as session:
        with pytest.raises(Forbidden, match="this account is disabled"):
            await auth_service.create_token(session, tenant.user, "cli")
    async with pg_admin.connect() as connection:
        live = await connection.scalar(
            text("SELECT count(*) FROM api_tokens WHERE user_id = :u AND revoked_at IS NULL"), {"u": tenant.user_id}
        )
    assert live == 0  # revoked, so enabling the user again does not bring them back
    # Even a token that is not revoked (written behind the service's back) is refused while disabled.
    async with pg_admin.begin() as connection:
        await connection.execute(
            text("UPDATE api_tokens SET revoked_at = NULL WHERE user_id = :u"), {"u": tenant.user_id}
        )
    assert (await api_client.get("/api/v1/users/me", headers=tenant.headers)).status_code == 401
    # Nobody else is affected.
    assert (await api_client.get("/api/v1/users/me", headers=other.headers)).status_code == 200
