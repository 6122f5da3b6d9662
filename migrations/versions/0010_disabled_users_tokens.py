"""A disabled user's personal API tokens stop working: `app_authenticate_token` refuses them.

Disabling a user (`autodevops sessions disable`) revoked their browser sessions only; their bearer tokens
kept working and could mint new ones. The service now revokes every token of the user when disabling, and
the token lookup refuses any token of a disabled user, so no token created in between slips through.

Revision ID: 0010_disabled_users_tokens
Revises: 0009_single_sign_on
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010_disabled_users_tokens"
down_revision: str | None = "0009_single_sign_on"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FUNCTION = """
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
       OR (token.expires_at IS NOT NULL AND token.expires_at <= now())
       {disabled} THEN
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
_DISABLED = """OR EXISTS (
           SELECT 1 FROM public.user_session_states AS s
           WHERE s.user_id = token.user_id AND s.disabled_at IS NOT NULL
       )"""


def upgrade() -> None:
    op.execute(_FUNCTION.replace("{disabled}", _DISABLED))


def downgrade() -> None:
    op.execute(_FUNCTION.replace("{disabled}", ""))
