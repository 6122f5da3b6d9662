"""The AI layer as the dashboard shows it: configured entries, breaker states, quota use, cost this month.

Read-only: it reads the same Redis keys the router writes (breaker state, quota windows) and the usage the
AI step records, so what the page shows is what every worker sees.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import Request
from limits import RateLimitItemPerMinute
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.ai import queries
from autodevops.ai.breaker import BreakerConfig, CircuitBreaker
from autodevops.ai.entries import enabled_providers
from autodevops.analysis import service as analysis_service
from autodevops.config import Settings
from autodevops.models import AIReviewRecord, AIUsageDaily, User
from autodevops.organization import quotas
from autodevops.organization.quotas import LimitUse
from autodevops.organization.service import get_membership
from autodevops.ratelimit import limits_storage_uri


@dataclass(frozen=True, slots=True)
class EntryStatus:
    provider: str
    model: str
    usable: bool  # the provider has a key (or a self-hosted URL)
    breaker: str | None  # closed, open, half_open; None when the entry is not usable


@dataclass(frozen=True, slots=True)
class QuotaUse:
    provider: str
    kind: str  # "requests" or "tokens", per minute
    used: int
    limit: int


@dataclass(frozen=True, slots=True)
class AIStatus:
    enabled: bool
    entries: list[EntryStatus]
    quotas: list[QuotaUse]
    cost_this_month_usd: Decimal
    month_start: date
    budget: LimitUse  # the plan's AI tokens this month: past it, analyses use the rules only until it resets


class QuotaReader:
    """Reads the router's per-minute quota windows (same storage, prefix and keys as `ai.quota`)."""

    def __init__(self, settings: Settings) -> None:
        storage = RedisStorage(
            limits_storage_uri(settings.redis_url),
            implementation="redispy",
            key_prefix=f"{settings.ai_key_prefix}:quota",
        )
        self.limiter = MovingWindowRateLimiter(storage)

    async def used(self, provider: str, kind: str, limit: int) -> int:
        stats = await self.limiter.get_window_stats(RateLimitItemPerMinute(limit), "ai", kind, provider)
        return max(0, limit - stats.remaining)


def app_quota_reader(request: Request) -> QuotaReader:
    """The app's quota reader (one Redis pool per app, made on first use)."""
    reader: QuotaReader | None = getattr(request.app.state, "ai_quota_reader", None)
    if reader is None:
        reader = QuotaReader(request.app.state.settings)
        request.app.state.ai_quota_reader = reader
    return reader


async def ai_status(
    session: AsyncSession,
    user: User,
    organization_id: uuid.UUID,
    settings: Settings,
    redis: Any,
    quota_reader: QuotaReader,
    *,
    today: date | None = None,
) -> AIStatus:
    """The AI layer's state for a member of `organization_id` (404 for anyone else)."""
    await get_membership(session, user, organization_id)
    enabled = enabled_providers(settings)
    config = BreakerConfig.from_settings(settings)  # the router's; reading the state never uses the lease
    entries: list[EntryStatus] = []
    for item in settings.ai_models:
        provider, _, model = item.partition(":")
        usable = provider in enabled
        state = None
        if usable:
            breaker = CircuitBreaker(
                redis, prefix=settings.ai_key_prefix, provider=provider, model=model, config=config
            )
            state = await breaker.state()
        entries.append(EntryStatus(provider, model, usable, state))
    quotas_used: list[QuotaUse] = []
    for provider in sorted(enabled):
        for kind, limits in (("rpm", settings.ai_requests_per_minute), ("tpm", settings.ai_tokens_per_minute)):
            limit = limits.get(provider, 0)
            if limit > 0:
                used = await quota_reader.used(provider, kind, limit)
                quotas_used.append(QuotaUse(provider, "requests" if kind == "rpm" else "tokens", used, limit))
    month_start = (today or date.today()).replace(day=1)
    cost = await queries.organization_cost(session, organization_id, month_start)
    budget = await quotas.ai_tokens_this_month(session, settings, organization_id)
    return AIStatus(bool(enabled), entries, quotas_used, cost, month_start, budget)


async def analysis_review(session: AsyncSession, user: User, analysis_id: uuid.UUID) -> AIReviewRecord | None:
    """The AI review of an analysis the user can read (None before or without one); 404 otherwise."""
    analysis = await analysis_service.get_analysis(session, user, analysis_id)
    return await queries.review_of(session, analysis.id)


async def organization_usage(
    session: AsyncSession, user: User, organization_id: uuid.UUID, since: date
) -> Sequence[AIUsageDaily]:
    """A member's view of the organization's AI usage per day from `since` (404 for anyone else)."""
    await get_membership(session, user, organization_id)
    return await queries.usage_since(session, organization_id, since)
