"""Fairness: how long a new job waits behind one free organization's backlog, with and without plan priorities.

    AUTODEVOPS_DATABASE_URL=... AUTODEVOPS_DATABASE_ADMIN_URL=... AUTODEVOPS_QUEUE_REDIS_URL=... \\
        .venv/bin/python bench/fairness.py [--backlog 5000] [--probes 40] [--slots 4] [--job-seconds 20]

Against a migrated database (`autodevops migrate`) and a queue Redis, under a key prefix of its own. One free
organization queues `--backlog` analyses. Then, while worker slots take jobs off the queue, a probe pair
arrives every few starts: a job of an enterprise organization and a job of a second free organization. For
each probe it counts the jobs started before it, and reports p50/p99 of its time to start, in job durations
(`started before / slots`) and in seconds for `--job-seconds` per job. Jobs are created the way the API
creates them (a transaction each, pushed after COMMIT) and taken the way a worker's free slot takes them
(`Consumer.fetch`), without running them, so the numbers measure the queue order alone.

Run twice: with priorities (plans, docs/jobs.md) and without (every job in plain queue order, as before).
Its organizations and keys are removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from autodevops.config import Settings
from autodevops.db import Database, tenant_session
from autodevops.jobs.broker import Consumer
from autodevops.jobs.service import JobsRuntime, enqueue_job

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' Redis clean-up

from platform_support import forget_redis_keys


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _org(admin: AsyncEngine, name: str, plan: str | None) -> uuid.UUID:
    org_id = uuid.uuid4()
    async with admin.begin() as connection:
        await connection.execute(
            text("INSERT INTO organizations (id, name, plan) VALUES (:i, :n, :p)"), {"i": org_id, "n": name, "p": plan}
        )
    return org_id


async def _enqueue(database: Database, runtime: JobsRuntime, org: uuid.UUID) -> str:
    async with tenant_session(database, organization_id=org) as session:
        job = await enqueue_job(session, runtime, organization_id=org, queue="analysis", name="bench.noop", payload={})
    return str(job.id)


async def run(settings: Settings, *, backlog: int, probes: int, slots: int, fair: bool) -> dict[str, list[float]]:
    """Starts before each probe (in jobs), for the enterprise and the second free organization."""
    admin = create_async_engine(settings.database_admin_url.get_secret_value())
    database = Database.from_settings(settings)
    runtime = JobsRuntime.from_settings(settings)
    if not fair:
        runtime.settings = None  # plain queue order: what the queues did before plans
    consumer = Consumer(
        settings.effective_queue_redis_url,
        prefix=settings.jobs_key_prefix,
        queues=["analysis"],
        processor=_never,
        lock_duration_ms=600_000,
        stalled_interval_ms=600_000,
    )
    orgs: list[uuid.UUID] = []
    try:
        flood = await _org(admin, "bench-flood", "free")
        paying = await _org(admin, "bench-enterprise", "enterprise")
        other = await _org(admin, "bench-free", "free")
        orgs = [flood, paying, other]
        started = time.monotonic()
        for _ in range(backlog):
            await _enqueue(database, runtime, flood)
        print(f"  queued {backlog} jobs of one free organization in {time.monotonic() - started:.1f} s")
        waits: dict[str, list[float]] = {"enterprise": [], "second free": []}
        pending: dict[str, tuple[str, int]] = {}
        starts = issued = 0
        every = max(1, backlog // (2 * probes))  # probes arrive during the first half of the backlog
        while issued < probes or pending:
            if starts % every == 0 and issued < probes:
                pending[await _enqueue(database, runtime, paying)] = ("enterprise", starts)
                pending[await _enqueue(database, runtime, other)] = ("second free", starts)
                issued += 1
            fetched = await consumer.fetch()
            if fetched is None:
                break
            starts += 1
            probe = pending.pop(str(fetched[1].id), None)
            if probe is not None:
                kind, arrived = probe
                waits[kind].append((starts - 1 - arrived) / slots)
        return waits
    finally:
        await consumer.close()
        await runtime.close()
        await database.dispose()
        async with admin.begin() as connection:
            await connection.execute(text("DELETE FROM organizations WHERE id = ANY(:ids)"), {"ids": orgs})
        await admin.dispose()
        await forget_redis_keys(settings.jobs_key_prefix, settings.effective_queue_redis_url)


async def _never(_delivery: Any) -> None:
    raise RuntimeError("the benchmark runs no job")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backlog", type=int, default=5000)
    parser.add_argument("--probes", type=int, default=40)
    parser.add_argument("--slots", type=int, default=4, help="worker slots taking jobs (concurrency in total)")
    parser.add_argument("--job-seconds", type=float, default=20.0, help="one analysis, for the seconds column")
    args = parser.parse_args()
    settings = Settings(jobs_key_prefix=f"bench-fairness-{uuid.uuid4().hex[:8]}")
    print(f"backlog {args.backlog}, {args.probes} probes per kind, {args.slots} slots, {args.job_seconds} s a job")
    print(f"{'mode':<22}{'probe':<14}{'p50 jobs':>10}{'p99 jobs':>10}{'p50 s':>10}{'p99 s':>10}")
    for fair in (False, True):
        waits = asyncio.run(run(settings, backlog=args.backlog, probes=args.probes, slots=args.slots, fair=fair))
        mode = "plans and fairness" if fair else "plain queue order"
        for kind, values in waits.items():
            if not values:
                print(f"{mode:<22}{kind:<14}{'never started':>40}")
                continue
            p50, p99 = statistics.median(values), percentile(values, 0.99)
            print(
                f"{mode:<22}{kind:<14}{p50:>10.2f}{p99:>10.2f}{p50 * args.job_seconds:>10.1f}"
                f"{p99 * args.job_seconds:>10.1f}"
            )


if __name__ == "__main__":
    main()
