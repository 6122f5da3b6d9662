"""Invitation routes: managers invite under `/organizations/{id}/invitations`; the invitee lists and accepts
theirs under `/invitations`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from autodevops.auth.dependencies import CurrentUser
from autodevops.config import Settings
from autodevops.db import DBSession
from autodevops.invitation import service
from autodevops.invitation.schemas import InvitationAccept, InvitationCreate, InvitationCreated, InvitationRead
from autodevops.organization.schemas import OrganizationRead
from autodevops.organization.service import Membership

router = APIRouter(tags=["invitations"])

OrganizationID = Annotated[uuid.UUID, Path(description="The organization's id.")]
InvitationID = Annotated[uuid.UUID, Path(description="The invitation's id.")]


def _organization(membership: Membership) -> OrganizationRead:
    org = membership.organization
    return OrganizationRead(
        id=org.id, name=org.name, role=membership.role, created_at=org.created_at, updated_at=org.updated_at
    )


@router.post(
    "/organizations/{organization_id}/invitations",
    response_model=InvitationCreated,
    status_code=status.HTTP_201_CREATED,
)
async def invite(
    organization_id: OrganizationID, body: InvitationCreate, request: Request, user: CurrentUser, session: DBSession
) -> InvitationCreated:
    """Invite an email address. The answer is the same whether or not the address has an account; the person
    joins when they accept (send them `accept_url`, or they find it under `GET /invitations`)."""
    settings: Settings = request.app.state.settings
    invitation, token = await service.invite(session, user, organization_id, body.email, body.role)
    read = InvitationRead.model_validate(invitation)
    return InvitationCreated(**read.model_dump(), accept_url=service.accept_url(settings.public_url, token))


@router.get("/organizations/{organization_id}/invitations", response_model=list[InvitationRead])
async def list_invitations(
    organization_id: OrganizationID, user: CurrentUser, session: DBSession
) -> list[InvitationRead]:
    """The organization's pending invitations (owners and admins)."""
    rows = await service.list_for_organization(session, user, organization_id)
    return [InvitationRead.model_validate(row) for row in rows]


@router.delete(
    "/organizations/{organization_id}/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
async def revoke_invitation(
    organization_id: OrganizationID, invitation_id: InvitationID, user: CurrentUser, session: DBSession
) -> None:
    await service.revoke(session, user, organization_id, invitation_id)


@router.get("/invitations", response_model=list[InvitationRead])
async def my_invitations(user: CurrentUser, session: DBSession) -> list[InvitationRead]:
    """The pending invitations addressed to your email."""
    return [InvitationRead.model_validate(row) for row in await service.list_mine(session, user)]


@router.post("/invitations/accept", response_model=OrganizationRead)
async def accept_by_token(body: InvitationAccept, user: CurrentUser, session: DBSession) -> OrganizationRead:
    """Accept by the invitation link's token; it must be addressed to your email."""
    return _organization(await service.accept(session, user, token=body.token))


@router.post("/invitations/{invitation_id}/accept", response_model=OrganizationRead)
async def accept(invitation_id: InvitationID, user: CurrentUser, session: DBSession) -> OrganizationRead:
    """Accept one of your invitations."""
    return _organization(await service.accept(session, user, invitation_id=invitation_id))
