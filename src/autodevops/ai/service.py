"""The AI step of an analysis job: review the rule engine's result, apply what checks out, record the cost.

AI never fails a job. Not configured, unavailable, invalid output after one repair, an unexpected error: the
analysis keeps the rules' answer and an `ai_reviews` row says why (`rules_only` + reason). Over quota on
every entry: the job is re-scheduled (`AIRescheduled`, retried with the job system's delay) while attempts
remain; on the last attempt the rules' answer stands. The organization's monthly AI tokens used up
(its plan's `ai_tokens_per_month`): no provider call (a cached answer is free and still used), the rules'
answer stands with an `ai-budget-exhausted` finding saying when the budget resets (`budget-exhausted`).
The budget is checked before each review, so reviews already running when it runs out may go past it by
their own tokens.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.ai import metrics, queries
from autodevops.ai.digest import Digest, build_digest, digest_from_dict
from autodevops.ai.entries import usable_entries
from autodevops.ai.review import apply_review
from autodevops.ai.router import AIQuotaExceeded, AIUnavailable, CallRecord, Router
from autodevops.ai.schemas import PROMPT_VERSION
from autodevops.config import Settings
from autodevops.engine.model import Analysis as EngineAnalysis
from autodevops.engine.model import Finding
from autodevops.logging import get_logger
from autodevops.models import AIReviewRecord, Analysis, utcnow
from autodevops.organization import quotas

log = get_logger(__name__)


class AIRescheduled(Exception):
    """Every AI entry is over its per-minute quota: run the job again later (the job system's retry delay)."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"AI quota exhausted; re-scheduled (room again in about {retry_after_s:.0f}s)")
        self.retry_after_s = retry_after_s


_routers: dict[int, Router] = {}


def router_for(settings: Settings) -> Router | None:
    """This process's router for `settings` (None when no AI entry is usable): one Redis pool per worker."""
    if not usable_entries(settings):
        return None
    key = id(settings)
    if key not in _routers:
        _routers[key] = Router(settings)
    return _routers[key]


@dataclass(frozen=True)
class Review:
    """What the AI step decided, before anything is written: the analysis result to store and its record."""

    result: dict[str, Any]
    record: AIReviewRecord
    calls: list[CallRecord]


async def review_result(
    session: AsyncSession,
    settings: Settings,
    analysis: Analysis,
    result: dict[str, Any],
    digest_data: dict[str, Any] | None,
    *,
    router: Router | None,
    last_attempt: bool = True,
) -> Review:
    """Review the rules' `result` for `analysis` with the AI. Writes nothing and changes nothing on `analysis`, so
    the job can call it before it locks the analysis row: provider calls take seconds, and a row lock held that
    long would stall every other writer of the row (a cancel, a duplicate delivery, the stalled-job sweep)."""
    engine = EngineAnalysis.model_validate(result)
    digest: Digest = (
        digest_from_dict(digest_data)
        if digest_data
        else build_digest(engine, None, max_tokens=settings.ai_digest_max_tokens)
    )
    record = AIReviewRecord(
        id=uuid.uuid4(),
        organization_id=analysis.organization_id,
        analysis_id=analysis.id,
        status="rules_only",
        prompt_version=PROMPT_VERSION,
        digest_sha256=digest.sha256,
        digest_tokens=digest.tokens,
        cached=False,
        risks=[],
        recommendations=[],
        accepted=[],
        rejected=[],
        calls=[],
    )
    calls: list[CallRecord] = []
    if router is None or not router.configured:
        record.reason = "not-configured"
    else:
        budget = await quotas.ai_tokens_this_month(session, settings, analysis.organization_id)
        try:
            answer = await router.review(digest, calls_allowed=not budget.exhausted)
        except AIQuotaExceeded as exc:
            if not last_attempt:
                raise AIRescheduled(exc.retry_after_s) from exc
            record.reason, calls = "over-quota", exc.calls
        except AIUnavailable as exc:
            record.reason, calls = exc.reason, exc.calls
            if exc.reason == "budget-exhausted":
                result = _with_budget_finding(engine, budget).model_dump(mode="json")
        except Exception as exc:  # noqa: BLE001 - the AI must never fail the analysis
            log.warning("AI review failed; keeping the rules' answer", error=f"{type(exc).__name__}: {exc}")
            record.reason = "error"
        else:
            calls = answer.calls
            outcome = apply_review(engine, answer.review, digest.data)
            result = outcome.analysis.model_dump(mode="json")
            record.status = "applied"
            record.entry = answer.entry
            record.cached = answer.cached
            record.summary = answer.review.summary
            record.risks = [r.model_dump() for r in answer.review.risks]
            record.recommendations = list(answer.review.recommendations)
            record.accepted = outcome.accepted
            record.rejected = outcome.rejected
    record.calls = [
        {
            "provider": c.provider,
            "model": c.model,
            "outcome": c.outcome,
            "input_tokens": c.input_tokens,
            "output_tokens": c.output_tokens,
            "cost_usd": round(c.cost_usd, 8),
        }
        for c in calls
    ]
    record.input_tokens = sum(c.input_tokens for c in calls)
    record.output_tokens = sum(c.output_tokens for c in calls)
    record.cost_usd = Decimal(str(round(sum(c.cost_usd for c in calls), 6)))
    return Review(result, record, calls)


async def store_review(session: AsyncSession, analysis: Analysis, review: Review) -> AIReviewRecord:
    """Write what `review_result` decided: the analysis result, the review record and the organization's usage."""
    record = review.record
    analysis.result = review.result
    await queries.add_review(session, record)
    if record.status == "applied" or review.calls:
        await queries.add_usage(
            session,
            organization_id=analysis.organization_id,
            day=utcnow().date(),
            cache_hit=record.cached,
            calls=len(review.calls),
            input_tokens=record.input_tokens,
            output_tokens=record.output_tokens,
            cost_usd=record.cost_usd,
        )
    outcome_label = "rules_only" if record.status == "rules_only" else ("cached" if record.cached else "applied")
    metrics.REVIEWS.labels(outcome_label).inc()
    if record.status == "rules_only":
        log.info("analysis completed with rules only", analysis_id=str(analysis.id), reason=record.reason)
    return record


async def review_analysis(
    session: AsyncSession,
    settings: Settings,
    analysis: Analysis,
    digest_data: dict[str, Any] | None,
    *,
    router: Router | None,
    last_attempt: bool = True,
) -> AIReviewRecord:
    """Refine `analysis.result` with the AI (in place) and record the review and its cost."""
    assert analysis.result is not None
    review = await review_result(
        session, settings, analysis, analysis.result, digest_data, router=router, last_attempt=last_attempt
    )
    return await store_review(session, analysis, review)


def _with_budget_finding(engine: EngineAnalysis, budget: quotas.LimitUse) -> EngineAnalysis:
    """The rules' analysis plus a finding that says the AI was skipped for the monthly budget, and until when."""
    assert budget.resets_at is not None
    finding = Finding(
        code="ai-budget-exhausted",
        severity="info",
        message=f"The AI review was skipped: this organization has used its {budget.allowed:,} AI tokens for the "
        f"month ({budget.plan} plan; {budget.used:,} used). The budget resets on "
        f"{budget.resets_at:%Y-%m-%d} at 00:00 UTC; until then analyses use the rules only.",
    )
    return engine.model_copy(update={"findings": [*engine.findings, finding]})
