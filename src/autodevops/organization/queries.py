"""SQL for organizations and memberships. Every read is scoped by the caller's membership too (RLS agrees)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Row, Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.models import Analysis, Job, Organization, OrganizationMember, Pipeline, Repository, User


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


# The path parameters that name an organization's object, and the table holding that object's organization.
_OWNER_OF: dict[str, type[Repository] | type[Analysis] | type[Pipeline] | type[Job]] = {
    "repository_id": Repository,
    "analysis_id": Analysis,
    "pipeline_id": Pipeline,
    "job_id": Job,
}


async def organization_of_path(
    session: AsyncSession, path_params: dict[str, str]
) -> tuple[uuid.UUID, str | None] | None:
    """(id, stored plan) of the organization a request's path is about: its `organization_id`, or the owner of
    the repository, analysis, pipeline or job it names. None when it names none, or one the caller cannot see
    (RLS: the route answers 404 for it anyway)."""
    for name, value in path_params.items():
        try:
            object_id = uuid.UUID(value)
        except ValueError:
            continue
        if name == "organization_id":
            query = select(Organization.id, Organization.plan).where(Organization.id == object_id)
        elif (model := _OWNER_OF.get(name)) is not None:
            query = (
                select(Organization.id, Organization.plan)
                .join(model, model.organization_id == Organization.id)
                .where(model.id == object_id)
            )
        else:
            continue
        row = (await session.execute(query)).one_or_none()
        return None if row is None else (row[0], row[1])
    return None
