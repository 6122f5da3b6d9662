"""GitLab integration: connected projects (encrypted access token, webhook secret), merge requests, webhook
deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from autodevops.models.base import Base, IDMixin, TimestampMixin


class GitLabConnection(TimestampMixin, Base):
    """How the platform reads a connected GitLab project (one row per `repositories` row of source gitlab).

    The access token (a project or group access token the user gave) and the webhook secrets are stored
    AES-256-GCM encrypted (`autodevops.crypto`), their associated data binding them to this row and purpose
    (`aad("gitlab_connections", repository_id, "access_token" | "webhook_secret" | "previous_webhook_secret")`).
    """

    __tablename__ = "gitlab_connections"

    repository_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    instance_url: Mapped[str] = mapped_column(String(2048), nullable=False)
    project_id: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    full_path: Mapped[str] = mapped_column(String(500), nullable=False)
    token_enc: Mapped[str] = mapped_column(Text, nullable=False)
    # GitLab's project hook, once registered; its secret token and, during a rotation, the previous one.
    webhook_id: Mapped[int | None] = mapped_column(BigInteger)
    webhook_secret_enc: Mapped[str | None] = mapped_column(Text)
    previous_webhook_secret_enc: Mapped[str | None] = mapped_column(Text)
    previous_webhook_secret_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class GitLabMergeRequest(IDMixin, TimestampMixin, Base):
    """The merge request that adds a generated `.gitlab-ci.yml` to a project, and what became of it."""

    __tablename__ = "gitlab_merge_requests"
    __table_args__ = (
        UniqueConstraint("repository_id", "iid", name="uq_gitlab_merge_requests_repository_id_iid"),
        CheckConstraint("state IN ('opened', 'closed', 'merged')", name="state"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    repository_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    pipeline_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("pipelines.id", ondelete="SET NULL"))
    iid: Mapped[int] = mapped_column(Integer, nullable=False)
    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    source_branch: Mapped[str] = mapped_column(String(255), nullable=False)
    head_sha: Mapped[str] = mapped_column(String(64), nullable=False)
    state: Mapped[str] = mapped_column(String(16), default="opened", server_default="opened", nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    merged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class GitLabWebhookDelivery(Base):
    """One received GitLab webhook delivery, so a retry is recognised and does nothing. `delivery_id` is the
    SHA-256 of the connection's id and the delivery's `Idempotency-Key` (else `X-Gitlab-Event-UUID`): the sender
    picks those ids, so they only count within one connection. Routing facts only, never the payload."""

    __tablename__ = "gitlab_webhook_deliveries"

    delivery_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    event: Mapped[str] = mapped_column(String(100), nullable=False)
    outcome: Mapped[str] = mapped_column(String(100), nullable=False)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)


class GitLabAccount(IDMixin, TimestampMixin, Base):
    """A user's GitLab identity ("Sign in with GitLab") and OAuth tokens. Isolated per user (RLS: only its own
    user sees the row). Tokens are AES-256-GCM encrypted, bound to this row and purpose
    (`aad("gitlab_accounts", id, "access_token" | "refresh_token")`)."""

    __tablename__ = "gitlab_accounts"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    gitlab_user_id: Mapped[int] = mapped_column(BigInteger, unique=True, nullable=False)
    username: Mapped[str] = mapped_column(String(255), nullable=False)
    access_token_enc: Mapped[str] = mapped_column(Text, nullable=False)
    refresh_token_enc: Mapped[str | None] = mapped_column(Text)
    access_token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
