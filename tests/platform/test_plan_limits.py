"""Plan limits at the API and in the dashboard, on the real app, PostgreSQL and Redis: repositories allowed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from autodevops.ai import queries as ai_queries
from autodevops.config import PlanLimits, Settings
from autodevops.db import Database, tenant_session
from autodevops.models import Analysis, Job, Repository, utcnow
from autodevops.organization import plans, quotas
from platform_support import MakeTenant, forget_redis_keys

HTML = {"Accept": "text/html"}


def small_plans(pg_settings: Settings, **limits: Any) -> dict[str, PlanLimits]:
    """The configured plans with the free plan's `limits` replaced."""
    free = pg_settings.plans["free"].model_copy(update=limits)
    return {**pg_settings.plans, "free": free}


@pytest.fixture
async def client(make_api_client: Any, pg_settings: Settings, clean_db: None) -> httpx.AsyncClient:
    return await make_api_client(plans=small_plans(pg_settings, repositories=2))


def url(n: int) -> str:
    return f"https://140.82.112.3/acme/r{n}.git"


async def test_repositories_over_the_plan_are_refused_until_one_is_removed(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant, other = await make_tenant(), await make_tenant()
    org = str(tenant.organization_id)
    created = []
    for n in range(2):
        answer = await client.post(
            "/api/v1/repositories", json={"organization_id": org, "url": url(n)}, headers=tenant.headers
        )
        assert answer.status_code == 201, answer.text
        created.append(answer.json()["id"])

    refused = await client.post(
        "/api/v1/repositories", json={"organization_id": org, "url": url(2)}, headers=tenant.headers
    )
    assert refused.status_code == 402
    body = refused.json()
    assert body["error"] == "quota_exceeded"
    assert {k: body["detail"][k] for k in ("limit", "plan", "allowed", "used", "resets_at")} == {
        "limit": "repositories",
        "plan": "free",
        "allowed": 2,
        "used": 2,
        "resets_at": None,
    }
    assert "does not reset: remove one or change plan" in body["detail"]["message"]
    listed = await client.get("/api/v1/repositories", params={"organization_id": org}, headers=tenant.headers)
    assert len(listed.json()["items"]) == 2

    # Another organization's count is its own.
    theirs = await client.post(
        "/api/v1/repositories",
        json={"organization_id": str(other.organization_id), "url": url(2)},
        headers=other.headers,
    )
    assert theirs.status_code == 201

    # Removing one makes room again.
    assert (await client.delete(f"/api/v1/repositories/{created[0]}", headers=tenant.headers)).status_code == 204
    again = await client.post(
        "/api/v1/repositories", json={"organization_id": org, "url": url(2)}, headers=tenant.headers
    )
    assert again.status_code == 201


async def test_a_second_connection_waits_for_the_first_then_counts_it(
    pg_settings: Settings, database: Database, make_tenant: MakeTenant
) -> None:
    """Two connections racing for the last place: the second waits on the first's transaction, then is refused."""
    tenant = await make_tenant()
    org = tenant.organization_id
    settings = pg_settings.model_copy(update={"plans": small_plans(pg_settings, repositories=1)})
    async with tenant_session(database, organization_id=org) as first:
        await quotas.add_repository(
            first, settings, Repository(organization_id=org, name="a", source="git", clone_url=url(0)), "dup"
        )

        async def second() -> None:
            async with tenant_session(database, organization_id=org) as session:
                repository = Repository(organization_id=org, name="b", source="git", clone_url=url(1))
                await quotas.add_repository(session, settings, repository, "dup")

        waiting = asyncio.create_task(second())
        done, _ = await asyncio.wait({waiting}, timeout=0.5)
        assert not done, "the second check did not wait for the first connection's transaction"
    with pytest.raises(quotas.QuotaExceeded):
        await waiting


async def test_the_dashboard_form_says_why_inline_and_keeps_what_was_typed(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    org = str(tenant.organization_id)
    page = f"/orgs/{org}/repositories"
    headers = {**HTML, **tenant.headers}
    for n in range(2):
        added = await client.post(page, data={"url": url(n)}, headers=headers)
        assert added.status_code == 303, added.text
    listing = await client.get(page, headers=headers)
    assert "2 of 2 repositories on the free plan: none left." in listing.text

    refused = await client.post(page, data={"url": url(7), "default_branch": "trunk"}, headers=headers)
    assert refused.status_code == 402
    assert "text/html" in refused.headers["content-type"]
    text = refused.text
    assert '<p id="repo-url-error" class="error" role="alert">The free plan allows 2 repositories' in text
    assert "remove a repository or ask an operator to change the plan" in text
    assert f'value="{url(7)}"' in text
    assert 'value="trunk"' in text
    assert 'aria-describedby="repo-url-error"' in text
    assert "<h1>Repositories</h1>" in text  # the page itself, not an error page


@pytest.fixture
async def limited(make_api_client: Any, pg_settings: Settings, clean_db: None) -> AsyncIterator[httpx.AsyncClient]:
    """Rate limits on: 3 API requests a minute per free organization (the per-user limit well above it)."""
    prefix = f"test-plan-rate-{uuid.uuid4().hex[:8]}"
    yield await make_api_client(
        plans=small_plans(pg_settings, api_requests_per_minute=3),
        rate_limit_enabled=True,
        rate_limit_per_user="1000/minute",
        rate_limit_per_ip="1000/minute",
        rate_limit_key_prefix=prefix,
    )
    await forget_redis_keys(prefix)


async def test_api_requests_are_limited_per_organization_by_its_plan(
    limited: httpx.AsyncClient, make_tenant: MakeTenant, pg_settings: Settings
) -> None:
    owner, other = await make_tenant(), await make_tenant()
    org = str(owner.organization_id)
    # Connecting a repository names the organization in its body: counted like any request about it.
    repository = await limited.post(
        "/api/v1/repositories", json={"organization_id": org, "url": url(0)}, headers=owner.headers
    )
    assert repository.status_code == 201
    assert repository.headers["X-RateLimit-Remaining"] == "2"
    assert (await limited.get("/api/v1/repositories", headers=owner.headers)).status_code == 200  # about none
    # One of its repositories, or a listing filtered to it (answered with a ready response): the same budget.
    answer = await limited.get(f"/api/v1/repositories/{repository.json()['id']}", headers=owner.headers)
    assert answer.status_code == 200
    assert (answer.headers["X-RateLimit-Limit"], answer.headers["X-RateLimit-Remaining"]) == ("3", "1")
    listing = await limited.get(f"/api/v1/repositories?organization_id={org}", headers=owner.headers)
    assert listing.status_code == 200
    assert (listing.headers["X-RateLimit-Limit"], listing.headers["X-RateLimit-Remaining"]) == ("3", "0")

    refused = await limited.get(f"/api/v1/organizations/{org}/members", headers=owner.headers)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    body = refused.json()
    assert body["error"] == "rate_limited"
    assert {k: body["detail"][k] for k in ("limit", "plan", "allowed", "organization_id")} == {
        "limit": "api_requests_per_minute",
        "plan": "free",
        "allowed": 3,
        "organization_id": org,
    }
    assert body["detail"]["retry_after"] == int(refused.headers["Retry-After"])

    # Other organizations and requests about no organization are not held back by this one's budget.
    assert (
        await limited.get(f"/api/v1/organizations/{other.organization_id}", headers=other.headers)
    ).status_code == 200
    assert (await limited.get("/api/v1/organizations", headers=owner.headers)).status_code == 200
    # Someone outside an organization cannot spend its budget: its id in their path, or in a body, is a 404 and
    # not counted.
    outsider = await limited.get(f"/api/v1/organizations/{other.organization_id}", headers=owner.headers)
    assert outsider.status_code == 404
    into_theirs = {"organization_id": str(other.organization_id), "url": url(1)}
    assert (await limited.post("/api/v1/repositories", json=into_theirs, headers=owner.headers)).status_code == 404
    theirs = await limited.get(f"/api/v1/organizations/{other.organization_id}", headers=other.headers)
    assert theirs.headers["X-RateLimit-Remaining"] == "1"

    # A larger plan is a larger budget in the same minute.
    await plans.set_plan(pg_settings, owner.organization_id, "team")
    assert (await limited.get(f"/api/v1/organizations/{org}", headers=owner.headers)).status_code == 200


async def test_usage_against_every_limit_in_the_api_and_on_the_settings_page(
    limited: httpx.AsyncClient, make_tenant: MakeTenant, database: Database, pg_settings: Settings
) -> None:
    tenant = await make_tenant()
    org = tenant.organization_id
    repository = await limited.post(
        "/api/v1/repositories", json={"organization_id": str(org), "url": url(0)}, headers=tenant.headers
    )
    async with tenant_session(database, organization_id=org) as session:
        repository_id = uuid.UUID(repository.json()["id"])
        session.add(Analysis(organization_id=org, repository_id=repository_id, status="succeeded"))
        session.add(Job(organization_id=org, queue="analysis", name="analysis.run", payload={}, state="active"))
        session.add(Job(organization_id=org, queue="analysis", name="analysis.run", payload={}, state="pending"))
        await ai_queries.add_usage(
            session,
            organization_id=org,
            day=utcnow().date(),
            cache_hit=False,
            calls=1,
            input_tokens=1200,
            output_tokens=300,
            cost_usd=Decimal(0),
        )

    answer = await limited.get(f"/api/v1/organizations/{org}/usage", headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["plan"] == "free"
    limits = {item["limit"]: item for item in body["limits"]}
    used = {name: (item["used"], item["allowed"]) for name, item in limits.items()}
    free = small_plans(pg_settings, api_requests_per_minute=3)["free"]
    assert used == {
        "repositories": (1, free.repositories),
        "analyses_per_day": (1, free.analyses_per_day),
        "ai_tokens_per_month": (1500, free.ai_tokens_per_month),
        "concurrent_jobs": (1, free.concurrent_jobs),
        "api_requests_per_minute": (2, 3),  # connecting the repository, and this request itself
    }
    now = utcnow()
    assert limits["repositories"]["resets_at"] is None
    assert "remove a repository or change plan" in limits["repositories"]["resets"]
    assert datetime.fromisoformat(limits["analyses_per_day"]["resets_at"]) == quotas.start_of_day(now) + timedelta(
        days=1
    )
    assert datetime.fromisoformat(limits["ai_tokens_per_month"]["resets_at"]) == quotas.next_month(now)
    assert limits["concurrent_jobs"]["resets_at"] is None
    api_reset = datetime.fromisoformat(limits["api_requests_per_minute"]["resets_at"])
    assert now < api_reset <= now + timedelta(seconds=61)

    # The settings page shows the same, server-rendered (no script needed).
    page = await limited.get(f"/orgs/{org}/settings", headers={**HTML, **tenant.headers})
    assert page.status_code == 200
    text = page.text
    assert "This organization is on the <strong>free</strong> plan." in text
    row = text.split('<tr id="limit-ai_tokens_per_month">', 1)[1].split("</tr>", 1)[0]
    assert '<th scope="row">AI tokens this month</th>' in row
    assert "<td>1,500</td>" in row
    assert f"<td>{free.ai_tokens_per_month:,}</td>" in row
    assert f"{quotas.next_month(now):%Y-%m-%d} 00:00 UTC" in row
    repositories_row = text.split('<tr id="limit-repositories">', 1)[1].split("</tr>", 1)[0]
    assert "does not reset: remove a repository or change plan" in repositories_row

    # Another organization's usage is not found.
    other = await make_tenant()
    assert (await limited.get(f"/api/v1/organizations/{org}/usage", headers=other.headers)).status_code == 404
