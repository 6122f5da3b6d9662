"""SQL for invitations. Row-level security shows a manager their organization's, and a user those addressed
to their email; accepting runs `app_accept_invitation` (see migration 0012)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.models import OrganizationInvitation

# Typed casts: either argument may be NULL, and an untyped NULL matches no function signature.
_ACCEPT = text("SELECT app_accept_invitation(CAST(:invitation_id AS uuid), CAST(:token_hash AS text))")


def _pending(now: datetime) -> ColumnElement[bool]:
    return and_(
        OrganizationInvitation.accepted_at.is_(None),
        OrganizationInvitation.revoked_at.is_(None),
        OrganizationInvitation.expires_at > now,
    )


async def list_pending_for_organization(
    session: AsyncSession, organization_id: uuid.UUID, now: datetime
) -> Sequence[OrganizationInvitation]:
    query = (
        select(OrganizationInvitation)
        .where(OrganizationInvitation.organization_id == organization_id, _pending(now))
        .order_by(OrganizationInvitation.created_at.desc(), OrganizationInvitation.id)
        .limit(200)
    )
    return (await session.scalars(query)).all()


async def list_pending_for_email(session: AsyncSession, email: str, now: datetime) -> Sequence[OrganizationInvitation]:
    query = (
        select(OrganizationInvitation)
        .where(OrganizationInvitation.email == email, _pending(now))
        .order_by(OrganizationInvitation.created_at.desc(), OrganizationInvitation.id)
        .limit(200)
    )
    return (await session.scalars(query)).all()


async def get_pending(
    session: AsyncSession, organization_id: uuid.UUID, invitation_id: uuid.UUID, now: datetime
) -> OrganizationInvitation | None:
    result: OrganizationInvitation | None = await session.scalar(
        select(OrganizationInvitation).where(
            OrganizationInvitation.id == invitation_id,
            OrganizationInvitation.organization_id == organization_id,
            _pending(now),
        )
    )
    return result


async def accept(session: AsyncSession, invitation_id: uuid.UUID | None, token_hash: str | None) -> uuid.UUID | None:
    """Accept as the session's user; the organization joined, or None when the invitation is not theirs to
    accept (unknown, someone else's, accepted, revoked or expired: one answer for all)."""
    found = await session.scalar(_ACCEPT, {"invitation_id": invitation_id, "token_hash": token_hash})
    return None if found is None else uuid.UUID(str(found))
