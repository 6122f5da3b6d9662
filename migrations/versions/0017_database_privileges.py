"""Least privilege in the database: no function for PUBLIC, `users` behind row-level security.

An assessment found that the app role could list every user's email and set `is_admin` (`users` had no
row-level security), and that every `SECURITY DEFINER` function was executable by PUBLIC — among them
`app_jobs_in_states()`, which lists every organization's jobs with no tenant context.

* EXECUTE on every function of the schema is revoked from PUBLIC, now and for functions created later by the
  owner role (default privileges). `autodevops migrate` grants the app role exactly the functions it calls
  (`autodevops.migrate.APP_FUNCTIONS`) and the maintenance role only the cross-tenant maintenance lookups
  (`MAINTENANCE_FUNCTIONS`); see `migrations/rls.py`.
* `users` gets FORCE row-level security: a user sees themselves and the members of the organizations the
  context may see; they insert, change and delete only their own row. Flows that must find a user before any
  context exists go through the narrow definer lookups (`app_authenticate_token`, `app_find_user_by_github_id`,
  `app_find_user_id_by_email`, `app_current_user_email`). The app role may not write `is_admin` at all
  (column privileges, granted by `autodevops migrate`): only the owner role sets it.

Revision ID: 0017_database_privileges
Revises: 0016_gitlab_sign_in
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op
from rls import create_policy, enable_rls, revoke_functions_from_public

revision: str = "0017_database_privileges"
down_revision: str | None = "0016_gitlab_sign_in"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SELF = "id = (SELECT app_current_user_id())"
# Co-members: a membership row of this user in an organization the context may see (the policy of
# organization_members applies inside, and the explicit organization test lets the planner use its index).
_CO_MEMBER = (
    "EXISTS (SELECT 1 FROM organization_members AS m WHERE m.user_id = users.id "
    "AND m.organization_id = ANY ((SELECT app_organization_ids())::uuid[]))"
)
_POLICIES = ("users_read", "users_insert_self", "users_update_self", "users_delete_self")


def upgrade() -> None:
    revoke_functions_from_public()
    enable_rls("users")
    create_policy("users", "users_read", using=f"{_SELF} OR {_CO_MEMBER}", with_check=None, command="SELECT")
    create_policy("users", "users_insert_self", using=None, with_check=_SELF, command="INSERT")
    create_policy("users", "users_update_self", using=_SELF, with_check=_SELF, command="UPDATE")
    create_policy("users", "users_delete_self", using=_SELF, with_check=None, command="DELETE")


def downgrade() -> None:
    for name in _POLICIES:
        op.execute(f"DROP POLICY IF EXISTS {name} ON users")
    op.execute("ALTER TABLE users NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE users DISABLE ROW LEVEL SECURITY")
    op.execute("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO PUBLIC")
    op.execute("ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC")
