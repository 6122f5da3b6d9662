"""Organizations (the tenants) and their members."""

from __future__ import annotations

import uuid
from typing import Literal, get_args

from sqlalchemy import CheckConstraint, FetchedValue, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from autodevops.models.base import Base, CreatedAtMixin, IDMixin, TimestampMixin

Role = Literal["owner", "admin", "member"]
ROLES: tuple[str, ...] = get_args(Role)


class Organization(IDMixin, TimestampMixin, Base):
    """A tenant. Every tenant-owned row carries its `organization_id`."""

    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    # The plan's name in `AUTODEVOPS_PLANS`, NULL for the default plan. Written only by the owner role
    # (`autodevops orgs set-plan`), so the app's INSERT leaves it out (a server-side value, never fetched back:
    # a new organization is not visible to its own INSERT ... RETURNING); read it with `plans.plan_of`.
    plan: Mapped[str | None] = mapped_column(String(32), FetchedValue(), deferred=True, deferred_raiseload=True)

    __mapper_args__ = {"eager_defaults": False}  # noqa: RUF012 - SQLAlchemy's declarative mapper arguments


class OrganizationMember(IDMixin, CreatedAtMixin, Base):
    """A user's membership of an organization. Row-level security policies are defined over this table."""

    __tablename__ = "organization_members"
    __table_args__ = (
        UniqueConstraint("organization_id", "user_id", name="uq_organization_members_organization_id_user_id"),
        CheckConstraint("role IN ('owner', 'admin', 'member')", name="role"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
