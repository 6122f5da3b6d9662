"""Row-level security for migrations: the one place that turns tenant isolation on for a table.

Every tenant table gets `ENABLE` + `FORCE ROW LEVEL SECURITY` and a policy whose USING and WITH CHECK both
require the row's organization to be one the current context may see. In a migration that adds a table::

    from rls import enable_tenant_rls

    def upgrade() -> None:
        op.create_table("widgets", ..., sa.Column("organization_id", ..., nullable=False))
        enable_tenant_rls("widgets")

    def downgrade() -> None:
        op.drop_table("widgets")  # dropping the table drops its policies

Then run `autodevops migrate`: it also grants the app role SELECT/INSERT/UPDATE/DELETE on the new table.
`tests/platform/test_rls_catalog.py` fails for any table with an `organization_id` column that misses this.

How the policies decide (functions created by `create_rls_functions()` in the first migration):

* `app_current_user_id()` / `app_current_organization_id()` read the transaction-local settings
  `app.user_id` / `app.organization_id` that `autodevops.db` sets right after BEGIN (NULL when unset).
* `app_organization_ids()` is the array of organizations the context may see: the user's memberships plus the
  background organization. It is `SECURITY DEFINER` (runs as the owner role, which bypasses RLS) so a policy
  on `organization_members` can read memberships without recursing into itself. Policies call it as
  `(SELECT app_organization_ids())::uuid[]`, a scalar sub-select that PostgreSQL evaluates once per
  statement (an InitPlan), not once per row. Migration 0008 rewrites it in PL/pgSQL, which keeps its query
  plan per connection (a SQL-language function that cannot be inlined is planned again on every call).

The owner role that runs migrations must be a superuser or have BYPASSRLS (`autodevops migrate` checks it):
the definer functions rely on it.

Who may call which function (migration 0017). No function of the schema is executable by PUBLIC (revoked,
and by default for functions the owner creates later). `autodevops migrate` grants EXECUTE by name:

* the **app role** (API, workers' jobs, CLI) gets `autodevops.migrate.APP_FUNCTIONS`: the context functions
  the policies call, and the narrow definer lookups the request flows need before a tenant context exists
  (token authentication, sign-in by GitHub id or email, single sign-on candidates, invitations).
* the **maintenance role** (`AUTODEVOPS_DATABASE_MAINTENANCE_URL`: the worker's reconciler and `autodevops
  dlq`) gets only `MAINTENANCE_FUNCTIONS`, the lookups that cross tenants (`app_jobs_in_states()`), and no
  table at all: it finds ids, then the app role reads and changes each row bound to its organization.

Why a role and not a setting: anything a request connection can run, SQL injection in a request can run too,
and any role can `set_config` a custom setting, so a function that checks a GUC would guard nothing. A
separate login role with its own password, given to the worker only, is a boundary PostgreSQL enforces: the
API's credentials cannot list every organization's jobs. A new function must be added to one of the two lists
(`tests/platform/test_database_privileges.py` fails otherwise).

`users` (migration 0017) is isolated too: a user sees their own row and those of the members of the
organizations the context may see, and inserts, changes or deletes only their own. The app role has no
privilege on `users.is_admin` (column grants in `autodevops migrate`): only the owner role sets it.
"""

from __future__ import annotations

from alembic import op

TENANT_POLICY = "tenant_isolation"


def member_of(column: str = "organization_id") -> str:
    """SQL predicate: the row's organization is visible to the current context."""
    return f"{column} = ANY ((SELECT app_organization_ids())::uuid[])"


def enable_rls(table: str) -> None:
    """ENABLE and FORCE row-level security (FORCE: the owner role is not exempt either)."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def create_policy(table: str, name: str, *, using: str | None, with_check: str | None, command: str = "ALL") -> None:
    """A permissive policy. Several permissive policies on one table are OR-ed together."""
    sql = f"CREATE POLICY {name} ON {table} AS PERMISSIVE FOR {command}"
    if using is not None:
        sql += f" USING ({using})"
    if with_check is not None:
        sql += f" WITH CHECK ({with_check})"
    op.execute(sql)


def enable_tenant_rls(table: str, column: str = "organization_id") -> None:
    """Isolate `table` by `column`: rows are read, written and created only inside a visible organization."""
    enable_rls(table)
    create_policy(table, TENANT_POLICY, using=member_of(column), with_check=member_of(column))


def disable_tenant_rls(table: str) -> None:
    """Undo `enable_tenant_rls` (for a downgrade that keeps the table)."""
    op.execute(f"DROP POLICY IF EXISTS {TENANT_POLICY} ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def revoke_functions_from_public() -> None:
    """No function of the schema is executable by PUBLIC, now or when the owner role creates one later.

    Default privileges are revoked globally (not `IN SCHEMA`), the only form that removes PostgreSQL's built-in
    EXECUTE for PUBLIC. `autodevops migrate` grants each role its functions by name.
    """
    op.execute("REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC")
    op.execute("ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC")


def create_rls_functions() -> None:
    """The context and membership functions every policy uses. Idempotent (CREATE OR REPLACE)."""
    op.execute(
        """
        CREATE OR REPLACE FUNCTION app_current_user_id() RETURNS uuid
        LANGUAGE sql STABLE PARALLEL SAFE
        AS $$ SELECT nullif(current_setting('app.user_id', true), '')::uuid $$
        """
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION app_current_organization_id() RETURNS uuid
        LANGUAGE sql STABLE PARALLEL SAFE
        AS $$ SELECT nullif(current_setting('app.organization_id', true), '')::uuid $$
        """
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION app_organization_ids() RETURNS uuid[]
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, public
        AS $$
            SELECT coalesce(array_agg(ids.id), '{}'::uuid[]) FROM (
                SELECT m.organization_id AS id FROM public.organization_members AS m
                WHERE m.user_id = public.app_current_user_id()
                UNION
                SELECT public.app_current_organization_id() WHERE public.app_current_organization_id() IS NOT NULL
            ) AS ids
        $$
        """
    )
    # Creating an organization: its first member may only be the creating user, as owner, and only while the
    # organization has no members at all (inside the creating transaction).
    op.execute(
        """
        CREATE OR REPLACE FUNCTION app_organization_has_no_members(org uuid) RETURNS boolean
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, public
        AS $$ SELECT NOT EXISTS (SELECT 1 FROM public.organization_members AS m WHERE m.organization_id = org) $$
        """
    )
    # Authenticating a bearer token happens before any user is known, so `api_tokens` (isolated per user)
    # is read through this narrow lookup by prefix; the caller verifies the hash.
    op.execute(
        """
        CREATE OR REPLACE FUNCTION app_find_api_token(token_prefix text)
        RETURNS TABLE (id uuid, user_id uuid, token_hash text, expires_at timestamptz, revoked_at timestamptz)
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, public
        AS $$
            SELECT t.id, t.user_id, t.token_hash, t.expires_at, t.revoked_at
            FROM public.api_tokens AS t WHERE t.prefix = token_prefix
        $$
        """
    )


def drop_rls_functions() -> None:
    for signature in (
        "app_find_api_token(text)",
        "app_organization_has_no_members(uuid)",
        "app_organization_ids()",
        "app_current_organization_id()",
        "app_current_user_id()",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
