"""The durable record of every queued job (the queue itself lives in Redis)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from autodevops.models.base import Base, IDMixin, TimestampMixin


class Job(IDMixin, TimestampMixin, Base):
    """A job named `domain.verb`, acting for one organization. `payload` carries ids only, never secrets."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'active', 'completed', 'failed', 'dead_letter')", name="state"),
        Index("ix_jobs_organization_id_created_at", "organization_id", "created_at"),
        Index("ix_jobs_state", "state"),
        Index(
            "uq_jobs_organization_id_idempotency_key",
            "organization_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    queue: Mapped[str] = mapped_column(String(100), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}", nullable=False)
    state: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending", nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3, server_default="3", nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    bullmq_job_id: Mapped[str | None] = mapped_column(String(200))
    # The `Idempotency-Key` of the request that created the job (unique per organization).
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    # The queue priority it was given (lower starts sooner; docs/jobs.md), given again when re-enqueued.
    priority: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
