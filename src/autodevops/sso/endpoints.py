"""`/api/v1/organizations/{id}/sso`: the organization's single sign-on configuration (owners only).

The client secret is write-only: it is accepted on PUT and never returned (`client_secret_set` says whether
one is stored).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from autodevops.auth.dependencies import CurrentUser
from autodevops.db import DBSession
from autodevops.github.dependencies import AppSettings, TokenKeyring
from autodevops.sso import service
from autodevops.sso.dependencies import IdentityProviders
from autodevops.sso.schemas import SSOConnectionRead, SSOConnectionWrite

router = APIRouter(prefix="/organizations", tags=["single sign-on"])

OrganizationID = Annotated[uuid.UUID, Path(description="The organization's id.")]


@router.get("/{organization_id}/sso", response_model=SSOConnectionRead)
async def read_sso(
    organization_id: OrganizationID, user: CurrentUser, session: DBSession, settings: AppSettings
) -> SSOConnectionRead:
    return service.to_read(await service.get_connection(session, user, organization_id), settings)


@router.put("/{organization_id}/sso", response_model=SSOConnectionRead)
async def save_sso(
    organization_id: OrganizationID,
    body: SSOConnectionWrite,
    user: CurrentUser,
    session: DBSession,
    settings: AppSettings,
    keyring: TokenKeyring,
    providers: IdentityProviders,
) -> SSOConnectionRead:
    """Create or replace the connection. The issuer's discovery document is fetched and checked first."""
    connection = await service.save_connection(
        session, user, organization_id, body, keyring=keyring, providers=providers, settings=settings
    )
    return service.to_read(connection, settings)


@router.delete("/{organization_id}/sso", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def delete_sso(organization_id: OrganizationID, user: CurrentUser, session: DBSession) -> None:
    await service.delete_connection(session, user, organization_id)
