"""Users (global identities) and their personal API tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column

from autodevops.models.base import Base, CreatedAtMixin, IDMixin, TimestampMixin


class User(IDMixin, TimestampMixin, Base):
    """A person. Not tenant-scoped: one user belongs to many organizations through memberships."""

    __tablename__ = "users"

    # Stored lower-cased (see `auth.service.normalize_email`), so a plain unique index is case-insensitive.
    email: Mapped[str] = mapped_column(String(320), unique=True, nullable=False)
    name: Mapped[str | None] = mapped_column(String(200))
    # Written only by the owner role (`autodevops users create --admin`): the app role has no privilege on this
    # column, so the ORM must leave it out of its INSERT (no Python default) and reads the server's default back.
    is_admin: Mapped[bool] = mapped_column(Boolean, server_default=false(), nullable=False)


class APIToken(IDMixin, CreatedAtMixin, Base):
    """A personal API token. Only a SHA-256 hash of the secret is stored; `prefix` finds the row."""

    __tablename__ = "api_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    prefix: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginLink(IDMixin, CreatedAtMixin, Base):
    """A one-time sign-in link (`autodevops users login-link`). Only a SHA-256 hash of its secret is stored;
    `app_consume_login_link` is the only way to use it (once, before `expires_at`, for an enabled user)."""

    __tablename__ = "login_links"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
