"""`autodevops migrate`: schema, the app role and its grants, brought up to date in one transaction.

Two roles (see README "Database roles"):

* the **owner role** (`AUTODEVOPS_DATABASE_ADMIN_URL`) owns every table and function and runs this. It must be
  a superuser or have BYPASSRLS, because the `SECURITY DEFINER` membership lookups rely on it.
* the **app role** (the user of `AUTODEVOPS_DATABASE_URL`) is what the API and workers connect as. It is
  created here if missing and always reset to `NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE`; it owns
  nothing and gets only SELECT/INSERT/UPDATE/DELETE on the tables — never TRUNCATE, which ignores RLS — minus
  the columns only the owner writes (`users.is_admin`), and EXECUTE on `APP_FUNCTIONS`.
* the **maintenance role** (the user of `AUTODEVOPS_DATABASE_MAINTENANCE_URL`) is created and reset the same
  way; it gets no table, only EXECUTE on `MAINTENANCE_FUNCTIONS` (the lookups across organizations). Why a
  separate role: `migrations/rls.py`.

Grants are re-applied on every run, so a table added by a later migration is usable by the app after the next
`autodevops migrate`. Concurrent runs serialize on an advisory lock.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from autodevops.config import Settings

# pg_advisory_xact_lock key: "autodevops migrate" (an arbitrary constant shared by every run).
_LOCK_KEY = 0x6D69677261746531

_APP_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"

# Columns the app role may read but never write (column privileges): only the owner role sets them.
OWNER_WRITTEN_COLUMNS = {"users": ("is_admin",), "organizations": ("plan",)}

# Every function of the schema, by who may execute it (PUBLIC may execute none, migration 0017). A function a
# migration adds goes into one list; the privileges test fails for a function in neither.
APP_FUNCTIONS = (
    "app_current_user_id()",
    "app_current_organization_id()",
    "app_current_sso_organization_id()",
    "app_current_via_token()",
    "app_organization_ids()",
    "app_organization_has_no_members(uuid)",
    "app_authenticate_token(text, text)",
    "app_find_user_by_github_id(bigint)",
    "app_find_user_id_by_email(text)",
    "app_current_user_email()",
    "app_github_repository_targets(bigint)",
    "app_github_installation_organizations(bigint)",
    "app_sso_locked_organizations()",
    "app_sso_sign_in_candidates(text, text)",
    "app_accept_invitation(uuid, text)",
    "app_consume_login_link(text)",
    "app_sso_configured()",
    "app_gitlab_connection_organization(uuid)",
    "app_find_user_by_gitlab_id(bigint)",
)
MAINTENANCE_FUNCTIONS = ("app_jobs_in_states(text[], timestamptz, integer)",)


class MigrationError(Exception):
    """The database cannot be brought up to date safely (message says why)."""


@dataclass
class MigrationReport:
    database: str
    app_role: str
    role_created: bool
    revision_before: str | None
    revision_after: str | None
    tables: list[str] = field(default_factory=list)


def migrations_dir() -> Path:
    """The Alembic scripts: packaged next to the module in a wheel, at the repository root in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "migrations", here.parents[1] / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise MigrationError("migration scripts not found (expected a `migrations/` directory)")


def alembic_config() -> Config:
    config = Config()
    directory = migrations_dir()
    config.set_main_option("script_location", str(directory))
    config.set_main_option("path_separator", "os")
    config.set_main_option("prepend_sys_path", str(directory))
    return config


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(value: str) -> str:
    # standard_conforming_strings is on (the default since PostgreSQL 9.1): only quotes need doubling.
    return "'" + value.replace("'", "''") + "'"


async def ensure_database(admin_url: str) -> bool:
    """Create the admin URL's database when it does not exist. Returns whether it was created."""
    url = make_url(admin_url)
    engine = create_async_engine(url)
    try:
        async with engine.connect():
            return False
    except DBAPIError as error:
        if "does not exist" not in str(error.orig):
            raise
    finally:
        await engine.dispose()
    maintenance = create_async_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with maintenance.connect() as connection:
            try:
                await connection.execute(text(f"CREATE DATABASE {_quote_ident(url.database or '')}"))
            except DBAPIError as error:  # created concurrently by another run
                if "already exists" not in str(error.orig):
                    raise
    finally:
        await maintenance.dispose()
    return True


async def _ensure_role(connection: AsyncConnection, role: str, password: str | None) -> bool:
    """Create or reset a login role the platform connects as: no superuser, no BYPASSRLS, nothing else."""
    exists = await connection.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
    attributes = "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION"
    if password:
        attributes += f" PASSWORD {_quote_literal(password)}"
    verb = "ALTER" if exists else "CREATE"
    # Roles are cluster-wide: two migrations of different databases on one server (parallel test runs) can
    # alter the role at the same moment, and PostgreSQL refuses the second ("tuple concurrently updated").
    for attempt in range(5):
        try:
            async with connection.begin_nested():
                await connection.execute(text(f"{verb} ROLE {_quote_ident(role)} {attributes}"))
            break
        except DBAPIError as error:
            if "tuple concurrently updated" not in str(error.orig) or attempt == 4:
                raise
            await asyncio.sleep(0.1 * (attempt + 1))
    return not exists


async def _grant(connection: AsyncConnection, role: str, maintenance: str, database: str) -> None:
    r, m = _quote_ident(role), _quote_ident(maintenance)
    for statement in (
        f"GRANT CONNECT, TEMPORARY ON DATABASE {_quote_ident(database)} TO {r}",
        f"GRANT USAGE ON SCHEMA public TO {r}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {r}",
        f"GRANT {_APP_PRIVILEGES} ON ALL TABLES IN SCHEMA public TO {r}",
        f"REVOKE ALL ON TABLE alembic_version FROM {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}",
        f"GRANT CONNECT ON DATABASE {_quote_ident(database)} TO {m}",
        f"GRANT USAGE ON SCHEMA public TO {m}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {m}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {m}",
        # Again on every run: a function created by another role would otherwise be PUBLIC's.
        f"REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC, {r}, {m}",
    ):
        await connection.execute(text(statement))
    for table, protected in OWNER_WRITTEN_COLUMNS.items():
        columns = (
            await connection.scalars(
                text(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
                    "AND table_name = :t ORDER BY ordinal_position"
                ),
                {"t": table},
            )
        ).all()
        writable = ", ".join(_quote_ident(column) for column in columns if column not in protected)
        await connection.execute(text(f"REVOKE INSERT, UPDATE ON TABLE {table} FROM {r}"))
        await connection.execute(text(f"GRANT INSERT ({writable}), UPDATE ({writable}) ON TABLE {table} TO {r}"))
    for grantee, functions in ((r, APP_FUNCTIONS), (m, MAINTENANCE_FUNCTIONS)):
        for function in functions:
            await connection.execute(text(f"GRANT EXECUTE ON FUNCTION {function} TO {grantee}"))


async def _verify(connection: AsyncConnection, role: str) -> None:
    """Refuse a role that could sidestep row-level security (an existing role altered by hand, say)."""
    row = (
        await connection.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r"), {"r": role})
    ).one()
    if row.rolsuper or row.rolbypassrls:
        raise MigrationError(f"app role {role!r} can bypass row-level security")
    owned = (
        await connection.scalars(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND r.rolname = :r"
            ),
            {"r": role},
        )
    ).all()
    if owned:
        raise MigrationError(f"app role {role!r} owns {', '.join(sorted(owned))}: it must own nothing")


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _check_known(connection: Connection, config: Config) -> None:
    """Refuse, with what to do, a database migrated by a version of AutoDevOps that has revisions this one lacks."""
    current = MigrationContext.configure(connection).get_current_heads()
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    unknown = [revision for revision in current if revision not in known]
    if unknown:
        raise MigrationError(
            f"the database is at revision {', '.join(unknown)}, which this version of AutoDevOps does not have: "
            "it was migrated by a newer or different version. Run that version (or a newer one), or restore a "
            "backup taken before it migrated"
        )


def _upgrade(connection: Connection, config: Config) -> None:
    config.attributes["connection"] = connection
    # "heads": migrations added in parallel branches all apply, instead of failing on "multiple heads".
    command.upgrade(config, "heads")


async def migrate(settings: Settings) -> MigrationReport:
    """Bring the database of `settings` up to date: database, app role, schema, policies, grants."""
    admin_url = settings.database_admin_url.get_secret_value()
    app_url = make_url(settings.database_url.get_secret_value())
    admin = make_url(admin_url)
    maintenance_url = make_url(settings.effective_database_maintenance_url)
    role, maintenance = app_url.username, maintenance_url.username
    if not role:
        raise MigrationError("AUTODEVOPS_DATABASE_URL has no user name (the app role)")
    if role == admin.username:
        raise MigrationError("AUTODEVOPS_DATABASE_URL must use a different role than the admin URL")
    if not maintenance or maintenance in (role, admin.username):
        raise MigrationError(
            "AUTODEVOPS_DATABASE_MAINTENANCE_URL must name a role of its own (not the app's or the admin's)"
        )
    database = admin.database or ""

    await ensure_database(admin_url)
    engine = create_async_engine(admin_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
            owner = (
                await connection.execute(
                    text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
                )
            ).one()
            if not (owner.rolsuper or owner.rolbypassrls):
                raise MigrationError("the admin role must be a superuser or have BYPASSRLS (see migrations/rls.py)")
            created = await _ensure_role(connection, role, app_url.password)
            await _ensure_role(connection, maintenance, maintenance_url.password)
            before = await connection.run_sync(_current_revision)
            config = alembic_config()
            await connection.run_sync(_check_known, config)
            await connection.run_sync(_upgrade, config)
            after = await connection.run_sync(_current_revision)
            await _grant(connection, role, maintenance, database)
            await _verify(connection, role)
            await _verify(connection, maintenance)
            tables = (
                await connection.scalars(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
                )
            ).all()
    finally:
        await engine.dispose()
    return MigrationReport(
        database=database,
        app_role=role,
        role_created=created,
        revision_before=before,
        revision_after=after,
        tables=list(tables),
    )
