"""Bearer authentication in one round trip: `app_authenticate_token(prefix, hash)`.

Replaces four statements per authenticated request (find the token, set the tenant context, load the user,
touch `last_used_at`) with one `SECURITY DEFINER` call, and keeps `last_used_at` to the minute so concurrent
requests of one token do not queue on its row lock.

Revision ID: 0005_token_authentication
Revises: 0004_ci_drift
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op
from rls import create_rls_functions

revision: str = "0005_token_authentication"
down_revision: str | None = "0004_ci_drift"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The caller hashes the presented token; only a live token with that exact hash yields its user. The
    # tenant context is set inside, transaction-local, exactly as `autodevops.db.bind_tenant` would.
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

    # Superseded: the token lookup it offered now happens inside app_authenticate_token.
    op.execute("DROP FUNCTION IF EXISTS app_find_api_token(text)")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS app_authenticate_token(text, text)")
    create_rls_functions()  # brings back app_find_api_token
