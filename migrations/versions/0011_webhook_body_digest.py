"""Webhook deliveries remember the SHA-256 of their signed body.

A captured delivery replayed under a new `X-GitHub-Delivery` id was processed again; the receiver now refuses
the same body within `AUTODEVOPS_GITHUB_WEBHOOK_REPLAY_WINDOW_S`, looked up by this digest.

Revision ID: 0011_webhook_body_digest
Revises: 0010_disabled_users_tokens
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_webhook_body_digest"
down_revision: str | None = "0010_disabled_users_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("github_webhook_deliveries", sa.Column("body_sha256", sa.String(length=64), nullable=True))
    op.create_index(
        "ix_github_webhook_deliveries_body_sha256_received_at",
        "github_webhook_deliveries",
        ["body_sha256", "received_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_github_webhook_deliveries_body_sha256_received_at", table_name="github_webhook_deliveries")
    op.drop_column("github_webhook_deliveries", "body_sha256")
