"""SQL for organizations and memberships. Every read is scoped by the caller's membership too (RLS agrees)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Row, Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.models import Organization, OrganizationMember, User


def member_organization_ids(user_id: uuid.UUID) -> Select[uuid.UUID]:
    """The ids of the organizations `user_id` is a member of, as a subquery for `IN (...)` scoping."""
    return select(OrganizationMember.organization_id).where(OrganizationMember.user_id == user_id)


async def roles_by_organization(session: AsyncSession, user_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """The user's organizations and their role in each."""
    rows = await session.execute(
        select(OrganizationMember.organization_id, OrganizationMember.role).where(OrganizationMember.user_id == user_id)
    )
    return {row.organization_id: row.role for row in rows}


async def list_for_user(
    session: AsyncSession, user_id: uuid.UUID, *, limit: int, offset: int
) -> Sequence[Row[Organization, str]]:
    query = (
        select(Organization, OrganizationMember.role)
        .join(OrganizationMember, OrganizationMember.organization_id == Organization.id)
        .where(OrganizationMember.user_id == user_id)
        .order_by(Organization.name, Organization.id)
        .limit(limit)
        .offset(offset)
    )
    return (await session.execute(query)).all()


async def get_membership(
    session: AsyncSession, organization_id: uuid.UUID, user_id: uuid.UUID, *, for_update: bool = False
) -> OrganizationMember | None:
    query = select(OrganizationMember).where(
        OrganizationMember.organization_id == organization_id, OrganizationMember.user_id == user_id
    )
    if for_update:
        # populate_existing: after waiting for the lock, refresh an already loaded object from the locked row.
        query = query.with_for_update().execution_options(populate_existing=True)
    result: OrganizationMember | None = await session.scalar(query)
    return result


async def get_organization(session: AsyncSession, organization_id: uuid.UUID) -> Organization | None:
    return await session.get(Organization, organization_id)


async def delete_organization(session: AsyncSession, organization_id: uuid.UUID) -> None:
    await session.execute(delete(Organization).where(Organization.id == organization_id))


async def list_members(
    session: AsyncSession, organization_id: uuid.UUID, *, limit: int, offset: int
) -> Sequence[Row[OrganizationMember, User]]:
    query = (
        select(OrganizationMember, User)
        .join(User, User.id == OrganizationMember.user_id)
        .where(OrganizationMember.organization_id == organization_id)
        .order_by(OrganizationMember.created_at, OrganizationMember.id)
        .limit(limit)
        .offset(offset)
    )
    return (await session.execute(query)).all()


async def lock_owners(session: AsyncSession, organization_id: uuid.UUID) -> Sequence[uuid.UUID]:
    """The owners' user ids, row-locked until commit so two concurrent demotions cannot both pass the check."""
    query = (
        select(OrganizationMember.user_id)
        .where(OrganizationMember.organization_id == organization_id, OrganizationMember.role == "owner")
        .order_by(OrganizationMember.user_id)
        .with_for_update()
    )
    return (await session.scalars(query)).all()


async def delete_member(session: AsyncSession, member: OrganizationMember) -> None:
    await session.delete(member)
    await session.flush()
