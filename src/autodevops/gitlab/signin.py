"""Sign in with GitLab: `/auth/gitlab/login` and `/auth/gitlab/callback`, and the signed-in user's GitLab token.

The same flow as GitHub's (`auth.oauth`): an authorization code request with PKCE (S256) and a single-use state
bound to the browser by a short-lived HttpOnly cookie, kept in Redis under its own flow name; GitLab checks the
verifier against the challenge at the code exchange. The instance is `AUTODEVOPS_GITLAB_URL` (gitlab.com or
self-managed); register an OAuth application there with the redirect URI `PUBLIC_URL/auth/gitlab/callback`
and the scopes `read_user read_api api`.

A GitLab account signs in its linked user. A new one is linked to the user already signed in in this browser,
if any; otherwise it gets a new user and a personal organization. An email address never links an account on
its own: whoever administers a GitLab instance decides which addresses its users have.

GitLab's access tokens expire after two hours; the refresh token (single use, GitLab issues a new one each
time) renews them when the user next needs one.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.audit.service import record
from autodevops.auth import oauth, sessions
from autodevops.auth import service as auth_service
from autodevops.auth.dependencies import CurrentUser
from autodevops.config import Settings
from autodevops.crypto import CryptoError, Keyring, aad
from autodevops.db import DBSession, bind_tenant
from autodevops.errors import AppError, Conflict, Unauthorized
from autodevops.github.dependencies import AppSettings, Redis, TokenKeyring
from autodevops.gitlab.client import GitLabClient, GitLabError, GitLabUser, OAuthToken
from autodevops.gitlab.endpoints import GitLab
from autodevops.gitlab.schemas import GitLabProjectPage, GitLabProjectRead
from autodevops.models import GitLabAccount, User, utcnow
from autodevops.organization import service as organization_service

router = APIRouter(tags=["auth"])  # mounted at the root: browsers reach it without credentials
api_router = APIRouter(tags=["gitlab"])  # mounted under /api/v1

FLOW = "gitlab-oauth"
COOKIE = "autodevops_oauth_gitlab"
COOKIE_PATH = "/auth/gitlab"
CALLBACK_PATH = "/auth/gitlab/callback"
TABLE = "gitlab_accounts"


class GitLabAccountRequired(AppError):
    status_code = 409
    error = "gitlab_account_required"


def redirect_uri(settings: Settings) -> str:
    return settings.public_url.rstrip("/") + CALLBACK_PATH


# ---- tokens at rest -----------------------------------------------------------------------------------------


def store_tokens(keyring: Keyring, account: GitLabAccount, token: OAuthToken) -> None:
    account.access_token_enc = keyring.encrypt(
        token.access_token, associated_data=aad(TABLE, account.id, "access_token")
    )
    account.access_token_expires_at = utcnow() + timedelta(seconds=token.expires_in) if token.expires_in else None
    account.refresh_token_enc = (
        keyring.encrypt(token.refresh_token, associated_data=aad(TABLE, account.id, "refresh_token"))
        if token.refresh_token
        else None
    )


async def user_token(session: AsyncSession, keyring: Keyring, client: GitLabClient, user: User) -> str:
    """The user's GitLab access token, refreshed first when it has expired."""
    account = await session.scalar(select(GitLabAccount).where(GitLabAccount.user_id == user.id).with_for_update())
    if account is None:
        raise GitLabAccountRequired("sign in with GitLab to list your GitLab projects")
    try:
        expires = account.access_token_expires_at
        if expires is not None and expires <= utcnow() + timedelta(seconds=30):
            if account.refresh_token_enc is None:
                raise GitLabAccountRequired("your GitLab authorization expired; sign in with GitLab again")
            refresh = keyring.decrypt(
                account.refresh_token_enc, associated_data=aad(TABLE, account.id, "refresh_token")
            )
            try:
                fresh = await client.refresh_token(refresh, redirect_uri=redirect_uri(client.settings))
            except GitLabError as error:
                if error.upstream_status is not None and error.upstream_status >= 500:
                    raise
                raise GitLabAccountRequired("your GitLab authorization expired; sign in with GitLab again") from None
            store_tokens(keyring, account, fresh)
            await session.flush()
        return keyring.decrypt(account.access_token_enc, associated_data=aad(TABLE, account.id, "access_token"))
    except CryptoError:
        raise GitLabAccountRequired("your GitLab authorization must be renewed; sign in with GitLab again") from None


# ---- signing in ---------------------------------------------------------------------------------------------


async def sign_in(
    session: AsyncSession,
    keyring: Keyring,
    gl_user: GitLabUser,
    token: OAuthToken,
    *,
    instance_host: str,
    signed_in: User | None = None,
) -> User:
    """The platform user of a GitLab account (see the module docstring). Leaves `session` bound to that user
    and stores the account's tokens, encrypted."""
    found = await session.scalar(select(func.app_find_user_by_gitlab_id(gl_user.id)))
    if found is not None:
        user_id = uuid.UUID(str(found))
        if signed_in is not None and signed_in.id != user_id:
            raise Conflict("this GitLab account is already linked to another user; sign out first")
        await bind_tenant(session, user_id=user_id)
        account = await session.scalar(select(GitLabAccount).where(GitLabAccount.user_id == user_id))
        user = await session.get(User, user_id)
        if account is None or user is None:
            raise oauth.SignInError("sign-in failed: the linked account no longer exists")
        account.username = gl_user.username[:255]
        store_tokens(keyring, account, token)
        await session.flush()
        return user
    if signed_in is not None:
        user = signed_in
        await bind_tenant(session, user_id=user.id)
        if await session.scalar(select(GitLabAccount.id).where(GitLabAccount.user_id == user.id)) is not None:
            raise Conflict("you already linked another GitLab account")
    else:
        user = await _create_user(session, gl_user, instance_host)
        await bind_tenant(session, user_id=user.id)
        await organization_service.create_organization(session, user, gl_user.username[:100])
    account = GitLabAccount(
        id=uuid.uuid4(), user_id=user.id, gitlab_user_id=gl_user.id, username=gl_user.username[:255]
    )
    store_tokens(keyring, account, token)
    session.add(account)
    await session.flush()
    await record(
        session,
        "user.gitlab_linked",
        user_id=user.id,
        target_type="gitlab_account",
        target_id=account.id,
        data={"username": gl_user.username, "gitlab_user_id": gl_user.id},
    )
    return user


async def _create_user(session: AsyncSession, gl_user: GitLabUser, instance_host: str) -> User:
    # The profile's address names a new user when it is free; it never links to an existing one.
    name = (gl_user.name or gl_user.username)[:200]
    if gl_user.email:
        try:
            return await auth_service.create_user(session, gl_user.email, name=name)
        except (Conflict, ValueError):
            pass
    return await auth_service.create_user(
        session, f"{gl_user.id}+{gl_user.username}@users.noreply.{instance_host}", name=name
    )


# ---- routes -------------------------------------------------------------------------------------------------


@router.get("/auth/gitlab/login", include_in_schema=False)
async def gitlab_login(
    settings: AppSettings, gitlab: GitLab, redis: Redis, next: str | None = None
) -> RedirectResponse:
    start = await oauth.begin(redis, next_path=next, flow=FLOW)
    url = gitlab.authorize_url(
        state=start.state, code_challenge=start.code_challenge, redirect_uri=redirect_uri(settings)
    )
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(
        COOKIE,
        start.browser_nonce,
        max_age=oauth.STATE_TTL_SECONDS,
        path=COOKIE_PATH,
        secure=settings.session_cookie_secure,
        httponly=True,
        samesite="lax",  # the callback is a top-level navigation from GitLab: Lax cookies are sent
    )
    return response


@router.get("/auth/gitlab/callback", include_in_schema=False)
async def gitlab_callback(
    request: Request,
    session: DBSession,
    settings: AppSettings,
    gitlab: GitLab,
    redis: Redis,
    keyring: TokenKeyring,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> RedirectResponse:
    grant = await oauth.consume(redis, state=state, browser_nonce=request.cookies.get(COOKIE), flow=FLOW)
    if error is not None or not code:
        raise oauth.SignInError("sign-in was cancelled on GitLab" if error else "sign-in failed: no code")
    token = await gitlab.exchange_code(
        code=code, code_verifier=grant.code_verifier, redirect_uri=redirect_uri(settings)
    )
    gl_user = await gitlab.get_user(token.access_token)
    try:
        signed_in = await sessions.session_cookie(request, session)
    except Unauthorized:
        signed_in = None  # an expired or revoked session links nothing
    host = urlsplit(gitlab.base_url).hostname or "gitlab"
    user = await sign_in(session, keyring, gl_user, token, instance_host=host, signed_in=signed_in)
    session_token = await sessions.start_session(session, settings, user.id)
    response = RedirectResponse(grant.next_path, status_code=303)
    sessions.set_session_cookie(response, settings, session_token)
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


@api_router.get("/gitlab/projects", response_model=GitLabProjectPage)
async def my_projects(
    user: CurrentUser,
    session: DBSession,
    gitlab: GitLab,
    keyring: TokenKeyring,
    search: Annotated[str | None, Query(max_length=100)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> GitLabProjectPage:
    """One page (100) of the GitLab projects the signed-in user (Sign in with GitLab) is a member of."""
    token = await user_token(session, keyring, gitlab, user)
    found = await gitlab.list_projects(token, search=search or None, page=page)
    return GitLabProjectPage(
        items=[GitLabProjectRead.model_validate(p.model_dump()) for p in found.projects], next_page=found.next_page
    )
