"""AI layer: the review of each analysis (and its cost), and each organization's daily AI usage.

Revision ID: 0006_ai_reviews
Revises: 0005_token_authentication
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from rls import enable_tenant_rls
from sqlalchemy.dialects import postgresql

revision: str = "0006_ai_reviews"
down_revision: str | None = "0005_token_authentication"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _jsonb(name: str) -> sa.Column[object]:
    return sa.Column(name, postgresql.JSONB(astext_type=sa.Text()), nullable=False)


def upgrade() -> None:
    op.create_table(
        "ai_reviews",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("analysis_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("entry", sa.String(length=200), nullable=True),
        sa.Column("cached", sa.Boolean(), nullable=False),
        sa.Column("prompt_version", sa.String(length=32), nullable=False),
        sa.Column("digest_sha256", sa.String(length=64), nullable=True),
        sa.Column("digest_tokens", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        _jsonb("risks"),
        _jsonb("recommendations"),
        _jsonb("accepted"),
        _jsonb("rejected"),
        _jsonb("calls"),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Numeric(12, 6), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('applied', 'rules_only')", name=op.f("ck_ai_reviews_status")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_ai_reviews_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["analysis_id"], ["analyses.id"], name=op.f("fk_ai_reviews_analysis_id_analyses"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_reviews")),
        sa.UniqueConstraint("analysis_id", name=op.f("uq_ai_reviews_analysis_id")),
    )
    op.create_index(op.f("ix_ai_reviews_organization_id"), "ai_reviews", ["organization_id"])
    enable_tenant_rls("ai_reviews")

    op.create_table(
        "ai_usage_daily",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reviews", sa.Integer(), nullable=False),
        sa.Column("cache_hits", sa.Integer(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Numeric(14, 6), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_ai_usage_daily_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organization_id", "day", name=op.f("pk_ai_usage_daily")),
    )
    enable_tenant_rls("ai_usage_daily")


def downgrade() -> None:
    op.drop_table("ai_usage_daily")
    op.drop_table("ai_reviews")
