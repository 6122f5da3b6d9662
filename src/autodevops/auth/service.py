"""Users and personal API tokens: creation, bearer authentication, revocation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.audit.service import record
from autodevops.auth import queries, sessions, tokens
from autodevops.auth.schemas import normalize_email
from autodevops.db import add_or_conflict, bind_context, bind_tenant, tenant_of
from autodevops.errors import Forbidden, NotFound, Unauthorized
from autodevops.models import APIToken, User, utcnow

_BAD_TOKEN = "invalid or expired token"  # noqa: S105 - an error message


async def create_user(session: AsyncSession, email: str, *, name: str | None = None) -> User:
    """A new user (never a platform administrator: only the owner role sets that). `Conflict` if the email is
    taken. The session's context is unchanged afterwards."""
    user = User(id=uuid.uuid4(), email=normalize_email(email), name=name)
    context = tenant_of(session)
    # Row-level security lets a user insert and read back only their own row: act as the new user meanwhile.
    await bind_context(session, replace(context, user_id=user.id))
    try:
        await add_or_conflict(session, user, f"a user with email {user.email} already exists")
    finally:
        await bind_context(session, context)
    return user


async def get_user_by_email(session: AsyncSession, email: str) -> User:
    """The user with `email`, with `session` bound to them from now on (operator commands act as the user).

    Found through `app_find_user_id_by_email` (SECURITY DEFINER): row-level security shows no one else's row.
    """
    user_id = await queries.find_user_id_by_email(session, normalize_email(email))
    if user_id is None:
        raise NotFound("user not found")
    await bind_tenant(session, user_id=user_id)
    user = await queries.get_user(session, user_id)
    if user is None:
        raise NotFound("user not found")
    return user


async def authenticate_bearer(session: AsyncSession, token: str) -> User:
    """The user of a personal API token, with the session bound to them. `Unauthorized` otherwise.

    One round trip: `app_authenticate_token` checks the hash, revocation and expiry, touches `last_used_at`
    and sets the transaction's tenant context. Every failure gives the same message, so a caller cannot tell
    a revoked token from a made-up one.
    """
    if not tokens.looks_like_token(token):
        raise Unauthorized(_BAD_TOKEN)
    user = await queries.authenticate_token(session, tokens.prefix_of(token), tokens.hash_token(token))
    if user is None:
        raise Unauthorized(_BAD_TOKEN)
    await bind_tenant(session, user_id=user.id, via_token=True, applied=True)
    return user


async def create_token(
    session: AsyncSession, user: User, name: str, *, expires_in_days: int | None = None
) -> tuple[APIToken, str]:
    """A new token for `user` (the session must act for them). Returns the row and the secret, shown once.

    `Forbidden` for a disabled user: disabling must not be undone by minting a new credential.
    """
    if await sessions.is_disabled(session, user.id):
        raise Forbidden("this account is disabled")
    new = tokens.generate_token()
    token = APIToken(
        user_id=user.id,
        name=name,
        prefix=new.prefix,
        token_hash=new.hash,
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(token)
    await session.flush()
    await record(session, "token.created", user_id=user.id, target_type="api_token", target_id=token.id)
    return token, new.secret


async def list_tokens(session: AsyncSession, user: User, *, limit: int, offset: int) -> Sequence[APIToken]:
    return await queries.list_tokens(session, user.id, limit=limit, offset=offset)


async def revoke_token(session: AsyncSession, user: User, token_id: uuid.UUID) -> APIToken:
    """Revoke one of `user`'s tokens (idempotent). Another user's token is `NotFound`."""
    token = await queries.get_token(session, user.id, token_id)
    if token is None:
        raise NotFound("token not found")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        await session.flush()
        await record(session, "token.revoked", user_id=user.id, target_type="api_token", target_id=token.id)
    return token
