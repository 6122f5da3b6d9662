"""GitHub integration: accounts (encrypted tokens), session state, installations, repository links, pull
requests, webhook deliveries; and the narrow lookups that run before any tenant is known.

* `github_accounts` and `user_session_states` belong to one user (policy: `user_id = app_current_user_id()`).
* `github_installations`, `github_repository_links`, `github_pull_requests` are tenant tables.
* `github_webhook_deliveries` holds routing facts only (delivery id, event, outcome): not tenant data.
* Sign-in must find the user of a GitHub account, and a webhook must find which organizations a repository,
  installation or pull request belongs to, before any user or organization context exists. Each is a
  `SECURITY DEFINER` function returning ids only; the caller then works in a session bound to that user or
  organization, so row-level security still applies to every row it reads or writes.

Revision ID: 0003_github
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from rls import create_policy, enable_rls, enable_tenant_rls

revision: str = "0003_github"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "github_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("github_user_id", sa.BigInteger(), nullable=False),
        sa.Column("login", sa.String(length=100), nullable=False),
        sa.Column("access_token_enc", sa.Text(), nullable=False),
        sa.Column("refresh_token_enc", sa.Text(), nullable=True),
        sa.Column("access_token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refresh_token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_github_accounts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_github_accounts")),
        sa.UniqueConstraint("user_id", name=op.f("uq_github_accounts_user_id")),
        sa.UniqueConstraint("github_user_id", name=op.f("uq_github_accounts_github_user_id")),
    )
    op.create_table(
        "user_session_states",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("session_version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_session_states_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_session_states")),
    )
    op.create_table(
        "github_installations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("installation_id", sa.BigInteger(), nullable=False),
        sa.Column("account_login", sa.String(length=100), nullable=False),
        sa.Column("account_type", sa.String(length=32), nullable=False),
        sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_github_installations_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_github_installations")),
        sa.UniqueConstraint(
            "organization_id", "installation_id", name="uq_github_installations_organization_id_installation_id"
        ),
    )
    op.create_index(
        op.f("ix_github_installations_installation_id"), "github_installations", ["installation_id"], unique=False
    )
    op.create_table(
        "github_repository_links",
        sa.Column("repository_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("installation_id", sa.BigInteger(), nullable=False),
        sa.Column("github_repo_id", sa.BigInteger(), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_github_repository_links_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_github_repository_links_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("repository_id", name=op.f("pk_github_repository_links")),
    )
    for column in ("organization_id", "github_repo_id", "full_name"):
        op.create_index(op.f(f"ix_github_repository_links_{column}"), "github_repository_links", [column], unique=False)
    op.create_table(
        "github_pull_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("repository_id", sa.Uuid(), nullable=False),
        sa.Column("pipeline_id", sa.Uuid(), nullable=True),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("head_branch", sa.String(length=255), nullable=False),
        sa.Column("head_sha", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.CheckConstraint("state IN ('open', 'closed', 'merged')", name=op.f("ck_github_pull_requests_state")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_github_pull_requests_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_github_pull_requests_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.id"],
            name=op.f("fk_github_pull_requests_pipeline_id_pipelines"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_github_pull_requests")),
        sa.UniqueConstraint("repository_id", "number", name="uq_github_pull_requests_repository_id_number"),
    )
    op.create_index(
        op.f("ix_github_pull_requests_organization_id"), "github_pull_requests", ["organization_id"], unique=False
    )
    op.create_table(
        "github_webhook_deliveries",
        sa.Column("delivery_id", sa.String(length=100), nullable=False),
        sa.Column("event", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=True),
        sa.Column("outcome", sa.String(length=100), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_github_webhook_deliveries")),
    )

    own = "user_id = app_current_user_id()"
    for table in ("github_accounts", "user_session_states"):
        enable_rls(table)
        create_policy(table, "owner_only", using=own, with_check=own)
    for table in ("github_installations", "github_repository_links", "github_pull_requests"):
        enable_tenant_rls(table)

    op.execute(
        """
        CREATE OR REPLACE FUNCTION app_find_user_by_github_id(gh_user_id bigint) RETURNS uuid
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, public
        AS $$ SELECT a.user_id FROM public.github_accounts AS a WHERE a.github_user_id = gh_user_id $$
        """
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION app_github_repository_targets(gh_repo_id bigint)
        RETURNS TABLE (organization_id uuid, repository_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, public
        AS $$
            SELECT l.organization_id, l.repository_id FROM public.github_repository_links AS l
            WHERE l.github_repo_id = gh_repo_id
        $$
        """
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION app_github_installation_organizations(gh_installation_id bigint)
        RETURNS TABLE (organization_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, public
        AS $$
            SELECT DISTINCT i.organization_id FROM public.github_installations AS i
            WHERE i.installation_id = gh_installation_id
        $$
        """
    )


def downgrade() -> None:
    for signature in (
        "app_github_installation_organizations(bigint)",
        "app_github_repository_targets(bigint)",
        "app_find_user_by_github_id(bigint)",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    for table in (
        "github_webhook_deliveries",
        "github_pull_requests",
        "github_repository_links",
        "github_installations",
        "user_session_states",
        "github_accounts",
    ):
        op.drop_table(table)
