"""SQL for analyses, scoped to the caller's organizations (RLS enforces the same)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from autodevops.models import Analysis
from autodevops.organization.queries import member_organization_ids


async def list_for_user(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    repository_id: uuid.UUID | None,
    organization_id: uuid.UUID | None,
    limit: int,
    offset: int,
) -> Sequence[Analysis]:
    mine = member_organization_ids(user_id)
    # Lists leave out the (large) result document; the detail endpoint returns it.
    query = select(Analysis).options(defer(Analysis.result)).where(Analysis.organization_id.in_(mine))
    if repository_id is not None:
        query = query.where(Analysis.repository_id == repository_id)
    if organization_id is not None:
        query = query.where(Analysis.organization_id == organization_id)
    query = query.order_by(Analysis.created_at.desc(), Analysis.id).limit(limit).offset(offset)
    return (await session.scalars(query)).all()


async def get_for_user(session: AsyncSession, user_id: uuid.UUID, analysis_id: uuid.UUID) -> Analysis | None:
    mine = member_organization_ids(user_id)
    result: Analysis | None = await session.scalar(
        select(Analysis).where(Analysis.id == analysis_id, Analysis.organization_id.in_(mine))
    )
    return result


async def latest_succeeded(session: AsyncSession, repository_id: uuid.UUID) -> Analysis | None:
    """The repository's most recent successful analysis, if any."""
    analysis: Analysis | None = await session.scalar(
        select(Analysis)
        .where(Analysis.repository_id == repository_id, Analysis.status == "succeeded")
        .order_by(Analysis.created_at.desc())
        .limit(1)
    )
    return analysis
