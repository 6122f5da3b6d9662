"""Plans and fairness on the real queue: who starts first when organizations have backlogs (docs/jobs.md).

Jobs are enqueued through the service as the platform does, then taken from Redis one by one the way a
worker's free slot takes them (`Consumer.fetch`), without running them.
"""

from __future__ import annotations

import uuid
from typing import Any

import redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from autodevops.config import Settings
from autodevops.db import Database, tenant_session
from autodevops.jobs.broker import Consumer
from autodevops.jobs.service import JobsRuntime

from .conftest import Jobs, create_org


async def _put_on_plan(admin: AsyncEngine, org: uuid.UUID, plan: str) -> None:
    async with admin.begin() as connection:
        await connection.execute(text("UPDATE organizations SET plan = :p WHERE id = :o"), {"p": plan, "o": org})


async def _start_order(settings: Settings, count: int) -> list[str]:
    """The organizations of the next `count` jobs a worker would start, in order."""

    async def never(_delivery: Any) -> None:  # pragma: no cover - nothing is run here
        raise AssertionError("not run")

    consumer = Consumer(
        settings.effective_queue_redis_url,
        prefix=settings.jobs_key_prefix,
        queues=["analysis"],
        processor=never,
        lock_duration_ms=60_000,
        stalled_interval_ms=60_000,
    )
    try:
        order = []
        for _ in range(count):
            fetched = await consumer.fetch()
            assert fetched is not None
            order.append(str(fetched[1].data["organization_id"]))
        return order
    finally:
        await consumer.close()


async def _enqueue(database: Database, runtime: JobsRuntime, admin: AsyncEngine, org: uuid.UUID, n: int) -> None:
    jobs = Jobs(database, runtime, admin, org)
    for _ in range(n):
        await jobs.enqueue("testing.record", "analysis")


async def test_a_backlog_delays_only_its_own_organization(
    settings: Settings, database: Database, runtime: JobsRuntime, pg_admin: AsyncEngine, redis_sync: redis.Redis
) -> None:
    flood_id = await create_org(pg_admin, "flood")
    other_id = await create_org(pg_admin, "other")
    paying_id = await create_org(pg_admin, "paying")
    await _put_on_plan(pg_admin, paying_id, "enterprise")
    await _enqueue(database, runtime, pg_admin, flood_id, 6)  # a free organization's backlog
    await _enqueue(database, runtime, pg_admin, other_id, 2)  # another free organization, later
    await _enqueue(database, runtime, pg_admin, paying_id, 1)  # an enterprise organization, last
    a, b, c = str(flood_id), str(other_id), str(paying_id)
    # Enterprise first; then the two free organizations take turns, the later one no longer behind the backlog.
    assert await _start_order(settings, 9) == [c, a, b, a, b, a, a, a, a]


async def test_a_higher_plan_cannot_starve_a_lower_one(
    settings: Settings, database: Database, runtime: JobsRuntime, pg_admin: AsyncEngine, redis_sync: redis.Redis
) -> None:
    paying = await create_org(pg_admin, "paying")
    free = await create_org(pg_admin, "free")
    await _put_on_plan(pg_admin, paying, "enterprise")
    await _enqueue(database, runtime, pg_admin, paying, 20)  # an enterprise backlog first
    await _enqueue(database, runtime, pg_admin, free, 1)
    order = await _start_order(settings, 21)
    # Free costs 4 to enterprise's 1: its first job starts after the enterprise organization's first four.
    assert order.index(str(free)) == 4


async def test_the_queue_priority_is_kept_for_the_reconciler(
    database: Database, runtime: JobsRuntime, pg_admin: AsyncEngine, redis_sync: redis.Redis
) -> None:
    org = await create_org(pg_admin, "team")
    await _put_on_plan(pg_admin, org, "team")
    await _enqueue(database, runtime, pg_admin, org, 3)
    async with pg_admin.connect() as connection:
        stored = (await connection.scalars(text("SELECT priority FROM jobs ORDER BY priority"))).all()
    assert stored == [2, 4, 6]  # the team plan's cost, one step per waiting job


async def test_over_the_daily_analyses_the_api_answers_quota_exceeded(
    make_api_client: Any, runtime: JobsRuntime, jobs: Any, make_tenant: Any
) -> None:
    from autodevops.config import PlanLimits
    from autodevops.models import Repository

    from .conftest import JOBS_SETTINGS

    tight = PlanLimits(
        repositories=1,
        analyses_per_day=1,
        ai_tokens_per_month=0,
        concurrent_jobs=1,
        api_requests_per_minute=60,
        queue_cost=4,
    )
    client = await make_api_client(**JOBS_SETTINGS, plans={"free": tight})
    alice = await make_tenant()
    async with tenant_session(jobs.database, user_id=alice.user_id) as session:
        repository = Repository(
            organization_id=alice.organization_id, name="w", source="git", clone_url="https://140.82.112.3/a/w.git"
        )
        session.add(repository)
        await session.flush()
    url = f"/api/v1/repositories/{repository.id}/analyses"
    assert (await client.post(url, headers=alice.headers)).status_code == 202
    refused = await client.post(url, headers=alice.headers)
    assert refused.status_code == 402
    body = refused.json()
    assert body["error"] == "quota_exceeded"
    assert body["detail"]["limit"] == "analyses_per_day"
    assert (body["detail"]["allowed"], body["detail"]["used"]) == (1, 1)
    assert body["detail"]["resets_at"].endswith("T00:00:00+00:00")
    # The dashboard's Analyze button: the same refusal, as a page that names the limit and its reset.
    page = await client.post(f"/repositories/{repository.id}/analyze", headers={"Accept": "text/html", **alice.headers})
    assert page.status_code == 402
    assert "<title>Plan limit reached" in page.text
    assert "The free plan allows 1 analysis a day and this organization has used them" in page.text
