"""GitHub integration: linked GitHub accounts (encrypted tokens), installations, repository links, pull
requests, webhook deliveries; and the per-user session state that revokes browser sessions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from autodevops.models.base import Base, CreatedAtMixin, IDMixin, TimestampMixin


class GitHubAccount(IDMixin, TimestampMixin, Base):
    """A user's GitHub identity and OAuth tokens. Isolated per user (RLS: only its own user sees the row).

    Tokens are stored AES-256-GCM encrypted (`autodevops.crypto`), their associated data binding them to this
    row's id and to their purpose (`access_token` / `refresh_token`).
    """

    __tablename__ = "github_accounts"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    github_user_id: Mapped[int] = mapped_column(BigInteger, unique=True, nullable=False)
    login: Mapped[str] = mapped_column(String(100), nullable=False)
    access_token_enc: Mapped[str] = mapped_column(Text, nullable=False)
    refresh_token_enc: Mapped[str | None] = mapped_column(Text)
    access_token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refresh_token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserSessionState(Base):
    """Server-side state of a user's browser sessions. Bumping `session_version` (logout, disabling)
    invalidates every session cookie issued before; `disabled_at` refuses new ones."""

    __tablename__ = "user_session_states"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1", nullable=False)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class GitHubInstallation(IDMixin, TimestampMixin, Base):
    """A GitHub App installation an organization connected. Tokens for it are minted on demand, never stored."""

    __tablename__ = "github_installations"
    __table_args__ = (
        UniqueConstraint(
            "organization_id", "installation_id", name="uq_github_installations_organization_id_installation_id"
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    installation_id: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    account_login: Mapped[str] = mapped_column(String(100), nullable=False)
    account_type: Mapped[str] = mapped_column(String(32), nullable=False)
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class GitHubRepositoryLink(CreatedAtMixin, Base):
    """Which installation reads a connected GitHub repository (one row per `repositories` row of source github)."""

    __tablename__ = "github_repository_links"

    repository_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    installation_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    github_repo_id: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    full_name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)


class GitHubPullRequest(IDMixin, TimestampMixin, Base):
    """The pull request that adds a generated pipeline to a repository, and what became of it."""

    __tablename__ = "github_pull_requests"
    __table_args__ = (
        UniqueConstraint("repository_id", "number", name="uq_github_pull_requests_repository_id_number"),
        CheckConstraint("state IN ('open', 'closed', 'merged')", name="state"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    repository_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    pipeline_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("pipelines.id", ondelete="SET NULL"))
    full_name: Mapped[str] = mapped_column(String(200), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    head_branch: Mapped[str] = mapped_column(String(255), nullable=False)
    head_sha: Mapped[str] = mapped_column(String(64), nullable=False)
    state: Mapped[str] = mapped_column(String(16), default="open", server_default="open", nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    merged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class GitHubWebhookDelivery(Base):
    """One received webhook delivery (`X-GitHub-Delivery`), so a redelivery is recognised and does nothing.

    Holds routing facts only, never the payload: not tenant data.
    """

    __tablename__ = "github_webhook_deliveries"
    __table_args__ = (Index("ix_github_webhook_deliveries_body_sha256_received_at", "body_sha256", "received_at"),)

    delivery_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    event: Mapped[str] = mapped_column(String(100), nullable=False)
    action: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(100), nullable=False)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    # SHA-256 of the signed body: the same body under a new delivery id is a replay (within a window).
    body_sha256: Mapped[str | None] = mapped_column(String(64))


class CIDriftFinding(IDMixin, CreatedAtMixin, Base):
    """After a push to the default branch: the repository's CI differs from the pipeline AutoDevOps recommends.

    `differences` lists `{"path": ..., "status": "missing" | "differs"}` for each generated file.
    """

    __tablename__ = "ci_drift_findings"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    repository_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"), index=True)
    pipeline_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("pipelines.id", ondelete="SET NULL"))
    commit_sha: Mapped[str] = mapped_column(String(64), nullable=False)
    differences: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
