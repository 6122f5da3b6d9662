"""GitLab as a host: connected projects, merge requests, webhook deliveries.

* `repositories.source` may be `gitlab`.
* `gitlab_connections` (one per GitLab repository: project id and path, the encrypted access token, the
  project hook and its encrypted secrets) and `gitlab_merge_requests` are tenant tables (`enable_tenant_rls`).
* `gitlab_webhook_deliveries` holds routing facts only (delivery id, event, outcome): not tenant data.
* A webhook arrives before any organization context exists, addressed to one connection
  (`/api/v1/gitlab/webhooks/{repository_id}`): `app_gitlab_connection_organization(repository_id)` (SECURITY
  DEFINER) returns that connection's organization id only; the receiver then reads the connection, and checks
  its secret, in a session bound to that organization, so row-level security applies to every row it touches.

Revision ID: 0015_gitlab
Revises: 0014_job_idempotency_keys
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from rls import enable_tenant_rls

revision: str = "0015_gitlab"
down_revision: str | None = "0014_job_idempotency_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    ]


def upgrade() -> None:
    op.drop_constraint(op.f("ck_repositories_source"), "repositories", type_="check")
    op.create_check_constraint(op.f("ck_repositories_source"), "repositories", "source IN ('github', 'gitlab', 'git')")

    op.create_table(
        "gitlab_connections",
        sa.Column("repository_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("instance_url", sa.String(length=2048), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("full_path", sa.String(length=500), nullable=False),
        sa.Column("token_enc", sa.Text(), nullable=False),
        sa.Column("webhook_id", sa.BigInteger(), nullable=True),
        sa.Column("webhook_secret_enc", sa.Text(), nullable=True),
        sa.Column("previous_webhook_secret_enc", sa.Text(), nullable=True),
        sa.Column("previous_webhook_secret_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_gitlab_connections_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_gitlab_connections_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_gitlab_connections_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("repository_id", name=op.f("pk_gitlab_connections")),
    )
    op.create_index(op.f("ix_gitlab_connections_organization_id"), "gitlab_connections", ["organization_id"])
    op.create_index(op.f("ix_gitlab_connections_project_id"), "gitlab_connections", ["project_id"])

    op.create_table(
        "gitlab_merge_requests",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("repository_id", sa.Uuid(), nullable=False),
        sa.Column("pipeline_id", sa.Uuid(), nullable=True),
        sa.Column("iid", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("source_branch", sa.String(length=255), nullable=False),
        sa.Column("head_sha", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), server_default="opened", nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("state IN ('opened', 'closed', 'merged')", name=op.f("ck_gitlab_merge_requests_state")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_gitlab_merge_requests_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_gitlab_merge_requests_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.id"],
            name=op.f("fk_gitlab_merge_requests_pipeline_id_pipelines"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gitlab_merge_requests")),
        sa.UniqueConstraint("repository_id", "iid", name="uq_gitlab_merge_requests_repository_id_iid"),
    )
    op.create_index(op.f("ix_gitlab_merge_requests_organization_id"), "gitlab_merge_requests", ["organization_id"])

    op.create_table(
        "gitlab_webhook_deliveries",
        sa.Column("delivery_id", sa.String(length=100), nullable=False),
        sa.Column("event", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=100), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_gitlab_webhook_deliveries")),
    )
    op.create_index(op.f("ix_gitlab_webhook_deliveries_received_at"), "gitlab_webhook_deliveries", ["received_at"])

    for table in ("gitlab_connections", "gitlab_merge_requests"):
        enable_tenant_rls(table)
    op.execute(
        """
        CREATE OR REPLACE FUNCTION app_gitlab_connection_organization(connection uuid) RETURNS uuid
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, public
        AS $$ SELECT c.organization_id FROM public.gitlab_connections AS c WHERE c.repository_id = connection $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS app_gitlab_connection_organization(uuid)")
    for table in ("gitlab_webhook_deliveries", "gitlab_merge_requests", "gitlab_connections"):
        op.drop_table(table)
    op.execute("DELETE FROM repositories WHERE source = 'gitlab'")
    op.drop_constraint(op.f("ck_repositories_source"), "repositories", type_="check")
    op.create_check_constraint(op.f("ck_repositories_source"), "repositories", "source IN ('github', 'git')")
