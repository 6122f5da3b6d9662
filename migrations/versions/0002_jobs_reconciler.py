"""Job system: the narrow cross-tenant lookup the reconciler and the operators' DLQ command need.

The worker's reconciler must find every unfinished job, whatever its organization, to check it against Redis.
`app_jobs_in_states` returns only routing facts (id, organization, queue, state); the caller then reads and
changes each job in a session bound to that job's organization, so row-level security still applies to
every row it touches.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE OR REPLACE FUNCTION app_jobs_in_states(wanted text[], created_before timestamptz, max_rows integer)
        RETURNS TABLE (id uuid, organization_id uuid, queue text, state text)
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, public
        AS $$
            SELECT j.id, j.organization_id, j.queue::text, j.state::text
            FROM public.jobs AS j
            WHERE j.state = ANY (wanted) AND j.created_at < created_before
            ORDER BY j.created_at
            LIMIT greatest(0, least(max_rows, 10000))
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS app_jobs_in_states(text[], timestamptz, integer)")
