"""Enterprise single sign-on: an organization's OpenID Connect provider, and the identities it vouched for."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from autodevops.models.base import Base, CreatedAtMixin, IDMixin, TimestampMixin


class SSOConnection(IDMixin, TimestampMixin, Base):
    """One organization's OpenID Connect provider (at most one per organization).

    `client_secret_enc` is AES-256-GCM encrypted (`autodevops.crypto`), bound to this row's id. `enforced`
    makes the organization reachable only from sessions that came through this provider (and, when
    `allow_personal_tokens`, from its members' personal API tokens); `app_organization_ids()` applies it.
    """

    __tablename__ = "sso_connections"
    __table_args__ = (CheckConstraint("default_role IN ('admin', 'member')", name="default_role"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    # The name people type on the sign-in page ("acme"); unique across the installation.
    slug: Mapped[str] = mapped_column(String(63), unique=True, nullable=False)
    issuer: Mapped[str] = mapped_column(String(2048), nullable=False)
    client_id: Mapped[str] = mapped_column(String(255), nullable=False)
    client_secret_enc: Mapped[str] = mapped_column(Text, nullable=False)
    allowed_domains: Mapped[list[str]] = mapped_column(ARRAY(String(253)), nullable=False)
    jit_provisioning: Mapped[bool] = mapped_column(Boolean, nullable=False)
    default_role: Mapped[str] = mapped_column(String(16), nullable=False)
    enforced: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)
    allow_personal_tokens: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)


class SSOIdentity(IDMixin, CreatedAtMixin, Base):
    """A provider's subject (`iss`, `sub`) linked to a platform user, within one organization.

    The link, not the email address, is what signs a person in again: an email claim alone never takes
    over an existing account. `created_user` says this identity's first sign-in created the user.
    """

    __tablename__ = "sso_identities"
    __table_args__ = (
        UniqueConstraint("organization_id", "issuer", "subject", name="uq_sso_identities_organization_id_issuer"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(2048), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    email: Mapped[str] = mapped_column(String(320), nullable=False)
    created_user: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
