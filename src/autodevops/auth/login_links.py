"""One-time sign-in links: how a user without GitHub or single sign-on gets into the dashboard.

`autodevops users login-link EMAIL` prints `PUBLIC_URL/auth/link?token=adl_...`. The secret is 256 random
bits, stored only as its SHA-256 (like personal API tokens: a random secret needs no slow hash). A link works
once, before it expires (15 minutes unless asked otherwise), and never for a disabled user; creating and using
one are audited. Opening the URL shows a page with a "Sign in" button, and only pressing it (a POST) uses the
link: a chat client or mail scanner that fetches the URL to preview it cannot burn it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.audit.service import record
from autodevops.auth import sessions
from autodevops.config import Settings
from autodevops.db import bind_tenant
from autodevops.errors import AppError, Forbidden
from autodevops.models import LoginLink, User, utcnow

LINK_PATH = "/auth/link"
LINK_SCHEME = "adl_"
DEFAULT_TTL = timedelta(minutes=15)
MAX_TTL = timedelta(hours=24)
_LINK_RE = re.compile(r"^adl_[A-Za-z0-9_-]{43}$")
# Built once: the statement object keys SQLAlchemy's compiled-SQL cache.
_CONSUME = select(User).from_statement(text("SELECT * FROM app_consume_login_link(:hash)"))


class LoginLinkRefused(AppError):
    status_code = 400
    error = "login_link_invalid"


REFUSED = "This sign-in link is invalid, expired or already used. Ask your administrator for a new one."


def hash_link(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_link(secret: str) -> bool:
    """Whether `secret` has the shape of a link secret (junk is refused before the database is asked)."""
    return bool(_LINK_RE.match(secret))


def link_url(settings: Settings, secret: str) -> str:
    return f"{settings.public_url.rstrip('/')}{LINK_PATH}?{urlencode({'token': secret})}"


async def create_link(
    session: AsyncSession, settings: Settings, user: User, *, ttl: timedelta = DEFAULT_TTL
) -> tuple[str, datetime]:
    """A new sign-in link for `user` (the session must act for them): its URL, shown once, and its expiry.

    `Forbidden` for a disabled user; `ValueError` for a lifetime outside (0, 24 h].
    """
    if not timedelta(0) < ttl <= MAX_TTL:
        raise ValueError("a sign-in link lasts between 1 minute and 24 hours")
    if await sessions.is_disabled(session, user.id):
        raise Forbidden("this account is disabled")
    secret = LINK_SCHEME + secrets.token_urlsafe(32)
    link = LoginLink(user_id=user.id, token_hash=hash_link(secret), expires_at=utcnow() + ttl)
    session.add(link)
    await session.flush()
    await record(
        session,
        "login_link.created",
        user_id=user.id,
        target_type="login_link",
        target_id=link.id,
        data={"expires_at": link.expires_at.isoformat()},
    )
    return link_url(settings, secret), link.expires_at


async def consume(session: AsyncSession, secret: str) -> User:
    """The user of a live link, which is used up, with `session` bound to them. `LoginLinkRefused` otherwise
    (one message whatever the reason, so a guess learns nothing)."""
    if not looks_like_link(secret):
        raise LoginLinkRefused(REFUSED)
    user: User | None = (await session.scalars(_CONSUME, {"hash": hash_link(secret)})).one_or_none()
    if user is None:
        raise LoginLinkRefused(REFUSED)
    await bind_tenant(session, user_id=user.id, applied=True)
    await record(session, "login_link.used", user_id=user.id, target_type="login_link")
    return user
