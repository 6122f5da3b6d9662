"""Tasks the job-system tests enqueue. They record what they did in `test_job_effects`, inside the job's
transaction, so "the work happened exactly once" is a row count."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys

from sqlalchemy import text

from autodevops.engine.processes import tracked
from autodevops.jobs.registry import JobContext, task

EFFECTS_DDL = (
    "CREATE TABLE IF NOT EXISTS test_job_effects ("
    " seq bigserial PRIMARY KEY, job_id uuid NOT NULL, attempt int NOT NULL, pid int NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT clock_timestamp())",
    "CREATE TABLE IF NOT EXISTS test_job_switches (job_id uuid PRIMARY KEY)",
)


async def _record(ctx: JobContext) -> None:
    await ctx.progress("analyzing", 10, message=f"pid {os.getpid()}")
    await asyncio.sleep(float(ctx.payload.get("sleep_s", 0)))
    await ctx.session.execute(
        text("INSERT INTO test_job_effects (job_id, attempt, pid) VALUES (:j, :a, :p)"),
        {"j": ctx.job_id, "a": ctx.attempt, "p": os.getpid()},
    )
    await ctx.progress("storing", 90)


@task("testing.record", queue="analysis")
async def record(ctx: JobContext) -> None:
    await _record(ctx)


@task("testing.record_sync", queue="sync")
async def record_sync(ctx: JobContext) -> None:
    await _record(ctx)


@task("testing.record_ci", queue="ci_generation")
async def record_ci(ctx: JobContext) -> None:
    await _record(ctx)


@task("testing.fail_until_switched", queue="analysis")
async def fail_until_switched(ctx: JobContext) -> None:
    """Fails with a clear error until the test inserts the job's id into `test_job_switches`."""
    switched = await ctx.session.scalar(text("SELECT 1 FROM test_job_switches WHERE job_id = :j"), {"j": ctx.job_id})
    if not switched:
        raise RuntimeError(f"boom on attempt {ctx.attempt}")
    await _record(ctx)


# 20 s before the time scale: 0.2 s in the tests.
@task("testing.hang", queue="analysis", timeout_s=20.0)
async def hang(ctx: JobContext) -> None:
    await ctx.progress("analyzing", 5)
    await asyncio.sleep(3600)


# 30 s before the time scale: 0.3 s in the tests.
@task("testing.stubborn", queue="analysis", timeout_s=30.0)
async def stubborn(ctx: JobContext) -> None:
    """Waits on a long subprocess and swallows cancellation, as code that loses a cancellation does; then
    records its effect as if it had succeeded."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import time; time.sleep(3600)", str(ctx.job_id), start_new_session=True
    )
    with tracked(proc.pid):
        while proc.returncode is None:
            with contextlib.suppress(asyncio.CancelledError):
                await proc.wait()
    await ctx.session.execute(
        text("INSERT INTO test_job_effects (job_id, attempt, pid) VALUES (:j, :a, :p)"),
        {"j": ctx.job_id, "a": ctx.attempt, "p": os.getpid()},
    )
