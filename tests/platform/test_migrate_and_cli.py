"""`autodevops migrate` creates the database and the app role and is idempotent; `users create` and
`tokens create` bootstrap a working API token."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from autodevops.config import Settings
from autodevops.migrate import MigrationError, migrate
from platform_support import PG_SERVER, admin_url, run_cli


@pytest.fixture
async def scratch() -> AsyncIterator[tuple[Settings, str, str]]:
    """Settings for a database, an app role and a maintenance role that do not exist yet; all dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    database, role = f"autodevops_scratch_{suffix}", f"autodevops_app_{suffix}"
    settings = Settings(
        env="test",
        database_url=f"postgresql+asyncpg://{role}:secret-{suffix}@{PG_SERVER}/{database}",
        database_admin_url=admin_url(database),
    )
    yield settings, database, role
    engine = create_async_engine(admin_url("postgres"), isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        await connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        await connection.execute(text(f'DROP ROLE IF EXISTS "{role}_maintenance"'))
    await engine.dispose()


async def test_migrate_creates_database_and_keeps_app_role_restricted(scratch: Any) -> None:
    settings, _, role = scratch
    first = await migrate(settings)
    assert first.role_created
    assert first.revision_before is None
    assert first.revision_after is not None
    assert {"organizations", "repositories", "api_tokens"} <= set(first.tables)

    second = await migrate(settings)  # idempotent
    assert not second.role_created
    assert second.revision_before == second.revision_after == first.revision_after

    # The app role logs in with the URL's password, sees the schema, and RLS applies to it.
    app = create_async_engine(settings.database_url.get_secret_value())
    try:
        async with app.connect() as connection:
            assert await connection.scalar(text("SELECT count(*) FROM repositories")) == 0
            attributes = (
                await connection.execute(
                    text("SELECT rolsuper, rolbypassrls, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = :r"),
                    {"r": role},
                )
            ).one()
            assert tuple(attributes) == (False, False, False, False)
            with pytest.raises(Exception, match="permission denied"):
                await connection.execute(text("SELECT * FROM alembic_version"))
    finally:
        await app.dispose()

    # A later run puts back any privilege someone granted the app role by hand.
    admin = create_async_engine(settings.database_admin_url.get_secret_value())
    try:
        async with admin.begin() as connection:
            await connection.execute(text(f'ALTER ROLE "{role}" BYPASSRLS CREATEDB'))
        await migrate(settings)
        async with admin.connect() as connection:
            row = (
                await connection.execute(
                    text("SELECT rolbypassrls, rolcreatedb FROM pg_roles WHERE rolname = :r"), {"r": role}
                )
            ).one()
        assert tuple(row) == (False, False)
    finally:
        await admin.dispose()


async def test_migrate_refuses_a_database_a_newer_version_migrated(scratch: Any) -> None:
    """A revision this checkout lacks (a newer release migrated first) is named, with what to do, not a traceback."""
    settings, _, _ = scratch
    await migrate(settings)
    admin = create_async_engine(settings.database_admin_url.get_secret_value())
    try:
        async with admin.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    finally:
        await admin.dispose()
    with pytest.raises(MigrationError, match=r"revision 0099_from_the_future, which this version .* does not have"):
        await migrate(settings)


async def test_migrate_refuses_the_admin_role_as_app_role() -> None:
    url = admin_url("autodevops_never_created")
    with pytest.raises(MigrationError, match="different role"):
        await migrate(Settings(env="test", database_url=url, database_admin_url=url))


@pytest.mark.slow
async def test_cli_bootstraps_a_user_and_token(
    pg_settings: Settings, clean_db: None, api_client: httpx.AsyncClient
) -> None:
    created = run_cli(pg_settings, "users", "create", "Ops@Example.com", "--admin")
    assert created.returncode == 0, created.stderr
    uuid.UUID(created.stdout.strip())
    duplicate = run_cli(pg_settings, "users", "create", "ops@example.com")
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr

    token = run_cli(pg_settings, "tokens", "create", "ops@example.com", "--name", "automation")
    assert token.returncode == 0, token.stderr
    secret = token.stdout.strip()
    me = await api_client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    assert me.json()["email"] == "ops@example.com"
    assert me.json()["is_admin"] is True

    unknown = run_cli(pg_settings, "tokens", "create", "nobody@example.com")
    assert unknown.returncode == 1
    assert "user not found" in unknown.stderr


@pytest.mark.slow
async def test_cli_prunes_old_webhook_deliveries(pg_settings: Settings, clean_db: None, pg_admin: Any) -> None:
    async with pg_admin.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO gitlab_webhook_deliveries (delivery_id, event, outcome, received_at) VALUES "
                "('old', 'Push Hook', 'ignored', now() - interval '40 days'), "
                "('new', 'Push Hook', 'ignored', now() - interval '1 day')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO github_webhook_deliveries (delivery_id, event, outcome, received_at) VALUES "
                "('old', 'push', 'ignored', now() - interval '31 days')"
            )
        )
    pruned = run_cli(pg_settings, "webhooks", "prune")
    assert pruned.returncode == 0, pruned.stderr
    assert "deleted 2 delivery record(s)" in pruned.stdout
    assert "(1 github, 1 gitlab)" in pruned.stdout
    async with pg_admin.connect() as conn:
        assert (await conn.scalars(text("SELECT delivery_id FROM gitlab_webhook_deliveries"))).all() == ["new"]
        assert await conn.scalar(text("SELECT count(*) FROM github_webhook_deliveries")) == 0
