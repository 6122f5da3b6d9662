"""Plans and fair queues: `organizations.plan` and `jobs.priority`.

* `organizations.plan` names the organization's plan in `AUTODEVOPS_PLANS` (NULL: the default plan). Only the
  owner role writes it (`autodevops orgs set-plan`): `autodevops migrate` grants the app role no privilege on
  the column, so no organization can change its own plan.
* `jobs.priority` is the queue priority the job was given (see docs/jobs.md): the reconciler gives it again
  when it re-enqueues a job Redis lost. The partial index serves the one query that computes it: the highest
  priority among an organization's pending jobs in a queue.

Revision ID: 0018_plans_and_fair_queues
Revises: 0017_database_privileges
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_plans_and_fair_queues"
down_revision: str | None = "0017_database_privileges"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("organizations", sa.Column("plan", sa.String(length=32), nullable=True))
    op.add_column("jobs", sa.Column("priority", sa.Integer(), nullable=True))
    op.create_index(
        "ix_jobs_pending_priority",
        "jobs",
        ["organization_id", "queue", "priority"],
        postgresql_where=sa.text("state = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_jobs_pending_priority", table_name="jobs")
    op.drop_column("jobs", "priority")
    op.drop_column("organizations", "plan")
