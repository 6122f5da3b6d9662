"""Shared platform fixtures: a migrated test database, sessions as the app role, tenants, an API client.

Any test suite may use them (jobs, GitHub, web...):

* `pg_settings` — `Settings` pointing at the test database. Its name is `autodevops_test` unless
  `AUTODEVOPS_TEST_DATABASE` says otherwise (use your own name when running alongside someone else), with the
  xdist worker id appended under `pytest -n`. It is created and migrated once per session by `autodevops
  migrate`'s own code, so the schema, the app role and the policies are exactly production's.
* `clean_db` — empties every table before the test (TRUNCATE as the owner role).
* `database` — the app-role `Database` (RLS applies: this is what the service uses). `db_session` is a
  session of it with no tenant bound; `tenant_session(database, user_id=...)` gives a bound one.
* `pg_admin` — an owner-role engine, for arranging rows the app could not write, and for catalog queries.
* `make_tenant` — a user, an organization they own, and a personal API token (`tenant.headers`).
* `api_client` — an `httpx.AsyncClient` over the real app (lifespan run, rate limits off);
  `make_api_client(**settings_overrides)` builds one with other settings.

Heavy imports happen inside fixtures, so engine-only test runs never load the platform's stack.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import pytest

from platform_support import MakeTenant, Tenant, migrate_fresh, platform_settings

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

    from autodevops.config import Settings
    from autodevops.db import Database


@pytest.fixture(scope="session")
async def pg_settings() -> Settings:
    """Test settings, with the test database created and migrated (once per session)."""
    settings = platform_settings()
    await migrate_fresh(settings)
    return settings


@pytest.fixture(scope="session")
async def pg_admin(pg_settings: Settings) -> AsyncIterator[AsyncEngine]:
    """The owner role: bypasses RLS. Arrange and inspect with it; never test the app's behaviour through it."""
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(pg_settings.database_admin_url.get_secret_value(), pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def database(pg_settings: Settings) -> AsyncIterator[Database]:
    """The app-role database, as the service sees it (RLS on)."""
    from autodevops.db import Database

    db = Database.from_settings(pg_settings)
    yield db
    await db.dispose()


@pytest.fixture
async def clean_db(pg_admin: AsyncEngine) -> None:
    """Every table emptied (but `alembic_version`).

    DELETE with triggers (and so foreign-key checks) off is ~20x faster than TRUNCATE on these tiny tables.
    """
    from sqlalchemy import text

    async with pg_admin.begin() as connection:
        await connection.execute(text("SET LOCAL session_replication_role = replica"))
        tables = (
            await connection.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
            )
        ).all()
        for table in tables:
            await connection.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
async def db_session(database: Database, clean_db: None) -> AsyncIterator[AsyncSession]:
    """An app-role session bound to no tenant: every tenant table looks empty until `bind_tenant`."""
    async with database.sessionmaker() as session:
        yield session
        await session.rollback()


@pytest.fixture
def make_tenant(database: Database, clean_db: None) -> MakeTenant:
    """`await make_tenant(email=None, organization="Acme")`: a committed user + owned organization + token."""
    from autodevops.auth import service as auth_service
    from autodevops.db import tenant_session
    from autodevops.organization import service as organization_service

    async def make(email: str | None = None, organization: str = "Acme") -> Tenant:
        email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
        async with tenant_session(database) as session:
            user = await auth_service.create_user(session, email)
        async with tenant_session(database, user_id=user.id) as session:
            membership = await organization_service.create_organization(session, user, organization)
            _, token = await auth_service.create_token(session, user, "tests")
        return Tenant(user, membership.organization, token, {"Authorization": f"Bearer {token}"})

    return make


@pytest.fixture
def silent_port() -> Iterator[int]:
    """The port of a TCP server that accepts connections and never answers (a stalled git server)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


MakeAPIClient = Callable[..., Awaitable["httpx.AsyncClient"]]


@pytest.fixture
async def make_api_client(pg_settings: Settings) -> AsyncIterator[MakeAPIClient]:
    """`await make_api_client(**settings_overrides)`: a client over a fresh app with its lifespan running."""
    import httpx

    from autodevops.web import create_app

    async with AsyncExitStack() as stack:

        async def make(**overrides: Any) -> httpx.AsyncClient:
            app = create_app(platform_settings(**overrides))
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            return await stack.enter_async_context(httpx.AsyncClient(transport=transport, base_url="http://testserver"))

        yield make


@pytest.fixture
async def api_client(make_api_client: MakeAPIClient, clean_db: None) -> httpx.AsyncClient:
    """A client over the app with the test settings."""
    return await make_api_client()
