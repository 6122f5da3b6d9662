"""Reading analyses. Creating one (enqueueing the engine run) belongs to the job system."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.analysis import queries
from autodevops.errors import NotFound
from autodevops.models import Analysis, User


async def list_analyses(
    session: AsyncSession,
    user: User,
    *,
    repository_id: uuid.UUID | None,
    organization_id: uuid.UUID | None,
    limit: int,
    offset: int,
) -> Sequence[Analysis]:
    return await queries.list_for_user(
        session, user.id, repository_id=repository_id, organization_id=organization_id, limit=limit, offset=offset
    )


async def get_analysis(session: AsyncSession, user: User, analysis_id: uuid.UUID) -> Analysis:
    analysis = await queries.get_for_user(session, user.id, analysis_id)
    if analysis is None:
        raise NotFound("analysis not found")
    return analysis
