"""The job system across Redis faults, on a Redis server of the test's own (restarted, stopped, hung).

The shared Redis on 6379 is never touched: `own_redis` starts `redis-server` on a free port without
persistence, so a restart comes back empty, as an unpersisted production Redis would.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from autodevops.config import Settings
from autodevops.db import Database, tenant_session
from autodevops.jobs.service import JobsRuntime
from autodevops.models import Repository
from platform_support import platform_settings
from throwaway_services import ThrowawayRedis

from .conftest import JOBS_SETTINGS, Jobs, Workers

REDIS_TIMEOUT_S = 0.5


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[ThrowawayRedis]:
    server = ThrowawayRedis(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def own_runtime(own_redis: ThrowawayRedis, settings: Settings) -> AsyncIterator[JobsRuntime]:
    runtime = JobsRuntime.from_settings(
        platform_settings(**{**JOBS_SETTINGS, "queue_redis_url": own_redis.url(), "redis_timeout_s": REDIS_TIMEOUT_S})
    )
    yield runtime
    await runtime.close()


@pytest.fixture
def own_jobs(database: Database, own_runtime: JobsRuntime, jobs: Jobs) -> Jobs:
    return Jobs(database, own_runtime, jobs.admin, jobs.org)


async def test_enqueues_after_a_redis_restart_all_reach_the_queue(own_jobs: Jobs, own_redis: ThrowawayRedis) -> None:
    # Ten pooled connections, all made stale by the restart: before the clients retried, 7 of 10 enqueues
    # failed with "Connection closed by server" while the API answered 202.
    await asyncio.gather(*(own_jobs.enqueue("testing.record", "analysis") for _ in range(10)))
    own_redis.restart()
    ids = await asyncio.gather(*(own_jobs.enqueue("testing.record", "analysis") for _ in range(10)))
    states = [await own_jobs.runtime.broker.state("analysis", str(job_id)) for job_id in ids]
    assert states == ["prioritized"] * 10  # queued, by plan priority


@pytest.mark.slow
async def test_a_push_refused_by_a_stopped_redis_is_handed_to_the_workers_at_once(
    own_jobs: Jobs, own_redis: ThrowawayRedis, workers: Workers
) -> None:
    # The periodic reconciliation is an hour away: only the hand-over can bring the job back.
    workers.start("analysis", AUTODEVOPS_QUEUE_REDIS_URL=own_redis.url(), AUTODEVOPS_JOBS_RECONCILE_INTERVAL_S="3600")
    warm = await own_jobs.enqueue("testing.record", "analysis")
    await own_jobs.wait_state(warm, "completed")

    own_redis.stop()
    started = time.monotonic()
    job_id = await own_jobs.enqueue("testing.record", "analysis")  # committed; the push fails
    assert time.monotonic() - started < 10 * REDIS_TIMEOUT_S  # bounded, not the 40 s of a hung client
    assert (await own_jobs.get(job_id)).state == "pending"

    own_redis.start()  # back, and empty
    job = await own_jobs.wait_state(job_id, "completed", within=15)
    assert job.attempts == 1
    assert len(await own_jobs.effects(job_id)) == 1
    assert "handed-over job queued" in workers.logs()


async def test_a_hung_redis_costs_an_enqueue_only_its_timeout(own_jobs: Jobs, own_redis: ThrowawayRedis) -> None:
    await own_jobs.enqueue("testing.record", "analysis")
    own_redis.pause()
    try:
        started = time.monotonic()
        job_id: uuid.UUID = await own_jobs.enqueue("testing.record", "analysis")
        elapsed = time.monotonic() - started
    finally:
        own_redis.resume()
    # The push gave up within the Redis bound (plus the commit and the hand-over); the job is recorded.
    assert elapsed < 10 * REDIS_TIMEOUT_S
    assert (await own_jobs.get(job_id)).state == "pending"


@pytest.mark.slow
async def test_an_event_stream_whose_redis_goes_away_ends_cleanly_with_the_jobs_durable_state(
    make_api_client: Any, make_tenant: Any, jobs: Jobs, own_redis: ThrowawayRedis
) -> None:
    client: httpx.AsyncClient = await make_api_client(
        **{**JOBS_SETTINGS, "queue_redis_url": own_redis.url(), "redis_timeout_s": REDIS_TIMEOUT_S}
    )
    alice = await make_tenant(organization="A")
    async with tenant_session(jobs.database, user_id=alice.user_id) as session:
        repository = Repository(
            organization_id=alice.organization_id, name="w", source="git", clone_url="https://140.82.112.3/a/w.git"
        )
        session.add(repository)
        await session.flush()
    started = await client.post(f"/api/v1/repositories/{repository.id}/analyses", headers=alice.headers)
    job_id = started.json()["id"]

    async def kill_redis_soon() -> None:
        await asyncio.sleep(0.5)  # the stream is waiting for live events by then
        await asyncio.to_thread(own_redis.stop)

    killer = asyncio.create_task(kill_redis_soon())
    response = await client.get(f"/api/v1/jobs/{job_id}/events", headers=alice.headers)
    await killer
    # Before, the stream died with an unhandled error; now its last message says where the job stands.
    assert response.status_code == 200
    last = [block for block in response.text.split("\n\n") if block.startswith("event:")][-1]
    assert last.startswith("event: unavailable")
    data = json.loads(last.split("data: ", 1)[1])
    assert data.pop("at").endswith("Z")  # the server's time of the message
    assert data == {"state": "pending", "detail": "Live progress is unavailable right now; reconnect to resume."}
