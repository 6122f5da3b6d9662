"""One transaction per request, committed before the response: a failed COMMIT is a 500, not a 200;
after-commit callbacks run only after a successful COMMIT and are dropped on rollback."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.auth.dependencies import CurrentUser
from autodevops.db import Database, DBSession, after_commit, tenant_of, tenant_session
from autodevops.errors import Conflict
from autodevops.models import Organization
from autodevops.organization import service as organization_service
from autodevops.web import create_app

# A constraint checked only at COMMIT: the handler finishes happily, the COMMIT fails.
DEFERRED_FAILURE = (
    "CREATE TEMP TABLE commit_probe (id int PRIMARY KEY, "
    "ref int REFERENCES commit_probe (id) DEFERRABLE INITIALLY DEFERRED) ON COMMIT DROP",
    "INSERT INTO commit_probe VALUES (1, 2)",
)


def probe_router(calls: list[str]) -> APIRouter:
    router = APIRouter(prefix="/api/v1/test-probe")

    async def record_call() -> None:
        calls.append("after_commit")

    @router.post("/{organization_id}/rename-then-fail-commit")
    async def rename_then_fail(organization_id: uuid.UUID, user: CurrentUser, session: DBSession) -> dict[str, str]:
        await organization_service.rename_organization(session, user, organization_id, "Renamed")
        after_commit(session, record_call)
        for statement in DEFERRED_FAILURE:
            await session.execute(text(statement))
        return {"status": "ok"}

    @router.post("/{organization_id}/rename")
    async def rename(organization_id: uuid.UUID, user: CurrentUser, session: DBSession) -> dict[str, str]:
        await organization_service.rename_organization(session, user, organization_id, "Renamed")
        after_commit(session, record_call)
        return {"status": "ok"}

    @router.post("/{organization_id}/rename-then-conflict")
    async def rename_then_conflict(organization_id: uuid.UUID, user: CurrentUser, session: DBSession) -> dict[str, str]:
        await organization_service.rename_organization(session, user, organization_id, "Renamed")
        after_commit(session, record_call)
        raise Conflict("changed my mind")

    return router


@pytest.fixture
async def probe(pg_settings: Any, clean_db: None) -> AsyncIterator[tuple[httpx.AsyncClient, list[str]]]:
    """A client over the real app plus probe routes; `calls` records after-commit callbacks."""
    calls: list[str] = []
    app = create_app(pg_settings)
    app.include_router(probe_router(calls))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client, calls


async def organization_name(database: Database, organization_id: uuid.UUID) -> str | None:
    async with tenant_session(database, organization_id=organization_id) as session:
        organization = await session.get(Organization, organization_id)
        return organization.name if organization else None


async def test_failed_commit_is_a_500_and_changes_nothing(probe: Any, make_tenant: Any, database: Database) -> None:
    client, calls = probe
    tenant = await make_tenant(organization="Original")
    response = await client.post(
        f"/api/v1/test-probe/{tenant.organization_id}/rename-then-fail-commit", headers=tenant.headers
    )
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    assert await organization_name(database, tenant.organization_id) == "Original"
    assert calls == []  # the after-commit callback was dropped


async def test_successful_request_commits_then_runs_callbacks(probe: Any, make_tenant: Any, database: Database) -> None:
    client, calls = probe
    tenant = await make_tenant(organization="Original")
    response = await client.post(f"/api/v1/test-probe/{tenant.organization_id}/rename", headers=tenant.headers)
    assert response.status_code == 200
    assert await organization_name(database, tenant.organization_id) == "Renamed"
    assert calls == ["after_commit"]


async def test_app_error_rolls_back_and_drops_callbacks(probe: Any, make_tenant: Any, database: Database) -> None:
    client, calls = probe
    tenant = await make_tenant(organization="Original")
    response = await client.post(
        f"/api/v1/test-probe/{tenant.organization_id}/rename-then-conflict", headers=tenant.headers
    )
    assert response.status_code == 409
    assert await organization_name(database, tenant.organization_id) == "Original"
    assert calls == []


async def test_after_commit_callback_sees_committed_data(make_tenant: Any, database: Database) -> None:
    tenant = await make_tenant(organization="Original")
    seen: list[str | None] = []

    async def check_from_another_connection() -> None:
        seen.append(await organization_name(database, tenant.organization_id))

    async with tenant_session(database, user_id=tenant.user_id) as session:
        await organization_service.rename_organization(session, tenant.user, tenant.organization_id, "Renamed")
        after_commit(session, check_from_another_connection)
        assert seen == []
    assert seen == ["Renamed"]


async def test_failing_callback_does_not_stop_the_others(make_tenant: Any, database: Database) -> None:
    tenant = await make_tenant()
    calls: list[str] = []

    async def broken() -> None:
        raise RuntimeError("queue down")

    async def works() -> None:
        calls.append("ran")

    async with tenant_session(database, user_id=tenant.user_id) as session:
        after_commit(session, broken)
        after_commit(session, works)
    assert calls == ["ran"]


async def test_tenant_session_rolls_back_on_error(make_tenant: Any, database: Database) -> None:
    tenant = await make_tenant(organization="Original")
    calls: list[str] = []

    async def record() -> None:
        calls.append("ran")

    async def failing_job() -> None:
        async with tenant_session(database, user_id=tenant.user_id) as session:
            await organization_service.rename_organization(session, tenant.user, tenant.organization_id, "Renamed")
            after_commit(session, record)
            raise RuntimeError("job failed")

    with pytest.raises(RuntimeError, match="job failed"):
        await failing_job()
    assert await organization_name(database, tenant.organization_id) == "Original"
    assert calls == []


async def current_context(session: AsyncSession) -> tuple[str, str]:
    row = (
        await session.execute(
            text("SELECT current_setting('app.user_id', true), current_setting('app.organization_id', true)")
        )
    ).one()
    return row[0] or "", row[1] or ""


async def test_context_is_set_in_every_transaction_and_never_leaks(make_tenant: Any, database: Database) -> None:
    tenant = await make_tenant()
    async with tenant_session(database, user_id=tenant.user_id) as session:
        assert await current_context(session) == (str(tenant.user_id), "")
        await session.commit()  # a second transaction on the same session gets the context again
        assert await current_context(session) == (str(tenant.user_id), "")
        assert tenant_of(session).user_id == tenant.user_id
    # A pooled connection handed to the next session carries nothing over (the settings are transaction-local).
    for _ in range(3):
        async with database.sessionmaker() as session:
            assert await current_context(session) == ("", "")
