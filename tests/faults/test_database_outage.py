"""A PostgreSQL outage, on a server of the test's own: the API answers 503 with Retry-After (never 500) while
it lasts, and the first request after the restart succeeds (stale pooled connections are replaced)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from autodevops.auth import service as auth_service
from autodevops.config import Settings
from autodevops.db import Database, tenant_session
from autodevops.organization import service as organization_service
from throwaway_services import ThrowawayPostgres


@pytest.fixture
async def client(migrated: Settings) -> AsyncIterator[httpx.AsyncClient]:
    from autodevops.web import create_app

    app = create_app(migrated)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http,
    ):
        yield http


async def _token(settings: Settings) -> dict[str, str]:
    database = Database.from_settings(settings)
    try:
        async with tenant_session(database) as session:
            user = await auth_service.create_user(session, f"outage-{id(session)}@example.com")
        async with tenant_session(database, user_id=user.id) as session:
            await organization_service.create_organization(session, user, "Outage")
            _, token = await auth_service.create_token(session, user, "tests")
    finally:
        await database.dispose()
    return {"Authorization": f"Bearer {token}"}


async def test_while_postgres_is_down_the_api_answers_503_with_retry_after_then_recovers_at_once(
    client: httpx.AsyncClient, migrated: Settings, own_postgres: ThrowawayPostgres
) -> None:
    headers = await _token(migrated)
    assert (await client.get("/api/v1/repositories", headers=headers)).status_code == 200  # pools a connection

    own_postgres.stop()
    try:
        for path in ("/api/v1/repositories", "/api/v1/jobs", "/api/v1/organizations"):
            down = await client.get(path, headers=headers)
            assert down.status_code == 503, down.text
            body: dict[str, Any] = down.json()
            assert body["error"] == "database_unavailable"
            assert "retry" in body["detail"].lower()
            assert int(down.headers["retry-after"]) > 0
    finally:
        own_postgres.start()

    # The pooled connections died with the server; the very first request after it is back succeeds.
    assert (await client.get("/api/v1/repositories", headers=headers)).status_code == 200


async def test_the_first_request_after_a_quiet_postgres_restart_succeeds(
    client: httpx.AsyncClient, migrated: Settings, own_postgres: ThrowawayPostgres
) -> None:
    headers = await _token(migrated)
    assert (await client.get("/api/v1/repositories", headers=headers)).status_code == 200
    own_postgres.restart()  # no request meanwhile: the pool still holds the connection the restart closed
    assert (await client.get("/api/v1/repositories", headers=headers)).status_code == 200
