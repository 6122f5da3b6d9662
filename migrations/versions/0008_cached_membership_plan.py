"""`app_organization_ids()` in PL/pgSQL, so PostgreSQL keeps its query plan for the session.

Every row-level security policy calls it once per statement and per tenant table the statement reads. As a
SQL-language function that cannot be inlined (it is `SECURITY DEFINER` with its own `search_path`), it was
parsed and planned again on every call; PL/pgSQL caches the plan of its query per connection. Same result:
the user's memberships plus the background organization, without duplicates, empty with no context.

Revision ID: 0008_cached_membership_plan
Revises: 0007_repository_metadata
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op
from rls import create_rls_functions

revision: str = "0008_cached_membership_plan"
down_revision: str | None = "0007_repository_metadata"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
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


def downgrade() -> None:
    create_rls_functions()  # the SQL-language version
