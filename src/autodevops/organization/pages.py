"""Organization settings pages: the plan's limits and their use, members and their roles, and (for owners)
single sign-on."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from autodevops.github.dependencies import AppSettings
from autodevops.invitation import service as invitation_service
from autodevops.models import ROLES
from autodevops.organization import quotas, service
from autodevops.organization.endpoints import api_window
from autodevops.organization.schemas import MemberUpdate, OrganizationUpdate
from autodevops.sso import service as sso_service
from autodevops.ui import PageRoute, PageViewer, form_data, parse_form, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MEMBERS_PAGE = 200


@router.get("/orgs/{organization_id}/settings")
async def settings_page(
    request: Request,
    organization_id: uuid.UUID,
    viewer: PageViewer,
    settings: AppSettings,
    invitation_link: str | None = None,
) -> HTMLResponse:
    """Members, pending invitations (with a new invitation's link, shown once) and, for owners, SSO."""
    membership = await service.get_membership(viewer.session, viewer.user, organization_id)
    rows = await service.list_members(viewer.session, viewer.user, organization_id, limit=MEMBERS_PAGE, offset=0)
    members = [{"member": member, "user": user} for member, user in rows]
    sso = None
    if membership.role == "owner":
        connection = await sso_service.find_connection(viewer.session, viewer.user, organization_id)
        sso = sso_service.to_read(connection, settings) if connection else None
    invitations = (
        await invitation_service.list_for_organization(viewer.session, viewer.user, organization_id)
        if membership.can_manage
        else []
    )
    usage = await quotas.usage_of(viewer.session, settings, viewer.user, organization_id, api_window(request))
    context = {
        "usage": usage,
        "members": members,
        "invitations": invitations,
        "invitation_link": invitation_link,
        "can_manage": membership.can_manage,
        "role": membership.role,
        "roles": ROLES,
        "sso": sso,
        "sso_redirect_uri": sso_service.redirect_uri(settings),
    }
    return render(request, "organization_settings.html", context, viewer=viewer, organization=membership)


@router.post("/orgs/{organization_id}/members/{user_id}/role")
async def change_role(request: Request, organization_id: uuid.UUID, user_id: uuid.UUID, viewer: PageViewer) -> Response:
    body = parse_form(MemberUpdate, await form_data(request))
    await service.change_role(viewer.session, viewer.user, organization_id, user_id, body.role)
    return redirect(f"/orgs/{organization_id}/settings")


@router.post("/orgs/{organization_id}/members/{user_id}/remove")
async def remove_member(organization_id: uuid.UUID, user_id: uuid.UUID, viewer: PageViewer) -> Response:
    await service.remove_member(viewer.session, viewer.user, organization_id, user_id)
    if user_id == viewer.user.id:
        return redirect("/orgs")
    return redirect(f"/orgs/{organization_id}/settings")


@router.post("/orgs/{organization_id}/rename")
async def rename(request: Request, organization_id: uuid.UUID, viewer: PageViewer) -> Response:
    body = parse_form(OrganizationUpdate, await form_data(request))
    await service.rename_organization(viewer.session, viewer.user, organization_id, body.name)
    return redirect(f"/orgs/{organization_id}/settings")


@router.post("/orgs/{organization_id}/delete")
async def delete(organization_id: uuid.UUID, viewer: PageViewer) -> Response:
    await service.delete_organization(viewer.session, viewer.user, organization_id)
    return redirect("/orgs")
