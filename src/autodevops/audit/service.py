"""Recording audit events. Called by services inside their transaction, so an event exists iff the change does."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.logging import get_request_id
from autodevops.models import AuditEvent


async def record(
    session: AsyncSession,
    action: str,
    *,
    user_id: uuid.UUID | None,
    organization_id: uuid.UUID | None = None,
    target_type: str | None = None,
    target_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Add an audit event (`action` is `noun.verb`, e.g. `repository.connected`). Never put secrets in `data`."""
    session.add(
        AuditEvent(
            organization_id=organization_id,
            user_id=user_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            data=data or {},
            correlation_id=get_request_id(),
        )
    )
    await session.flush()
