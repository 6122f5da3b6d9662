"""SQL for repositories, scoped to the caller's organizations (RLS enforces the same)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, Select, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.models import OrganizationMember, Repository
from autodevops.organization.queries import member_organization_ids


async def list_for_user(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    organization_id: uuid.UUID | None,
    limit: int,
    offset: int,
) -> Sequence[Repository]:
    query = select(Repository).where(Repository.organization_id.in_(member_organization_ids(user_id)))
    if organization_id is not None:
        query = query.where(Repository.organization_id == organization_id)
    query = query.order_by(Repository.created_at.desc(), Repository.id).limit(limit).offset(offset)
    return (await session.scalars(query)).all()


def _read_statement(*, one_organization: bool) -> Select[Any]:
    # Built once, with bound parameters: SQLAlchemy keys its compiled-SQL cache on the statement object,
    # so a statement reused across requests skips rebuilding and cache-key generation each time.
    table = Repository.__table__
    members = OrganizationMember.__table__
    query = select(
        table.c.id,
        table.c.organization_id,
        table.c.name,
        table.c.source,
        table.c.clone_url,
        table.c.github_full_name,
        table.c.default_branch,
        table.c.visibility,
        table.c.latest_commit_sha,
        table.c.synced_at,
        table.c.created_at,
        table.c.updated_at,
    ).where(
        table.c.organization_id.in_(select(members.c.organization_id).where(members.c.user_id == bindparam("user_id")))
    )
    if one_organization:
        query = query.where(table.c.organization_id == bindparam("organization_id"))
    return (
        query.order_by(table.c.created_at.desc(), table.c.id)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )


_READ_ALL = _read_statement(one_organization=False)
_READ_ONE_ORGANIZATION = _read_statement(one_organization=True)


async def list_rows_for_user(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    organization_id: uuid.UUID | None,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    """Like `list_for_user`, as plain dicts of the columns the API shows (no ORM objects to build)."""
    params: dict[str, Any] = {"user_id": user_id, "limit": limit, "offset": offset}
    statement = _READ_ALL
    if organization_id is not None:
        statement = _READ_ONE_ORGANIZATION
        params["organization_id"] = organization_id
    connection = await session.connection()  # the session's own transaction, tenant context included
    result = await connection.execute(statement, params)
    # Plain dicts: pydantic validates them in one native pass, where result rows go through getattr per field.
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result]


async def get_for_user(session: AsyncSession, user_id: uuid.UUID, repository_id: uuid.UUID) -> Repository | None:
    result: Repository | None = await session.scalar(
        select(Repository).where(
            Repository.id == repository_id, Repository.organization_id.in_(member_organization_ids(user_id))
        )
    )
    return result


async def delete_repository(session: AsyncSession, repository_id: uuid.UUID) -> None:
    await session.execute(delete(Repository).where(Repository.id == repository_id))


async def names_by_id(session: AsyncSession, repository_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The display names (`owner/name` when known) of the visible repositories among `repository_ids`."""
    if not repository_ids:
        return {}
    rows = await session.execute(
        select(Repository.id, Repository.github_full_name, Repository.name).where(Repository.id.in_(repository_ids))
    )
    return {row.id: row.github_full_name or row.name for row in rows}
