"""Least privilege inside PostgreSQL: what the app role (every request's connection) may do when the code
above it is bypassed, e.g. by SQL injection. The assessment listed every user's email, set `is_admin` and
listed every organization's jobs through `app_jobs_in_states()` as the app role; each test replays one."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from autodevops.config import Settings
from autodevops.db import Database, tenant_session
from autodevops.migrate import APP_FUNCTIONS, MAINTENANCE_FUNCTIONS
from platform_support import add_member

_IN_STATES = "SELECT count(*) FROM app_jobs_in_states(ARRAY['pending', 'active', 'dead_letter'], now(), 100)"


def _signatures(names: tuple[str, ...]) -> set[str]:
    """As `regprocedure` prints them: `f(text,timestamp with time zone)`."""
    return {name.replace("timestamptz", "timestamp with time zone").replace(", ", ",") for name in names}


async def _executable_by(connection: Any, grantee: str) -> set[str]:
    rows = await connection.scalars(
        text(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND has_function_privilege(:role, p.oid, 'EXECUTE')"
        ),
        {"role": grantee},
    )
    return set(rows.all())


async def test_public_executes_no_function_and_each_role_only_its_own(
    pg_admin: AsyncEngine, pg_settings: Settings
) -> None:
    from sqlalchemy.engine import make_url

    app = make_url(pg_settings.database_url.get_secret_value()).username
    maintenance = make_url(pg_settings.effective_database_maintenance_url).username
    async with pg_admin.connect() as connection:
        every = set(
            (
                await connection.scalars(
                    text(
                        "SELECT p.oid::regprocedure::text FROM pg_proc p "
                        "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
                    )
                )
            ).all()
        )
        public = (
            await connection.scalars(
                text(
                    "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, "
                    "aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS acl "
                    "WHERE n.nspname = 'public' AND acl.grantee = 0 AND acl.privilege_type = 'EXECUTE'"
                )
            )
        ).all()
        assert public == []
        # Every function is someone's on purpose: a new one must be added to APP_ or MAINTENANCE_FUNCTIONS.
        assert every == _signatures(APP_FUNCTIONS) | _signatures(MAINTENANCE_FUNCTIONS)
        assert await _executable_by(connection, str(app)) == _signatures(APP_FUNCTIONS)
        assert await _executable_by(connection, str(maintenance)) == _signatures(MAINTENANCE_FUNCTIONS)
    # The owner role's later functions are not PUBLIC's either (default privileges).
    async with pg_admin.connect() as connection, connection.begin() as transaction:
        await connection.execute(text("CREATE FUNCTION privileges_probe() RETURNS int LANGUAGE sql AS 'SELECT 1'"))
        assert not await connection.scalar(
            text("SELECT has_function_privilege(:role, 'privileges_probe()', 'EXECUTE')"), {"role": str(app)}
        )
        await transaction.rollback()


async def test_a_request_connection_cannot_list_every_organizations_jobs(database: Database, two_tenants: Any) -> None:
    a, _ = two_tenants
    for context in ({}, {"user_id": a.tenant.user_id}):
        with pytest.raises(DBAPIError, match="permission denied for function app_jobs_in_states"):
            async with tenant_session(database, **context) as session:
                await session.execute(text(_IN_STATES))


async def test_the_maintenance_role_finds_jobs_across_organizations_and_reads_no_table(
    pg_settings: Settings, two_tenants: Any
) -> None:
    maintenance = Database.maintenance(pg_settings)
    try:
        async with maintenance.sessionmaker() as session:
            assert await session.scalar(text(_IN_STATES)) == 2  # one job per tenant
            for table in ("jobs", "users", "repositories"):
                with pytest.raises(DBAPIError, match="permission denied"):
                    async with session.begin_nested():
                        await session.execute(text(f"SELECT count(*) FROM {table}"))
            await session.rollback()
    finally:
        await maintenance.dispose()


async def test_the_app_role_sees_only_its_own_user_and_co_members(database: Database, two_tenants: Any) -> None:
    a, b = two_tenants
    emails = text("SELECT email FROM users ORDER BY email")
    async with tenant_session(database) as session:
        assert (await session.scalars(emails)).all() == []
    async with tenant_session(database, user_id=a.tenant.user_id) as session:
        assert (await session.scalars(emails)).all() == [a.tenant.user.email]
        renamed = await session.execute(text("UPDATE users SET name = 'x' WHERE id = :b"), {"b": b.tenant.user_id})
        assert renamed.rowcount == 0  # type: ignore[attr-defined]
        deleted = await session.execute(text("DELETE FROM users WHERE id = :b"), {"b": b.tenant.user_id})
        assert deleted.rowcount == 0  # type: ignore[attr-defined]
    # A background job of B's organization sees B's members, no one else.
    async with tenant_session(database, organization_id=b.tenant.organization_id) as session:
        assert (await session.scalars(emails)).all() == [b.tenant.user.email]
    await add_member(database, a.tenant, b.tenant, "member")
    async with tenant_session(database, user_id=a.tenant.user_id) as session:
        assert set((await session.scalars(emails)).all()) == {a.tenant.user.email, b.tenant.user.email}


async def test_the_app_role_cannot_make_anyone_a_platform_administrator(database: Database, two_tenants: Any) -> None:
    a, _ = two_tenants
    me = {"me": a.tenant.user_id}
    with pytest.raises(DBAPIError, match="permission denied for table users"):
        async with tenant_session(database, user_id=a.tenant.user_id) as session:
            await session.execute(text("UPDATE users SET is_admin = true WHERE id = :me"), me)
    forged = {"id": uuid.uuid4()}
    with pytest.raises(DBAPIError, match="permission denied for table users"):
        async with tenant_session(database, user_id=forged["id"]) as session:
            await session.execute(
                text("INSERT INTO users (id, email, is_admin) VALUES (:id, 'root@example.com', true)"), forged
            )
    # A user still edits their own row's other columns.
    async with tenant_session(database, user_id=a.tenant.user_id) as session:
        await session.execute(text("UPDATE users SET name = 'Alice' WHERE id = :me"), me)
        assert await session.scalar(text("SELECT is_admin FROM users WHERE id = :me"), me) is False


async def test_a_user_row_is_inserted_only_as_that_user(database: Database, two_tenants: Any) -> None:
    a, _ = two_tenants
    with pytest.raises(DBAPIError, match="row-level security"):
        async with tenant_session(database, user_id=a.tenant.user_id) as session:
            await session.execute(
                text("INSERT INTO users (id, email) VALUES (gen_random_uuid(), 'someone-else@example.com')")
            )


def test_the_maintenance_url_defaults_to_its_own_role_outside_production() -> None:
    settings = Settings(database_url="postgresql://autodevops_app:pw@db:5432/x")
    assert settings.effective_database_maintenance_url == "postgresql+asyncpg://autodevops_app_maintenance:pw@db:5432/x"
    explicit = Settings(database_maintenance_url="postgres://ops:other@db/x")
    assert explicit.effective_database_maintenance_url == "postgresql+asyncpg://ops:other@db/x"


async def test_the_migration_creates_the_maintenance_role_without_table_privileges(
    pg_admin: AsyncEngine, pg_settings: Settings
) -> None:
    from sqlalchemy.engine import make_url

    role = make_url(pg_settings.effective_database_maintenance_url).username
    async with pg_admin.connect() as connection:
        attributes = (
            await connection.execute(
                text("SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = :r"), {"r": role}
            )
        ).one()
        granted = (
            await connection.scalars(
                text(
                    "SELECT DISTINCT table_name FROM information_schema.role_table_grants "
                    "WHERE grantee = :r AND table_schema = 'public'"
                ),
                {"r": role},
            )
        ).all()
    assert tuple(attributes) == (False, False, True)
    assert granted == []


async def test_the_owner_role_url_is_never_the_maintenance_role() -> None:
    from autodevops.migrate import MigrationError, migrate

    url = "postgresql+asyncpg://postgres@127.0.0.1:5432/autodevops_never_created"
    settings = Settings(
        env="test",
        database_url="postgresql+asyncpg://autodevops_app:x@127.0.0.1:5432/autodevops_never_created",
        database_admin_url=url,
        database_maintenance_url=url,
    )
    with pytest.raises(MigrationError, match="MAINTENANCE_URL must name a role of its own"):
        await migrate(settings)
