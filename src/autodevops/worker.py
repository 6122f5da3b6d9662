"""The worker process: `autodevops worker [--queues ...] [--concurrency N]`.

Runs the job `Runner` for the chosen queues until SIGTERM or SIGINT, then stops taking jobs, lets the running
ones finish within `AUTODEVOPS_JOBS_SHUTDOWN_GRACE_S` and releases the rest back to the queue. At start it
removes the clone directories that dead workers left behind. Optionally
serves Prometheus metrics (job durations, failures, retries, queue depth) on `--metrics-port`.
"""

from __future__ import annotations

import asyncio
import signal

from autodevops.config import Settings, get_settings
from autodevops.db import Database
from autodevops.engine.clone import sweep_stale_clone_dirs
from autodevops.jobs.queues import QUEUE_NAMES
from autodevops.logging import configure_logging, get_logger

log = get_logger(__name__)


async def serve(
    settings: Settings,
    *,
    queues: list[str] | tuple[str, ...] = QUEUE_NAMES,
    concurrency: int = 4,
    metrics_port: int | None = None,
) -> None:
    """Run a worker in the current event loop until SIGTERM/SIGINT."""
    from autodevops.jobs.metrics import QUEUE_DEPTH
    from autodevops.jobs.registry import load_task_modules
    from autodevops.jobs.runner import Runner

    load_task_modules()
    # Clone directories of workers that died (kill -9, OOM) while cloning: their lock is free.
    removed = await asyncio.to_thread(sweep_stale_clone_dirs)
    if removed:
        log.info("removed clone directories of dead workers", count=len(removed))
    database = Database(
        settings.database_url.get_secret_value(),
        # Each running job may hold three connections: its advisory lock, its claim and its work session.
        pool_size=max(settings.database_pool_size, 3 * concurrency + 2),
        max_overflow=settings.database_max_overflow,
    )
    runner = Runner(settings, database, queues=queues, concurrency=concurrency)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, runner.stop)
    if metrics_port:
        from prometheus_client import start_http_server

        from autodevops.metrics import REGISTRY

        QUEUE_DEPTH.bind(settings.effective_queue_redis_url, settings.jobs_key_prefix)
        start_http_server(metrics_port, addr="0.0.0.0", registry=REGISTRY)  # noqa: S104 - scraped from outside
    try:
        await runner.run()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await database.dispose()


def main(
    *,
    queues: list[str] | tuple[str, ...] = QUEUE_NAMES,
    concurrency: int = 4,
    metrics_port: int | None = None,
    settings: Settings | None = None,
) -> None:
    """Entry point of `autodevops worker`: check settings, configure logging, run until told to stop."""
    settings = settings or get_settings()
    settings.check(maintenance=True)  # the reconciler lists jobs across organizations as the maintenance role
    configure_logging(level=settings.log_level, json=settings.effective_log_json)
    asyncio.run(serve(settings, queues=queues, concurrency=concurrency, metrics_port=metrics_port))
