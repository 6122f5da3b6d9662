"""SQL of the GitHub integration (the only place it is built)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.models import (
    CIDriftFinding,
    GitHubAccount,
    GitHubInstallation,
    GitHubPullRequest,
    GitHubRepositoryLink,
    GitHubWebhookDelivery,
    Pipeline,
)


async def get_account(session: AsyncSession, user_id: uuid.UUID) -> GitHubAccount | None:
    return await session.scalar(select(GitHubAccount).where(GitHubAccount.user_id == user_id))


async def get_installation(
    session: AsyncSession, organization_id: uuid.UUID, installation_id: int
) -> GitHubInstallation | None:
    return await session.scalar(
        select(GitHubInstallation).where(
            GitHubInstallation.organization_id == organization_id,
            GitHubInstallation.installation_id == installation_id,
        )
    )


async def list_installations_by_github_id(session: AsyncSession, installation_id: int) -> Sequence[GitHubInstallation]:
    """The rows of one GitHub installation visible to the session (one per connected organization)."""
    rows = await session.scalars(
        select(GitHubInstallation).where(GitHubInstallation.installation_id == installation_id)
    )
    return rows.all()


async def get_link(session: AsyncSession, repository_id: uuid.UUID) -> GitHubRepositoryLink | None:
    return await session.get(GitHubRepositoryLink, repository_id)


async def list_links_of_installation(session: AsyncSession, installation_id: int) -> Sequence[GitHubRepositoryLink]:
    rows = await session.scalars(
        select(GitHubRepositoryLink).where(GitHubRepositoryLink.installation_id == installation_id)
    )
    return rows.all()


async def repository_targets(session: AsyncSession, github_repo_id: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(organization_id, repository_id) of every connection of a GitHub repository, across tenants.

    Routing facts only, through a definer function: the caller reads the rows in a session bound to each
    organization in turn.
    """
    fn = func.app_github_repository_targets(github_repo_id).table_valued("organization_id", "repository_id")
    result = await session.execute(select(fn.c.organization_id, fn.c.repository_id))
    return [(uuid.UUID(str(org)), uuid.UUID(str(repo))) for org, repo in result.all()]


async def installation_organizations(session: AsyncSession, installation_id: int) -> list[uuid.UUID]:
    fn = func.app_github_installation_organizations(installation_id).table_valued("organization_id")
    return [uuid.UUID(str(v)) for v in (await session.scalars(select(fn.c.organization_id))).all()]


async def latest_pipeline(session: AsyncSession, repository_id: uuid.UUID) -> Pipeline | None:
    return await session.scalar(
        select(Pipeline)
        .where(Pipeline.repository_id == repository_id)
        .order_by(Pipeline.created_at.desc(), Pipeline.id.desc())
        .limit(1)
    )


async def get_pull_request(session: AsyncSession, repository_id: uuid.UUID, number: int) -> GitHubPullRequest | None:
    return await session.scalar(
        select(GitHubPullRequest).where(
            GitHubPullRequest.repository_id == repository_id, GitHubPullRequest.number == number
        )
    )


async def list_pull_requests(session: AsyncSession, repository_id: uuid.UUID) -> Sequence[GitHubPullRequest]:
    rows = await session.scalars(
        select(GitHubPullRequest)
        .where(GitHubPullRequest.repository_id == repository_id)
        .order_by(GitHubPullRequest.created_at.desc())
        .limit(100)
    )
    return rows.all()


async def record_delivery(
    session: AsyncSession,
    delivery_id: str,
    event: str,
    action: str | None,
    received_at: datetime,
    *,
    body_sha256: str,
    replay_window: timedelta,
) -> bool:
    """Remember a webhook delivery; False when it was already received: the same delivery id (a redelivery or
    a replay), or the same signed body under another delivery id within `replay_window` (a replay)."""
    # One delivery of a given body at a time, so two concurrent replays cannot both find no earlier copy.
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(body_sha256, 0))))
    seen = await session.scalar(
        select(GitHubWebhookDelivery.delivery_id)
        .where(
            GitHubWebhookDelivery.body_sha256 == body_sha256,
            GitHubWebhookDelivery.received_at > received_at - replay_window,
        )
        .limit(1)
    )
    if seen is not None:
        return False
    statement = (
        insert(GitHubWebhookDelivery)
        .values(
            delivery_id=delivery_id,
            event=event,
            action=action,
            outcome="received",
            received_at=received_at,
            body_sha256=body_sha256,
        )
        .on_conflict_do_nothing(index_elements=["delivery_id"])
        .returning(GitHubWebhookDelivery.delivery_id)
    )
    return (await session.scalar(statement)) is not None


async def set_delivery_outcome(session: AsyncSession, delivery_id: str, outcome: str) -> None:
    await session.execute(
        update(GitHubWebhookDelivery).where(GitHubWebhookDelivery.delivery_id == delivery_id).values(outcome=outcome)
    )


async def find_drift(
    session: AsyncSession, repository_id: uuid.UUID, commit_sha: str, pipeline_id: uuid.UUID
) -> CIDriftFinding | None:
    return await session.scalar(
        select(CIDriftFinding).where(
            CIDriftFinding.repository_id == repository_id,
            CIDriftFinding.commit_sha == commit_sha,
            CIDriftFinding.pipeline_id == pipeline_id,
        )
    )


async def list_drift(session: AsyncSession, repository_id: uuid.UUID) -> Sequence[CIDriftFinding]:
    rows = await session.scalars(
        select(CIDriftFinding)
        .where(CIDriftFinding.repository_id == repository_id)
        .order_by(CIDriftFinding.created_at.desc())
        .limit(100)
    )
    return rows.all()
