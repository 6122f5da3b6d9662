"""Requiring single sign-on: a member reaches the organization only from a session of its provider (and with
a personal token only when the owner allows it), in the services and in PostgreSQL alike, while every other
organization of theirs stays reachable as before."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from autodevops.auth import sessions
from autodevops.db import Database, TenantContext, tenant_session
from autodevops.models import Repository
from platform_support import MakeTenant, Tenant, add_member

from .conftest import app_settings, configure, github_session, link_and_sign_in, session_claims
from .fake_idp import FakeIdP, Person


class World:
    def __init__(self, owner: Tenant, member: Tenant, acme_repo: uuid.UUID, personal_repo: uuid.UUID) -> None:
        self.owner = owner
        self.member = member
        self.acme_repo = acme_repo
        self.personal_repo = personal_repo

    @property
    def acme(self) -> uuid.UUID:
        return self.owner.organization_id

    @property
    def personal(self) -> uuid.UUID:
        return self.member.organization_id


async def add_repository(database: Database, tenant: Tenant, organization_id: uuid.UUID, name: str) -> uuid.UUID:
    async with tenant_session(database, user_id=tenant.user_id) as session:
        repository = Repository(
            organization_id=organization_id, name=name, source="git", clone_url=f"https://140.82.112.3/x/{name}.git"
        )
        session.add(repository)
        await session.flush()
        return repository.id


async def set_rule(pg_admin: AsyncEngine, organization_id: uuid.UUID, *, enforced: bool, tokens: bool) -> None:
    # Arranged as the owner role; turning enforcement on through the API is tested with the configuration.
    async with pg_admin.begin() as connection:
        await connection.execute(
            text("UPDATE sso_connections SET enforced = :e, allow_personal_tokens = :t WHERE organization_id = :o"),
            {"e": enforced, "t": tokens, "o": organization_id},
        )


@pytest.fixture
async def world(
    sso_client: httpx.AsyncClient, make_tenant: MakeTenant, idp: FakeIdP, database: Database, pg_admin: AsyncEngine
) -> World:
    owner = await make_tenant(email="owner@example.com", organization="Acme")
    member = await make_tenant(email="mia@example.com", organization="Mia's own")
    await add_member(database, owner, member, "member")
    await configure(sso_client, owner, idp)
    acme_repo = await add_repository(database, owner, owner.organization_id, "acme-app")
    personal_repo = await add_repository(database, member, member.organization_id, "side-project")
    await set_rule(pg_admin, owner.organization_id, enforced=True, tokens=False)
    idp.person = Person("mia-sub", "mia@example.com")
    return World(owner, member, acme_repo, personal_repo)


async def reach(client: httpx.AsyncClient, world: World, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """What one credential reaches: the organization, its repository, the repository list, the other organization."""
    acme = await client.get(f"/api/v1/organizations/{world.acme}", headers=headers)
    repositories = await client.get("/api/v1/repositories", headers=headers)
    organizations = await client.get("/api/v1/organizations", headers=headers)
    return {
        "acme": acme.status_code,
        "acme_error": acme.json().get("error"),
        "acme_repo": (await client.get(f"/api/v1/repositories/{world.acme_repo}", headers=headers)).status_code,
        "listed_repos": {item["id"] for item in repositories.json()["items"]},
        "listed_orgs": {item["id"] for item in organizations.json()["items"]},
        "personal": (await client.get(f"/api/v1/organizations/{world.personal}", headers=headers)).status_code,
    }


async def test_a_github_session_reaches_only_the_other_organizations(
    sso_client: httpx.AsyncClient, world: World, database: Database
) -> None:
    await github_session(sso_client, database, world.member)
    seen = await reach(sso_client, world)
    assert seen["acme"] == 403
    assert seen["acme_error"] == "sso_required"
    assert seen["acme_repo"] == 404
    assert seen["listed_repos"] == {str(world.personal_repo)}
    assert seen["listed_orgs"] == {str(world.personal)}
    assert seen["personal"] == 200
    detail = (await sso_client.get(f"/api/v1/organizations/{world.acme}")).json()["detail"]
    assert (
        detail == "Acme requires single sign-on: sign in through its identity provider at /auth/sso?organization=acme"
    )


async def test_a_session_from_the_provider_reaches_it(
    sso_client: httpx.AsyncClient, world: World, database: Database
) -> None:
    await link_and_sign_in(sso_client, database, world.member)
    seen = await reach(sso_client, world)
    assert seen["acme"] == 200
    assert seen["acme_repo"] == 200
    assert seen["listed_repos"] == {str(world.acme_repo), str(world.personal_repo)}
    assert seen["personal"] == 200


@pytest.mark.parametrize("allowed", [False, True])
async def test_personal_tokens_reach_it_only_when_the_owner_allows(
    sso_client: httpx.AsyncClient, world: World, pg_admin: AsyncEngine, allowed: bool
) -> None:
    await set_rule(pg_admin, world.acme, enforced=True, tokens=allowed)
    seen = await reach(sso_client, world, world.member.headers)
    assert seen["acme"] == (200 if allowed else 403)
    assert seen["acme_repo"] == (200 if allowed else 404)
    assert (str(world.acme_repo) in seen["listed_repos"]) is allowed
    assert seen["personal"] == 200


async def test_without_enforcement_every_credential_reaches_it(
    sso_client: httpx.AsyncClient, world: World, pg_admin: AsyncEngine, database: Database
) -> None:
    await set_rule(pg_admin, world.acme, enforced=False, tokens=False)
    assert (await reach(sso_client, world, world.member.headers))["acme"] == 200
    await github_session(sso_client, database, world.member)
    assert (await reach(sso_client, world))["acme"] == 200


async def test_a_session_from_another_organizations_provider_does_not_reach_it(
    sso_client: httpx.AsyncClient, world: World, make_tenant: MakeTenant, idp: FakeIdP, database: Database
) -> None:
    other = await make_tenant(organization="Beta")
    await configure(sso_client, other, idp, slug="beta")
    await add_member(database, other, world.member, "member")
    await link_and_sign_in(sso_client, database, world.member, slug="beta")
    seen = await reach(sso_client, world)
    assert seen["acme"] == 403
    assert seen["acme_repo"] == 404


async def test_postgres_enforces_it_for_queries_that_forget(database: Database, world: World) -> None:
    member = world.member.user_id
    count = text("SELECT count(*) FROM repositories WHERE organization_id = :o")
    members = text("SELECT count(*) FROM organization_members WHERE organization_id = :o")
    contexts = {
        "plain session": (TenantContext(member), 0),
        "personal token": (TenantContext(member, via_token=True), 0),
        "provider session": (TenantContext(member, sso_organization_id=world.acme), 1),
        "another provider": (TenantContext(member, sso_organization_id=world.personal), 0),
    }
    for name, (context, expected) in contexts.items():
        async with tenant_session(database, context=context) as session:
            assert await session.scalar(count, {"o": world.acme}) == expected, name
            assert (await session.scalar(members, {"o": world.acme}) or 0) >= expected, name
            assert await session.scalar(count, {"o": world.personal}) == 1, name  # the other organization
            forged = await session.execute(
                text("UPDATE repositories SET name = 'x' WHERE organization_id = :o"), {"o": world.acme}
            )
            assert forged.rowcount == expected, name  # type: ignore[attr-defined]
            await session.rollback()


async def test_the_dashboard_sends_the_member_to_single_sign_on(
    sso_client: httpx.AsyncClient, world: World, database: Database
) -> None:
    await github_session(sso_client, database, world.member)
    page = await sso_client.get(f"/orgs/{world.acme}/repositories", headers={"Accept": "text/html"})
    assert page.status_code == 303
    assert page.headers["location"] == f"/auth/sso?organization=acme&next=/orgs/{world.acme}/repositories"
    listing = await sso_client.get("/orgs", headers={"Accept": "text/html"})
    assert "Single sign-on required" in listing.text
    assert 'href="/auth/sso?organization=acme"' in listing.text
    sign_in = await sso_client.get(page.headers["location"], headers={"Accept": "text/html"})
    assert 'value="acme"' in sign_in.text
    assert "You are signed in as <strong>mia@example.com</strong>" in sign_in.text


async def test_the_operator_can_lift_the_requirement(
    sso_client: httpx.AsyncClient, world: World, database: Database, pg_settings: Any, pg_admin: AsyncEngine
) -> None:
    # The provider is down and nobody can reach the organization: `autodevops sso unenforce` lets them back in.
    env = {
        **os.environ,
        "AUTODEVOPS_ENV": "test",
        "AUTODEVOPS_DATABASE_URL": pg_settings.database_url.get_secret_value(),
        "AUTODEVOPS_DATABASE_ADMIN_URL": pg_settings.database_admin_url.get_secret_value(),
    }
    command = [str(Path(sys.executable).parent / "autodevops"), "sso", "unenforce", str(world.acme)]
    done = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    await github_session(sso_client, database, world.member)
    assert (await reach(sso_client, world))["acme"] == 200
    async with pg_admin.connect() as connection:
        data = await connection.scalar(
            text("SELECT data FROM audit_events WHERE organization_id = :o AND action = 'sso.updated'"),
            {"o": world.acme},
        )
    assert data == {"changed": {"enforced": {"from": True, "to": False}}, "via": "autodevops sso unenforce"}
    unknown = [*command[:-1], str(uuid.uuid4())]
    missing = await asyncio.to_thread(subprocess.run, unknown, env=env, capture_output=True, text=True, timeout=120)
    assert missing.returncode != 0
    assert "no single sign-on configured" in missing.stderr


async def test_a_renewed_session_still_came_through_the_provider(
    sso_client: httpx.AsyncClient, world: World, database: Database
) -> None:
    await link_and_sign_in(sso_client, database, world.member)
    settings = app_settings(sso_client)
    claims = session_claims(sso_client)
    now = int(time.time())
    aged = sessions.issue_session_token(
        settings,
        claims.user_id,
        claims.version,
        now=now - 2400,
        jti=claims.jti,
        auth_time=now - 2400,
        sso_organization_id=claims.sso_organization_id,
    )
    sso_client.cookies.clear()
    sso_client.cookies.set(sessions.cookie_name(settings), aged, domain="testserver.local")
    renewed = await sso_client.get(f"/api/v1/organizations/{world.acme}")
    assert renewed.status_code == 200
    assert "set-cookie" in renewed.headers
    assert session_claims(sso_client).sso_organization_id == world.acme
    assert (await sso_client.get(f"/api/v1/organizations/{world.acme}")).status_code == 200
