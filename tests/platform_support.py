"""Plain helpers behind the shared platform fixtures in `tests/conftest.py`.

Test modules import these by this module's unique name (`from platform_support import ...`); importing
`conftest` by name is ambiguous, since several directories have one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit

if TYPE_CHECKING:
    from autodevops.config import Settings
    from autodevops.models import Organization, User

APP_ROLE = "autodevops_app"


def _server(variable: str, default: str) -> SplitResult:
    """The server a service URL names: the test suite honours the standard DATABASE_URL and REDIS_URL a CI
    service container comes with (a password, another host) and defaults to this machine's servers."""
    return urlsplit(os.environ.get(variable) or default)


_PG = _server("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
_REDIS = _server("REDIS_URL", "redis://127.0.0.1:6379/0")
PG_SERVER = f"{_PG.hostname}:{_PG.port or 5432}"
# The owner role: the URL's user (and password), which can create databases and roles.
PG_ADMIN = f"{_PG.username or 'postgres'}" + (f":{_PG.password}" if _PG.password else "") + f"@{PG_SERVER}"


def admin_url(database: str) -> str:
    """An owner-role URL for `database` on the test PostgreSQL server."""
    return f"postgresql+asyncpg://{PG_ADMIN}/{database}"


def redis_url(db: int = 0) -> str:
    """A URL for Redis database `db` on the test Redis server."""
    return f"redis://{_REDIS.hostname}:{_REDIS.port or 6379}/{db}"


def test_database_name() -> str:
    name = os.environ.get("AUTODEVOPS_TEST_DATABASE", "autodevops_test")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"{name}_{worker}" if worker else name


def platform_settings(**overrides: Any) -> Settings:
    """Settings for the test database (rate limits off, their keys namespaced); keywords override fields."""
    from autodevops.config import Settings

    name = test_database_name()
    values: dict[str, Any] = {
        "env": "test",
        "database_url": f"postgresql+asyncpg://{APP_ROLE}:{APP_ROLE}@{PG_SERVER}/{name}",
        "database_admin_url": admin_url(name),
        "redis_url": redis_url(0),
        "rate_limit_enabled": False,
        "rate_limit_key_prefix": f"test-{name}",
        "log_json": True,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Tenant:
    """A user, an organization they own and a personal API token of theirs."""

    user: User
    organization: Organization
    token: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def user_id(self) -> uuid.UUID:
        return self.user.id

    @property
    def organization_id(self) -> uuid.UUID:
        return self.organization.id


MakeTenant = Callable[..., Awaitable[Tenant]]


async def forget_redis_keys(prefix: str, url: str | None = None) -> None:
    """Delete the Redis keys under `prefix:` that a test's app created (no FLUSHDB: other runs share Redis)."""
    import redis.asyncio as aioredis

    redis = aioredis.from_url(url or redis_url(0))
    try:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


async def migrate_fresh(settings: Settings) -> None:
    """Drop the settings' database if it exists, then create and migrate it.

    A test run never inherits a schema from an earlier one: the database may have been migrated by another
    checkout whose revisions this one does not have, and Alembic refuses an unknown current revision.
    """
    from sqlalchemy import make_url, text
    from sqlalchemy.ext.asyncio import create_async_engine

    from autodevops.migrate import migrate

    admin = make_url(settings.database_admin_url.get_secret_value())
    name = (admin.database or "").replace('"', '""')
    maintenance = create_async_engine(admin.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with maintenance.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await maintenance.dispose()
    await migrate(settings)


async def add_member(database: Any, owner: Tenant, member: Tenant, role: str) -> None:
    """Arrange: `member` belongs to `owner`'s organization with `role` (as if they had accepted an invitation)."""
    from autodevops.db import tenant_session
    from autodevops.models import OrganizationMember

    async with tenant_session(database, user_id=owner.user_id) as session:
        session.add(OrganizationMember(organization_id=owner.organization_id, user_id=member.user_id, role=role))
        await session.flush()


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed `autodevops` command against the settings' databases."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTODEVOPS_")}
    env["AUTODEVOPS_ENV"] = "test"
    env["AUTODEVOPS_DATABASE_URL"] = settings.database_url.get_secret_value()
    env["AUTODEVOPS_DATABASE_ADMIN_URL"] = settings.database_admin_url.get_secret_value()
    env["AUTODEVOPS_PUBLIC_URL"] = settings.public_url
    return subprocess.run(
        [str(Path(sys.executable).with_name("autodevops")), *args], env=env, capture_output=True, text=True, timeout=60
    )
