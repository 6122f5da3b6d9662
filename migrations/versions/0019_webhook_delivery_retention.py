"""GitHub webhook deliveries are indexed by when they arrived, so pruning the old ones does not scan the table.

`autodevops webhooks prune` and the worker delete deliveries older than `AUTODEVOPS_WEBHOOK_DELIVERY_RETENTION_DAYS`
(GitLab's table has had this index since 0015).

Revision ID: 0019_webhook_delivery_retention
Revises: 0018_plans_and_fair_queues
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0019_webhook_delivery_retention"
down_revision: str | None = "0018_plans_and_fair_queues"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_github_webhook_deliveries_received_at"), "github_webhook_deliveries", ["received_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_github_webhook_deliveries_received_at"), table_name="github_webhook_deliveries")
