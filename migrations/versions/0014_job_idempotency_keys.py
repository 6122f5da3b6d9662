"""Idempotency keys on jobs: a client that retries a job-creating POST with the same `Idempotency-Key` gets
the job its first request created, instead of a second job.

`jobs.idempotency_key` is unique per organization (only where set). The table's row-level security policy
already covers the new column.

Revision ID: 0014_job_idempotency_keys
Revises: 0013_login_links
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_job_idempotency_keys"
down_revision: str | None = "0013_login_links"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("idempotency_key", sa.String(length=255), nullable=True))
    op.create_index(
        "uq_jobs_organization_id_idempotency_key",
        "jobs",
        ["organization_id", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_jobs_organization_id_idempotency_key", table_name="jobs")
    op.drop_column("jobs", "idempotency_key")
