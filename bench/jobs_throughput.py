"""Job system benchmark: no-op jobs end to end (API-side enqueue → worker → Postgres `completed`).

    .venv/bin/python bench/jobs_throughput.py [--jobs 2000] [--latency-jobs 300] [--rate 50]

For 1 and then 4 worker processes (`--concurrency` slots each) it measures:

* enqueue rate: N no-op jobs enqueued as the API does (a transaction each, pushed to Redis after COMMIT),
  8 at a time, before any worker runs;
* throughput: workers then drain that backlog; jobs/s from the first start to the last completion (each job
  claimed in Postgres, run, and recorded `completed` in Postgres; bullmq moves in Redis);
* enqueue→start latency: jobs enqueued at a steady rate below capacity, p50/p99 of `started_at - created_at`
  (both recorded in Postgres: the row's creation in the enqueuing transaction, the worker's claim);

and, with `--redis-benchmark`, `redis-benchmark` against the same Redis server for scale (it writes its own
keys, `key:*`, `mylist`..., into database 15 of that server: use it on a Redis of your own).

Where: `--postgres` (an owner-role URL of the PostgreSQL server; default `AUTODEVOPS_BENCH_POSTGRES` or
postgresql://postgres@127.0.0.1:5432/postgres), `--database` (default `autodevops_bench`, created and migrated;
its `jobs` table is emptied first), `--redis-url` (default `AUTODEVOPS_QUEUE_REDIS_URL`, then
redis://127.0.0.1:6379/14) and `--key-prefix` (default: one of this run's own). Only the keys under that prefix
are deleted, before and after; nothing else in Redis is touched.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

POSTGRES = os.environ.get("AUTODEVOPS_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("AUTODEVOPS_QUEUE_REDIS_URL", "redis://127.0.0.1:6379/14")


def bench_env(postgres: str, database: str, redis_url: str, key_prefix: str) -> dict[str, str]:
    """The `AUTODEVOPS_*` settings of the enqueuer and of the worker processes."""
    server = urlsplit(postgres)
    host = f"{server.hostname or '127.0.0.1'}:{server.port or 5432}"
    owner = (server.username or "postgres") + (f":{server.password}" if server.password else "")
    return {
        "AUTODEVOPS_ENV": "test",
        "AUTODEVOPS_DATABASE_URL": f"postgresql+asyncpg://autodevops_app:autodevops_app@{host}/{database}",
        "AUTODEVOPS_DATABASE_ADMIN_URL": f"postgresql+asyncpg://{owner}@{host}/{database}",
        "AUTODEVOPS_QUEUE_REDIS_URL": redis_url,
        "AUTODEVOPS_JOBS_KEY_PREFIX": key_prefix,
        "AUTODEVOPS_LOG_LEVEL": "WARNING",
        "AUTODEVOPS_LOG_JSON": "true",
    }


async def forget_keys(redis_url: str, key_prefix: str) -> None:
    """Delete this run's keys (and only them)."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{key_prefix}:*", count=1000)]
        for start in range(0, len(keys), 1000):
            await client.delete(*keys[start : start + 1000])
    finally:
        await client.aclose()


NOOP = "bench.noop"


def register_noop() -> None:
    from autodevops.jobs.registry import JobContext, task

    @task(NOOP, queue="analysis")
    async def noop(ctx: JobContext) -> None:
        return None


def run_worker(concurrency: int) -> None:
    """Child mode: a real worker process with the no-op task registered."""
    register_noop()
    from autodevops.worker import main

    main(queues=["analysis"], concurrency=concurrency)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def prepare() -> tuple[Any, Any, Any, uuid.UUID]:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from autodevops.config import Settings
    from autodevops.db import Database
    from autodevops.jobs.service import JobsRuntime
    from autodevops.migrate import migrate

    settings = Settings()
    await migrate(settings)
    admin = create_async_engine(settings.database_admin_url.get_secret_value())
    org = uuid.uuid4()
    async with admin.begin() as conn:
        await conn.execute(text("DELETE FROM jobs"))
        await conn.execute(text("INSERT INTO organizations (id, name) VALUES (:i, 'bench')"), {"i": org})
    await forget_keys(settings.effective_queue_redis_url, settings.jobs_key_prefix)
    database = Database(settings.database_url.get_secret_value(), pool_size=10)
    return admin, database, JobsRuntime.from_settings(settings), org


async def enqueue_many(database: Any, runtime: Any, org: uuid.UUID, count: int, parallel: int = 8) -> list[uuid.UUID]:
    from autodevops.db import tenant_session
    from autodevops.jobs.service import enqueue_job

    ids: list[uuid.UUID] = []
    semaphore = asyncio.Semaphore(parallel)

    async def one() -> None:
        async with semaphore, tenant_session(database, organization_id=org) as session:
            job = await enqueue_job(session, runtime, organization_id=org, queue="analysis", name=NOOP, payload={})
            ids.append(job.id)

    await asyncio.gather(*(one() for _ in range(count)))
    return ids


async def wait_done(admin: Any, ids: list[uuid.UUID], limit_s: float = 600) -> None:
    from sqlalchemy import text

    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        async with admin.connect() as conn:
            left = await conn.scalar(
                text("SELECT count(*) FROM jobs WHERE id = ANY(:ids) AND state <> 'completed'"), {"ids": ids}
            )
        if left == 0:
            return
        await asyncio.sleep(0.1)
    raise SystemExit(f"jobs did not complete within {limit_s}s")


async def timings(admin: Any, ids: list[uuid.UUID]) -> list[tuple[float, float, float]]:
    from sqlalchemy import text

    async with admin.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT extract(epoch FROM created_at), extract(epoch FROM started_at), extract(epoch FROM finished_at)"
                " FROM jobs WHERE id = ANY(:ids)"
            ),
            {"ids": ids},
        )
        return [(float(a), float(b), float(c)) for a, b, c in rows]


def start_workers(processes: int, concurrency: int) -> list[subprocess.Popen[bytes]]:
    env = dict(os.environ)  # the AUTODEVOPS_* settings `main` put there
    return [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", "--concurrency", str(concurrency)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(processes)
    ]


def stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(30)


async def measure(processes: int, args: argparse.Namespace) -> dict[str, float]:
    admin, database, runtime, org = await prepare()
    try:
        # A backlog first, enqueued the way the API does (a transaction per job, pushed after COMMIT), so the
        # workers' rate is not capped by the enqueuer competing with them for the same CPUs.
        started = time.perf_counter()
        ids = await enqueue_many(database, runtime, org, args.jobs)
        enqueue_rate = args.jobs / (time.perf_counter() - started)
        procs = start_workers(processes, args.concurrency)
        try:
            await wait_done(admin, ids)
            rows = await timings(admin, ids)
            span = max(f for _c, _s, f in rows) - min(s for _c, s, _f in rows)

            latency_ids: list[uuid.UUID] = []
            interval = 1.0 / args.rate
            next_at = time.monotonic()
            for _ in range(args.latency_jobs):
                latency_ids += await enqueue_many(database, runtime, org, 1, parallel=1)
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            await wait_done(admin, latency_ids)
            waits = [(s - c) * 1000 for c, s, _f in await timings(admin, latency_ids)]
        finally:
            stop_workers(procs)
    finally:
        await runtime.close()
        await database.dispose()
        await admin.dispose()
    return {
        "enqueue_per_s": enqueue_rate,
        "jobs_per_s": args.jobs / span,
        "p50_ms": statistics.median(waits),
        "p99_ms": percentile(waits, 99),
    }


def redis_benchmark(redis_url: str) -> dict[str, float]:
    server = urlsplit(redis_url)
    where = ["-h", server.hostname or "127.0.0.1", "-p", str(server.port or 6379), "--dbnum", "15"]
    out = subprocess.run(
        ["redis-benchmark", *where, "-n", "100000", "-t", "set,get,lpush,zadd", "--csv"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures: dict[str, float] = {}
    for line in out.splitlines():
        parts = [p.strip('"') for p in line.split(",")]
        if len(parts) >= 2 and parts[0] != "test":
            figures[parts[0]] = float(parts[1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=4, help="Slots per worker process.")
    parser.add_argument("--jobs", type=int, default=2000, help="Jobs in the throughput run.")
    parser.add_argument("--latency-jobs", type=int, default=300, help="Jobs in the latency run.")
    parser.add_argument("--rate", type=float, default=50.0, help="Enqueue rate (jobs/s) of the latency run.")
    parser.add_argument("--postgres", default=POSTGRES, help="Owner-role URL of the PostgreSQL server.")
    parser.add_argument("--database", default="autodevops_bench", help="The benchmark's own database.")
    parser.add_argument("--redis-url", default=REDIS_URL, help="The queue Redis.")
    parser.add_argument("--key-prefix", default=None, help="Redis key prefix (default: one of this run's own).")
    parser.add_argument("--redis-benchmark", action="store_true", help="Also run redis-benchmark (writes keys).")
    args = parser.parse_args()
    if args.worker:
        run_worker(args.concurrency)
        return
    key_prefix = args.key_prefix or f"adbench-{uuid.uuid4().hex[:8]}"
    os.environ.update(bench_env(args.postgres, args.database, args.redis_url, key_prefix))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    print(f"machine: {os.cpu_count()} CPUs; {args.jobs} no-op jobs, {args.concurrency} slots per worker process")
    for processes in (1, 4):
        result = asyncio.run(measure(processes, args))
        print(
            f"workers={processes}: {result['jobs_per_s']:.0f} jobs/s processed (backlog of {args.jobs}, start of the"
            f" first to completion of the last); enqueue->start p50 {result['p50_ms']:.1f} ms,"
            f" p99 {result['p99_ms']:.1f} ms at {args.rate:g} jobs/s; enqueue {result['enqueue_per_s']:.0f} jobs/s"
        )
    asyncio.run(forget_keys(args.redis_url, key_prefix))
    if not args.redis_benchmark:
        return
    figures = redis_benchmark(args.redis_url)
    print("redis-benchmark (same server, 50 clients): " + ", ".join(f"{k} {v:,.0f}/s" for k, v in figures.items()))


if __name__ == "__main__":
    main()
