"""Enterprise single sign-on: per-organization OpenID Connect connections, linked identities, enforcement.

`app_organization_ids()` now also reads how the transaction's user authenticated
(`app.sso_organization_id`: the organization whose provider the browser session came through;
`app.via_token`: a personal API token). A membership of an organization that requires single sign-on counts
only for a session from that organization's provider, or for a personal token when the owner allows them.
Every row-level security policy goes through that function, so every data path follows the rule.

Revision ID: 0009_single_sign_on
Revises: 0008_cached_membership_plan
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from rls import enable_tenant_rls
from sqlalchemy.dialects import postgresql

revision: str = "0009_single_sign_on"
down_revision: str | None = "0008_cached_membership_plan"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FUNCTIONS = (
    "app_sso_locked_organizations()",
    "app_sso_sign_in_candidates(text, text)",
    "app_find_user_id_by_email(text)",
    "app_current_via_token()",
    "app_current_sso_organization_id()",
)


def upgrade() -> None:
    op.create_table(
        "sso_connections",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("issuer", sa.String(length=2048), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("client_secret_enc", sa.Text(), nullable=False),
        sa.Column("allowed_domains", postgresql.ARRAY(sa.String(length=253)), nullable=False),
        sa.Column("jit_provisioning", sa.Boolean(), nullable=False),
        sa.Column("default_role", sa.String(length=16), nullable=False),
        sa.Column("enforced", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("allow_personal_tokens", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("default_role IN ('admin', 'member')", name=op.f("ck_sso_connections_default_role")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_sso_connections_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_connections")),
        sa.UniqueConstraint("organization_id", name=op.f("uq_sso_connections_organization_id")),
        sa.UniqueConstraint("slug", name=op.f("uq_sso_connections_slug")),
    )
    op.create_table(
        "sso_identities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("issuer", sa.String(length=2048), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("created_user", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_sso_identities_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sso_identities_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_identities")),
        sa.UniqueConstraint(
            "organization_id", "issuer", "subject", name="uq_sso_identities_organization_id_issuer"
        ),
    )
    op.create_index(op.f("ix_sso_identities_user_id"), "sso_identities", ["user_id"], unique=False)
    for table in ("sso_connections", "sso_identities"):
        enable_tenant_rls(table)

    # How the transaction's user authenticated; set right after BEGIN by `autodevops.db`, like app.user_id.
    op.execute(
        """
        CREATE OR REPLACE FUNCTION app_current_sso_organization_id() RETURNS uuid
        LANGUAGE sql STABLE PARALLEL SAFE
        AS $$ SELECT nullif(current_setting('app.sso_organization_id', true), '')::uuid $$
        """
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION app_current_via_token() RETURNS boolean
        LANGUAGE sql STABLE PARALLEL SAFE
        AS $$ SELECT coalesce(current_setting('app.via_token', true), '') = 'true' $$
        """
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION app_organization_ids() RETURNS uuid[]
        LANGUAGE plpgsql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, public
        AS $$
        DECLARE
            organization uuid := public.app_current_organization_id();
            sso_organization uuid := public.app_current_sso_organization_id();
            via_token boolean := public.app_current_via_token();
            ids uuid[];
        BEGIN
            SELECT coalesce(array_agg(m.organization_id), '{}'::uuid[]) INTO ids
            FROM public.organization_members AS m
            LEFT JOIN public.sso_connections AS c ON c.organization_id = m.organization_id AND c.enforced
            WHERE m.user_id = public.app_current_user_id()
              AND (c.organization_id IS NULL
                   OR c.organization_id = sso_organization
                   OR (via_token AND c.allow_personal_tokens));
            IF organization IS NOT NULL AND NOT organization = ANY (ids) THEN
                ids := ids || organization;
            END IF;
            RETURN ids;
        END
        $$
        """
    )
    # A personal API token marks its transaction as such, so an organization's token rule applies to it.
    op.execute(
        """
        CREATE OR REPLACE FUNCTION app_authenticate_token(token_prefix text, presented_hash text)
        RETURNS SETOF users
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER
        SET search_path = pg_catalog, public
        AS $$
        DECLARE
            token public.api_tokens%ROWTYPE;
        BEGIN
            SELECT * INTO token FROM public.api_tokens AS t WHERE t.prefix = token_prefix;
            IF NOT FOUND
               OR token.token_hash <> presented_hash
               OR token.revoked_at IS NOT NULL
               OR (token.expires_at IS NOT NULL AND token.expires_at <= now()) THEN
                RETURN;
            END IF;
            IF token.last_used_at IS NULL OR token.last_used_at < now() - interval '1 minute' THEN
                UPDATE public.api_tokens SET last_used_at = now() WHERE id = token.id;
            END IF;
            PERFORM set_config('app.user_id', token.user_id::text, true);
            PERFORM set_config('app.organization_id', '', true);
            PERFORM set_config('app.sso_organization_id', '', true);
            PERFORM set_config('app.via_token', 'true', true);
            RETURN QUERY SELECT * FROM public.users AS u WHERE u.id = token.user_id;
        END
        $$
        """
    )
    # The organizations the current user is a member of but cannot reach with how they signed in: what the
    # service names when it answers "sign in with single sign-on" instead of "not found".
    op.execute(
        """
        CREATE OR REPLACE FUNCTION app_sso_locked_organizations()
        RETURNS TABLE (organization_id uuid, name text, slug text)
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, public
        AS $$
            SELECT o.id, o.name::text, c.slug::text
            FROM public.organization_members AS m
            JOIN public.sso_connections AS c ON c.organization_id = m.organization_id AND c.enforced
            JOIN public.organizations AS o ON o.id = m.organization_id
            WHERE m.user_id = public.app_current_user_id()
              AND NOT m.organization_id = ANY (public.app_organization_ids())
            ORDER BY o.name, o.id
        $$
        """
    )
    # Sign-in starts before anyone is known: the connections a slug or an email domain names.
    op.execute(
        """
        CREATE OR REPLACE FUNCTION app_sso_sign_in_candidates(wanted_slug text, email_domain text)
        RETURNS TABLE (organization_id uuid, slug text)
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, public
        AS $$
            SELECT c.organization_id, c.slug::text FROM public.sso_connections AS c
            WHERE c.slug = wanted_slug OR email_domain = ANY (c.allowed_domains)
            ORDER BY c.slug
            LIMIT 20
        $$
        """
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION app_find_user_id_by_email(wanted_email text) RETURNS uuid
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, public
        AS $$ SELECT u.id FROM public.users AS u WHERE u.email = wanted_email $$
        """
    )


def downgrade() -> None:
    for signature in _FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.drop_index(op.f("ix_sso_identities_user_id"), table_name="sso_identities")
    op.drop_table("sso_identities")
    op.drop_table("sso_connections")
    # The previous membership function and token authentication (0008 and 0005).
    op.execute(
        """
        CREATE OR REPLACE FUNCTION app_organization_ids() RETURNS uuid[]
        LANGUAGE plpgsql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, public
        AS $$
        DECLARE
            organization uuid := public.app_current_organization_id();
            ids uuid[];
        BEGIN
            SELECT coalesce(array_agg(m.organization_id), '{}'::uuid[]) INTO ids
            FROM public.organization_members AS m
            WHERE m.user_id = public.app_current_user_id();
            IF organization IS NOT NULL AND NOT organization = ANY (ids) THEN
                ids := ids || organization;
            END IF;
            RETURN ids;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION app_authenticate_token(token_prefix text, presented_hash text)
        RETURNS SETOF users
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER
        SET search_path = pg_catalog, public
        AS $$
        DECLARE
            token public.api_tokens%ROWTYPE;
        BEGIN
            SELECT * INTO token FROM public.api_tokens AS t WHERE t.prefix = token_prefix;
            IF NOT FOUND
               OR token.token_hash <> presented_hash
               OR token.revoked_at IS NOT NULL
               OR (token.expires_at IS NOT NULL AND token.expires_at <= now()) THEN
                RETURN;
            END IF;
            IF token.last_used_at IS NULL OR token.last_used_at < now() - interval '1 minute' THEN
                UPDATE public.api_tokens SET last_used_at = now() WHERE id = token.id;
            END IF;
            PERFORM set_config('app.user_id', token.user_id::text, true);
            PERFORM set_config('app.organization_id', '', true);
            RETURN QUERY SELECT * FROM public.users AS u WHERE u.id = token.user_id;
        END
        $$
        """
    )
