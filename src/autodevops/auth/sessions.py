"""Browser sessions: a signed JWT in a cookie, revocable server-side, with CSRF protection.

* The cookie holds an HS256 JWT (`iss` = the public URL, `aud` = `autodevops-web`, `sub` = user id, `sv` =
  the user's session version, `jti`, `iat`, `exp` = one hour). Decoding accepts HS256 only (an allowlist, so
  `alg: none` or an RS/HS confusion is refused) and requires every one of those claims.
* The cookie is HttpOnly, SameSite=Lax and Secure; `__Host-` prefixed when Secure (no Domain, Path=/).
  Secure can only be turned off for an http://localhost public URL (`Settings.check`).
* A session that came through an organization's identity provider carries that organization in `sso`; it is
  bound into every transaction of the request, so an organization that requires single sign-on is reachable
  from that session only (`app_organization_ids()`). Renewal keeps it.
* `user_session_states.session_version` is compared on every request: logout and disabling a user bump it,
  which revokes every cookie issued before at once.
* Sliding renewal: a cookie past half its lifetime is re-issued (same session id, new `exp`) on the next
  request, by `SessionRenewalMiddleware`; never beyond `MAX_SESSION_SECONDS` after sign-in.
* A request authenticated by the cookie that changes state (not GET/HEAD/OPTIONS) must carry the session's
  CSRF token in `X-CSRF-Token` (HTMX, fetch) or a `csrf_token` form field. The token is an HMAC of the
  session's `jti`, so it needs no storage and dies with the session. Bearer-token clients are not affected:
  browsers never attach an `Authorization` header on their own.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from autodevops.auth import queries as auth_queries
from autodevops.config import Settings
from autodevops.db import bind_tenant
from autodevops.errors import Forbidden, Unauthorized
from autodevops.models import User, UserSessionState, utcnow

ALGORITHM = "HS256"
ALGORITHMS = [ALGORITHM]  # the allowlist handed to every decode
AUDIENCE = "autodevops-web"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_REQUIRED = ["exp", "iat", "iss", "aud", "sub", "jti", "sv"]
MAX_SESSION_SECONDS = 12 * 3600  # sliding renewal never extends a session past this, counted from sign-in
RENEWED_STATE_KEY = "renewed_session"


@dataclass(frozen=True, slots=True)
class SessionClaims:
    user_id: uuid.UUID
    version: int
    jti: str
    expires_at: int
    auth_time: int
    sso_organization_id: uuid.UUID | None = None


def cookie_name(settings: Settings) -> str:
    # The __Host- prefix makes browsers refuse the cookie unless it is Secure, host-only and Path=/.
    return "__Host-autodevops_session" if settings.session_cookie_secure else "autodevops_session"


def _key(settings: Settings, purpose: str) -> bytes:
    return hashlib.sha256(f"autodevops:{purpose}:".encode() + settings.secret_key.get_secret_value().encode()).digest()


def issue_session_token(
    settings: Settings,
    user_id: uuid.UUID,
    version: int,
    *,
    now: int | None = None,
    jti: str | None = None,
    auth_time: int | None = None,
    sso_organization_id: uuid.UUID | None = None,
) -> str:
    """A signed session JWT for `user_id` at session version `version`.

    A renewal passes the session's `jti` (so its CSRF token stays valid) and `auth_time` (the sign-in time,
    which bounds how long renewals can extend a session). `sso_organization_id`: the organization whose
    identity provider signed the user in, for a single sign-on session.
    """
    issued = int(time.time()) if now is None else now
    claims: dict[str, Any] = {
        "iss": settings.public_url,
        "aud": AUDIENCE,
        "sub": str(user_id),
        "sv": version,
        "jti": jti or secrets.token_urlsafe(16),
        "iat": issued,
        "exp": issued + settings.session_ttl_seconds,
        "auth_time": issued if auth_time is None else auth_time,
    }
    if sso_organization_id is not None:
        claims["sso"] = str(sso_organization_id)
    return jwt.encode(claims, _key(settings, "session"), algorithm=ALGORITHM)


def verify_session_token(settings: Settings, token: str) -> SessionClaims:
    """The claims of a valid, unexpired session token; `Unauthorized` otherwise (one message for all cases)."""
    try:
        claims = jwt.decode(
            token,
            _key(settings, "session"),
            algorithms=ALGORITHMS,
            audience=AUDIENCE,
            issuer=settings.public_url,
            options={"require": _REQUIRED},
        )
        sso = claims.get("sso")
        return SessionClaims(
            uuid.UUID(str(claims["sub"])),
            int(claims["sv"]),
            str(claims["jti"]),
            int(claims["exp"]),
            int(claims.get("auth_time", claims["iat"])),
            uuid.UUID(str(sso)) if sso is not None else None,
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        raise Unauthorized("session expired or invalid; sign in again") from None


def csrf_token(settings: Settings, claims: SessionClaims) -> str:
    """The CSRF token of one session."""
    return hmac.new(_key(settings, "csrf"), claims.jti.encode(), hashlib.sha256).hexdigest()


def renewed_token(settings: Settings, claims: SessionClaims, *, now: int | None = None) -> str | None:
    """A fresh token for a session past half its lifetime (sliding renewal), or None.

    Renewal keeps the session's identity (`jti`, hence its CSRF token) and never extends it beyond
    `MAX_SESSION_SECONDS` after sign-in: a stolen cookie cannot be kept alive forever.
    """
    current = int(time.time()) if now is None else now
    if claims.expires_at - current > settings.session_ttl_seconds // 2:
        return None
    if current - claims.auth_time >= MAX_SESSION_SECONDS:
        return None
    return issue_session_token(
        settings,
        claims.user_id,
        claims.version,
        now=current,
        jti=claims.jti,
        auth_time=claims.auth_time,
        sso_organization_id=claims.sso_organization_id,
    )


def session_cookie_header(settings: Settings, token: str) -> str:
    """The `Set-Cookie` header value of a session cookie."""
    response = Response()
    set_session_cookie(response, settings, token)
    return response.headers["set-cookie"]


class SessionRenewalMiddleware:
    """Sets the renewed session cookie the authenticator prepared (`request.state.renewed_session`).

    Authenticators cannot reach the response; this pure ASGI middleware adds the header when the response
    starts, whatever the route returned.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})  # shared with every Request of this scope

        async def send_with_cookie(message: Message) -> None:
            header = state.get(RENEWED_STATE_KEY)
            if message["type"] == "http.response.start" and header:
                message["headers"] = [*message.get("headers", []), (b"set-cookie", header.encode("latin-1"))]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        cookie_name(settings),
        token,
        max_age=settings.session_ttl_seconds,
        path="/",
        secure=settings.session_cookie_secure,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        cookie_name(settings), path="/", secure=settings.session_cookie_secure, httponly=True, samesite="lax"
    )


async def session_state(session: AsyncSession, user_id: uuid.UUID) -> UserSessionState:
    """The user's session state row, created on first use. The session must act for `user_id`."""
    state = await session.get(UserSessionState, user_id)
    if state is None:
        state = UserSessionState(user_id=user_id, session_version=1)
        session.add(state)
        await session.flush()
    return state


async def start_session(
    session: AsyncSession, settings: Settings, user_id: uuid.UUID, *, sso_organization_id: uuid.UUID | None = None
) -> str:
    """A new session token for `user_id` (refused for a disabled user); `sso_organization_id` for a session
    that came through that organization's identity provider."""
    state = await session_state(session, user_id)
    if state.disabled_at is not None:
        raise Forbidden("this account is disabled")
    return issue_session_token(settings, user_id, state.session_version, sso_organization_id=sso_organization_id)


async def revoke_sessions(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Invalidate every session cookie of `user_id` issued so far (logout everywhere)."""
    state = await session_state(session, user_id)
    state.session_version += 1
    await session.flush()


async def disable_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Refuse every credential of the user from now on: sessions already issued and new ones, and personal
    API tokens (all revoked now; the token lookup also refuses a disabled user's, whatever their state)."""
    state = await session_state(session, user_id)
    state.session_version += 1
    state.disabled_at = utcnow()
    await auth_queries.revoke_all_tokens(session, user_id)
    await session.flush()


async def is_disabled(session: AsyncSession, user_id: uuid.UUID) -> bool:
    state = await session.get(UserSessionState, user_id)
    return state is not None and state.disabled_at is not None


async def enable_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Let a disabled user sign in again (sessions and tokens revoked by disabling stay revoked)."""
    state = await session_state(session, user_id)
    state.disabled_at = None
    await session.flush()


async def session_cookie(request: Request, session: AsyncSession) -> User | None:
    """Authenticator for `CurrentUser`: the user of the session cookie; None when there is no cookie.

    Binds the DB session to the user, checks the server-side session version, and for state-changing
    methods the CSRF token.
    """
    settings: Settings = request.app.state.settings
    raw = request.cookies.get(cookie_name(settings))
    if raw is None:
        return None
    claims = verify_session_token(settings, raw)
    await bind_tenant(session, user_id=claims.user_id, sso_organization_id=claims.sso_organization_id)
    state = await session.get(UserSessionState, claims.user_id)
    if state is None or state.disabled_at is not None or state.session_version != claims.version:
        raise Unauthorized("session revoked; sign in again")
    expected = csrf_token(settings, claims)
    if request.method not in SAFE_METHODS:
        presented = request.headers.get(CSRF_HEADER)
        if presented is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            value = (await request.form()).get(CSRF_FIELD)
            presented = value if isinstance(value, str) else None
        if presented is None or not hmac.compare_digest(presented.encode(), expected.encode()):
            raise Forbidden("missing or invalid CSRF token")
    user = await session.get(User, claims.user_id)
    if user is None:
        raise Unauthorized("session expired or invalid; sign in again")
    request.state.csrf_token = expected
    request.state.session_claims = claims
    renewed = renewed_token(settings, claims)
    if renewed is not None:
        setattr(request.state, RENEWED_STATE_KEY, session_cookie_header(settings, renewed))
    return user
