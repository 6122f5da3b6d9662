"""Repository metadata refreshed by `repository.sync`: visibility, the default branch's latest commit, when.

Revision ID: 0007_repository_metadata
Revises: 0006_ai_reviews
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_repository_metadata"
down_revision: str | None = "0006_ai_reviews"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("repositories", sa.Column("visibility", sa.Text(), nullable=True))
    op.add_column("repositories", sa.Column("latest_commit_sha", sa.Text(), nullable=True))
    op.add_column("repositories", sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint(
        op.f("ck_repositories_visibility"), "repositories", "visibility IN ('public', 'private', 'internal')"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_repositories_visibility"), "repositories", type_="check")
    op.drop_column("repositories", "synced_at")
    op.drop_column("repositories", "latest_commit_sha")
    op.drop_column("repositories", "visibility")
