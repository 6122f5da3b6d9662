"""Isolation of "Sign in with GitLab" accounts: each user sees and writes only their own row (RLS)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from autodevops.db import Database, tenant_session
from autodevops.models import GitLabAccount

pytestmark = pytest.mark.usefixtures("clean_db")


async def _account(database: Database, user_id: uuid.UUID, gitlab_user_id: int) -> None:
    async with tenant_session(database, user_id=user_id) as session:
        session.add(
            GitLabAccount(
                user_id=user_id, gitlab_user_id=gitlab_user_id, username=f"u{gitlab_user_id}", access_token_enc="x"
            )
        )


async def test_a_user_sees_and_writes_only_their_own_gitlab_account(database: Database, make_tenant: Any) -> None:
    alice, bob = await make_tenant(), await make_tenant()
    await _account(database, alice.user_id, 1)
    await _account(database, bob.user_id, 2)
    async with tenant_session(database, user_id=alice.user_id) as session:
        assert [a.user_id for a in (await session.scalars(select(GitLabAccount))).all()] == [alice.user_id]
        changed = await session.execute(
            text("UPDATE gitlab_accounts SET username = 'x' WHERE user_id = :u"), {"u": bob.user_id}
        )
        assert changed.rowcount == 0  # type: ignore[attr-defined]
    async with tenant_session(database, organization_id=alice.organization_id) as session:  # no user: nothing
        assert await session.scalar(select(func.count()).select_from(GitLabAccount)) == 0
    with pytest.raises(DBAPIError, match="row-level security"):
        async with tenant_session(database, user_id=alice.user_id) as session:
            await session.execute(
                text(
                    "INSERT INTO gitlab_accounts (id, user_id, gitlab_user_id, username, access_token_enc)"
                    " VALUES (gen_random_uuid(), :user, 3, 'x', 'x')"
                ),
                {"user": bob.user_id},
            )
