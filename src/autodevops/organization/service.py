"""Organizations and memberships: who may do what.

Rules: any member reads the organization and its members; owners and admins rename it and manage members;
only owners delete it, grant or revoke the owner role, or touch another owner; any member may leave; an
organization always keeps at least one owner. A non-member gets `NotFound`, never `Forbidden`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.audit import queries as audit_queries
from autodevops.audit.service import record
from autodevops.auth import queries as auth_queries
from autodevops.db import tenant_of
from autodevops.errors import Conflict, Forbidden, NotFound
from autodevops.models import AuditEvent, Organization, OrganizationMember, User
from autodevops.organization import queries
from autodevops.sso import queries as sso_queries
from autodevops.sso.rules import SSORequired, reaches

MANAGERS = frozenset({"owner", "admin"})


@dataclass(frozen=True, slots=True)
class Membership:
    """An organization as seen by one of its members."""

    organization: Organization
    role: str

    @property
    def can_manage(self) -> bool:
        """Owners and admins manage the organization: members, repositories, pull requests, dead letters."""
        return self.role in MANAGERS


async def create_organization(session: AsyncSession, user: User, name: str) -> Membership:
    """A new organization with `user` as its owner."""
    organization = Organization(name=name)
    session.add(organization)
    await session.flush()  # the organization row first: the owner membership references it
    session.add(OrganizationMember(organization_id=organization.id, user_id=user.id, role="owner"))
    await session.flush()
    await record(
        session,
        "organization.created",
        user_id=user.id,
        organization_id=organization.id,
        target_type="organization",
        target_id=organization.id,
        data={"name": name},
    )
    return Membership(organization, "owner")


async def list_organizations(
    session: AsyncSession, user: User, *, limit: int, offset: int
) -> Sequence[Row[Organization, str]]:
    return await queries.list_for_user(session, user.id, limit=limit, offset=offset)


async def get_membership(session: AsyncSession, user: User, organization_id: uuid.UUID) -> Membership:
    """The organization if `user` is a member of it, else `NotFound`.

    The one place organization access is decided. A member of an organization that requires single sign-on
    gets `SSORequired` (403, naming where to sign in) unless they authenticated as it accepts; row-level
    security hides that organization's rows from such a session too (`app_organization_ids()`).
    """
    member = await queries.get_membership(session, organization_id, user.id)
    organization = await queries.get_organization(session, organization_id) if member else None
    if member is None or organization is None:
        for locked_id, name, slug in await sso_queries.locked_organizations(session):
            if locked_id == organization_id:
                raise SSORequired(name, slug)
        raise NotFound("organization not found")
    connection = await sso_queries.get_connection(session, organization_id)
    if connection is not None and not reaches(
        organization_id,
        tenant_of(session),
        enforced=connection.enforced,
        allow_personal_tokens=connection.allow_personal_tokens,
    ):
        raise SSORequired(organization.name, connection.slug)
    return Membership(organization, member.role)


async def require_manager(session: AsyncSession, user: User, organization_id: uuid.UUID) -> Membership:
    """The organization if `user` is an owner or admin of it; `Forbidden` for a plain member."""
    membership = await get_membership(session, user, organization_id)
    if not membership.can_manage:
        raise Forbidden("only owners and admins may do this")
    return membership


async def rename_organization(session: AsyncSession, user: User, organization_id: uuid.UUID, name: str) -> Membership:
    membership = await require_manager(session, user, organization_id)
    old = membership.organization.name
    membership.organization.name = name
    await session.flush()
    await record(
        session,
        "organization.renamed",
        user_id=user.id,
        organization_id=organization_id,
        target_type="organization",
        target_id=organization_id,
        data={"from": old, "to": name},
    )
    return membership


async def require_owner(session: AsyncSession, user: User, organization_id: uuid.UUID) -> Membership:
    """The organization if `user` owns it; `Forbidden` for admins and members (deleting it is an owner's call)."""
    membership = await get_membership(session, user, organization_id)
    if membership.role != "owner":
        raise Forbidden("only owners may delete an organization")
    return membership


async def delete_organization(session: AsyncSession, user: User, organization_id: uuid.UUID) -> None:
    """Delete the organization and everything it owns (repositories, analyses...). Owners only."""
    membership = await require_owner(session, user, organization_id)
    # Recorded before the delete: afterwards the caller is no longer a member and could not write it.
    await record(
        session,
        "organization.deleted",
        user_id=user.id,
        organization_id=organization_id,
        target_type="organization",
        target_id=organization_id,
        data={"name": membership.organization.name},
    )
    await queries.delete_organization(session, organization_id)


async def list_members(
    session: AsyncSession, user: User, organization_id: uuid.UUID, *, limit: int, offset: int
) -> Sequence[Row[OrganizationMember, User]]:
    await get_membership(session, user, organization_id)
    return await queries.list_members(session, organization_id, limit=limit, offset=offset)


async def get_member(
    session: AsyncSession, user: User, organization_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[OrganizationMember, User]:
    await get_membership(session, user, organization_id)
    member = await queries.get_membership(session, organization_id, user_id)
    target = await auth_queries.get_user(session, user_id) if member else None
    if member is None or target is None:
        raise NotFound("member not found")
    return member, target


async def _target_member(
    session: AsyncSession, actor: User, organization_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[Membership, OrganizationMember, Sequence[uuid.UUID]]:
    """The actor's membership, the target membership (row-locked) and the owners (row-locked).

    Owners are locked first and the target second, in every membership change: concurrent changes then
    queue behind each other instead of deadlocking, and the owner list cannot change before this commits.
    """
    membership = await get_membership(session, actor, organization_id)
    owners = await queries.lock_owners(session, organization_id)
    member = await queries.get_membership(session, organization_id, user_id, for_update=True)
    if member is None:
        raise NotFound("member not found")
    return membership, member, owners


def _ensure_other_owner(owners: Sequence[uuid.UUID], leaving: uuid.UUID) -> None:
    if all(owner == leaving for owner in owners):
        raise Conflict("an organization must keep at least one owner")


async def change_role(
    session: AsyncSession, actor: User, organization_id: uuid.UUID, user_id: uuid.UUID, role: str
) -> tuple[OrganizationMember, User]:
    membership, member, owners = await _target_member(session, actor, organization_id, user_id)
    if not membership.can_manage:
        raise Forbidden("only owners and admins may change roles")
    if "owner" in (role, member.role) and membership.role != "owner":
        raise Forbidden("only owners may grant or change the owner role")
    if member.role == "owner" and role != "owner":
        _ensure_other_owner(owners, member.user_id)
    old = member.role
    member.role = role
    await session.flush()
    await record(
        session,
        "member.role_changed",
        user_id=actor.id,
        organization_id=organization_id,
        target_type="user",
        target_id=user_id,
        data={"from": old, "to": role},
    )
    target = await auth_queries.get_user(session, user_id)
    assert target is not None  # the membership references it
    return member, target


async def remove_member(session: AsyncSession, actor: User, organization_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Remove a member. Managers remove others (only owners remove owners); anyone may remove themselves."""
    membership, member, owners = await _target_member(session, actor, organization_id, user_id)
    if user_id != actor.id:
        if not membership.can_manage:
            raise Forbidden("only owners and admins may remove members")
        if member.role == "owner" and membership.role != "owner":
            raise Forbidden("only owners may remove an owner")
    if member.role == "owner":
        _ensure_other_owner(owners, member.user_id)
    # Recorded first: a member removing themselves can no longer write to this organization afterwards.
    await record(
        session,
        "member.removed",
        user_id=actor.id,
        organization_id=organization_id,
        target_type="user",
        target_id=user_id,
        data={"role": member.role},
    )
    await queries.delete_member(session, member)


async def list_audit_events(
    session: AsyncSession, user: User, organization_id: uuid.UUID, *, limit: int, offset: int
) -> Sequence[AuditEvent]:
    """The organization's audit trail, newest first. Owners and admins only."""
    await require_manager(session, user, organization_id)
    return await audit_queries.list_for_organization(session, organization_id, limit=limit, offset=offset)
