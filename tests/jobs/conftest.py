"""Fixtures for the job-system tests: the shared test database, Redis database 13, real workers.

The queue lives on Redis database 13 under a key prefix of this run's own; "Redis lost everything" is
simulated by deleting every key under that prefix (`forget_queue`), so parallel runs never disturb each other.
They use the shared test database of tests/conftest.py (its session-scoped `database`, `pg_admin`,
`clean_db`, `make_tenant`), plus two tables of their own for observing side effects. Workers are real
subprocesses (`tests/jobs/worker_main.py`), configured through the `AUTODEVOPS_*` environment.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from autodevops.config import Settings
from autodevops.db import Database, tenant_session
from autodevops.jobs.service import JobsRuntime, enqueue_job
from autodevops.models import Job
from platform_support import platform_settings, redis_url, test_database_name

from .sample_tasks import EFFECTS_DDL

DB_NAME = test_database_name()
QUEUE_REDIS_URL = redis_url(13)
# Queue keys are namespaced by the database too, so two runs sharing Redis database 13 never take each other's jobs.
KEY_PREFIX = f"adtest-{DB_NAME}"
WORKER_MAIN = Path(__file__).with_name("worker_main.py")


def forget_queue(client: redis.Redis) -> None:
    """Everything this run keeps in the queue Redis is gone, as after a restart without persistence."""
    keys = list(client.scan_iter(match=f"{KEY_PREFIX}:*", count=1000))
    if keys:
        client.delete(*keys)


# What these tests change in the shared test settings (tests/conftest.py): the queue on Redis database 13,
# and a time scale of 0.01.
JOBS_SETTINGS: dict[str, Any] = {
    "queue_redis_url": QUEUE_REDIS_URL,
    "jobs_key_prefix": KEY_PREFIX,
    "jobs_time_scale": 0.01,
    "jobs_lock_duration_ms": 1500,
    "jobs_stalled_interval_ms": 500,
    "jobs_reconcile_interval_s": 1.0,
    "jobs_shutdown_grace_s": 5.0,
}


@pytest.fixture(scope="session")
async def effects_tables(pg_settings: Settings) -> None:
    """The tables sample tasks write their side effects to, in the shared test database."""
    engine = create_async_engine(pg_settings.database_admin_url.get_secret_value())
    try:
        async with engine.begin() as conn:
            for ddl in EFFECTS_DDL:
                await conn.execute(text(ddl))
            await conn.execute(text("GRANT SELECT, INSERT ON test_job_effects, test_job_switches TO autodevops_app"))
            await conn.execute(text("GRANT USAGE ON SEQUENCE test_job_effects_seq_seq TO autodevops_app"))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def settings(pg_settings: Settings, effects_tables: None) -> Settings:
    """The shared test settings with the job system's test values."""
    return platform_settings(**JOBS_SETTINGS)


def worker_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """The environment a worker subprocess gets: the test settings as `AUTODEVOPS_*` variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTODEVOPS_")}
    env["AUTODEVOPS_ENV"] = "test"
    env["AUTODEVOPS_LOG_JSON"] = "true"
    for name in (*JOBS_SETTINGS, "database_url", "database_admin_url"):
        value = getattr(settings, name)
        env[f"AUTODEVOPS_{name.upper()}"] = str(value.get_secret_value() if isinstance(value, SecretStr) else value)
    env.update(overrides)
    return env


@pytest.fixture
def redis_sync() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(QUEUE_REDIS_URL, decode_responses=True)
    forget_queue(client)
    yield client
    client.close()


@pytest.fixture
async def runtime(settings: Settings, redis_sync: redis.Redis, clean_db: None) -> AsyncIterator[JobsRuntime]:
    rt = JobsRuntime.from_settings(settings)
    yield rt
    await rt.close()


async def create_org(admin_engine: AsyncEngine, name: str = "org") -> uuid.UUID:
    org_id = uuid.uuid4()
    async with admin_engine.begin() as conn:
        await conn.execute(text("INSERT INTO organizations (id, name) VALUES (:i, :n)"), {"i": org_id, "n": name})
    return org_id


@pytest.fixture
async def org(pg_admin: AsyncEngine, clean_db: None) -> uuid.UUID:
    return await create_org(pg_admin)


class Jobs:
    """Test helpers around the real service functions and the database."""

    def __init__(self, database: Database, runtime: JobsRuntime, admin: AsyncEngine, org: uuid.UUID) -> None:
        self.database = database
        self.runtime = runtime
        self.admin = admin
        self.org = org

    async def enqueue(self, name: str, queue: str, payload: dict[str, Any] | None = None, **kw: Any) -> uuid.UUID:
        async with tenant_session(self.database, organization_id=self.org) as session:
            job = await enqueue_job(
                session, self.runtime, organization_id=self.org, queue=queue, name=name, payload=payload or {}, **kw
            )
            return job.id

    async def get(self, job_id: uuid.UUID) -> Job:
        async with tenant_session(self.database, organization_id=self.org) as session:
            job = await session.get(Job, job_id)
            assert job is not None
            return job

    async def effects(self, job_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
        query = "SELECT seq, job_id, attempt, pid FROM test_job_effects"
        params: dict[str, Any] = {}
        if job_id is not None:
            query += " WHERE job_id = :j"
            params["j"] = job_id
        async with self.admin.connect() as conn:
            rows = (await conn.execute(text(query + " ORDER BY seq"), params)).mappings().all()
        return [dict(r) for r in rows]

    async def switch_on(self, job_id: uuid.UUID) -> None:
        async with self.admin.begin() as conn:
            await conn.execute(text("INSERT INTO test_job_switches (job_id) VALUES (:j)"), {"j": job_id})

    async def wait_state(self, job_id: uuid.UUID, *states: str, within: float = 30.0) -> Job:
        """Poll until the job reaches one of `states` (fails the test after `within` seconds)."""
        deadline = time.monotonic() + within
        while True:
            job = await self.get(job_id)
            if job.state in states:
                return job
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"job {job_id} stayed {job.state!r} (wanted {states}); last error {job.last_error}"
                )
            await asyncio.sleep(0.05)


@pytest.fixture
async def jobs(database: Database, runtime: JobsRuntime, pg_admin: AsyncEngine, org: uuid.UUID) -> Jobs:
    return Jobs(database, runtime, pg_admin, org)


class Workers:
    """Starts real worker processes; kills whatever is left at teardown."""

    def __init__(self, settings: Settings, log_dir: Path) -> None:
        self.settings = settings
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(
        self, *queues: str, concurrency: int = 1, metrics_port: int | None = None, **env: str
    ) -> subprocess.Popen[bytes]:
        """A worker serving `queues` (all of them when none are given)."""
        log = (self.log_dir / f"worker-{len(self.procs)}.log").open("wb")
        served = queues or ("analysis", "sync", "ci_generation")
        extra = ["--metrics-port", str(metrics_port)] if metrics_port else []
        proc = subprocess.Popen(
            [sys.executable, str(WORKER_MAIN), *served, "-c", str(concurrency), *extra],
            env=worker_env(self.settings, **env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("worker-*.log")))

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)


@pytest.fixture
def workers(settings: Settings, tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(settings, tmp_path)
    yield pool
    pool.stop_all()


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
