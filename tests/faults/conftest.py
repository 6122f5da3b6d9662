"""A PostgreSQL cluster of these tests' own, migrated like production, to stop and restart at will.

The shared server on 5432 is never stopped: `own_postgres` runs `initdb`/`pg_ctl` in a temporary directory on
a free port (as the `postgres` system user when the tests run as root). It is made once per module.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from autodevops.config import Settings
from platform_support import APP_ROLE, platform_settings
from throwaway_services import ThrowawayPostgres

DATABASE = "autodevops"


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[ThrowawayPostgres]:
    with tempfile.TemporaryDirectory(prefix="autodevops-pg-") as directory:
        server = ThrowawayPostgres(Path(directory) / "pg")
        server.init()
        server.start()
        try:
            yield server
        finally:
            server.stop()


def own_settings(server: ThrowawayPostgres, **overrides: Any) -> Settings:
    return platform_settings(
        database_url=f"postgresql+asyncpg://{APP_ROLE}:{APP_ROLE}@127.0.0.1:{server.port}/{DATABASE}",
        database_admin_url=server.admin_url(DATABASE),
        rate_limit_key_prefix=f"test-faults-{uuid.uuid4().hex[:8]}",
        **overrides,
    )


@pytest.fixture(scope="module")
async def migrated(own_postgres: ThrowawayPostgres) -> Settings:
    from autodevops.migrate import migrate

    settings = own_settings(own_postgres)
    await migrate(settings)
    return settings
