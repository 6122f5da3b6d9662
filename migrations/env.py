"""Alembic environment: async (asyncpg), always the owner role (`AUTODEVOPS_DATABASE_ADMIN_URL`).

`autodevops migrate` passes an open connection in `config.attributes["connection"]` (so role management,
upgrade and grants share one transaction); the plain `alembic` command opens its own.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

# Migration scripts import the RLS helper as `from rls import ...`.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from autodevops.config import get_settings
from autodevops.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(get_settings().database_admin_url.get_secret_value())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run `autodevops migrate`")

provided = context.config.attributes.get("connection")
if provided is not None:
    _run(provided)
else:
    asyncio.run(_run_async())
