"""SQL for users and API tokens."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.models import APIToken, User

# Built once: the statement object keys SQLAlchemy's compiled-SQL cache, so reuse skips rebuilding it.
_AUTHENTICATE = select(User).from_statement(text("SELECT * FROM app_authenticate_token(:prefix, :hash)"))


async def authenticate_token(session: AsyncSession, prefix: str, token_hash: str) -> User | None:
    """The user of the live token with `prefix` and `token_hash`; also binds the transaction to them.

    Runs `app_authenticate_token` (SECURITY DEFINER: no user context exists before it), which returns the
    `users` row, so the ORM loads it as a `User`.
    """
    result: User | None = (await session.scalars(_AUTHENTICATE, {"prefix": prefix, "hash": token_hash})).one_or_none()
    return result


async def find_user_by_github_id(session: AsyncSession, github_user_id: int) -> uuid.UUID | None:
    """The platform user linked to a GitHub account, if any.

    Through `app_find_user_by_github_id` (SECURITY DEFINER): at sign-in no user context exists yet.
    """
    found = await session.scalar(select(func.app_find_user_by_github_id(github_user_id)))
    return None if found is None else uuid.UUID(str(found))


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def find_user_id_by_email(session: AsyncSession, email: str) -> uuid.UUID | None:
    """The id of the user with `email` (already normalized), if any.

    Through `app_find_user_id_by_email` (SECURITY DEFINER): row-level security shows only the context's own
    user and co-members, and operator commands start with no context.
    """
    found = await session.scalar(select(func.app_find_user_id_by_email(email)))
    return None if found is None else uuid.UUID(str(found))


async def list_tokens(session: AsyncSession, user_id: uuid.UUID, *, limit: int, offset: int) -> Sequence[APIToken]:
    query = (
        select(APIToken)
        .where(APIToken.user_id == user_id)
        .order_by(APIToken.created_at.desc(), APIToken.id)
        .limit(limit)
        .offset(offset)
    )
    return (await session.scalars(query)).all()


async def get_token(session: AsyncSession, user_id: uuid.UUID, token_id: uuid.UUID) -> APIToken | None:
    result: APIToken | None = await session.scalar(
        select(APIToken).where(APIToken.id == token_id, APIToken.user_id == user_id)
    )
    return result


async def revoke_all_tokens(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Revoke every live token of `user_id` (the session must act for them)."""
    await session.execute(
        update(APIToken).where(APIToken.user_id == user_id, APIToken.revoked_at.is_(None)).values(revoked_at=func.now())
    )
