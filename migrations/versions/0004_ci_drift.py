"""CI drift findings: the repository's CI differs from the recommended pipeline after a push.

Revision ID: 0004_ci_drift
Revises: 0003_github
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from rls import enable_tenant_rls
from sqlalchemy.dialects import postgresql

revision: str = "0004_ci_drift"
down_revision: str | None = "0003_github"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ci_drift_findings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("repository_id", sa.Uuid(), nullable=False),
        sa.Column("pipeline_id", sa.Uuid(), nullable=True),
        sa.Column("commit_sha", sa.String(length=64), nullable=False),
        sa.Column("differences", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_ci_drift_findings_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_ci_drift_findings_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.id"],
            name=op.f("fk_ci_drift_findings_pipeline_id_pipelines"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ci_drift_findings")),
    )
    op.create_index(op.f("ix_ci_drift_findings_organization_id"), "ci_drift_findings", ["organization_id"])
    op.create_index(op.f("ix_ci_drift_findings_repository_id"), "ci_drift_findings", ["repository_id"])
    enable_tenant_rls("ci_drift_findings")


def downgrade() -> None:
    op.drop_table("ci_drift_findings")
