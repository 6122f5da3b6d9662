"""An organization's single sign-on configuration: owners only, secret encrypted, every change audited.

Saving checks the issuer as a URL the platform will fetch, by the rules of git URLs (`validate_public_url`)
and then fetches its discovery document, so a typo is an error on the form rather than at the next sign-in.
Requiring single sign-on can only be switched on from a session that came through the organization's own
provider: the owner has just proven the provider works, and cannot lock everyone out with a broken one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.audit.service import record
from autodevops.config import Settings
from autodevops.crypto import Keyring
from autodevops.db import tenant_of
from autodevops.errors import Conflict, Forbidden, NotFound, ValidationFailed
from autodevops.models import SSOConnection, User
from autodevops.organization import service as organization_service
from autodevops.repository.git_url import validate_public_url
from autodevops.sso import queries
from autodevops.sso.provider import Client, ProviderError, Providers
from autodevops.sso.rotation import secret_aad
from autodevops.sso.rules import SIGN_IN_PATH, sign_in_page
from autodevops.sso.schemas import SSOConnectionRead, SSOConnectionWrite

CALLBACK_PATH = "/auth/sso/callback"
# Audited as they change; the client secret is audited as "replaced", never by value.
_AUDITED_FIELDS = (
    "slug",
    "issuer",
    "client_id",
    "allowed_domains",
    "jit_provisioning",
    "default_role",
    "enforced",
    "allow_personal_tokens",
)


def redirect_uri(settings: Settings) -> str:
    """The one redirect URI every organization registers with its provider."""
    return settings.public_url.rstrip("/") + CALLBACK_PATH


def client_of(connection: SSOConnection, keyring: Keyring) -> Client:
    """The connection's registration at its provider, with the client secret decrypted."""
    secret = keyring.decrypt(connection.client_secret_enc, associated_data=secret_aad(connection.id))
    return Client(issuer=connection.issuer, client_id=connection.client_id, client_secret=secret)


def to_read(connection: SSOConnection, settings: Settings) -> SSOConnectionRead:
    return SSOConnectionRead(
        id=connection.id,
        organization_id=connection.organization_id,
        slug=connection.slug,
        issuer=connection.issuer,
        client_id=connection.client_id,
        client_secret_set=bool(connection.client_secret_enc),
        allowed_domains=list(connection.allowed_domains),
        jit_provisioning=connection.jit_provisioning,
        default_role=connection.default_role,
        enforced=connection.enforced,
        allow_personal_tokens=connection.allow_personal_tokens,
        redirect_uri=redirect_uri(settings),
        sign_in_url=f"{settings.public_url.rstrip('/')}{SIGN_IN_PATH}/{connection.slug}",
        created_at=connection.created_at,
        updated_at=connection.updated_at,
    )


async def require_owner(
    session: AsyncSession, user: User, organization_id: uuid.UUID
) -> organization_service.Membership:
    membership = await organization_service.get_membership(session, user, organization_id)
    if membership.role != "owner":
        raise Forbidden("only owners may configure single sign-on")
    return membership


async def find_connection(session: AsyncSession, user: User, organization_id: uuid.UUID) -> SSOConnection | None:
    """The organization's connection, or None when it has none. Owners only."""
    await require_owner(session, user, organization_id)
    return await queries.get_connection(session, organization_id)


async def get_connection(session: AsyncSession, user: User, organization_id: uuid.UUID) -> SSOConnection:
    connection = await find_connection(session, user, organization_id)
    if connection is None:
        raise NotFound("single sign-on is not configured for this organization")
    return connection


@dataclass(frozen=True, slots=True)
class LockedOrganization:
    """An organization the user is a member of but reaches only through its single sign-on."""

    organization_id: uuid.UUID
    name: str
    sign_in_path: str


async def locked_organizations(session: AsyncSession) -> list[LockedOrganization]:
    """The signed-in user's organizations that this session cannot reach (they require single sign-on)."""
    rows = await queries.locked_organizations(session)
    return [LockedOrganization(org_id, name, sign_in_page(slug)) for org_id, name, slug in rows]


async def _check_issuer(issuer: str, providers: Providers) -> None:
    await validate_public_url(issuer, policy=providers.policy, what="issuer URL")
    try:
        await providers.metadata(issuer, refresh=True)
    except ProviderError as error:
        raise ValidationFailed(f"invalid issuer URL: {error.message}") from None


def _snapshot(connection: SSOConnection) -> dict[str, Any]:
    return {name: getattr(connection, name) for name in _AUDITED_FIELDS}


async def save_connection(
    session: AsyncSession,
    user: User,
    organization_id: uuid.UUID,
    body: SSOConnectionWrite,
    *,
    keyring: Keyring,
    providers: Providers,
    settings: Settings,
) -> SSOConnection:
    """Create or replace the organization's connection. Owners only; see the module docstring."""
    membership = await require_owner(session, user, organization_id)
    existing = await queries.get_connection(session, organization_id)
    if existing is None and body.client_secret is None:
        raise ValidationFailed("client_secret is required when single sign-on is first configured")
    turning_on = body.enforced and not (existing is not None and existing.enforced)
    if turning_on and tenant_of(session).sso_organization_id != organization_id:
        raise Forbidden(
            f"sign in through {membership.organization.name}'s identity provider before requiring single "
            "sign-on: that proves the provider works, so nobody is locked out"
        )
    await _check_issuer(body.issuer, providers)

    connection = existing or SSOConnection(id=uuid.uuid4(), organization_id=organization_id)
    before = _snapshot(existing) if existing is not None else None
    connection.slug = body.slug
    connection.issuer = body.issuer
    connection.client_id = body.client_id
    connection.allowed_domains = list(body.allowed_domains)
    connection.jit_provisioning = body.jit_provisioning
    connection.default_role = body.default_role
    connection.enforced = body.enforced
    connection.allow_personal_tokens = body.allow_personal_tokens
    if body.client_secret is not None:
        connection.client_secret_enc = keyring.encrypt(
            body.client_secret.get_secret_value(), associated_data=secret_aad(connection.id)
        )
    try:
        async with session.begin_nested():
            session.add(connection)
            await session.flush()
    except IntegrityError:
        raise Conflict(f"the sign-in name {body.slug!r} is taken; choose another") from None

    after = _snapshot(connection)
    if before is None:
        action, data = "sso.configured", after
    else:
        changed = {name: {"from": before[name], "to": after[name]} for name in after if before[name] != after[name]}
        action, data = "sso.updated", {"changed": changed}
    if body.client_secret is not None:
        data["client_secret"] = "replaced" if before is not None else "set"
    await record(
        session,
        action,
        user_id=user.id,
        organization_id=organization_id,
        target_type="sso_connection",
        target_id=connection.id,
        data=data,
    )
    return connection


async def delete_connection(session: AsyncSession, user: User, organization_id: uuid.UUID) -> None:
    """Remove single sign-on (and with it any enforcement). Linked identities stay for a later reconnection."""
    connection = await get_connection(session, user, organization_id)
    await record(
        session,
        "sso.deleted",
        user_id=user.id,
        organization_id=organization_id,
        target_type="sso_connection",
        target_id=connection.id,
        data={"slug": connection.slug, "issuer": connection.issuer},
    )
    await queries.delete_connection(session, connection)


async def lift_enforcement(session: AsyncSession, organization_id: uuid.UUID) -> None:
    """Stop requiring single sign-on (`autodevops sso unenforce`): the operator's recovery when the provider
    is unusable. `session` acts for the organization (no user). Audited."""
    connection = await queries.get_connection(session, organization_id)
    if connection is None:
        raise NotFound("this organization has no single sign-on configured")
    if connection.enforced:
        connection.enforced = False
        await session.flush()
        await record(
            session,
            "sso.updated",
            user_id=None,
            organization_id=organization_id,
            target_type="sso_connection",
            target_id=connection.id,
            data={"changed": {"enforced": {"from": True, "to": False}}, "via": "autodevops sso unenforce"},
        )
