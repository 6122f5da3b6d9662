"""Sign-in with GitHub: the OAuth web flow with PKCE (S256) and a single-use state bound to the browser.

`begin()` draws a state, a PKCE verifier and a browser nonce. Redis keeps `{verifier, sha256(nonce), next}`
under the state's hash for ten minutes; the nonce goes to the browser in a short-lived HttpOnly cookie. The
callback (`complete()`) takes the state out of Redis with GETDEL, so it works once, and only in the browser
holding the nonce: a missing, unknown, replayed, expired or foreign state is refused before GitHub is asked
anything. The verifier never leaves the server until the code exchange, where GitHub checks it against the
challenge it saw at authorize time.

The first sign-in of a GitHub account links it to the existing user with its verified primary email, or else
creates the user and their personal organization; every sign-in stores the user's GitHub tokens encrypted
(`autodevops.crypto`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.audit.service import record
from autodevops.auth import queries
from autodevops.auth import service as auth_service
from autodevops.auth.schemas import normalize_email
from autodevops.config import Settings
from autodevops.crypto import Keyring, aad
from autodevops.db import bind_tenant
from autodevops.errors import AppError, Conflict
from autodevops.github import queries as github_queries
from autodevops.github.client import GitHubUser, OAuthToken
from autodevops.models import GitHubAccount, User, utcnow
from autodevops.organization import service as organization_service

STATE_TTL_SECONDS = 600
BROWSER_COOKIE = "autodevops_oauth"
CALLBACK_PATH = "/auth/github/callback"
GITHUB_FLOW = "oauth"  # the sign-in flow's name in its Redis keys (`autodevops:oauth-state:...`)


class SignInError(AppError):
    status_code = 400
    error = "sign_in_failed"


@dataclass(frozen=True, slots=True)
class LoginStart:
    state: str
    code_challenge: str
    browser_nonce: str


@dataclass(frozen=True, slots=True)
class LoginGrant:
    code_verifier: str
    next_path: str
    data: dict[str, str] = field(default_factory=dict)  # what the flow remembered at `begin`


def redirect_uri(settings: Settings) -> str:
    return settings.public_url.rstrip("/") + CALLBACK_PATH


def code_challenge(verifier: str) -> str:
    """PKCE S256: BASE64URL(SHA256(verifier)) without padding (RFC 7636 §4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def safe_next(path: str | None) -> str:
    """Only same-site absolute paths: never `//host`, a scheme, or a backslash trick."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path or "\n" in path:
        return "/"
    return path[:2000]


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _key(flow: str, state: str) -> str:
    return f"autodevops:{flow}-state:{_digest(state)}"


async def begin(
    redis: Any, *, next_path: str | None = None, flow: str = GITHUB_FLOW, data: Mapping[str, str] | None = None
) -> LoginStart:
    """Draw and remember a login attempt. Returns what the authorize redirect and the browser cookie need.

    `flow` keeps each sign-in kind's states apart (GitHub, single sign-on); `data` is remembered with the
    state and handed back by `consume` (single sign-on keeps its organization and nonce there).
    """
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters, inside RFC 7636's 43..128
    nonce = secrets.token_urlsafe(32)
    record = {
        "verifier": verifier,
        "browser": _digest(nonce),
        "next": safe_next(next_path),
        "created": time.time(),
        "data": dict(data or {}),
    }
    await redis.set(_key(flow, state), json.dumps(record), ex=STATE_TTL_SECONDS, nx=True)
    return LoginStart(state=state, code_challenge=code_challenge(verifier), browser_nonce=nonce)


async def consume(
    redis: Any, *, state: str | None, browser_nonce: str | None, now: float | None = None, flow: str = GITHUB_FLOW
) -> LoginGrant:
    """Take a login attempt out of Redis (single use) and check it belongs to this browser and is fresh."""
    if not state:
        raise SignInError("sign-in failed: the state parameter is missing")
    if len(state) > 200:
        raise SignInError("sign-in failed: malformed state")
    raw = await redis.getdel(_key(flow, state))
    if raw is None:
        raise SignInError("sign-in failed: unknown, expired or already used state; start again")
    record = json.loads(raw)
    if not browser_nonce or not hmac.compare_digest(_digest(browser_nonce), str(record["browser"])):
        raise SignInError("sign-in failed: the state does not belong to this browser; start again")
    if (now if now is not None else time.time()) - float(record["created"]) > STATE_TTL_SECONDS:
        raise SignInError("sign-in failed: the sign-in took too long; start again")
    data = record.get("data") or {}
    return LoginGrant(
        code_verifier=str(record["verifier"]),
        next_path=safe_next(record.get("next")),
        data={str(key): str(value) for key, value in data.items()},
    )


async def sign_in(
    session: AsyncSession,
    keyring: Keyring,
    gh_user: GitHubUser,
    token: OAuthToken,
    *,
    verified_email: str | None = None,
) -> User:
    """The platform user of a GitHub account. Leaves `session` bound to that user and stores the user's GitHub
    tokens, encrypted.

    An account GitHub has not been linked to before is linked to the existing user whose email is the
    account's verified primary address (`verified_email`), if that user has no GitHub account yet: someone
    created with `autodevops users create`, or signed in by single sign-on, keeps one account. Otherwise it
    gets a new user and a personal organization.
    """
    found = await queries.find_user_by_github_id(session, gh_user.id)
    if found is None:
        user = await _existing_user_to_link(session, verified_email)
        if user is None:
            user = await _create_user(session, gh_user, verified_email)
            await bind_tenant(session, user_id=user.id)
            await organization_service.create_organization(session, user, gh_user.login[:100])
        account = GitHubAccount(id=uuid.uuid4(), user_id=user.id, github_user_id=gh_user.id, login=gh_user.login)
        store_tokens(keyring, account, token)
        session.add(account)
        await session.flush()
        await record(
            session,
            "user.github_linked",
            user_id=user.id,
            target_type="github_account",
            target_id=account.id,
            data={"login": gh_user.login, "github_user_id": gh_user.id},
        )
    else:
        await bind_tenant(session, user_id=found)
        existing_user = await queries.get_user(session, found)
        existing = await github_queries.get_account(session, found)
        if existing_user is None or existing is None:
            raise SignInError("sign-in failed: the linked account no longer exists")
        user, account = existing_user, existing
        account.login = gh_user.login
        store_tokens(keyring, account, token)
    await session.flush()
    return user


async def _existing_user_to_link(session: AsyncSession, verified_email: str | None) -> User | None:
    """The user a new GitHub account joins: theirs by verified primary email, unless already linked to
    another GitHub account (the session is then bound to that user)."""
    if not verified_email:
        return None
    try:
        email = normalize_email(verified_email)
    except ValueError:
        return None
    # Found through a SECURITY DEFINER lookup: row-level security shows no one's row before sign-in.
    user_id = await queries.find_user_id_by_email(session, email)
    if user_id is None:
        return None
    await bind_tenant(session, user_id=user_id)
    if await github_queries.get_account(session, user_id) is not None:
        return None
    return await queries.get_user(session, user_id)


def store_tokens(keyring: Keyring, account: GitHubAccount, token: OAuthToken) -> None:
    """Encrypt the user's GitHub tokens into `account`, bound to its row."""
    now = utcnow()
    account.access_token_enc = keyring.encrypt(
        token.access_token, associated_data=aad("github_accounts", account.id, "access_token")
    )
    account.access_token_expires_at = now + timedelta(seconds=token.expires_in) if token.expires_in else None
    if token.refresh_token:
        account.refresh_token_enc = keyring.encrypt(
            token.refresh_token, associated_data=aad("github_accounts", account.id, "refresh_token")
        )
        expires = token.refresh_token_expires_in
        account.refresh_token_expires_at = now + timedelta(seconds=expires) if expires else None
    else:
        account.refresh_token_enc = None
        account.refresh_token_expires_at = None


def access_token(keyring: Keyring, account: GitHubAccount) -> str:
    """The user's GitHub access token, decrypted."""
    return keyring.decrypt(account.access_token_enc, associated_data=aad("github_accounts", account.id, "access_token"))


def refresh_token(keyring: Keyring, account: GitHubAccount) -> str | None:
    if account.refresh_token_enc is None:
        return None
    return keyring.decrypt(
        account.refresh_token_enc, associated_data=aad("github_accounts", account.id, "refresh_token")
    )


async def _create_user(session: AsyncSession, gh_user: GitHubUser, verified_email: str | None) -> User:
    # GitHub's public profile email is not proof of ownership, so it never links; it only names a new user.
    # When the address is taken (or absent) the user gets GitHub's no-reply address instead.
    noreply = f"{gh_user.id}+{gh_user.login}@users.noreply.github.com"
    name = (gh_user.name or gh_user.login)[:200]
    for email in (verified_email, gh_user.email):
        if email:
            try:
                return await auth_service.create_user(session, email, name=name)
            except (Conflict, ValueError):
                pass
    return await auth_service.create_user(session, noreply, name=name)
