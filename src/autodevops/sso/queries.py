"""SQL for single sign-on: connections, linked identities, and the lookups made before anyone is known."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Row, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.models import SSOConnection, SSOIdentity

_LOCKED = text("SELECT organization_id, name, slug FROM app_sso_locked_organizations()")
_CANDIDATES = text("SELECT organization_id, slug FROM app_sso_sign_in_candidates(:slug, :domain)")


async def get_connection(session: AsyncSession, organization_id: uuid.UUID) -> SSOConnection | None:
    result: SSOConnection | None = await session.scalar(
        select(SSOConnection).where(SSOConnection.organization_id == organization_id)
    )
    return result


async def delete_connection(session: AsyncSession, connection: SSOConnection) -> None:
    await session.execute(delete(SSOConnection).where(SSOConnection.id == connection.id))


async def locked_organizations(session: AsyncSession) -> Sequence[Row[uuid.UUID, str, str]]:
    """The current user's organizations that require single sign-on from another session than this one.

    Through `app_sso_locked_organizations()` (SECURITY DEFINER): row-level security hides exactly these.
    """
    result = await session.execute(_LOCKED)
    return result.all()


async def sign_in_candidates(
    session: AsyncSession, *, slug: str | None, domain: str | None
) -> Sequence[Row[uuid.UUID, str]]:
    """Connections named by a sign-in slug or claiming an email domain (before anyone is signed in)."""
    result = await session.execute(_CANDIDATES, {"slug": slug, "domain": domain})
    return result.all()


async def get_identity(
    session: AsyncSession, organization_id: uuid.UUID, issuer: str, subject: str
) -> SSOIdentity | None:
    result: SSOIdentity | None = await session.scalar(
        select(SSOIdentity).where(
            SSOIdentity.organization_id == organization_id,
            SSOIdentity.issuer == issuer,
            SSOIdentity.subject == subject,
        )
    )
    return result


async def created_by_organization(session: AsyncSession, organization_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Whether this organization's single sign-on created the user (so its provider speaks for them)."""
    found = await session.scalar(
        select(SSOIdentity.id)
        .where(
            SSOIdentity.organization_id == organization_id,
            SSOIdentity.user_id == user_id,
            SSOIdentity.created_user.is_(True),
        )
        .limit(1)
    )
    return found is not None


# ---- key rotation (owner role: every organization's rows) ------------------------------------------------
async def any_connection(session: AsyncSession) -> bool:
    """Whether any organization has single sign-on (`app_sso_configured`: asked before anyone signs in)."""
    return bool(await session.scalar(select(func.app_sso_configured())))
