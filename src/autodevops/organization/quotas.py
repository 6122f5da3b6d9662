"""Plan limits enforced where work is asked for: over a limit, `QuotaExceeded` (402 `quota_exceeded`) names the
limit, how much of it is used and when it resets (or that it does not: repositories).

- Analyses per day count the organization's analyses created since midnight UTC; the limit resets at the next
  midnight UTC. Work a webhook asks for over the limit is skipped and recorded in the audit trail
  (`analysis.skipped`), never dropped silently.
- Repositories count the organization's connected repositories. The count never resets by itself: removing a
  repository or a larger plan makes room.
- AI tokens per month count every provider call's input and output tokens since the first of the month (UTC).
  Over it an analysis is never refused: it completes with the rules' answer and a finding (`ai.service`).

Concurrent jobs and API requests per minute are enforced by the job queue (`jobs.slots`) and the rate limiter;
`usage` reports every limit, for the dashboard and `GET /api/v1/organizations/{id}/usage`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.ai import queries as ai_queries
from autodevops.config import Settings
from autodevops.db import add_or_conflict
from autodevops.errors import AppError
from autodevops.models import Analysis, Job, Repository, User, utcnow
from autodevops.organization import plans
from autodevops.organization.schemas import LimitUseRead, UsageRead


class QuotaExceeded(AppError):
    status_code = 402
    error = "quota_exceeded"


@dataclass(frozen=True, slots=True)
class LimitUse:
    """How much of one plan limit is used; `resets_at` None: the use only goes down when something is removed."""

    limit: str
    plan: str
    allowed: int
    used: int
    resets_at: datetime | None

    @property
    def exhausted(self) -> bool:
        return self.used >= self.allowed

    @property
    def remaining(self) -> int:
        return max(0, self.allowed - self.used)

    def detail(self) -> dict[str, object]:
        """The JSON `detail` of a `quota_exceeded` error (and of an `analysis.skipped` audit event)."""
        resets = self.resets_at.isoformat() if self.resets_at else None
        return {
            "message": f"{self.limit}: {self.used} of {self.allowed} used; "
            + (f"resets at {resets}" if resets else "does not reset: remove one or change plan"),
            "limit": self.limit,
            "plan": self.plan,
            "allowed": self.allowed,
            "used": self.used,
            "resets_at": resets,
        }


def start_of_day(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def start_of_month(now: datetime) -> datetime:
    return start_of_day(now).replace(day=1)


def next_month(now: datetime) -> datetime:
    first = start_of_month(now)
    return first.replace(year=first.year + 1, month=1) if first.month == 12 else first.replace(month=first.month + 1)


async def analyses_today(session: AsyncSession, settings: Settings, organization_id: uuid.UUID) -> LimitUse:
    plan = await plans.plan_of(session, settings, organization_id)
    today = start_of_day(utcnow())
    used = await session.scalar(
        select(func.count())
        .select_from(Analysis)
        .where(Analysis.organization_id == organization_id, Analysis.created_at >= today)
    )
    return LimitUse("analyses_per_day", plan.name, plan.limits.analyses_per_day, used or 0, today + timedelta(days=1))


async def repositories(session: AsyncSession, settings: Settings, organization_id: uuid.UUID) -> LimitUse:
    plan = await plans.plan_of(session, settings, organization_id)
    used = await session.scalar(
        select(func.count()).select_from(Repository).where(Repository.organization_id == organization_id)
    )
    return LimitUse("repositories", plan.name, plan.limits.repositories, used or 0, None)


async def ai_tokens_this_month(session: AsyncSession, settings: Settings, organization_id: uuid.UUID) -> LimitUse:
    plan = await plans.plan_of(session, settings, organization_id)
    now = utcnow()
    used = await ai_queries.tokens_since(session, organization_id, start_of_month(now).date())
    return LimitUse("ai_tokens_per_month", plan.name, plan.limits.ai_tokens_per_month, used, next_month(now))


async def running_jobs(session: AsyncSession, settings: Settings, organization_id: uuid.UUID) -> LimitUse:
    plan = await plans.plan_of(session, settings, organization_id)
    used = await session.scalar(
        select(func.count()).select_from(Job).where(Job.organization_id == organization_id, Job.state == "active")
    )
    return LimitUse("concurrent_jobs", plan.name, plan.limits.concurrent_jobs, used or 0, None)


# How each limit comes back, in words (the dashboard and the API say it next to `resets_at`).
RESETS = {
    "repositories": "does not reset: remove a repository or change plan",
    "analyses_per_day": "at midnight UTC",
    "ai_tokens_per_month": "on the 1st of the month, 00:00 UTC",
    "concurrent_jobs": "when a running job ends (the next one waits in the queue)",
    "api_requests_per_minute": "continuously: each request counts for one minute",
}


async def usage(
    session: AsyncSession,
    settings: Settings,
    organization_id: uuid.UUID,
    api_window: Callable[[str, int], Awaitable[tuple[int, float] | None]] | None,
) -> list[LimitUse]:
    """Every plan limit of the organization and how much of it is used now.

    `api_window(organization_id, per_minute)` reads the API requests of the current moving minute (the rate
    limiter); without an answer (limits off, Redis away) that limit reports 0 used and no reset time.
    """
    plan = await plans.plan_of(session, settings, organization_id)
    per_minute = plan.limits.api_requests_per_minute
    window = await api_window(str(organization_id), per_minute) if api_window is not None else None
    api_used, api_resets = (window[0], datetime.fromtimestamp(window[1], UTC)) if window else (0, None)
    return [
        await repositories(session, settings, organization_id),
        await analyses_today(session, settings, organization_id),
        await ai_tokens_this_month(session, settings, organization_id),
        await running_jobs(session, settings, organization_id),
        LimitUse("api_requests_per_minute", plan.name, per_minute, api_used, api_resets if api_used else None),
    ]


async def check_analyses_today(session: AsyncSession, settings: Settings, organization_id: uuid.UUID) -> None:
    """Room for one more analysis today under the organization's plan, or `QuotaExceeded`."""
    use = await analyses_today(session, settings, organization_id)
    if not use.exhausted:
        return
    assert use.resets_at is not None
    raise QuotaExceeded(
        f"The {use.plan} plan allows {use.allowed} {'analysis' if use.allowed == 1 else 'analyses'} a day and this "
        "organization has used them; the limit "
        f"resets at {use.resets_at:%Y-%m-%d %H:%M} UTC. Ask an operator about a larger plan.",
        detail=use.detail(),
    )


async def add_repository(session: AsyncSession, settings: Settings, repository: Repository, conflict: str) -> None:
    """Insert `repository` if its organization's plan has room: `Conflict(conflict)` when it is already connected,
    `QuotaExceeded` when the plan allows no more. Either way nothing is inserted and the transaction stays usable.

    Two requests racing for the last place would both pass a bare count; a transaction-scoped advisory lock per
    organization makes them take turns, and each counts after its own insert (the second sees the first's
    repository once that commits).
    """
    organization_id = repository.organization_id
    async with session.begin_nested():
        await session.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended(f"repositories:{organization_id}", 0)))
        )
        await add_or_conflict(session, repository, conflict)
        use = await repositories(session, settings, organization_id)
        if use.used <= use.allowed:
            return
        before = LimitUse(use.limit, use.plan, use.allowed, use.used - 1, None)
        raise QuotaExceeded(
            f"The {use.plan} plan allows {use.allowed} {'repository' if use.allowed == 1 else 'repositories'} and "
            f"this organization has {before.used}; this limit does not reset: remove a repository or ask an "
            "operator to change the plan.",
            detail=before.detail(),
        )


async def usage_of(
    session: AsyncSession,
    settings: Settings,
    user: User,
    organization_id: uuid.UUID,
    api_window: Callable[[str, int], Awaitable[tuple[int, float] | None]] | None,
) -> UsageRead:
    """The organization's plan and the use of each of its limits, for a member (`NotFound` otherwise)."""
    from autodevops.organization.service import get_membership

    await get_membership(session, user, organization_id)
    uses = await usage(session, settings, organization_id, api_window)
    return UsageRead(
        organization_id=organization_id,
        plan=uses[0].plan,
        limits=[
            LimitUseRead(limit=u.limit, allowed=u.allowed, used=u.used, resets_at=u.resets_at, resets=RESETS[u.limit])
            for u in uses
        ],
    )
