"""Isolation of the GitHub tables: tokens per user, pull requests and drift per organization (RLS + services)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from autodevops.crypto import Key, Keyring
from autodevops.db import Database, tenant_session
from autodevops.models import GitHubAccount, GitHubPullRequest, Repository

from .flows import add_account

pytestmark = pytest.mark.usefixtures("clean_db")


async def test_a_user_sees_and_writes_only_their_own_github_account(database: Database) -> None:
    ring = Keyring(Key.generate("k1"))
    alice = await add_account(database, ring, 1, "ghu_alice")
    bob = await add_account(database, ring, 2, "ghu_bob")
    async with tenant_session(database, user_id=alice) as session:
        rows = (await session.scalars(select(GitHubAccount))).all()
        assert [r.user_id for r in rows] == [alice]
    async with tenant_session(database) as session:  # no user: nothing
        assert await session.scalar(select(func.count()).select_from(GitHubAccount)) == 0
    with pytest.raises(DBAPIError, match="row-level security"):
        async with tenant_session(database, user_id=alice) as session:
            await session.execute(
                text(
                    "INSERT INTO github_accounts (id, user_id, github_user_id, login, access_token_enc)"
                    " VALUES (:id, :user, 3, 'x', 'x')"
                ),
                {"id": uuid.uuid4(), "user": bob},
            )


async def test_pull_requests_of_another_organization_are_invisible(
    database: Database, make_tenant: Any, api_client: httpx.AsyncClient
) -> None:
    owner, stranger = await make_tenant(), await make_tenant()
    async with tenant_session(database, user_id=owner.user_id) as session:
        repository = Repository(
            organization_id=owner.organization_id, name="app", source="github", clone_url="https://h/o/app.git"
        )
        session.add(repository)
        await session.flush()
        session.add(
            GitHubPullRequest(
                organization_id=owner.organization_id,
                repository_id=repository.id,
                full_name="o/app",
                number=1,
                url="https://h/o/app/pull/1",
                head_branch="autodevops/ci",
                head_sha="c" * 40,
            )
        )
    mine = await api_client.get(f"/api/v1/repositories/{repository.id}/pull-requests", headers=owner.headers)
    assert [p["number"] for p in mine.json()] == [1]
    for path in ("pull-requests", "drift"):
        theirs = await api_client.get(f"/api/v1/repositories/{repository.id}/{path}", headers=stranger.headers)
        assert theirs.status_code == 404
    opened = await api_client.post(f"/api/v1/repositories/{repository.id}/pull-request", headers=stranger.headers)
    assert opened.status_code == 404
    async with tenant_session(database, user_id=stranger.user_id) as session:
        assert await session.scalar(select(func.count()).select_from(GitHubPullRequest)) == 0
