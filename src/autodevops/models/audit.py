"""Audit events: who did what to which object."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from autodevops.models.base import Base, CreatedAtMixin, IDMixin


class AuditEvent(IDMixin, CreatedAtMixin, Base):
    """An append-only record of a change.

    No foreign keys on purpose: the trail outlives the organization, user or object it mentions.
    `organization_id` is NULL for a user's own events (tokens); such rows are visible to that user only.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_organization_id_created_at", "organization_id", "created_at"),)

    organization_id: Mapped[uuid.UUID | None] = mapped_column()
    user_id: Mapped[uuid.UUID | None] = mapped_column()
    action: Mapped[str] = mapped_column(String(100), nullable=False)
    target_type: Mapped[str | None] = mapped_column(String(50))
    target_id: Mapped[uuid.UUID | None] = mapped_column()
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}", nullable=False)
    correlation_id: Mapped[str | None] = mapped_column(String(64))
