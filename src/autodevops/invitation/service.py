"""Invitations: owners and admins invite an email address; the person with that address accepts.

Inviting answers the same whether or not the address has an account (nothing tells who is registered), and
nobody becomes a member without accepting. Only owners invite owners. An invitation is valid for
`INVITATION_TTL` and is accepted once; accepting one addressed to another email, or a stale one, is a 404.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.audit.service import record
from autodevops.errors import Forbidden, NotFound
from autodevops.invitation import queries
from autodevops.models import OrganizationInvitation, User, utcnow
from autodevops.organization.service import Membership, get_membership, require_manager

INVITATION_TTL = timedelta(days=7)
TOKEN_PREFIX = "adi_"  # noqa: S105 - the public marker of invitation tokens
ACCEPT_PATH = "/invitations/accept"
NOT_VALID = "invitation not found, no longer valid, or addressed to another email"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def accept_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}{ACCEPT_PATH}?token={token}"


async def invite(
    session: AsyncSession, actor: User, organization_id: uuid.UUID, email: str, role: str
) -> tuple[OrganizationInvitation, str]:
    """A new invitation and its secret token (for the link; only its hash is stored)."""
    membership = await require_manager(session, actor, organization_id)
    if role == "owner" and membership.role != "owner":
        raise Forbidden("only owners may invite owners")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    invitation = OrganizationInvitation(
        organization_id=organization_id,
        organization_name=membership.organization.name,
        email=email,
        role=role,
        token_hash=hash_token(token),
        invited_by_id=actor.id,
        expires_at=utcnow() + INVITATION_TTL,
    )
    session.add(invitation)
    await session.flush()
    await record(
        session,
        "member.invited",
        user_id=actor.id,
        organization_id=organization_id,
        target_type="invitation",
        target_id=invitation.id,
        data={"email": email, "role": role},
    )
    return invitation, token


async def list_for_organization(
    session: AsyncSession, actor: User, organization_id: uuid.UUID
) -> Sequence[OrganizationInvitation]:
    await require_manager(session, actor, organization_id)
    return await queries.list_pending_for_organization(session, organization_id, utcnow())


async def revoke(session: AsyncSession, actor: User, organization_id: uuid.UUID, invitation_id: uuid.UUID) -> None:
    await require_manager(session, actor, organization_id)
    invitation = await queries.get_pending(session, organization_id, invitation_id, utcnow())
    if invitation is None:
        raise NotFound("invitation not found")
    invitation.revoked_at = utcnow()
    await session.flush()
    await record(
        session,
        "invitation.revoked",
        user_id=actor.id,
        organization_id=organization_id,
        target_type="invitation",
        target_id=invitation.id,
    )


async def list_mine(session: AsyncSession, user: User) -> Sequence[OrganizationInvitation]:
    """The pending invitations addressed to the user's email."""
    return await queries.list_pending_for_email(session, user.email.lower(), utcnow())


async def accept(
    session: AsyncSession, user: User, *, invitation_id: uuid.UUID | None = None, token: str | None = None
) -> Membership:
    """Join the organization of an invitation addressed to `user`'s email (by its id, or its link's token)."""
    organization_id = await queries.accept(session, invitation_id, hash_token(token) if token else None)
    if organization_id is None:
        raise NotFound(NOT_VALID)
    membership = await get_membership(session, user, organization_id)
    await record(
        session,
        "member.joined",
        user_id=user.id,
        organization_id=organization_id,
        target_type="user",
        target_id=user.id,
        data={"role": membership.role},
    )
    return membership
