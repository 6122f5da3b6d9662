"""SQL for generated pipelines, scoped to the caller's organizations (RLS enforces the same)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, literal, select
from sqlalchemy.dialects.postgresql import JSONPATH
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.models import Pipeline
from autodevops.organization.queries import member_organization_ids


async def get_for_user(session: AsyncSession, user_id: uuid.UUID, pipeline_id: uuid.UUID) -> Pipeline | None:
    result: Pipeline | None = await session.scalar(
        select(Pipeline).where(
            Pipeline.id == pipeline_id, Pipeline.organization_id.in_(member_organization_ids(user_id))
        )
    )
    return result


async def list_for_repository(
    session: AsyncSession, repository_id: uuid.UUID, *, limit: int, offset: int
) -> Sequence[Row[Any]]:
    """The repository's pipelines, newest first, with their file paths and validity but not the files' contents."""
    query = (
        select(
            Pipeline.id,
            Pipeline.organization_id,
            Pipeline.repository_id,
            Pipeline.analysis_id,
            Pipeline.created_at,
            func.jsonb_path_query_array(Pipeline.files, literal("$[*].path", JSONPATH)).label("paths"),
            Pipeline.validation["valid"].as_boolean().label("valid"),
        )
        .where(Pipeline.repository_id == repository_id)
        .order_by(Pipeline.created_at.desc(), Pipeline.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return (await session.execute(query)).all()
