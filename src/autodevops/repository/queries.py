"""SQL for repositories, scoped to the caller's organizations (RLS enforces the same)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.models import OrganizationMember, Repository


def _visible_to(user_id: uuid.UUID) -> Select[uuid.UUID]:
    """The organizations `user_id` is a member of."""
    return select(OrganizationMember.organization_id).where(OrganizationMember.user_id == user_id)


async def list_for_user(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    organization_id: uuid.UUID | None,
    limit: int,
    offset: int,
) -> Sequence[Repository]:
    query = select(Repository).where(Repository.organization_id.in_(_visible_to(user_id)))
    if organization_id is not None:
        query = query.where(Repository.organization_id == organization_id)
    query = query.order_by(Repository.created_at.desc(), Repository.id).limit(limit).offset(offset)
    return (await session.scalars(query)).all()


async def get_for_user(session: AsyncSession, user_id: uuid.UUID, repository_id: uuid.UUID) -> Repository | None:
    result: Repository | None = await session.scalar(
        select(Repository).where(Repository.id == repository_id, Repository.organization_id.in_(_visible_to(user_id)))
    )
    return result


async def delete_repository(session: AsyncSession, repository_id: uuid.UUID) -> None:
    await session.execute(delete(Repository).where(Repository.id == repository_id))
