"""`/api/v1`: the AI layer in JSON — an organization's state and costs, and the review of one analysis."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from autodevops.ai import status as ai_status
from autodevops.auth.dependencies import CurrentUser
from autodevops.config import Settings
from autodevops.db import DBSession
from autodevops.errors import NotFound

router = APIRouter(tags=["ai"])

OrganizationID = Annotated[uuid.UUID, Path(description="The organization's id.")]
AnalysisID = Annotated[uuid.UUID, Path(description="The analysis's id.")]


class AIEntryRead(BaseModel):
    provider: str
    model: str
    usable: bool = Field(description="The provider has a key (or a self-hosted URL).")
    breaker: Literal["closed", "open", "half_open"] | None = Field(description="Null when the entry is not usable.")


class AIQuotaRead(BaseModel):
    provider: str
    kind: Literal["requests", "tokens"]
    used: int = Field(description="Used in the current minute, by every worker.")
    limit: int


class AIUsageDayRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    day: date
    reviews: int
    cache_hits: int
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal = Field(description="USD, as a decimal string.")


class AIStatusRead(BaseModel):
    enabled: bool = Field(description="Some model entry is usable; otherwise analyses use the rule engine only.")
    entries: list[AIEntryRead] = Field(description="The model entries, in the order they are tried.")
    quotas: list[AIQuotaRead]
    month_start: date
    cost_this_month_usd: Decimal = Field(description="The organization's AI spend since `month_start`, USD.")
    usage: list[AIUsageDayRead] = Field(description="This month's usage per UTC day, oldest first.")
    tokens_this_month: int = Field(description="AI tokens (input and output) used since the 1st, UTC.")
    tokens_per_month: int = Field(description="The plan's monthly AI tokens; past them analyses use the rules only.")
    budget_resets_at: datetime = Field(description="When the monthly AI tokens start again (the 1st, 00:00 UTC).")
    prices_as_of: date = Field(description="The date the price table behind the costs was last checked.")


class AIReviewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    analysis_id: uuid.UUID
    status: Literal["applied", "rules_only"]
    reason: str | None = Field(
        description="Why the rules' answer stands (rules_only): not-configured, unavailable, budget-exhausted..."
    )
    entry: str | None = Field(description="The `provider:model` that answered.")
    cached: bool
    prompt_version: str
    summary: str | None
    risks: list[dict[str, Any]]
    recommendations: list[str]
    accepted: list[dict[str, Any]] = Field(description="Corrections the rule engine checked and applied.")
    rejected: list[dict[str, Any]] = Field(description="Corrections refused, each with the reason.")
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal = Field(description="Every provider call made for this review, failed ones included; USD.")


@router.get("/organizations/{organization_id}/ai", response_model=AIStatusRead)
async def organization_ai(
    organization_id: OrganizationID, request: Request, user: CurrentUser, session: DBSession
) -> AIStatusRead:
    """The AI layer's state for this organization: entries, breakers, quota use and this month's cost."""
    settings: Settings = request.app.state.settings
    state = await ai_status.ai_status(
        session, user, organization_id, settings, request.app.state.redis, ai_status.app_quota_reader(request)
    )
    usage = await ai_status.organization_usage(session, user, organization_id, state.month_start)
    return AIStatusRead(
        enabled=state.enabled,
        entries=[AIEntryRead.model_validate(entry, from_attributes=True) for entry in state.entries],
        quotas=[AIQuotaRead.model_validate(quota, from_attributes=True) for quota in state.quotas],
        month_start=state.month_start,
        cost_this_month_usd=state.cost_this_month_usd,
        usage=[AIUsageDayRead.model_validate(day) for day in usage],
        prices_as_of=settings.ai_prices_as_of,
        tokens_this_month=state.budget.used,
        tokens_per_month=state.budget.allowed,
        budget_resets_at=state.budget.resets_at,
    )


@router.get("/analyses/{analysis_id}/ai-review", response_model=AIReviewRead)
async def analysis_ai_review(analysis_id: AnalysisID, user: CurrentUser, session: DBSession) -> AIReviewRead:
    """What the AI layer did for one analysis and what it cost (404 until the analysis has been reviewed)."""
    review = await ai_status.analysis_review(session, user, analysis_id)
    if review is None:
        raise NotFound("this analysis has no AI review (it has not finished, or ran before the AI layer existed)")
    return AIReviewRead.model_validate(review)
