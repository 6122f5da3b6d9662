"""Organization invitations: a member joins by accepting, never by being added.

Any owner or admin could add any existing user by email, without their consent, and "user not found" versus
201 told whether an address had an account. Now managers invite an email address (the answer is the same
whether it has an account) and the person with that address accepts, in the dashboard or by the invitation's
link.

* `organization_invitations` is a tenant table (`enable_tenant_rls`): the organization's members see its
  invitations. A second, read-only policy lets the invitee see those addressed to their own email
  (`app_current_user_email()`).
* `app_accept_invitation(id, token_hash)` (SECURITY DEFINER) is the only way in: it checks that the
  invitation is pending, unexpired and addressed to the current user's email, adds the membership with the
  invited role and marks the invitation accepted, in one statement. It returns the organization's id, or NULL.

Revision ID: 0012_organization_invitations
Revises: 0011_webhook_body_digest
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from rls import create_policy, enable_tenant_rls

revision: str = "0012_organization_invitations"
down_revision: str | None = "0011_webhook_body_digest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organization_invitations",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("organization_name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by_id", sa.Uuid(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by_id", sa.Uuid(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("role IN ('owner', 'admin', 'member')", name=op.f("ck_organization_invitations_role")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_organization_invitations_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["users.id"],
            name=op.f("fk_organization_invitations_invited_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["accepted_by_id"],
            ["users.id"],
            name=op.f("fk_organization_invitations_accepted_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organization_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_organization_invitations_token_hash")),
    )
    op.create_index(
        op.f("ix_organization_invitations_organization_id"), "organization_invitations", ["organization_id"]
    )
    op.create_index(op.f("ix_organization_invitations_email"), "organization_invitations", ["email"])
    op.execute(
        """
        CREATE OR REPLACE FUNCTION app_current_user_email() RETURNS text
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, public
        AS $$ SELECT lower(u.email) FROM public.users AS u WHERE u.id = public.app_current_user_id() $$
        """
    )
    enable_tenant_rls("organization_invitations")
    create_policy(
        "organization_invitations",
        "invitee_reads",
        using="email = (SELECT app_current_user_email())",
        with_check=None,
        command="SELECT",
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION app_accept_invitation(invitation_id uuid, presented_hash text) RETURNS uuid
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER
        SET search_path = pg_catalog, public
        AS $$
        DECLARE
            me uuid := public.app_current_user_id();
            invitation public.organization_invitations%ROWTYPE;
        BEGIN
            IF me IS NULL THEN
                RETURN NULL;
            END IF;
            SELECT * INTO invitation FROM public.organization_invitations AS i
            WHERE CASE WHEN presented_hash IS NOT NULL THEN i.token_hash = presented_hash ELSE i.id = invitation_id END
            FOR UPDATE;
            IF NOT FOUND
               OR invitation.accepted_at IS NOT NULL
               OR invitation.revoked_at IS NOT NULL
               OR invitation.expires_at <= now()
               OR invitation.email IS DISTINCT FROM public.app_current_user_email() THEN
                RETURN NULL;
            END IF;
            INSERT INTO public.organization_members (id, organization_id, user_id, role, created_at)
            VALUES (gen_random_uuid(), invitation.organization_id, me, invitation.role, now())
            ON CONFLICT (organization_id, user_id) DO NOTHING;
            UPDATE public.organization_invitations SET accepted_at = now(), accepted_by_id = me
            WHERE id = invitation.id;
            RETURN invitation.organization_id;
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS app_accept_invitation(uuid, text)")
    op.drop_table("organization_invitations")
    op.execute("DROP FUNCTION IF EXISTS app_current_user_email()")
