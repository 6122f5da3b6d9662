"""The job system end to end with real worker processes, real Redis (database 13) and real PostgreSQL.

Time scale 0.01: the 30 s / 2 min retry delays take 0.3 s / 1.2 s; timeouts shrink the same way.
"""

from __future__ import annotations

import asyncio
import os
import signal

import pytest
import redis
from sqlalchemy import func, select, text

from autodevops.db import tenant_session
from autodevops.jobs import queries
from autodevops.jobs.reconciler import job_message
from autodevops.jobs.runner import uuid_lock_key
from autodevops.jobs.service import requeue_dead_letter

from .conftest import DB_NAME, KEY_PREFIX, Jobs, Workers, eventually, forget_queue

pytestmark = pytest.mark.slow


def _ms(event_id: str) -> int:
    return int(event_id.split("-")[0])


async def test_retries_follow_the_schedule_then_dead_letter_then_requeue_succeeds(jobs: Jobs, workers: Workers) -> None:
    workers.start("analysis")
    job_id = await jobs.enqueue("testing.fail_until_switched", "analysis")

    job = await jobs.wait_state(job_id, "dead_letter")
    assert job.attempts == 3 == job.max_attempts
    assert job.last_error == "RuntimeError: boom on attempt 3"

    # Postgres records the dead letter first (it is the durable record); the broker moves the job to its
    # failed set right after, so that move is waited for rather than raced.
    async def in_failed_set() -> bool:
        return await jobs.runtime.broker.state("analysis", str(job_id)) == "failed"

    await eventually(in_failed_set, within=10.0, what="the job in the broker's failed set")

    events = await jobs.runtime.bus.read(str(job_id))
    stages = [e.stage for e in events if e.stage in ("active", "retrying", "failed")]
    assert stages == ["active", "retrying", "active", "retrying", "active", "failed"]
    actives = [e for e in events if e.stage == "active"]
    retries = [e for e in events if e.stage == "retrying"]
    assert [e.data["attempt"] for e in actives] == [1, 2, 3]
    # Attempt 2 after 30 s, attempt 3 after 2 min, each ±20%, scaled by 0.01.
    for retry, base in zip(retries, (0.30, 1.20), strict=True):
        assert base * 0.8 <= retry.data["delay_s"] <= base * 1.2
    # And no retry started before its delay was over.
    for retry, nxt in zip(retries, actives[1:], strict=True):
        assert _ms(nxt.id) - _ms(retry.id) >= retry.data["delay_s"] * 1000 - 5
    assert events[-1].stage == "failed"
    assert events[-1].terminal
    assert await jobs.effects(job_id) == []

    # Fix the cause, requeue from the dead-letter queue: it runs again with a fresh budget and succeeds.
    await jobs.switch_on(job_id)
    async with tenant_session(jobs.database, organization_id=jobs.org) as session:
        row = await queries.get(session, job_id)
        assert row is not None
        await requeue_dead_letter(session, jobs.runtime, row)
    job = await jobs.wait_state(job_id, "completed")
    assert job.attempts == 1
    assert job.last_error is None
    assert len(await jobs.effects(job_id)) == 1


async def test_a_job_past_its_timeout_is_cancelled_and_counts_as_failed(jobs: Jobs, workers: Workers) -> None:
    workers.start("analysis")
    hung = await jobs.enqueue("testing.hang", "analysis", max_attempts=1)
    job = await jobs.wait_state(hung, "dead_letter")
    assert job.last_error == "timed out after 0.2s (attempt 1 of 1)"
    # The slot was freed: the same single-slot worker goes on to the next job.
    after = await jobs.enqueue("testing.record", "analysis")
    assert (await jobs.wait_state(after, "completed")).attempts == 1


async def test_a_worker_killed_mid_job_is_replaced_and_the_job_completes_exactly_once(
    jobs: Jobs, workers: Workers
) -> None:
    first = workers.start("analysis")
    second = workers.start("analysis")
    job_id = await jobs.enqueue("testing.record", "analysis", {"sleep_s": 1.5})

    async def running_pid() -> int | None:
        for event in await jobs.runtime.bus.read(str(job_id)):
            if event.stage == "analyzing":
                return int(event.data["message"].split()[1])
        return None

    async def started() -> bool:
        return await running_pid() is not None

    await eventually(started, what="the job to start")
    victim = await running_pid()
    assert victim in (first.pid, second.pid)
    os.kill(victim, signal.SIGKILL)

    job = await jobs.wait_state(job_id, "completed")
    effects = await jobs.effects(job_id)
    assert len(effects) == 1
    survivor = second.pid if victim == first.pid else first.pid
    assert effects[0]["pid"] == survivor
    # The killed run used up attempt 1; the survivor completed attempt 2.
    assert job.attempts == 2 == effects[0]["attempt"]


async def test_after_redis_loses_everything_the_reconciler_restores_every_job(
    jobs: Jobs, workers: Workers, redis_sync: redis.Redis
) -> None:
    workers.start("analysis")
    running = await jobs.enqueue("testing.record", "analysis", {"sleep_s": 1.5})
    await jobs.wait_state(running, "active")
    waiting = [await jobs.enqueue("testing.record", "analysis") for _ in range(3)]
    assert redis_sync.zcard(f"{KEY_PREFIX}:analysis:prioritized") == 3  # queued by plan priority

    forget_queue(redis_sync)  # the queue Redis restarted without persistence

    for job_id in [running, *waiting]:
        assert (await jobs.wait_state(job_id, "completed")).state == "completed"
        assert len(await jobs.effects(job_id)) == 1


async def test_under_contention_analysis_runs_before_sync_before_ci_generation(jobs: Jobs, workers: Workers) -> None:
    workers.start("analysis", "sync", "ci_generation", concurrency=1)
    blocker = await jobs.enqueue("testing.record", "analysis", {"sleep_s": 1.0})
    await jobs.wait_state(blocker, "active")
    # Enqueued lowest priority first, while the only slot is busy.
    order = [
        ("testing.record_ci", "ci_generation"),
        ("testing.record_sync", "sync"),
        ("testing.record", "analysis"),
        ("testing.record_ci", "ci_generation"),
        ("testing.record_sync", "sync"),
        ("testing.record", "analysis"),
    ]
    queue_of = {}
    for name, queue in order:
        queue_of[await jobs.enqueue(name, queue)] = queue
    for job_id in queue_of:
        await jobs.wait_state(job_id, "completed")
    ran = [queue_of.get(e["job_id"], "blocker") for e in await jobs.effects() if e["job_id"] in {blocker, *queue_of}]
    assert ran == ["blocker", "analysis", "analysis", "sync", "sync", "ci_generation", "ci_generation"]


async def test_a_duplicate_delivery_does_the_work_once(jobs: Jobs, workers: Workers) -> None:
    workers.start("analysis")
    job_id = await jobs.enqueue("testing.record", "analysis")
    job = await jobs.wait_state(job_id, "completed")

    # The same job delivered again (a reconciler race, a replayed message): acknowledged, not re-run.
    await jobs.runtime.broker.enqueue("analysis", str(job_id), job.name, job_message(job_id, jobs.org, None))

    async def gone_from_redis() -> bool:
        return await jobs.runtime.broker.state("analysis", str(job_id)) is None

    await eventually(gone_from_redis, what="the duplicate to be acknowledged")
    assert len(await jobs.effects(job_id)) == 1
    assert (await jobs.get(job_id)).attempts == 1


async def test_a_delivery_while_the_job_runs_elsewhere_waits_for_it(jobs: Jobs, workers: Workers) -> None:
    """Holding the job's advisory lock stands in for another worker running it right now."""
    async with tenant_session(jobs.database, organization_id=jobs.org) as session:
        row = await queries.insert(
            session,
            organization_id=jobs.org,
            queue="analysis",
            name="testing.record",
            payload={},
            max_attempts=3,
            correlation_id=None,
        )
    job_id = row.id
    async with jobs.admin.connect() as holder:
        await holder.execute(select(func.pg_advisory_lock(uuid_lock_key(job_id))))
        await jobs.runtime.broker.enqueue(
            "analysis", str(job_id), "testing.record", job_message(job_id, jobs.org, None)
        )
        workers.start("analysis")

        async def deferred() -> bool:
            return await jobs.runtime.broker.state("analysis", str(job_id)) == "delayed"

        await eventually(deferred, what="the delivery to be deferred")
        assert (await jobs.get(job_id)).state == "pending"
        assert await jobs.effects(job_id) == []
        await holder.execute(select(func.pg_advisory_unlock(uuid_lock_key(job_id))))
    job = await jobs.wait_state(job_id, "completed")
    assert job.attempts == 1
    assert len(await jobs.effects(job_id)) == 1


async def test_sigterm_lets_the_running_job_finish_then_exits(jobs: Jobs, workers: Workers) -> None:
    proc = workers.start("analysis")
    job_id = await jobs.enqueue("testing.record", "analysis", {"sleep_s": 0.5})
    await jobs.wait_state(job_id, "active")
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(proc.wait, 20) == 0
    assert (await jobs.get(job_id)).state == "completed"
    assert len(await jobs.effects(job_id)) == 1


async def test_sigterm_past_the_grace_period_releases_the_job_to_another_worker(jobs: Jobs, workers: Workers) -> None:
    proc = workers.start("analysis", AUTODEVOPS_JOBS_SHUTDOWN_GRACE_S="0.2")
    job_id = await jobs.enqueue("testing.record", "analysis", {"sleep_s": 2})
    await jobs.wait_state(job_id, "active")
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(proc.wait, 20) == 0
    job = await jobs.get(job_id)
    assert (job.state, job.attempts) == ("pending", 0)
    assert await jobs.effects(job_id) == []

    workers.start("analysis")
    job = await jobs.wait_state(job_id, "completed")
    assert job.attempts == 1
    assert len(await jobs.effects(job_id)) == 1


async def test_an_unknown_task_goes_straight_to_the_dead_letter_queue(jobs: Jobs, workers: Workers) -> None:
    workers.start("sync")
    job_id = await jobs.enqueue("nothing.here", "sync")
    job = await jobs.wait_state(job_id, "dead_letter")
    assert job.last_error == "unknown task 'nothing.here'"
    assert job.attempts == 0


async def test_effects_table_is_private_to_the_test_database(jobs: Jobs) -> None:
    async with jobs.admin.connect() as conn:
        assert await conn.scalar(text("SELECT current_database()")) == DB_NAME
