"""SQL for audit events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.models import AuditEvent


async def list_for_organization(
    session: AsyncSession, organization_id: uuid.UUID, *, limit: int, offset: int
) -> Sequence[AuditEvent]:
    query = (
        select(AuditEvent)
        .where(AuditEvent.organization_id == organization_id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id)
        .limit(limit)
        .offset(offset)
    )
    return (await session.scalars(query)).all()
