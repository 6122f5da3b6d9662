"""Invitation pages: managers invite from the organization's settings; the invitee accepts on `/invitations`
or by following the invitation's link (`/invitations/accept?token=...`, which asks before joining)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from autodevops.errors import AppError
from autodevops.github.dependencies import AppSettings
from autodevops.invitation import service
from autodevops.invitation.schemas import InvitationAccept, InvitationCreate
from autodevops.ui import PageRoute, PageViewer, form_data, is_form_mistake, parse_form, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.post("/orgs/{organization_id}/invitations")
async def invite(request: Request, organization_id: uuid.UUID, viewer: PageViewer, settings: AppSettings) -> Response:
    """Create the invitation and show its link once, on the organization's settings page; a mistake in the
    form is shown next to it, with what was typed."""
    from autodevops.organization.pages import render_settings

    fields = await form_data(request)
    try:
        body = parse_form(InvitationCreate, fields)
        _invitation, token = await service.invite(viewer.session, viewer.user, organization_id, body.email, body.role)
    except AppError as refused:
        if not is_form_mistake(refused, not_found=True):
            raise
        return await render_settings(
            request, organization_id, viewer, settings, form="invite", refused=refused, values=fields
        )
    link = service.accept_url(settings.public_url, token)
    notice = f"{body.email} invited as {body.role}. They join when they accept."
    return await render_settings(request, organization_id, viewer, settings, invitation_link=link, notice=notice)


@router.post("/orgs/{organization_id}/invitations/{invitation_id}/revoke")
async def revoke(
    request: Request, organization_id: uuid.UUID, invitation_id: uuid.UUID, viewer: PageViewer
) -> Response:
    await service.revoke(viewer.session, viewer.user, organization_id, invitation_id)
    return redirect(f"/orgs/{organization_id}/settings", notice="Invitation revoked.", request=request)


@router.get("/invitations")
async def my_invitations(request: Request, viewer: PageViewer) -> HTMLResponse:
    invitations = await service.list_mine(viewer.session, viewer.user)
    return render(request, "invitations.html", {"invitations": invitations, "token": None}, viewer=viewer)


@router.get("/invitations/accept")
async def accept_page(request: Request, viewer: PageViewer, token: str = "") -> HTMLResponse:
    """The link's landing page: what the link is for and a button to join (a GET never joins anything)."""
    return render(request, "invitations.html", {"invitations": [], "token": token}, viewer=viewer)


@router.post("/invitations/accept")
async def accept_by_token(request: Request, viewer: PageViewer) -> Response:
    fields = await form_data(request)
    try:
        body = parse_form(InvitationAccept, fields)
        membership = await service.accept(viewer.session, viewer.user, token=body.token)
    except AppError as refused:
        # Expired, revoked, used, or addressed to someone else: said on the link's page, not as an error page.
        if not is_form_mistake(refused, not_found=True):
            raise
        context = {"invitations": [], "token": fields.get("token", ""), "refused": refused.message}
        return render(request, "invitations.html", context, viewer=viewer, status_code=refused.status_code)
    notice = f"You joined {membership.organization.name}."
    return redirect(f"/orgs/{membership.organization.id}/repositories", notice=notice, request=request)


@router.post("/invitations/{invitation_id}/accept")
async def accept(request: Request, invitation_id: uuid.UUID, viewer: PageViewer) -> Response:
    membership = await service.accept(viewer.session, viewer.user, invitation_id=invitation_id)
    notice = f"You joined {membership.organization.name}."
    return redirect(f"/orgs/{membership.organization.id}/repositories", notice=notice, request=request)
