"""Fixtures of the dashboard tests: the real app over httpx with a signed-in browser session.

Run with `AUTODEVOPS_TEST_DATABASE=autodevops_test_dash` next to other suites. Jobs go to Redis under
`JOBS_PREFIX` (removed afterwards).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from autodevops.auth import sessions
from autodevops.config import Settings
from autodevops.db import Database, tenant_session
from platform_support import Tenant, forget_redis_keys, test_database_name

# Per test database (and so per xdist worker): parallel runs never clear each other's keys.
JOBS_PREFIX = f"test-dash-{test_database_name()}"
AI_PREFIX = f"test-dash-ai-{test_database_name()}"
HTML = {"Accept": "text/html"}


def dashboard_overrides(**extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "public_url": "http://localhost:8000",
        "session_cookie_secure": False,
        "jobs_key_prefix": JOBS_PREFIX,
        "ai_key_prefix": AI_PREFIX,
    }
    values.update(extra)
    return values


@dataclass
class Browser:
    """An httpx client holding one user's session cookie, and that session's CSRF token."""

    client: httpx.AsyncClient
    csrf: str

    async def get(self, url: str, **kw: Any) -> httpx.Response:
        return await self.client.get(url, headers=HTML, **kw)

    async def post(self, url: str, data: dict[str, str] | None = None, *, csrf: bool = True) -> httpx.Response:
        form = dict(data or {})
        if csrf:
            form["csrf_token"] = self.csrf
        return await self.client.post(url, data=form, headers=HTML)


async def sign_in(client: httpx.AsyncClient, database: Database, tenant: Tenant) -> Browser:
    """Give `client` a session cookie for `tenant`'s user, as the GitHub callback would."""
    transport: Any = client._transport
    settings: Settings = transport.app.state.settings
    async with tenant_session(database, user_id=tenant.user_id) as session:
        token = await sessions.start_session(session, settings, tenant.user_id)
    client.cookies.set(sessions.cookie_name(settings), token)
    claims = sessions.verify_session_token(settings, token)
    return Browser(client, sessions.csrf_token(settings, claims))


@pytest.fixture
async def dash_client(make_api_client: Any, clean_db: None) -> AsyncIterator[httpx.AsyncClient]:
    client: httpx.AsyncClient = await make_api_client(**dashboard_overrides())
    yield client
    await forget_redis_keys(JOBS_PREFIX)
