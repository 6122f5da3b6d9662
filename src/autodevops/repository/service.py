"""Connecting repositories: members read them; owners and admins connect, change and disconnect them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.audit.service import record
from autodevops.config import Settings
from autodevops.errors import NotFound
from autodevops.models import Repository, User
from autodevops.organization import quotas
from autodevops.organization.service import require_manager
from autodevops.repository import queries
from autodevops.repository.git_url import GitURLPolicy, validate_git_url

ALREADY_CONNECTED = "this repository is already connected to the organization"


async def connect_repository(
    session: AsyncSession,
    user: User,
    organization_id: uuid.UUID,
    url: str,
    *,
    default_branch: str | None,
    url_policy: GitURLPolicy,
    settings: Settings,
) -> Repository:
    """Connect a public git repository by URL. `ValidationFailed` for an unacceptable URL, `QuotaExceeded` when
    the plan allows no more repositories."""
    await require_manager(session, user, organization_id)
    git_url = await validate_git_url(url, policy=url_policy)
    repository = Repository(
        organization_id=organization_id,
        name=git_url.name,
        source="git",
        clone_url=git_url.url,
        default_branch=default_branch,
        created_by_id=user.id,
    )
    await quotas.add_repository(session, settings, repository, ALREADY_CONNECTED)
    await record(
        session,
        "repository.connected",
        user_id=user.id,
        organization_id=organization_id,
        target_type="repository",
        target_id=repository.id,
        data={"url": git_url.url},
    )
    return repository


async def list_repositories(
    session: AsyncSession, user: User, *, organization_id: uuid.UUID | None, limit: int, offset: int
) -> Sequence[Repository]:
    return await queries.list_for_user(session, user.id, organization_id=organization_id, limit=limit, offset=offset)


async def list_repository_rows(
    session: AsyncSession, user: User, *, organization_id: uuid.UUID | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    """`list_repositories` as plain dicts of the fields `RepositoryRead` shows (the API's hot path)."""
    return await queries.list_rows_for_user(
        session, user.id, organization_id=organization_id, limit=limit, offset=offset
    )


async def get_repository(session: AsyncSession, user: User, repository_id: uuid.UUID) -> Repository:
    repository = await queries.get_for_user(session, user.id, repository_id)
    if repository is None:
        raise NotFound("repository not found")
    return repository


async def update_repository(
    session: AsyncSession, user: User, repository_id: uuid.UUID, *, default_branch: str
) -> Repository:
    repository = await get_repository(session, user, repository_id)
    await require_manager(session, user, repository.organization_id)
    repository.default_branch = default_branch
    await session.flush()
    return repository


async def delete_repository(session: AsyncSession, user: User, repository_id: uuid.UUID) -> None:
    """Disconnect a repository; its analyses and pipelines go with it."""
    repository = await get_repository(session, user, repository_id)
    await require_manager(session, user, repository.organization_id)
    await record(
        session,
        "repository.disconnected",
        user_id=user.id,
        organization_id=repository.organization_id,
        target_type="repository",
        target_id=repository.id,
        data={"url": repository.clone_url},
    )
    await queries.delete_repository(session, repository.id)


async def repository_names(session: AsyncSession, repository_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Display names of repositories the session may see (row-level security hides the others)."""
    return await queries.names_by_id(session, repository_ids)
