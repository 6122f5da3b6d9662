"""Concurrent jobs per plan: one organization's backlog against its plan's limit, and what the others see.

    AUTODEVOPS_DATABASE_URL=... AUTODEVOPS_DATABASE_ADMIN_URL=... AUTODEVOPS_QUEUE_REDIS_URL=... \\
        .venv/bin/python bench/concurrency.py [--busy 60] [--others 12] [--job-seconds 0.2] [--workers 2] [--slots 4]

Against a migrated database (`autodevops migrate`) and a queue Redis, under a key prefix of its own. `--workers`
job runners (the worker's `Runner`, in this process) with `--slots` each serve the analysis queue. A free
organization queues `--busy` jobs of `--job-seconds` each; right after, a team organization (8 concurrent jobs by
default, so its own limit does not decide its numbers) queues `--others`. Reported, with the plans' limits and
without them (every slot open to one organization):

- the busy organization's most jobs running at once;
- the team organization's time to start (p50/p99), in seconds;
- the hand-over: from a busy job's slot freeing to that organization's next job starting (p50/p99), i.e. how
  fast a parked job is promoted;
- the time until every job finished, against the busy organization's floor (busy × job-seconds ÷ limit).

Its organizations and keys are removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from autodevops.config import Settings
from autodevops.db import Database, tenant_session
from autodevops.jobs.registry import JobContext, task
from autodevops.jobs.runner import Runner
from autodevops.jobs.service import JobsRuntime, enqueue_job

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' Redis clean-up

from fairness import percentile  # the same nearest-rank percentile as the fairness benchmark

from platform_support import forget_redis_keys


@task("bench.sleep", queue="analysis")
async def _sleep(ctx: JobContext) -> None:
    await asyncio.sleep(float(ctx.payload["seconds"]))


def most_at_once(intervals: list[tuple[datetime, datetime]]) -> int:
    points = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = peak = 0
    for _, change in points:
        running += change
        peak = max(peak, running)
    return peak


async def run(
    settings: Settings, *, busy: int, others: int, seconds: float, workers: int, slots: int
) -> dict[str, Any]:
    admin = create_async_engine(settings.database_admin_url.get_secret_value())
    database = Database.from_settings(settings)
    runtime = JobsRuntime.from_settings(settings)
    runners = [Runner(settings, database, queues=["analysis"], concurrency=slots) for _ in range(workers)]
    orgs = {"busy": uuid.uuid4(), "other": uuid.uuid4()}
    try:
        async with admin.begin() as connection:
            for name, org in orgs.items():
                await connection.execute(
                    text("INSERT INTO organizations (id, name, plan) VALUES (:i, :n, :p)"),
                    {"i": org, "n": f"bench-{name}", "p": "free" if name == "busy" else "team"},
                )
        for name, count in (("busy", busy), ("other", others)):
            for _ in range(count):
                async with tenant_session(database, organization_id=orgs[name]) as session:
                    await enqueue_job(
                        session,
                        runtime,
                        organization_id=orgs[name],
                        queue="analysis",
                        name="bench.sleep",
                        payload={"seconds": seconds},
                    )
        began = time.monotonic()
        serving = [asyncio.create_task(r.run()) for r in runners]
        while True:
            async with admin.connect() as connection:
                left = await connection.scalar(
                    text("SELECT count(*) FROM jobs WHERE organization_id = ANY(:o) AND state <> 'completed'"),
                    {"o": list(orgs.values())},
                )
            if not left:
                break
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - began
        for r in runners:
            r.stop()
        await asyncio.gather(*serving)
        async with admin.connect() as connection:
            rows = (
                await connection.execute(
                    text(
                        "SELECT organization_id, attempts, created_at, started_at, finished_at FROM jobs "
                        "WHERE organization_id = ANY(:o)"
                    ),
                    {"o": list(orgs.values())},
                )
            ).mappings()
            runs = [dict(r) for r in rows]
    finally:
        await runtime.close()
        await database.dispose()
        async with admin.begin() as connection:
            await connection.execute(
                text("DELETE FROM organizations WHERE id = ANY(:ids)"), {"ids": list(orgs.values())}
            )
        await admin.dispose()
        await forget_redis_keys(settings.jobs_key_prefix, settings.effective_queue_redis_url)
    busy_runs = sorted((r for r in runs if r["organization_id"] == orgs["busy"]), key=lambda r: r["started_at"])
    other_runs = [r for r in runs if r["organization_id"] == orgs["other"]]
    peak = most_at_once([(r["started_at"], r["finished_at"]) for r in busy_runs])
    handovers = []
    for job in busy_runs[peak:]:
        freed = [r["finished_at"] for r in busy_runs if r["finished_at"] <= job["started_at"]]
        if freed:
            handovers.append((job["started_at"] - max(freed)).total_seconds())
    return {
        "peak": peak,
        "to_start": [(r["started_at"] - r["created_at"]).total_seconds() for r in other_runs],
        "handover": handovers,
        "elapsed": elapsed,
        "attempts": sum(r["attempts"] for r in runs),
        "jobs": len(runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--busy", type=int, default=60)
    parser.add_argument("--others", type=int, default=12)
    parser.add_argument("--job-seconds", type=float, default=0.2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--slots", type=int, default=4, help="slots per worker")
    args = parser.parse_args()
    base = Settings()
    limit = base.plan("free").concurrent_jobs
    print(
        f"{args.busy} busy + {args.others} other jobs of {args.job_seconds} s, {args.workers} workers × {args.slots} "
        f"slots; free plan: {limit} concurrent jobs"
    )
    print(
        f"{'mode':<14}{'busy at once':>13}{'other start p50':>17}{'p99':>7}{'hand-over p50':>15}{'p99':>7}"
        f"{'all done':>10}{'busy floor':>12}{'attempts':>10}"
    )
    for capped in (False, True):
        plans = dict(base.plans)
        if not capped:
            for name in ("free", "team"):
                plans[name] = plans[name].model_copy(update={"concurrent_jobs": args.workers * args.slots})
        settings = base.model_copy(
            update={"plans": plans, "jobs_key_prefix": f"bench-concurrency-{uuid.uuid4().hex[:8]}"}
        )
        result = asyncio.run(
            run(
                settings,
                busy=args.busy,
                others=args.others,
                seconds=args.job_seconds,
                workers=args.workers,
                slots=args.slots,
            )
        )
        allowed = settings.plan("free").concurrent_jobs
        floor = args.busy * args.job_seconds / min(allowed, args.workers * args.slots)
        handover = result["handover"] or [0.0]
        print(
            f"{'plan limit' if capped else 'no limit':<14}{result['peak']:>13}"
            f"{statistics.median(result['to_start']):>16.2f}s{percentile(result['to_start'], 0.99):>6.2f}s"
            f"{statistics.median(handover) * 1000:>13.0f}ms{percentile(handover, 0.99) * 1000:>5.0f}ms"
            f"{result['elapsed']:>9.1f}s{floor:>11.1f}s{result['attempts']:>7}/{result['jobs']}"
        )


if __name__ == "__main__":
    main()
