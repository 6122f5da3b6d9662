"""Browser routes of single sign-on: the sign-in page, the start of a sign-in, and the provider's callback.

* `GET /auth/sso` — the page: a work email or the organization's sign-in name.
* `POST /auth/sso` — starts the sign-in and answers a page that forwards the browser to the provider (a form
  may only redirect to this site under the dashboard's CSP `form-action 'self'`; the forwarding page names the
  provider's host first). Posted from a signed-in session with its CSRF token, it links that account.
* `GET /auth/sso/{slug}` — starts a sign-in from a link (bookmarks, the "requires single sign-on" answer).
* `GET /auth/sso/callback` — the one redirect URI every organization registers with its provider.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.auth import oauth, sessions
from autodevops.db import DBSession, get_database
from autodevops.errors import Forbidden, Unauthorized
from autodevops.github.dependencies import AppSettings, Redis, TokenKeyring
from autodevops.models import User
from autodevops.sso import signin
from autodevops.sso.dependencies import IdentityProviders
from autodevops.sso.schemas import SignInStart
from autodevops.ui import PageRoute, form_data, parse_form, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


async def _signed_in(request: Request, session: AsyncSession) -> User | None:
    """The user of a valid session cookie whose request passes its CSRF check; None otherwise (never an error:
    signing in must work from any state, and only a checked session may link an account)."""
    try:
        return await sessions.session_cookie(request, session)
    except (Unauthorized, Forbidden):
        return None


def _forward(response: Response, settings: AppSettings, started: signin.Started) -> Response:
    response.set_cookie(
        signin.BROWSER_COOKIE,
        started.browser_nonce,
        max_age=oauth.STATE_TTL_SECONDS,
        path=signin.COOKIE_PATH,
        secure=settings.session_cookie_secure,
        httponly=True,
        samesite="lax",  # the callback is a top-level navigation from the provider: Lax cookies are sent
    )
    return response


@router.get("/auth/sso")
async def sign_in_page(
    request: Request, session: DBSession, organization: str | None = None, next: str | None = None
) -> Response:
    user = await _signed_in(request, session)
    context = {
        "organization": (organization or "")[:63],
        "next": oauth.safe_next(next) if next else "",
        "signed_in_as": user.email if user else None,
        "csrf_token": getattr(request.state, "csrf_token", None) if user else None,
    }
    return render(request, "sso_sign_in.html", context)


@router.post("/auth/sso")
async def start_from_form(
    request: Request,
    session: DBSession,
    settings: AppSettings,
    redis: Redis,
    keyring: TokenKeyring,
    providers: IdentityProviders,
) -> Response:
    body = parse_form(SignInStart, await form_data(request))
    user = await _signed_in(request, session)
    connection = await signin.find_connection(session, body.identifier)
    started = await signin.start(
        session,
        redis,
        providers,
        keyring,
        settings,
        connection,
        next_path=body.next,
        link_user_id=user.id if user else None,
        login_hint=body.identifier if "@" in body.identifier else None,
    )
    return _forward(render(request, "sso_redirect.html", {"started": started}), settings, started)


@router.get("/auth/sso/callback")
async def callback(
    request: Request,
    session: DBSession,
    settings: AppSettings,
    redis: Redis,
    keyring: TokenKeyring,
    providers: IdentityProviders,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response:
    signed_in = await signin.complete(
        session,
        get_database(request),
        redis,
        providers,
        keyring,
        settings,
        state=state,
        code=code,
        error=error,
        browser_nonce=request.cookies.get(signin.BROWSER_COOKIE),
    )
    response = RedirectResponse(signed_in.next_path, status_code=303)
    sessions.set_session_cookie(response, settings, signed_in.session_token)
    response.delete_cookie(signin.BROWSER_COOKIE, path=signin.COOKIE_PATH)
    return response


@router.get("/auth/sso/{slug}")
async def start_from_link(
    slug: str,
    session: DBSession,
    settings: AppSettings,
    redis: Redis,
    keyring: TokenKeyring,
    providers: IdentityProviders,
    next: str | None = None,
) -> Response:
    connection = await signin.find_connection(session, slug[:63])
    started = await signin.start(session, redis, providers, keyring, settings, connection, next_path=next)
    return _forward(RedirectResponse(started.authorization_url, status_code=302), settings, started)
