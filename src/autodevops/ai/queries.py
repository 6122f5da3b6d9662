"""SQL of the AI layer: review records and the per-organization daily usage (tenant RLS applies)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.models import AIReviewRecord, AIUsageDaily


async def add_review(session: AsyncSession, record: AIReviewRecord) -> None:
    session.add(record)
    await session.flush()


async def add_usage(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    day: date,
    cache_hit: bool,
    calls: int,
    input_tokens: int,
    output_tokens: int,
    cost_usd: Decimal,
) -> None:
    """Add one review's usage to the organization's row for `day` (created on first use)."""
    values = {
        "reviews": 1,
        "cache_hits": int(cache_hit),
        "calls": calls,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost_usd": cost_usd,
    }
    statement = insert(AIUsageDaily).values(organization_id=organization_id, day=day, **values)
    table = AIUsageDaily.__table__
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.organization_id, table.c.day],
        set_={name: table.c[name] + statement.excluded[name] for name in values},
    )
    await session.execute(statement)


async def review_of(session: AsyncSession, analysis_id: uuid.UUID) -> AIReviewRecord | None:
    return (
        await session.execute(select(AIReviewRecord).where(AIReviewRecord.analysis_id == analysis_id))
    ).scalar_one_or_none()


async def organization_cost(session: AsyncSession, organization_id: uuid.UUID, since: date) -> Decimal:
    """The organization's AI spend from `since` (inclusive), in USD."""
    total = await session.scalar(
        select(func.coalesce(func.sum(AIUsageDaily.cost_usd), 0)).where(
            AIUsageDaily.organization_id == organization_id, AIUsageDaily.day >= since
        )
    )
    return Decimal(total or 0)


async def usage_since(session: AsyncSession, organization_id: uuid.UUID, since: date) -> Sequence[AIUsageDaily]:
    """The organization's daily usage rows from `since` (inclusive), oldest first."""
    query = (
        select(AIUsageDaily)
        .where(AIUsageDaily.organization_id == organization_id, AIUsageDaily.day >= since)
        .order_by(AIUsageDaily.day)
    )
    return (await session.scalars(query)).all()


async def tokens_since(session: AsyncSession, organization_id: uuid.UUID, since: date) -> int:
    """The organization's AI tokens (input and output, every provider call) from `since` (inclusive)."""
    total = await session.scalar(
        select(func.coalesce(func.sum(AIUsageDaily.input_tokens + AIUsageDaily.output_tokens), 0)).where(
            AIUsageDaily.organization_id == organization_id, AIUsageDaily.day >= since
        )
    )
    return int(total or 0)
