"""Signing in through an organization's identity provider.

`start()` finds the organization (by its sign-in name, or by the domain of a work email), remembers a
single-use state in Redis exactly as GitHub sign-in does (`auth.oauth.begin`: PKCE verifier, browser binding,
ten minutes), plus the organization and an OpenID Connect nonce, and returns the provider's authorization URL.
`complete()` takes the state out (once), exchanges the code, validates the ID token, and then decides who
signs in:

1. the identity (`iss`, `sub`) already linked in this organization → its user;
2. else, when the sign-in was started from a signed-in session (a form post with its CSRF token), that
   session's user: linking needs proof of both accounts;
3. else, when no account has the verified email, a new user (just-in-time provisioning);
4. else, when that account was created by this organization's single sign-on, that account (the provider
   changed, e.g. a new issuer);
5. else nobody: an email claim never takes over an account that signs in another way.

The email must be verified by the provider and belong to a domain the owner allowed, at every sign-in. A
non-member joins with the configured default role when just-in-time provisioning is on, and is refused
otherwise. Every sign-in, and every refusal after the provider answered, is an audit event.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.audit.service import record
from autodevops.auth import oauth, sessions
from autodevops.auth import queries as auth_queries
from autodevops.auth import service as auth_service
from autodevops.auth.schemas import normalize_email
from autodevops.config import Settings
from autodevops.crypto import Keyring
from autodevops.db import Database, bind_tenant, tenant_session
from autodevops.errors import AppError, Conflict
from autodevops.logging import get_logger
from autodevops.models import Organization, OrganizationMember, SSOConnection, SSOIdentity, User, utcnow
from autodevops.organization import queries as organization_queries
from autodevops.sso import queries
from autodevops.sso.provider import IDClaims, Providers
from autodevops.sso.schemas import normalize_slug
from autodevops.sso.service import client_of, redirect_uri

log = get_logger(__name__)

FLOW = "sso"  # Redis keys `autodevops:sso-state:...`, apart from GitHub sign-in's
BROWSER_COOKIE = "autodevops_sso"
COOKIE_PATH = "/auth/sso"


class SignInError(AppError):
    status_code = 400
    error = "sign_in_failed"


@dataclass(frozen=True, slots=True)
class Started:
    authorization_url: str
    browser_nonce: str
    organization_name: str
    provider_host: str


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: User
    organization_id: uuid.UUID
    session_token: str
    next_path: str


async def find_connection(session: AsyncSession, identifier: str) -> SSOConnection:
    """The connection a sign-in name or work email names; binds `session` to its organization.

    A domain claimed by several organizations is ambiguous: the person is asked for the sign-in name.
    """
    value = identifier.strip().lower()
    if "@" in value:
        domain = value.rsplit("@", 1)[1]
        found = await queries.sign_in_candidates(session, slug=None, domain=domain)
        if not found:
            raise SignInError(f"no organization signs in {domain} addresses with single sign-on")
        if len(found) > 1:
            raise SignInError(
                f"several organizations sign in {domain} addresses; enter your organization's sign-in name"
            )
    else:
        try:
            slug = normalize_slug(value)
        except ValueError:
            raise SignInError("enter a work email address or your organization's sign-in name") from None
        found = [row for row in await queries.sign_in_candidates(session, slug=slug, domain=None) if row[1] == slug]
        if not found:
            raise SignInError(f"no organization signs in with the name {slug!r}")
    organization_id = found[0][0]
    # Sign-in acts for the organization (its provider is about to vouch for someone), before any user is known.
    await bind_tenant(session, organization_id=organization_id)
    connection = await queries.get_connection(session, organization_id)
    if connection is None:  # deleted in between
        raise SignInError("single sign-on is no longer configured for this organization")
    return connection


async def start(
    session: AsyncSession,
    redis: object,
    providers: Providers,
    keyring: Keyring,
    settings: Settings,
    connection: SSOConnection,
    *,
    next_path: str | None,
    link_user_id: uuid.UUID | None = None,
    login_hint: str | None = None,
) -> Started:
    """Remember a sign-in attempt and build the provider's authorization URL for it."""
    nonce = secrets.token_urlsafe(32)
    begun = await oauth.begin(
        redis,
        next_path=next_path or f"/orgs/{connection.organization_id}/repositories",
        flow=FLOW,
        data={
            "organization": str(connection.organization_id),
            "connection": str(connection.id),
            "issuer": connection.issuer,
            "nonce": nonce,
            "link_user": str(link_user_id) if link_user_id else "",
        },
    )
    url = await providers.authorization_url(
        client_of(connection, keyring),
        redirect_uri=redirect_uri(settings),
        state=begun.state,
        code_challenge=begun.code_challenge,
        nonce=nonce,
        login_hint=login_hint,
    )
    organization = await session.get(Organization, connection.organization_id)
    metadata = await providers.metadata(connection.issuer)
    host = metadata.authorization_endpoint.split("/", 3)[2]
    return Started(url, begun.browser_nonce, organization.name if organization else connection.slug, host)


async def complete(
    session: AsyncSession,
    database: Database,
    redis: object,
    providers: Providers,
    keyring: Keyring,
    settings: Settings,
    *,
    state: str | None,
    code: str | None,
    error: str | None,
    browser_nonce: str | None,
) -> SignedIn:
    """Finish a sign-in at the callback (see the module docstring). `SignInError` when it is refused."""
    grant = await oauth.consume(redis, state=state, browser_nonce=browser_nonce, flow=FLOW)
    organization_id = uuid.UUID(grant.data["organization"])
    try:
        return await _complete(session, providers, keyring, settings, grant, organization_id, code, error)
    except AppError as refused:
        await _record_refusal(database, organization_id, refused.message)
        raise


async def _complete(
    session: AsyncSession,
    providers: Providers,
    keyring: Keyring,
    settings: Settings,
    grant: oauth.LoginGrant,
    organization_id: uuid.UUID,
    code: str | None,
    error: str | None,
) -> SignedIn:
    await bind_tenant(session, organization_id=organization_id)
    connection = await queries.get_connection(session, organization_id)
    remembered = (grant.data["connection"], grant.data["issuer"])
    if connection is None or (str(connection.id), connection.issuer) != remembered:
        raise SignInError("single sign-on changed during the sign-in; start again")
    if error is not None or not code:
        raise SignInError(f"the identity provider did not sign you in ({(error or 'no code')[:100]})")
    client = client_of(connection, keyring)
    id_token = await providers.exchange_code(
        client, code=code, code_verifier=grant.code_verifier, redirect_uri=redirect_uri(settings)
    )
    claims = await providers.validate_id_token(client, id_token, nonce=grant.data["nonce"])
    email = _allowed_email(connection, claims)
    link_user = uuid.UUID(grant.data["link_user"]) if grant.data.get("link_user") else None
    user, created, linked = await _resolve_user(session, connection, claims, email, link_user)
    joined = await _ensure_member(session, connection, user)
    # From here the transaction acts for the user, signed in through this organization's provider.
    await bind_tenant(session, user_id=user.id, sso_organization_id=organization_id)
    await record(
        session,
        "sso.signed_in",
        user_id=user.id,
        organization_id=organization_id,
        target_type="user",
        target_id=user.id,
        data={"email": email, "subject": claims.subject, "created_user": created, "linked": linked, "joined": joined},
    )
    token = await sessions.start_session(session, settings, user.id, sso_organization_id=organization_id)
    return SignedIn(user, organization_id, token, grant.next_path)


def _allowed_email(connection: SSOConnection, claims: IDClaims) -> str:
    if claims.email is None:
        raise SignInError("the identity provider sent no email address (is the email scope allowed?)")
    try:
        email = normalize_email(claims.email)
    except ValueError:
        raise SignInError("the identity provider sent an invalid email address") from None
    if not claims.email_verified:
        raise SignInError(f"the identity provider has not verified {email}; verify it there, then sign in again")
    domain = email.rsplit("@", 1)[1]
    if domain not in connection.allowed_domains:
        raise SignInError(f"{domain} addresses may not sign in to this organization; ask an owner to allow the domain")
    return email


async def _resolve_user(
    session: AsyncSession,
    connection: SSOConnection,
    claims: IDClaims,
    email: str,
    link_user: uuid.UUID | None,
) -> tuple[User, bool, bool]:
    """The user this sign-in is for (see the module docstring), with whether it was created and linked now."""
    organization_id = connection.organization_id
    identity = await queries.get_identity(session, organization_id, claims.issuer, claims.subject)
    created = linked = False
    if identity is not None:
        if link_user is not None and identity.user_id != link_user:
            raise SignInError("this identity is already linked to another account; sign out and sign in with SSO")
        user_id = identity.user_id
    elif link_user is not None:
        user_id, linked = link_user, True
    else:
        existing = await auth_queries.find_user_id_by_email(session, email)
        if existing is None:
            if not connection.jit_provisioning:
                raise SignInError("you have no account here; ask an owner of the organization to add you")
            try:
                user = await auth_service.create_user(session, email, name=claims.name)
            except Conflict:  # created concurrently by another sign-in
                raise SignInError("your account was just created by another sign-in; sign in again") from None
            user_id, created = user.id, True
        elif await queries.created_by_organization(session, organization_id, existing):
            user_id, linked = existing, True
        else:
            raise SignInError(
                f"an account with {email} already exists: sign in to it (with GitHub) first, then choose "
                "“Sign in with SSO” to link it to your organization's identity provider"
            )
    if identity is None:
        identity = SSOIdentity(
            organization_id=organization_id,
            user_id=user_id,
            issuer=claims.issuer,
            subject=claims.subject,
            email=email,
            created_user=created,
        )
        session.add(identity)
    identity.email = email
    identity.last_sign_in_at = utcnow()
    await session.flush()
    # Reading the user (and later their session state) happens as that user.
    await bind_tenant(session, user_id=user_id, organization_id=organization_id)
    found = await session.get(User, user_id)
    if found is None:
        raise SignInError("the linked account no longer exists")
    return found, created, linked


async def _ensure_member(session: AsyncSession, connection: SSOConnection, user: User) -> bool:
    """Make `user` a member (just-in-time) or refuse. Returns whether they joined now."""
    organization_id = connection.organization_id
    if await organization_queries.get_membership(session, organization_id, user.id) is not None:
        return False
    if not connection.jit_provisioning:
        raise SignInError("you are not a member of this organization; ask an owner to add you")
    session.add(OrganizationMember(organization_id=organization_id, user_id=user.id, role=connection.default_role))
    await session.flush()
    await record(
        session,
        "member.added",
        user_id=user.id,
        organization_id=organization_id,
        target_type="user",
        target_id=user.id,
        data={"role": connection.default_role, "via": "sso"},
    )
    return True


async def _record_refusal(database: Database, organization_id: uuid.UUID, reason: str) -> None:
    """Audit a refused sign-in in a transaction of its own (the request's rolls back with the error)."""
    try:
        async with tenant_session(database, organization_id=organization_id) as session:
            await record(
                session,
                "sso.sign_in_refused",
                user_id=None,
                organization_id=organization_id,
                data={"reason": reason[:300]},
            )
    except Exception:  # the refusal itself must reach the person even if the audit write fails
        log.exception("recording a refused single sign-on failed", organization_id=str(organization_id))
