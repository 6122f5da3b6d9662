"""Smaller reliability behaviours: durations stored as measured, children that die with their worker, one
reconciliation at a time, and the real message of a crashed child."""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid

import pytest
import redis
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from autodevops.config import Settings
from autodevops.jobs.broker import Broker
from autodevops.jobs.child import failure_message
from autodevops.jobs.reconciler import RECONCILE_LOCK_KEY, Reconciler
from process_support import processes_mentioning, wait_until_gone

from .conftest import Jobs, Workers, eventually, forget_queue

PARENT = """
import subprocess, sys, time
from autodevops.engine.processes import die_with_parent
child = subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(3600)", sys.argv[1]], preexec_fn=die_with_parent(),
    start_new_session=True,
)
print(child.pid, flush=True)
time.sleep(3600)
"""


def test_a_child_dies_when_the_process_that_started_it_is_killed() -> None:
    marker = f"orphan-probe-{uuid.uuid4().hex}"
    parent = subprocess.Popen([sys.executable, "-c", PARENT, marker], stdout=subprocess.PIPE)
    try:
        assert parent.stdout is not None
        assert parent.stdout.readline().strip().isdigit()
        assert processes_mentioning(marker)
        parent.send_signal(signal.SIGKILL)  # no cleanup runs in the parent
        parent.wait(10)
        wait_until_gone(marker)  # before, the child went on under PID 1
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)


def test_a_crashed_childs_message_is_its_exception_not_the_last_stderr_line() -> None:
    crash = "raise RuntimeError(\"Client error '404 Not Found'\\nFor further information visit https://example.org\")"
    done = subprocess.run([sys.executable, "-c", crash], capture_output=True, text=True, check=False)
    lines = [line.rstrip() for line in done.stderr.splitlines() if line.strip()]
    assert lines[-1] == "For further information visit https://example.org"
    assert failure_message(lines, "child", done.returncode) == (
        "RuntimeError: Client error '404 Not Found' For further information visit https://example.org"
    )
    assert failure_message(["fatal: repository not found"], "child", 3) == "fatal: repository not found"
    assert failure_message([], "autodevops.analysis.child", 9) == "autodevops.analysis.child exited with status 9"


async def test_only_one_reconciliation_runs_at_a_time(jobs: Jobs, settings: Settings, redis_sync: redis.Redis) -> None:
    pending = await jobs.enqueue("testing.record", "analysis")
    forget_queue(redis_sync)
    broker = Broker(settings.effective_queue_redis_url, prefix=settings.jobs_key_prefix)
    try:
        async with jobs.admin.connect() as other_worker:
            await other_worker.execute(select(func.pg_advisory_lock(RECONCILE_LOCK_KEY)))
            report = await Reconciler(settings, jobs.database, broker).run_once(min_age_s=0)
            assert report.skipped
            assert await broker.state("analysis", str(pending)) is None
            await other_worker.execute(select(func.pg_advisory_unlock(RECONCILE_LOCK_KEY)))
        report = await Reconciler(settings, jobs.database, broker).run_once(min_age_s=0)
        assert not report.skipped
        assert report.requeued == [str(pending)]
    finally:
        await broker.close()


@pytest.mark.slow
async def test_a_jobs_stored_duration_is_the_time_it_ran(jobs: Jobs, workers: Workers) -> None:
    workers.start("analysis")
    job_id = await jobs.enqueue("testing.record", "analysis", {"sleep_s": 0.4})
    await jobs.wait_state(job_id, "completed")
    async with jobs.admin.connect() as conn:
        seconds = await conn.scalar(
            text("SELECT extract(epoch FROM finished_at - started_at) FROM jobs WHERE id = :i"), {"i": job_id}
        )
    assert float(seconds) >= 0.4  # before, finished_at was the transaction's start: a few milliseconds


async def test_a_starting_worker_prunes_old_webhook_deliveries(
    jobs: Jobs, workers: Workers, pg_admin: AsyncEngine
) -> None:
    async with pg_admin.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO gitlab_webhook_deliveries (delivery_id, event, outcome, received_at) VALUES "
                "('old', 'Push Hook', 'ignored', now() - interval '31 days'), "
                "('new', 'Push Hook', 'ignored', now() - interval '29 days')"
            )
        )
    workers.start("analysis")

    async def pruned() -> bool:
        async with pg_admin.connect() as conn:
            return (await conn.scalars(text("SELECT delivery_id FROM gitlab_webhook_deliveries"))).all() == ["new"]

    await eventually(pruned, what="the old delivery pruned")
