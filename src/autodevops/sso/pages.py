"""Dashboard forms of single sign-on, on the organization's settings page (owners only)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from autodevops.github.dependencies import AppSettings, TokenKeyring
from autodevops.sso import service
from autodevops.sso.dependencies import IdentityProviders
from autodevops.sso.schemas import SSOConnectionWrite
from autodevops.ui import PageRoute, PageViewer, form_data, parse_form, redirect

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
    fields: dict[str, object] = dict(await form_data(request))
    if not fields.get("client_secret"):
        fields.pop("client_secret", None)  # empty: keep the stored secret
    for name in CHECKBOXES:  # a browser sends a checked box only
        fields[name] = name in fields
    body = parse_form(SSOConnectionWrite, fields)
    await service.save_connection(
        viewer.session, viewer.user, organization_id, body, keyring=keyring, providers=providers, settings=settings
    )
    return redirect(f"/orgs/{organization_id}/settings#sso")


@router.post("/orgs/{organization_id}/sso/delete")
async def delete(organization_id: uuid.UUID, viewer: PageViewer) -> Response:
    await service.delete_connection(viewer.session, viewer.user, organization_id)
    return redirect(f"/orgs/{organization_id}/settings#sso")
