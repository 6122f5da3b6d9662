"""Dashboard forms of single sign-on, on the organization's settings page (owners only)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from autodevops.errors import AppError
from autodevops.github.dependencies import AppSettings, TokenKeyring
from autodevops.organization.pages import render_settings
from autodevops.sso import service
from autodevops.sso.dependencies import IdentityProviders
from autodevops.sso.schemas import SSOConnectionWrite
from autodevops.ui import PageRoute, PageViewer, form_data, is_form_mistake, parse_form, redirect

router = APIRouter(route_class=PageRoute, include_in_schema=False)

CHECKBOXES = ("jit_provisioning", "enforced", "allow_personal_tokens")


@router.post("/orgs/{organization_id}/sso")
async def save(
    request: Request,
    organization_id: uuid.UUID,
    viewer: PageViewer,
    settings: AppSettings,
    keyring: TokenKeyring,
    providers: IdentityProviders,
) -> Response:
    typed = await form_data(request)
    fields: dict[str, object] = dict(typed)
    if not fields.get("client_secret"):
        fields.pop("client_secret", None)  # empty: keep the stored secret
    for name in CHECKBOXES:  # a browser sends a checked box only
        fields[name] = name in fields
    try:
        body = parse_form(SSOConnectionWrite, fields)
        await service.save_connection(
            viewer.session, viewer.user, organization_id, body, keyring=keyring, providers=providers, settings=settings
        )
    except AppError as refused:
        # A wrong issuer or domain is the owner's to fix: said by the form, with what was typed (never the secret).
        if not is_form_mistake(refused, not_found=True) and refused.status_code != 502:
            raise
        kept = {key: value for key, value in typed.items() if key != "client_secret"}
        return await render_settings(
            request, organization_id, viewer, settings, form="sso", refused=refused, values=kept
        )
    notice = "Single sign-on saved."
    return redirect(f"/orgs/{organization_id}/settings#sso", notice=notice, request=request)


@router.post("/orgs/{organization_id}/sso/delete")
async def delete(request: Request, organization_id: uuid.UUID, viewer: PageViewer) -> Response:
    await service.delete_connection(viewer.session, viewer.user, organization_id)
    return redirect(f"/orgs/{organization_id}/settings#sso", notice="Single sign-on removed.", request=request)
