"""Workers through a PostgreSQL outage, on a server of the test's own: they pause their intake with a growing
backoff (not one postponement per job per second), lose nothing, and run every job once when it is back."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path
from typing import IO

import redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from autodevops.config import Settings
from autodevops.db import Database, tenant_session
from autodevops.jobs.service import JobsRuntime, enqueue_job
from jobs.conftest import JOBS_SETTINGS, WORKER_MAIN, eventually, worker_env
from jobs.sample_tasks import EFFECTS_DDL
from platform_support import redis_url
from throwaway_services import ThrowawayPostgres

from .conftest import own_settings

JOBS = 20


async def _arrange(settings: Settings) -> uuid.UUID:
    engine = create_async_engine(settings.database_admin_url.get_secret_value())
    org = uuid.uuid4()
    try:
        async with engine.begin() as conn:
            for ddl in EFFECTS_DDL:
                await conn.execute(text(ddl))
            await conn.execute(text("GRANT SELECT, INSERT ON test_job_effects, test_job_switches TO autodevops_app"))
            await conn.execute(text("GRANT USAGE ON SEQUENCE test_job_effects_seq_seq TO autodevops_app"))
            await conn.execute(text("INSERT INTO organizations (id, name) VALUES (:i, 'outage')"), {"i": org})
    finally:
        await engine.dispose()
    return org


async def _outcome(settings: Settings) -> tuple[int, int, int]:
    engine = create_async_engine(settings.database_admin_url.get_secret_value())
    try:
        async with engine.connect() as conn:
            completed = await conn.scalar(text("SELECT count(*) FROM jobs WHERE state = 'completed' AND attempts = 1"))
            effects = await conn.scalar(text("SELECT count(*) FROM test_job_effects"))
            distinct = await conn.scalar(text("SELECT count(DISTINCT job_id) FROM test_job_effects"))
    finally:
        await engine.dispose()
    return int(completed or 0), int(effects or 0), int(distinct or 0)


def _start_worker(settings: Settings, log: IO[bytes]) -> subprocess.Popen[bytes]:
    env = worker_env(settings, AUTODEVOPS_JOBS_KEY_PREFIX=settings.jobs_key_prefix)
    return subprocess.Popen(
        [sys.executable, str(WORKER_MAIN), "analysis", "-c", "4"], env=env, stdout=log, stderr=subprocess.STDOUT
    )


async def test_workers_back_off_during_a_postgres_outage_and_then_run_every_job_once(
    migrated: Settings, own_postgres: ThrowawayPostgres, tmp_path: Path
) -> None:
    prefix = f"adfault-{uuid.uuid4().hex[:8]}"
    settings = own_settings(
        own_postgres, **{**JOBS_SETTINGS, "queue_redis_url": redis_url(13), "jobs_key_prefix": prefix}
    )
    org = await _arrange(settings)
    database = Database.from_settings(settings)
    runtime = JobsRuntime.from_settings(settings)
    try:
        for _ in range(JOBS):
            async with tenant_session(database, organization_id=org) as session:
                await enqueue_job(
                    session, runtime, organization_id=org, queue="analysis", name="testing.record", payload={}
                )
    finally:
        await runtime.close()
        await database.dispose()

    own_postgres.stop()
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = _start_worker(settings, log)
        try:

            async def paused() -> bool:
                return "pausing job intake" in log_path.read_text(errors="replace")

            await eventually(paused, within=30, what="the worker to meet the outage")
            await asyncio.sleep(3.0)
            own_postgres.start()

            async def all_completed() -> bool:
                return (await _outcome(settings))[0] >= JOBS

            await eventually(all_completed, within=30, what="every job completed")
        finally:
            worker.kill()
            worker.wait(10)
            client = redis.Redis.from_url(redis_url(13))
            keys = list(client.scan_iter(match=f"{prefix}:*"))
            if keys:
                client.delete(*keys)
            client.close()

    completed, effects, distinct = await _outcome(settings)
    assert (completed, effects, distinct) == (JOBS, JOBS, JOBS)  # none lost, none run twice
    pauses = log_path.read_text(errors="replace").count("pausing job intake")
    # Three seconds down with the backoff capped at 1 s: a handful of pauses, where postponing each of the
    # 20 jobs every second made about 60 warnings.
    assert pauses <= 8


async def test_an_attempt_cut_short_by_a_postgres_outage_is_not_counted(
    migrated: Settings, own_postgres: ThrowawayPostgres, tmp_path: Path
) -> None:
    prefix = f"adfault-{uuid.uuid4().hex[:8]}"
    queue = {"queue_redis_url": redis_url(13), "jobs_key_prefix": prefix}
    settings = own_settings(own_postgres, **{**JOBS_SETTINGS, **queue})
    org = await _arrange(settings)
    database = Database.from_settings(settings)
    runtime = JobsRuntime.from_settings(settings)
    admin = create_async_engine(settings.database_admin_url.get_secret_value(), pool_pre_ping=True)
    log_path = tmp_path / "worker.log"

    async def state() -> tuple[str, int]:
        async with admin.connect() as conn:
            row = (await conn.execute(text("SELECT state, attempts FROM jobs WHERE id = :i"), {"i": job_id})).one()
        return str(row[0]), int(row[1])

    try:
        async with tenant_session(database, organization_id=org) as session:
            job = await enqueue_job(
                session, runtime, organization_id=org, queue="analysis", name="testing.record", payload={"sleep_s": 2}
            )
            job_id = job.id
        with log_path.open("wb") as log:
            worker = _start_worker(settings, log)
            try:

                async def running() -> bool:
                    return (await state())[0] == "active"

                await eventually(running, within=30, what="the job to start")
                own_postgres.stop()  # while it runs, and until after it tries to write
                await asyncio.sleep(3.0)
                own_postgres.start()

                async def completed() -> bool:
                    return (await state())[0] == "completed"

                await eventually(completed, within=30, what="the job to complete")
            finally:
                worker.kill()
                worker.wait(10)
        assert await state() == ("completed", 1)  # before, the interrupted run used up an attempt
        assert "job attempt interrupted by a database outage" in log_path.read_text(errors="replace")
    finally:
        await admin.dispose()
        await runtime.close()
        await database.dispose()
        client = redis.Redis.from_url(redis_url(13))
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()
