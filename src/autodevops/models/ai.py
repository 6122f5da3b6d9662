"""What the AI layer did for each analysis, and what it cost each organization per day."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from autodevops.models.base import Base, CreatedAtMixin, IDMixin


class AIReviewRecord(IDMixin, CreatedAtMixin, Base):
    """The AI review of one analysis: applied (with what was accepted and rejected) or rules only, and why.

    `cost_usd` and the token counts cover every provider call made for it, failed ones included.
    """

    __tablename__ = "ai_reviews"
    __table_args__ = (CheckConstraint("status IN ('applied', 'rules_only')", name="status"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    analysis_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("analyses.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    # not-configured, unavailable, invalid-output, over-quota, budget-exhausted, error (rules only)
    reason: Mapped[str | None] = mapped_column(Text)
    entry: Mapped[str | None] = mapped_column(String(200))
    cached: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    prompt_version: Mapped[str] = mapped_column(String(32), nullable=False)
    digest_sha256: Mapped[str | None] = mapped_column(String(64))
    digest_tokens: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    summary: Mapped[str | None] = mapped_column(Text)
    risks: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, nullable=False)
    recommendations: Mapped[list[str]] = mapped_column(JSONB, default=list, nullable=False)
    accepted: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, nullable=False)
    rejected: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, nullable=False)
    calls: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, nullable=False)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(12, 6), default=Decimal(0), nullable=False)


class AIUsageDaily(Base):
    """An organization's AI usage on one UTC day (summed by an upsert per review)."""

    __tablename__ = "ai_usage_daily"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reviews: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    cache_hits: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    calls: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(14, 6), default=Decimal(0), nullable=False)
