"""`/api/v1/organizations`: organizations and their members (people join by invitation: `invitation`)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response, status

from autodevops.audit.schemas import AuditEventRead
from autodevops.auth.dependencies import CurrentUser
from autodevops.db import DBSession
from autodevops.github.dependencies import AppSettings, TokenKeyring
from autodevops.gitlab import service as gitlab_service
from autodevops.gitlab.endpoints import GitLab
from autodevops.organization import quotas, service
from autodevops.organization.schemas import (
    MemberRead,
    MemberUpdate,
    OrganizationCreate,
    OrganizationRead,
    OrganizationUpdate,
    UsageRead,
)
from autodevops.pagination import Page, Pagination, to_page
from autodevops.ratelimit import RateLimiter

router = APIRouter(prefix="/organizations", tags=["organizations"])

OrganizationID = Annotated[uuid.UUID, Path(description="The organization's id.")]
MemberUserID = Annotated[uuid.UUID, Path(description="The member's user id.")]


def api_window(request: Request) -> Callable[[str, int], Awaitable[tuple[int, float] | None]] | None:
    """The rate limiter's reading of an organization's current API minute (None: no limiter in this app)."""
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    return limiter.plan_window if limiter is not None else None


def _organization(membership: service.Membership) -> OrganizationRead:
    org = membership.organization
    return OrganizationRead(
        id=org.id,
        name=org.name,
        role=membership.role,
        created_at=org.created_at,
        updated_at=org.updated_at,
    )


def _member(row: Any) -> MemberRead:
    member, user = row
    return MemberRead(user_id=user.id, email=user.email, name=user.name, role=member.role, created_at=member.created_at)


@router.post("", response_model=OrganizationRead, status_code=status.HTTP_201_CREATED)
async def create_organization(body: OrganizationCreate, user: CurrentUser, session: DBSession) -> OrganizationRead:
    return _organization(await service.create_organization(session, user, body.name))


@router.get("", response_model=Page[OrganizationRead])
async def list_organizations(user: CurrentUser, session: DBSession, page: Pagination) -> Page[OrganizationRead]:
    rows = await service.list_organizations(session, user, limit=page.limit + 1, offset=page.offset)
    return to_page(rows, page, lambda row: _organization(service.Membership(row[0], row[1])))


@router.get("/{organization_id}/usage", response_model=UsageRead)
async def get_usage(
    organization_id: OrganizationID, request: Request, user: CurrentUser, session: DBSession, settings: AppSettings
) -> UsageRead:
    """The organization's plan and, for each of its limits, what it allows, what is used now and when it resets."""
    return await quotas.usage_of(session, settings, user, organization_id, api_window(request))


@router.get("/{organization_id}", response_model=OrganizationRead)
async def get_organization(organization_id: OrganizationID, user: CurrentUser, session: DBSession) -> OrganizationRead:
    return _organization(await service.get_membership(session, user, organization_id))


@router.patch("/{organization_id}", response_model=OrganizationRead)
async def rename_organization(
    organization_id: OrganizationID, body: OrganizationUpdate, user: CurrentUser, session: DBSession
) -> OrganizationRead:
    return _organization(await service.rename_organization(session, user, organization_id, body.name))


@router.delete("/{organization_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def delete_organization(
    organization_id: OrganizationID,
    user: CurrentUser,
    session: DBSession,
    gitlab: GitLab,
    keyring: TokenKeyring,
    response: Response,
) -> None:
    # Ownership first: an admin's refused deletion must not have removed the GitLab hooks already.
    await service.require_owner(session, user, organization_id)
    problems = await gitlab_service.remove_organization_webhooks(session, keyring, gitlab, user, organization_id)
    await service.delete_organization(session, user, organization_id)
    if problems:
        response.headers[gitlab_service.WARNING_HEADER] = gitlab_service.warning_header(" ".join(problems))


@router.get("/{organization_id}/members", response_model=Page[MemberRead])
async def list_members(
    organization_id: OrganizationID, user: CurrentUser, session: DBSession, page: Pagination
) -> Page[MemberRead]:
    rows = await service.list_members(session, user, organization_id, limit=page.limit + 1, offset=page.offset)
    return to_page(rows, page, _member)


@router.get("/{organization_id}/members/{user_id}", response_model=MemberRead)
async def get_member(
    organization_id: OrganizationID, user_id: MemberUserID, user: CurrentUser, session: DBSession
) -> MemberRead:
    return _member(await service.get_member(session, user, organization_id, user_id))


@router.patch("/{organization_id}/members/{user_id}", response_model=MemberRead)
async def change_role(
    organization_id: OrganizationID, user_id: MemberUserID, body: MemberUpdate, user: CurrentUser, session: DBSession
) -> MemberRead:
    return _member(await service.change_role(session, user, organization_id, user_id, body.role))


@router.delete("/{organization_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def remove_member(
    organization_id: OrganizationID, user_id: MemberUserID, user: CurrentUser, session: DBSession
) -> None:
    await service.remove_member(session, user, organization_id, user_id)


@router.get("/{organization_id}/audit-events", response_model=Page[AuditEventRead])
async def list_audit_events(
    organization_id: OrganizationID, user: CurrentUser, session: DBSession, page: Pagination
) -> Page[AuditEventRead]:
    rows = await service.list_audit_events(session, user, organization_id, limit=page.limit + 1, offset=page.offset)
    return to_page(rows, page, AuditEventRead.model_validate)
