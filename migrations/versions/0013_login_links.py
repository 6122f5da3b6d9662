"""Sign-in links: a one-time, short-lived URL that signs a user into the dashboard without GitHub or SSO.

`autodevops users login-link EMAIL` creates one (the self-hosted bootstrap path: a user made with
`autodevops users create` has no other way into a browser).

* `login_links` belongs to one user (policy: `user_id = app_current_user_id()`, like `api_tokens`); only the
  SHA-256 of the link's secret is stored.
* `app_consume_login_link(hash)` (SECURITY DEFINER: nobody is signed in when a link is opened) is the only way
  to use one: it takes the row FOR UPDATE, refuses it when unknown, used, expired or its user disabled, marks
  it used and sets the transaction's tenant context to its user, in one statement. It returns the `users`
  row, or nothing.
* `app_sso_configured()` tells the signed-out sign-in page whether any organization has single sign-on, so
  the page offers only the methods that work.

Revision ID: 0013_login_links
Revises: 0012_organization_invitations
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from rls import create_policy, enable_rls

revision: str = "0013_login_links"
down_revision: str | None = "0012_organization_invitations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_login_links_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_links_token_hash")),
    )
    op.create_index(op.f("ix_login_links_user_id"), "login_links", ["user_id"])
    own = "user_id = app_current_user_id()"
    enable_rls("login_links")
    create_policy("login_links", "owner_only", using=own, with_check=own)
    op.execute(
        """
        CREATE OR REPLACE FUNCTION app_consume_login_link(presented_hash text)
        RETURNS SETOF users
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER
        SET search_path = pg_catalog, public
        AS $$
        DECLARE
            link public.login_links%ROWTYPE;
        BEGIN
            SELECT * INTO link FROM public.login_links AS l WHERE l.token_hash = presented_hash FOR UPDATE;
            IF NOT FOUND
               OR link.used_at IS NOT NULL
               OR link.expires_at <= now()
               OR EXISTS (
                   SELECT 1 FROM public.user_session_states AS s
                   WHERE s.user_id = link.user_id AND s.disabled_at IS NOT NULL
               ) THEN
                RETURN;
            END IF;
            UPDATE public.login_links SET used_at = now() WHERE id = link.id;
            PERFORM set_config('app.user_id', link.user_id::text, true);
            PERFORM set_config('app.organization_id', '', true);
            PERFORM set_config('app.sso_organization_id', '', true);
            PERFORM set_config('app.via_token', '', true);
            RETURN QUERY SELECT * FROM public.users AS u WHERE u.id = link.user_id;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION app_sso_configured() RETURNS boolean
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, public
        AS $$ SELECT EXISTS (SELECT 1 FROM public.sso_connections) $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS app_sso_configured()")
    op.execute("DROP FUNCTION IF EXISTS app_consume_login_link(text)")
    op.drop_table("login_links")
