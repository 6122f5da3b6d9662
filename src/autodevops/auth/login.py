"""Browser sign-in routes: `/auth/github/login`, `/auth/github/callback`, `/auth/logout`, and
`/api/v1/auth/session` (who is signed in, plus the CSRF token pages send back)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from autodevops.auth import oauth, sessions
from autodevops.auth.dependencies import CurrentUser
from autodevops.db import DBSession
from autodevops.github.dependencies import AppSettings, GitHub, Redis, TokenKeyring

router = APIRouter(tags=["auth"])  # mounted at the root: browsers reach it without credentials
api_router = APIRouter(tags=["auth"])  # mounted under /api/v1


@router.get("/auth/github/login", include_in_schema=False)
async def github_login(
    settings: AppSettings, github: GitHub, redis: Redis, next: str | None = None
) -> RedirectResponse:
    start = await oauth.begin(redis, next_path=next)
    url = github.authorize_url(
        state=start.state, code_challenge=start.code_challenge, redirect_uri=oauth.redirect_uri(settings)
    )
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(
        oauth.BROWSER_COOKIE,
        start.browser_nonce,
        max_age=oauth.STATE_TTL_SECONDS,
        path="/auth/github",
        secure=settings.session_cookie_secure,
        httponly=True,
        samesite="lax",  # the callback is a top-level navigation from GitHub: Lax cookies are sent
    )
    return response


@router.get("/auth/github/callback", include_in_schema=False)
async def github_callback(
    request: Request,
    session: DBSession,
    settings: AppSettings,
    github: GitHub,
    redis: Redis,
    keyring: TokenKeyring,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> RedirectResponse:
    grant = await oauth.consume(redis, state=state, browser_nonce=request.cookies.get(oauth.BROWSER_COOKIE))
    if error is not None or not code:
        raise oauth.SignInError("sign-in was cancelled on GitHub" if error else "sign-in failed: no code")
    token = await github.exchange_code(
        code=code, code_verifier=grant.code_verifier, redirect_uri=oauth.redirect_uri(settings)
    )
    gh_user = await github.get_user(token.access_token)
    verified_email = await github.get_verified_primary_email(token.access_token)
    user = await oauth.sign_in(session, keyring, gh_user, token, verified_email=verified_email)
    session_token = await sessions.start_session(session, settings, user.id)
    response = RedirectResponse(grant.next_path, status_code=303)
    sessions.set_session_cookie(response, settings, session_token)
    response.delete_cookie(oauth.BROWSER_COOKIE, path="/auth/github")
    return response


@router.post("/auth/logout", include_in_schema=False)
async def logout(request: Request, user: CurrentUser, session: DBSession, settings: AppSettings) -> RedirectResponse:
    """End every session of the user (all browsers), then go home."""
    await sessions.revoke_sessions(session, user.id)
    setattr(request.state, sessions.RENEWED_STATE_KEY, None)  # no renewed cookie after the one being deleted
    response = RedirectResponse("/", status_code=303)
    sessions.clear_session_cookie(response, settings)
    return response


class SessionRead(BaseModel):
    user_id: str
    email: str
    name: str | None
    csrf_token: str | None  # None when authenticated with a bearer token (no CSRF needed)


@api_router.get("/auth/session", response_model=SessionRead)
async def read_session(request: Request, user: CurrentUser) -> SessionRead:
    return SessionRead(
        user_id=str(user.id),
        email=user.email,
        name=user.name,
        csrf_token=getattr(request.state, "csrf_token", None),
    )
