"""Sign in with GitLab: a user's linked GitLab account and its encrypted OAuth tokens.

* `gitlab_accounts` is isolated per user, like `github_accounts` (policy `owner_only`).
* Sign-in must find the user of a GitLab account before any user context exists:
  `app_find_user_by_gitlab_id(bigint)` (SECURITY DEFINER) returns that user's id only; the caller then works
  in a session bound to that user.

Revision ID: 0016_gitlab_sign_in
Revises: 0015_gitlab
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from rls import create_policy, enable_rls

revision: str = "0016_gitlab_sign_in"
down_revision: str | None = "0015_gitlab"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gitlab_accounts",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("gitlab_user_id", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("access_token_enc", sa.Text(), nullable=False),
        sa.Column("refresh_token_enc", sa.Text(), nullable=True),
        sa.Column("access_token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_gitlab_accounts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gitlab_accounts")),
        sa.UniqueConstraint("user_id", name=op.f("uq_gitlab_accounts_user_id")),
        sa.UniqueConstraint("gitlab_user_id", name=op.f("uq_gitlab_accounts_gitlab_user_id")),
    )
    own = "user_id = app_current_user_id()"
    enable_rls("gitlab_accounts")
    create_policy("gitlab_accounts", "owner_only", using=own, with_check=own)
    op.execute(
        """
        CREATE OR REPLACE FUNCTION app_find_user_by_gitlab_id(gl_user_id bigint) RETURNS uuid
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, public
        AS $$ SELECT a.user_id FROM public.gitlab_accounts AS a WHERE a.gitlab_user_id = gl_user_id $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS app_find_user_by_gitlab_id(bigint)")
    op.drop_table("gitlab_accounts")
