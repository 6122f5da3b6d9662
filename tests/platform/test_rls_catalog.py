"""The database catalog proves tenant isolation is switched on everywhere it must be.

Fails when a migration adds a table with an `organization_id` but forgets `enable_tenant_rls`, or when the
app role could sidestep row-level security (owning a table, BYPASSRLS, superuser, TRUNCATE).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from autodevops.config import Settings

# Tenant tables without an `organization_id` column (the tenant itself; per-user rows; users).
EXTRA_ISOLATED_TABLES = {"organizations", "api_tokens", "login_links", "gitlab_accounts", "users"}


def app_role(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    role = make_url(settings.database_url.get_secret_value()).username
    assert role
    return role


async def rls_problems(connection: AsyncConnection) -> list[str]:
    """Every way a tenant table falls short of ENABLE + FORCE row-level security with checked policies."""
    tables = (
        set(
            (
                await connection.scalars(
                    text(
                        "SELECT table_name FROM information_schema.columns "
                        "WHERE table_schema = 'public' AND column_name = 'organization_id'"
                    )
                )
            ).all()
        )
        | EXTRA_ISOLATED_TABLES
    )
    rows = (
        await connection.execute(
            text(
                "SELECT c.relname, c.relkind::text AS relkind, c.relrowsecurity, c.relforcerowsecurity, c.reloptions, "
                "  (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies, "
                "  (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid AND p.polcmd = '*' "
                "     AND p.polwithcheck IS NULL) AS all_without_check "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relname = ANY(:tables)"
            ),
            {"tables": sorted(tables)},
        )
    ).all()
    problems = [f"{name}: missing" for name in sorted(tables - {row.relname for row in rows})]
    for row in sorted(rows):
        if row.relkind == "v":
            # A view reads its tables with its owner's rights (RLS bypassed) unless it is security_invoker.
            if "security_invoker=true" not in (row.reloptions or []):
                problems.append(f"{row.relname}: view without security_invoker")
            continue
        if not row.relrowsecurity:
            problems.append(f"{row.relname}: row-level security not enabled")
        if not row.relforcerowsecurity:
            problems.append(f"{row.relname}: row-level security not forced")
        if row.policies == 0:
            problems.append(f"{row.relname}: no policy")
        if row.all_without_check:
            problems.append(f"{row.relname}: a FOR ALL policy without WITH CHECK")
    return problems


async def test_every_tenant_table_forces_rls_with_policies(pg_admin: AsyncEngine) -> None:
    async with pg_admin.connect() as connection:
        assert await rls_problems(connection) == []


async def test_the_catalog_check_catches_an_unprotected_table(pg_admin: AsyncEngine) -> None:
    async with pg_admin.connect() as connection, connection.begin() as transaction:
        await connection.execute(text("CREATE TABLE catalog_probe (id uuid PRIMARY KEY, organization_id uuid)"))
        await connection.execute(text("CREATE VIEW catalog_probe_view AS SELECT organization_id FROM repositories"))
        assert await rls_problems(connection) == [
            "catalog_probe: row-level security not enabled",
            "catalog_probe: row-level security not forced",
            "catalog_probe: no policy",
            "catalog_probe_view: view without security_invoker",
        ]
        await transaction.rollback()


async def test_app_role_cannot_bypass_rls(pg_admin: AsyncEngine, pg_settings: Settings) -> None:
    role = app_role(pg_settings)
    async with pg_admin.connect() as connection:
        attributes = (
            await connection.execute(
                text("SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = :r"),
                {"r": role},
            )
        ).one()
        owned = (
            await connection.scalars(
                text(
                    "SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE r.rolname = :r AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
                ),
                {"r": role},
            )
        ).all()
        owned_functions = (
            await connection.scalars(
                text("SELECT p.proname FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner WHERE r.rolname = :r"),
                {"r": role},
            )
        ).all()
        truncatable = (
            await connection.scalars(
                text(
                    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relkind = 'r' AND has_table_privilege(:r, c.oid, 'TRUNCATE')"
                ),
                {"r": role},
            )
        ).all()
        member_of_privileged = (
            await connection.scalars(
                text(
                    "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
                    "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = :r AND (g.rolsuper OR g.rolbypassrls)"
                ),
                {"r": role},
            )
        ).all()
    assert not attributes.rolsuper
    assert not attributes.rolbypassrls
    assert not attributes.rolcreaterole
    assert not attributes.rolcreatedb
    assert owned == []
    assert owned_functions == []
    assert truncatable == []  # TRUNCATE ignores row-level security
    assert member_of_privileged == []


async def test_security_definer_functions_belong_to_a_role_that_bypasses_rls(pg_admin: AsyncEngine) -> None:
    # Otherwise the membership lookup inside the policies would itself be filtered by RLS (and recurse).
    async with pg_admin.connect() as connection:
        rows = (
            await connection.execute(
                text(
                    "SELECT p.proname, r.rolsuper OR r.rolbypassrls AS bypasses, p.proconfig "
                    "FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner "
                    "JOIN pg_namespace n ON n.oid = p.pronamespace "
                    "WHERE n.nspname = 'public' AND p.prosecdef"
                )
            )
        ).all()
    assert {
        "app_organization_ids",
        "app_authenticate_token",
        "app_sso_locked_organizations",
        "app_sso_sign_in_candidates",
        "app_find_user_id_by_email",
        "app_consume_login_link",
        "app_sso_configured",
    } <= {row.proname for row in rows}
    for row in rows:
        assert row.bypasses, row.proname
        # A pinned search_path: a definer function must not resolve names through the caller's path.
        assert any(setting.startswith("search_path=") for setting in row.proconfig or []), row.proname
