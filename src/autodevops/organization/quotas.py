"""Plan limits enforced where work is asked for: over a limit, `QuotaExceeded` (402 `quota_exceeded`) names the
limit, how much of it is used and when it resets.

Analyses per day count the organization's analyses created since midnight UTC; the limit resets at the next
midnight UTC. Work a webhook asks for over the limit is skipped and recorded in the audit trail
(`analysis.skipped`), never dropped silently.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.config import Settings
from autodevops.errors import AppError
from autodevops.models import Analysis, utcnow
from autodevops.organization import plans


class QuotaExceeded(AppError):
    status_code = 402
    error = "quota_exceeded"


async def check_analyses_today(session: AsyncSession, settings: Settings, organization_id: uuid.UUID) -> None:
    """Room for one more analysis today under the organization's plan, or `QuotaExceeded`."""
    plan = await plans.plan_of(session, settings, organization_id)
    allowed = plan.limits.analyses_per_day
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    used = await session.scalar(
        select(func.count())
        .select_from(Analysis)
        .where(Analysis.organization_id == organization_id, Analysis.created_at >= today)
    )
    if (used or 0) < allowed:
        return
    resets_at = today + timedelta(days=1)
    raise QuotaExceeded(
        f"The {plan.name} plan allows {allowed} analyses a day and this organization has used them; the limit "
        f"resets at {resets_at:%Y-%m-%d %H:%M} UTC. Ask an operator about a larger plan.",
        detail={
            "message": f"analyses_per_day: {used} of {allowed} used; resets at {resets_at.isoformat()}",
            "limit": "analyses_per_day",
            "plan": plan.name,
            "allowed": allowed,
            "used": used,
            "resets_at": resets_at.isoformat(),
        },
    )
