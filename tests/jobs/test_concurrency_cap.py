"""Concurrent jobs per plan, on real worker processes, PostgreSQL and Redis: an organization never has more jobs
running than its plan allows, across workers; the rest wait (parked, not failed) and each runs exactly once."""

from __future__ import annotations

import os
import signal
import uuid
from datetime import datetime
from typing import Any

import redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from autodevops.config import Settings
from autodevops.db import Database
from autodevops.jobs.service import JobsRuntime

from .conftest import Jobs, Workers, create_org, eventually

SLEEP_S = 0.4


def most_at_once(intervals: list[tuple[datetime, datetime]]) -> int:
    """The largest number of intervals that overlap at one moment."""
    points = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = peak = 0
    for _, change in points:  # an end sorts before a start at the same instant (-1 < 1)
        running += change
        peak = max(peak, running)
    return peak


async def runs(admin: AsyncEngine, org: uuid.UUID) -> list[dict[str, Any]]:
    async with admin.connect() as conn:
        rows = await conn.execute(
            text("SELECT id, state, attempts, started_at, finished_at FROM jobs WHERE organization_id = :o"), {"o": org}
        )
        return [dict(r) for r in rows.mappings()]


async def test_an_organization_never_runs_more_than_its_plan_allows(
    settings: Settings,
    database: Database,
    runtime: JobsRuntime,
    pg_admin: AsyncEngine,
    redis_sync: redis.Redis,
    workers: Workers,
) -> None:
    busy, other = await create_org(pg_admin, "busy"), await create_org(pg_admin, "other")
    allowed = settings.plan("free").concurrent_jobs
    assert allowed == 2
    busy_jobs, other_jobs = Jobs(database, runtime, pg_admin, busy), Jobs(database, runtime, pg_admin, other)
    # Two workers with four slots each: eight slots, far more than the busy organization may use.
    workers.start("analysis", "sync", concurrency=4)
    workers.start("analysis", "sync", concurrency=4)
    ids = [await busy_jobs.enqueue("testing.record", "analysis", {"sleep_s": SLEEP_S}) for _ in range(6)]
    ids += [await busy_jobs.enqueue("testing.record_sync", "sync", {"sleep_s": SLEEP_S}) for _ in range(2)]
    others = [await other_jobs.enqueue("testing.record", "analysis", {"sleep_s": SLEEP_S}) for _ in range(3)]

    async def all_done() -> bool:
        rows = await runs(pg_admin, busy) + await runs(pg_admin, other)
        return len(rows) == 11 and all(r["state"] == "completed" for r in rows)

    await eventually(all_done, within=60, what="every job to complete")
    busy_runs, other_runs = await runs(pg_admin, busy), await runs(pg_admin, other)
    # Never more than the plan allows at once (both queues count), and the limit was used.
    assert most_at_once([(r["started_at"], r["finished_at"]) for r in busy_runs]) == allowed
    # The other organization was not held back by the busy one's limit: its jobs ran alongside.
    everything = [(r["started_at"], r["finished_at"]) for r in busy_runs + other_runs]
    assert most_at_once(everything) > allowed
    # Waiting used no attempt, and every job's work happened exactly once.
    assert [r["attempts"] for r in busy_runs + other_runs] == [1] * 11
    effects = await busy_jobs.effects()
    assert sorted(str(e["job_id"]) for e in effects) == sorted(str(i) for i in ids + others)
    parked = 0
    for job_id in ids:
        events = await runtime.bus.read(str(job_id))
        parked += any(e.stage == "queued" and e.data.get("waiting_for") == "concurrent_jobs" for e in events)
    assert parked > 0
    # Every slot was given back.
    assert redis_sync.zcard(f"{settings.jobs_key_prefix}:org:{busy}:running") == 0
    assert redis_sync.zcard(f"{settings.jobs_key_prefix}:org:{busy}:parked") == 0


async def test_a_dead_workers_slots_come_back_and_its_jobs_finish_once(
    settings: Settings,
    database: Database,
    runtime: JobsRuntime,
    pg_admin: AsyncEngine,
    redis_sync: redis.Redis,
    workers: Workers,
) -> None:
    org = await create_org(pg_admin, "org")
    jobs = Jobs(database, runtime, pg_admin, org)
    victim = workers.start("analysis", concurrency=2)
    ids = [await jobs.enqueue("testing.record", "analysis", {"sleep_s": 2.0}) for _ in range(2)]

    async def both_running() -> bool:
        return redis_sync.zcard(f"{settings.jobs_key_prefix}:org:{org}:running") == 2

    await eventually(both_running, what="both slots to be taken")
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(10)
    # More work arrives for the organization while the dead worker's slots are still leased.
    ids += [await jobs.enqueue("testing.record", "analysis", {"sleep_s": 0.1}) for _ in range(2)]
    workers.start("analysis", concurrency=4)
    for job_id in ids:
        await jobs.wait_state(job_id, "completed", within=60)
    effects = await jobs.effects()
    assert sorted(str(e["job_id"]) for e in effects) == sorted(str(i) for i in ids)
