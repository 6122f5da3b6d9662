"""Organization settings pages: the plan's limits and their use, members and their roles, and (for owners)
single sign-on."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from autodevops.config import Settings
from autodevops.errors import AppError
from autodevops.github.dependencies import AppSettings, TokenKeyring
from autodevops.gitlab import service as gitlab_service
from autodevops.gitlab.endpoints import GitLab
from autodevops.invitation import service as invitation_service
from autodevops.models import ROLES, User
from autodevops.organization import quotas, service
from autodevops.organization.endpoints import api_window
from autodevops.organization.schemas import MemberUpdate, OrganizationUpdate
from autodevops.sso import service as sso_service
from autodevops.ui import (
    PageRoute,
    PageViewer,
    Viewer,
    form_data,
    form_problem,
    is_form_mistake,
    parse_form,
    redirect,
    render,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MEMBERS_PAGE = 200


@router.get("/orgs/{organization_id}/settings")
async def settings_page(
    request: Request, organization_id: uuid.UUID, viewer: PageViewer, settings: AppSettings
) -> HTMLResponse:
    return await render_settings(request, organization_id, viewer, settings)


async def render_settings(
    request: Request,
    organization_id: uuid.UUID,
    viewer: Viewer,
    settings: Settings,
    *,
    invitation_link: str | None = None,
    notice: str | None = None,
    form: str | None = None,
    refused: AppError | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    """Members, pending invitations (with a new invitation's link, shown once) and, for owners, SSO. After a
    refused form (`form`: "invite" or "rename"), the reason next to it and what was typed (`values`)."""
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
        "form": form,
        "form_error": form_problem(refused) if refused else None,
        "values": values or {},
        **({"notice": notice} if notice else {}),
    }
    status = refused.status_code if refused else 200
    return render(
        request, "organization_settings.html", context, viewer=viewer, organization=membership, status_code=status
    )


def _name(user: User) -> str:
    return user.name or user.email


@router.post("/orgs/{organization_id}/members/{user_id}/role")
async def change_role(
    request: Request, organization_id: uuid.UUID, user_id: uuid.UUID, viewer: PageViewer, settings: AppSettings
) -> Response:
    try:
        body = parse_form(MemberUpdate, await form_data(request))
        member, user = await service.change_role(viewer.session, viewer.user, organization_id, user_id, body.role)
    except AppError as refused:
        # E.g. demoting the last owner: said above the members, on the same page.
        if not is_form_mistake(refused):
            raise
        return await render_settings(request, organization_id, viewer, settings, form="members", refused=refused)
    notice = f"{_name(user)} is now {member.role}."
    return redirect(f"/orgs/{organization_id}/settings", notice=notice, request=request)


@router.post("/orgs/{organization_id}/members/{user_id}/remove")
async def remove_member(
    request: Request, organization_id: uuid.UUID, user_id: uuid.UUID, viewer: PageViewer, settings: AppSettings
) -> Response:
    membership = await service.get_membership(viewer.session, viewer.user, organization_id)
    try:
        await service.remove_member(viewer.session, viewer.user, organization_id, user_id)
    except AppError as refused:
        # E.g. the last owner leaving: said above the members, on the same page.
        if not is_form_mistake(refused):
            raise
        return await render_settings(request, organization_id, viewer, settings, form="members", refused=refused)
    if user_id == viewer.user.id:
        return redirect("/orgs", notice=f"You left {membership.organization.name}.", request=request)
    return redirect(f"/orgs/{organization_id}/settings", notice="Member removed.", request=request)


@router.post("/orgs/{organization_id}/rename")
async def rename(request: Request, organization_id: uuid.UUID, viewer: PageViewer, settings: AppSettings) -> Response:
    fields = await form_data(request)
    try:
        body = parse_form(OrganizationUpdate, fields)
        await service.rename_organization(viewer.session, viewer.user, organization_id, body.name)
    except AppError as refused:
        if not is_form_mistake(refused):
            raise
        return await render_settings(
            request, organization_id, viewer, settings, form="rename", refused=refused, values=fields
        )
    return redirect(f"/orgs/{organization_id}/settings", notice=f"Renamed to {body.name}.", request=request)


@router.post("/orgs/{organization_id}/delete")
async def delete(
    request: Request, organization_id: uuid.UUID, viewer: PageViewer, gitlab: GitLab, keyring: TokenKeyring
) -> Response:
    # Ownership first, as through the API: a refused deletion leaves the GitLab hooks in place.
    membership = await service.require_owner(viewer.session, viewer.user, organization_id)
    name = membership.organization.name
    problems = await gitlab_service.remove_organization_webhooks(
        viewer.session, keyring, gitlab, viewer.user, organization_id
    )
    await service.delete_organization(viewer.session, viewer.user, organization_id)
    return redirect("/orgs", notice=" ".join([f"Deleted {name}.", *problems]), request=request)
