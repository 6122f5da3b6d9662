"""SQL for users and API tokens."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.models import APIToken, User, utcnow


@dataclass(frozen=True, slots=True)
class TokenRecord:
    id: uuid.UUID
    user_id: uuid.UUID
    token_hash: str
    expires_at: datetime | None
    revoked_at: datetime | None


async def find_token(session: AsyncSession, prefix: str) -> TokenRecord | None:
    """The token with `prefix`, read through the definer function (no user context exists yet)."""
    row = (
        await session.execute(
            text("SELECT id, user_id, token_hash, expires_at, revoked_at FROM app_find_api_token(:p)"), {"p": prefix}
        )
    ).one_or_none()
    return TokenRecord(*row) if row else None


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    result: User | None = await session.scalar(select(User).where(User.email == email))
    return result


async def touch_token(session: AsyncSession, token_id: uuid.UUID) -> None:
    await session.execute(update(APIToken).where(APIToken.id == token_id).values(last_used_at=utcnow()))


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
