"""Invitations to join an organization, accepted by the person invited."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from autodevops.models.base import Base, CreatedAtMixin, IDMixin


class OrganizationInvitation(IDMixin, CreatedAtMixin, Base):
    """An invitation of an email address into an organization with a role, pending until the person with that
    address accepts it (in the dashboard, or by its link), it expires, or a manager revokes it.

    Only the SHA-256 of the link's token is stored. The organization's members see its invitations; the
    invitee sees those addressed to their email. Accepting goes through `app_accept_invitation` (the invitee
    is not a member yet, so they could not add their own membership otherwise).
    """

    __tablename__ = "organization_invitations"
    __table_args__ = (CheckConstraint("role IN ('owner', 'admin', 'member')", name="role"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    # Shown to the invitee, who cannot read the organization itself before accepting.
    organization_name: Mapped[str] = mapped_column(String(100), nullable=False)
    email: Mapped[str] = mapped_column(String(320), nullable=False, index=True)  # normalized (lower case)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    invited_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
