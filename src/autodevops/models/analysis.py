"""Analyses of a repository and the pipelines generated from them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from autodevops.models.base import Base, CreatedAtMixin, IDMixin


class Analysis(IDMixin, CreatedAtMixin, Base):
    """One run of the engine over a repository at a ref. `result` is the engine's `Analysis` as JSON."""

    __tablename__ = "analyses"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'running', 'succeeded', 'failed')", name="status"),
        Index("ix_analyses_repository_id_created_at", "repository_id", "created_at"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    repository_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending", nullable=False)
    ref: Mapped[str | None] = mapped_column(String(255))
    commit_sha: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Pipeline(IDMixin, CreatedAtMixin, Base):
    """Files generated from an analysis, with the validators' findings about them."""

    __tablename__ = "pipelines"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    repository_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"), index=True)
    analysis_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("analyses.id", ondelete="SET NULL"))
    # [{"path": ".github/workflows/ci.yml", "content": "..."}, ...]
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    # {"valid": bool, "findings": [...]} as reported by the validators.
    validation: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
