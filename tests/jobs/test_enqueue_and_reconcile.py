"""Enqueue after COMMIT (nothing on rollback), ids-only messages, and the reconciler without workers."""

from __future__ import annotations

import uuid

import pytest
import redis
from sqlalchemy import text

from autodevops.config import Settings
from autodevops.db import tenant_session
from autodevops.jobs.broker import Broker
from autodevops.jobs.reconciler import Reconciler
from autodevops.jobs.service import enqueue_job

from .conftest import KEY_PREFIX, Jobs, forget_queue


class Boom(Exception):
    pass


async def test_a_rolled_back_request_queues_nothing(jobs: Jobs, redis_sync: redis.Redis) -> None:
    async def request_that_fails() -> None:
        async with tenant_session(jobs.database, organization_id=jobs.org) as session:
            await enqueue_job(
                session, jobs.runtime, organization_id=jobs.org, queue="analysis", name="testing.record", payload={}
            )
            raise Boom

    with pytest.raises(Boom):
        await request_that_fails()
    assert redis_sync.zcard(f"{KEY_PREFIX}:analysis:prioritized") == 0
    async with jobs.admin.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM jobs")) == 0


async def test_a_committed_job_is_queued_with_ids_only(jobs: Jobs, redis_sync: redis.Redis) -> None:
    async with tenant_session(jobs.database, organization_id=jobs.org) as session:
        job = await enqueue_job(
            session,
            jobs.runtime,
            organization_id=jobs.org,
            queue="sync",
            name="repository.sync",
            payload={"repository_id": str(uuid.uuid4())},
            correlation_id="req-123",
        )
        # Not before COMMIT.
        assert redis_sync.zcard(f"{KEY_PREFIX}:sync:prioritized") == 0
    # Queued by its plan's priority (docs/jobs.md).
    assert redis_sync.zrange(f"{KEY_PREFIX}:sync:prioritized", 0, -1) == [str(job.id)]
    expected = {"job_id": str(job.id), "organization_id": str(jobs.org), "correlation_id": "req-123"}
    assert await jobs.runtime.broker.message("sync", str(job.id)) == expected


async def test_reconciler_requeues_lost_jobs_and_keeps_the_rest_of_a_retry_delay(
    jobs: Jobs, settings: Settings, redis_sync: redis.Redis
) -> None:
    pending = await jobs.enqueue("testing.record", "analysis")
    retrying = await jobs.enqueue("testing.record", "analysis")
    finished = await jobs.enqueue("testing.record", "analysis")
    async with jobs.admin.begin() as conn:
        # A retry due 2 min (x0.01) after its failure, and a job that already completed.
        await conn.execute(
            text("UPDATE jobs SET state = 'failed', attempts = 2, updated_at = now() WHERE id = :i"), {"i": retrying}
        )
        await conn.execute(text("UPDATE jobs SET state = 'completed' WHERE id = :i"), {"i": finished})
    forget_queue(redis_sync)

    broker = Broker(settings.effective_queue_redis_url, prefix=settings.jobs_key_prefix)
    reconciler = Reconciler(settings, jobs.database, broker)
    try:
        report = await reconciler.run_once(min_age_s=0)
        assert sorted(report.requeued) == sorted([str(pending), str(retrying)])
        assert await broker.state("analysis", str(pending)) == "prioritized"
        assert await broker.state("analysis", str(retrying)) == "delayed"
        assert await broker.state("analysis", str(finished)) is None
        delay_ms = int(redis_sync.hget(f"{KEY_PREFIX}:analysis:{retrying}", "delay") or 0)
        assert 0 < delay_ms <= 1200
        # Running it again changes nothing: the jobs are known to Redis now.
        assert (await reconciler.run_once(min_age_s=0)).requeued == []
    finally:
        await reconciler.close()
        await broker.close()


async def test_reconciler_leaves_a_just_requeued_dead_letter_alone(
    jobs: Jobs, settings: Settings, redis_sync: redis.Redis
) -> None:
    # The moment after `dlq requeue` commits: the row is pending again, bullmq still lists the old failed entry
    # (the requeue removes it after the COMMIT). Marking it dead now would undo the requeue.
    requeued = await jobs.enqueue("testing.record", "analysis")
    lost = await jobs.enqueue("testing.record", "analysis")
    forget_queue(redis_sync)
    async with jobs.admin.begin() as conn:
        await conn.execute(
            text("UPDATE jobs SET created_at = now() - interval '1 hour', updated_at = now() WHERE id = :i"),
            {"i": requeued},
        )
        await conn.execute(
            text(
                "UPDATE jobs SET created_at = now() - interval '1 hour', updated_at = now() - interval '1 hour' "
                "WHERE id = :i"
            ),
            {"i": lost},
        )
    for job_id in (requeued, lost):  # bullmq's failed entry: the job's hash and its place in the failed set
        redis_sync.hset(f"{KEY_PREFIX}:analysis:{job_id}", mapping={"name": "testing.record", "failedReason": "boom"})
        redis_sync.zadd(f"{KEY_PREFIX}:analysis:failed", {str(job_id): 0})

    broker = Broker(settings.effective_queue_redis_url, prefix=settings.jobs_key_prefix)
    reconciler = Reconciler(settings, jobs.database, broker)
    try:
        report = await reconciler.run_once(min_age_s=60)
        assert report.dead_lettered == [str(lost)]  # failed in Redis and untouched for a minute: dead
        assert (await jobs.get(requeued)).state == "pending"
        assert (await jobs.get(lost)).state == "dead_letter"
    finally:
        await reconciler.close()
        await broker.close()
