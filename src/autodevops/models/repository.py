"""Repositories connected to an organization."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from autodevops.models.base import Base, IDMixin, TimestampMixin


class Repository(IDMixin, TimestampMixin, Base):
    """A source repository: a GitHub repository, a GitLab project or a public git URL, owned by one organization."""

    __tablename__ = "repositories"
    __table_args__ = (
        UniqueConstraint("organization_id", "clone_url", name="uq_repositories_organization_id_clone_url"),
        CheckConstraint("source IN ('github', 'gitlab', 'git')", name="source"),
        CheckConstraint("visibility IN ('public', 'private', 'internal')", name="visibility"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    clone_url: Mapped[str] = mapped_column(String(2048), nullable=False)
    # "owner/name" when the source is GitHub.
    github_full_name: Mapped[str | None] = mapped_column(String(200))
    default_branch: Mapped[str | None] = mapped_column(String(255))
    # Refreshed by `repository.sync`; NULL until the first sync.
    visibility: Mapped[str | None] = mapped_column(Text)
    latest_commit_sha: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
