"""Fault injection: the job system and the API through the faults they must survive, on servers of their own.

    .venv/bin/python bench/faults.py [--jobs 40] [--workers 2]

It starts a PostgreSQL cluster (`initdb`/`pg_ctl`, as the `postgres` user when run as root) and a
`redis-server` on free ports with their data under a temporary directory, migrates the database, then runs
`autodevops serve` and worker processes against them (queue timings scaled down) and injects, one after the
other:

1. job timeouts while the job publishes progress (the timeout must win, the attempt must fail);
2. a Redis restart that comes back empty, while jobs are being enqueued;
3. a hung Redis (SIGSTOP) while jobs are enqueued and the API is called;
4. SIGTERM to the API while event streams are open;
5. PostgreSQL stopped while jobs run and the API is called;
6. a worker killed with SIGKILL mid-job.

Per fault it prints: jobs created, completed exactly once, lost (not finished as expected), duplicated (their
work done more than once), and the time from the end of the fault until every job created so far was finished,
plus what the API answered meanwhile. Nothing outside its own servers is touched; everything is removed at
the end. Jobs are created the way the API creates them (a transaction each, pushed after COMMIT).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the throwaway servers the fault tests use

import httpx  # noqa: E402

from throwaway_services import ThrowawayPostgres, ThrowawayRedis, free_port  # noqa: E402

WORK = "faults.work"
OVERRUN = "faults.overrun"
TIME_SCALE = 0.05  # retry delays 1.5 s, 6 s...; timeouts x0.05
REDIS_TIMEOUT_S = 0.5
STALLED_INTERVAL_MS = 2000
EFFECTS_DDL = (
    "CREATE TABLE IF NOT EXISTS fault_effects (job_id uuid NOT NULL, pid int NOT NULL,"
    " at timestamptz NOT NULL DEFAULT clock_timestamp())",
    "GRANT SELECT, INSERT ON fault_effects TO autodevops_app",
)


def register_tasks() -> None:
    from sqlalchemy import text

    from autodevops.jobs.registry import JobContext, task

    @task(WORK, queue="analysis")
    async def work(ctx: JobContext) -> None:
        await ctx.progress("analyzing", 10)
        await asyncio.sleep(float(ctx.payload.get("sleep_s", 0.3)))
        await ctx.session.execute(
            text("INSERT INTO fault_effects (job_id, pid) VALUES (:j, :p)"), {"j": ctx.job_id, "p": os.getpid()}
        )

    # 20 s before the time scale: 1 s. It never ends on its own: only its timeout stops it.
    @task(OVERRUN, queue="analysis", timeout_s=20.0)
    async def overrun(ctx: JobContext) -> None:
        percent = 0
        while True:
            percent = (percent + 1) % 100
            await ctx.progress("analyzing", percent)
        await ctx.session.execute(
            text("INSERT INTO fault_effects (job_id, pid) VALUES (:j, :p)"), {"j": ctx.job_id, "p": os.getpid()}
        )


def run_worker(concurrency: int) -> None:
    register_tasks()
    from autodevops.worker import main

    main(queues=["analysis"], concurrency=concurrency)


@dataclass
class Phase:
    name: str
    created: list[uuid.UUID] = field(default_factory=list)
    expected: str = "completed"
    fault_ended: float = 0.0
    notes: list[str] = field(default_factory=list)


class Lab:
    """The servers, the app processes and the helpers of one run."""

    def __init__(self, directory: Path, workers: int) -> None:
        self.directory = directory
        self.postgres = ThrowawayPostgres(directory / "pg")
        self.redis = ThrowawayRedis(directory / "redis")
        self.workers_count = workers
        self.api_port = free_port()
        self.api: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.env: dict[str, str] = {}
        self.database: Any = None
        self.runtime: Any = None
        self.admin: Any = None
        self.org = uuid.uuid4()
        self.headers: dict[str, str] = {}
        self.logs = directory / "logs"

    # ---- set-up ----------------------------------------------------------------------------------------
    async def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.postgres.init()
        self.postgres.start()
        self.redis.start()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AUTODEVOPS_")}
        self.env.update(
            {
                "AUTODEVOPS_ENV": "test",
                "AUTODEVOPS_DATABASE_URL": (
                    f"postgresql+asyncpg://autodevops_app:autodevops_app@127.0.0.1:{self.postgres.port}/autodevops"
                ),
                "AUTODEVOPS_DATABASE_ADMIN_URL": self.postgres.admin_url("autodevops"),
                "AUTODEVOPS_REDIS_URL": self.redis.url(0),
                "AUTODEVOPS_REDIS_TIMEOUT_S": str(REDIS_TIMEOUT_S),
                "AUTODEVOPS_JOBS_KEY_PREFIX": "faults",
                "AUTODEVOPS_JOBS_TIME_SCALE": str(TIME_SCALE),
                "AUTODEVOPS_JOBS_LOCK_DURATION_MS": str(STALLED_INTERVAL_MS),
                "AUTODEVOPS_JOBS_STALLED_INTERVAL_MS": str(STALLED_INTERVAL_MS),
                "AUTODEVOPS_JOBS_RECONCILE_INTERVAL_S": "10",
                "AUTODEVOPS_JOBS_SHUTDOWN_GRACE_S": "5",
                "AUTODEVOPS_SHUTDOWN_GRACE_S": "5",
                "AUTODEVOPS_RATE_LIMIT_PER_IP": "100000/minute",
                "AUTODEVOPS_RATE_LIMIT_PER_USER": "100000/minute",
                # Faults, not plan limits: its one organization may run as many jobs as the workers have slots.
                "AUTODEVOPS_DEFAULT_PLAN": "enterprise",
                "AUTODEVOPS_LOG_LEVEL": "WARNING",
                "AUTODEVOPS_LOG_JSON": "true",
            }
        )
        os.environ.update({k: v for k, v in self.env.items() if k.startswith("AUTODEVOPS_")})
        from autodevops.logging import configure_logging

        configure_logging(level="ERROR", json=True)  # this process's own warnings are counted, not printed
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        from autodevops.config import Settings
        from autodevops.db import Database
        from autodevops.jobs.service import JobsRuntime
        from autodevops.migrate import migrate

        settings = Settings()
        await migrate(settings)
        self.admin = create_async_engine(settings.database_admin_url.get_secret_value(), pool_pre_ping=True)
        async with self.admin.begin() as conn:
            for ddl in EFFECTS_DDL:
                await conn.execute(text(ddl))
        self.database = Database.from_settings(settings)
        self.runtime = JobsRuntime.from_settings(settings)
        await self._tenant()
        self.start_api()
        for _ in range(self.workers_count):
            self.start_worker()

    async def _tenant(self) -> None:
        from autodevops.auth import service as auth_service
        from autodevops.db import tenant_session
        from autodevops.organization import service as organization_service

        async with tenant_session(self.database) as session:
            user = await auth_service.create_user(session, "faults@example.com")
        async with tenant_session(self.database, user_id=user.id) as session:
            membership = await organization_service.create_organization(session, user, "Faults")
            _, token = await auth_service.create_token(session, user, "faults")
        self.org = membership.organization.id
        self.headers = {"Authorization": f"Bearer {token}"}

    def start_api(self) -> None:
        log = (self.logs / f"api-{time.monotonic_ns()}.log").open("wb")
        command = [sys.executable, "-m", "autodevops", "serve", "--port", str(self.api_port)]
        self.api = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.api_port}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise SystemExit("the API did not start")

    def start_worker(self) -> subprocess.Popen[bytes]:
        log = (self.logs / f"worker-{len(self.workers)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, __file__, "--worker"], env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
        )
        self.workers.append(proc)
        return proc

    async def stop(self) -> None:
        for proc in [*self.workers, *([self.api] if self.api else [])]:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        if self.runtime is not None:
            await self.runtime.close()
        if self.database is not None:
            await self.database.dispose()
        if self.admin is not None:
            await self.admin.dispose()
        self.redis.stop()
        self.postgres.stop()

    # ---- jobs ------------------------------------------------------------------------------------------
    async def enqueue(self, name: str = WORK, queue: str = "analysis", **payload: Any) -> uuid.UUID | None:
        """One job, as the API creates it; None when the database refused it (an outage)."""
        from autodevops.db import tenant_session
        from autodevops.jobs.service import enqueue_job

        try:
            async with tenant_session(self.database, organization_id=self.org) as session:
                job = await enqueue_job(
                    session,
                    self.runtime,
                    organization_id=self.org,
                    queue=queue,
                    name=name,
                    payload=payload,
                    max_attempts=1 if name == OVERRUN else None,
                )
                return job.id
        except Exception:  # noqa: BLE001 - PostgreSQL down: the client was told so, nothing was created
            return None

    async def enqueue_spread(self, phase: Phase, count: int, over_s: float, name: str = WORK) -> int:
        """`count` jobs at an even pace over `over_s` seconds; returns how many the database refused."""
        refused = 0
        for _ in range(count):
            job_id = await self.enqueue(name)
            if job_id is None:
                refused += 1
            else:
                phase.created.append(job_id)
            await asyncio.sleep(over_s / count)
        return refused

    async def outcome(self, ids: list[uuid.UUID]) -> tuple[Counter[str], Counter[uuid.UUID]]:
        from sqlalchemy import text

        async with self.admin.connect() as conn:
            states = Counter(
                str(s) for (s,) in await conn.execute(text("SELECT state FROM jobs WHERE id = ANY(:i)"), {"i": ids})
            )
            runs: Counter[uuid.UUID] = Counter(
                {
                    job_id: int(n)
                    for job_id, n in await conn.execute(
                        text("SELECT job_id, count(*) FROM fault_effects WHERE job_id = ANY(:i) GROUP BY job_id"),
                        {"i": ids},
                    )
                }
            )
        return states, runs

    async def settle(self, phase: Phase, within_s: float = 60.0) -> float | None:
        """Seconds from the end of the fault until every job of the phase finished; None if some never did."""
        finished = ("completed", "dead_letter")
        while True:
            states, _ = await self.outcome(phase.created)
            if sum(states[s] for s in finished) == len(phase.created):
                return time.monotonic() - phase.fault_ended
            if time.monotonic() - phase.fault_ended > within_s:
                return None
            await asyncio.sleep(0.1)

    async def report(self, phase: Phase, recovered_s: float | None) -> dict[str, Any]:
        states, runs = await self.outcome(phase.created)
        if phase.expected == "completed":
            once = sum(1 for job_id in phase.created if runs[job_id] == 1)
            lost = len(phase.created) - states["completed"]
        else:  # timed-out jobs: they must end dead-lettered with their work never committed
            once = states["dead_letter"]
            lost = len(phase.created) - states["dead_letter"]
        duplicated = sum(1 for job_id in phase.created if runs[job_id] > 1)
        from sqlalchemy import text

        async with self.admin.connect() as conn:
            extra = await conn.scalar(
                text("SELECT coalesce(sum(attempts - 1), 0) FROM jobs WHERE id = ANY(:i) AND attempts > 1"),
                {"i": phase.created},
            )
        if extra:
            phase.notes.append(f"attempts used beyond the first: {extra}")
        recovered = "never" if recovered_s is None else f"{recovered_s:.1f}s" if phase.created else "-"
        label = "completed once" if phase.expected == "completed" else "timed out     "
        print(
            f"{phase.name:<34} created {len(phase.created):>3}  {label} {once:>3}  lost {lost:>2}"
            f"  duplicated {duplicated:>2}  recovered in {recovered}"
        )
        for note in phase.notes:
            print(f"{'':<36}{note}")
        return {"created": len(phase.created), "once": once, "lost": lost, "duplicated": duplicated}


async def api_probe(lab: Lab, until: float, path: str = "/api/v1/repositories") -> tuple[Counter[int], list[float]]:
    """Call the API in a loop until `until`; status counts and the answers' durations (s), slowest first."""
    statuses: Counter[int] = Counter()
    durations: list[float] = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{lab.api_port}", timeout=60) as client:
        while time.monotonic() < until:
            started = time.monotonic()
            try:
                response = await client.get(path, headers=lab.headers)
                statuses[response.status_code] += 1
            except httpx.TransportError:
                statuses[0] += 1
            durations.append(time.monotonic() - started)
            await asyncio.sleep(0.05)
    return statuses, sorted(durations, reverse=True)


def _slowest(durations: list[float]) -> str:
    return ", ".join(f"{d:.2f}s" for d in durations[:3]) or "none"


def _statuses(statuses: Counter[int]) -> str:
    return ", ".join(f"{code or 'no answer'}: {n}" for code, n in sorted(statuses.items()))


# ---- the faults -----------------------------------------------------------------------------------------------
async def fault_timeouts(lab: Lab, count: int) -> Phase:
    phase = Phase("1 timeouts while publishing", expected="dead_letter")
    await lab.enqueue_spread(phase, count // 4, 0.5, name=OVERRUN)
    phase.fault_ended = time.monotonic()
    return phase


async def fault_redis_restart(lab: Lab, count: int) -> Phase:
    phase = Phase("2 Redis restarted empty")
    enqueuing = asyncio.create_task(lab.enqueue_spread(phase, count, 4.0))
    await asyncio.sleep(1.0)
    await asyncio.to_thread(lab.redis.stop)
    await asyncio.sleep(1.0)
    await asyncio.to_thread(lab.redis.start)
    phase.fault_ended = time.monotonic()
    await enqueuing
    return phase


async def fault_redis_hang(lab: Lab, count: int) -> Phase:
    phase = Phase("3 Redis hung (SIGSTOP 3 s)")
    lab.redis.pause()
    hung_until = time.monotonic() + 3.0
    probe = asyncio.create_task(api_probe(lab, hung_until))
    refused = await lab.enqueue_spread(phase, count // 2, 3.0)
    lab.redis.resume()
    phase.fault_ended = time.monotonic()
    statuses, durations = await probe
    phase.notes.append(
        f"API during the hang: {_statuses(statuses)}; slowest {_slowest(durations)}"
        f" (Redis bound {REDIS_TIMEOUT_S:g}s);"
        f" enqueues refused {refused}"
    )
    return phase


async def fault_api_sigterm(lab: Lab, streams: int = 5) -> Phase:
    phase = Phase("4 API SIGTERM with open streams")
    # Jobs on a queue no worker serves here: they stay pending, so their event streams stay open.
    waiting: list[uuid.UUID] = []
    for _ in range(streams):
        job_id = await lab.enqueue(queue="sync")
        if job_id is not None:
            waiting.append(job_id)

    async def follow(client: httpx.AsyncClient, job_id: uuid.UUID) -> bool:
        try:
            async with client.stream("GET", f"/api/v1/jobs/{job_id}/events", headers=lab.headers) as body:
                text = "".join([chunk async for chunk in body.aiter_text()])
            return "event: unavailable" in text
        except httpx.HTTPError:
            return False

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{lab.api_port}", timeout=120) as client:
        followers = [asyncio.create_task(follow(client, job_id)) for job_id in waiting]
        await asyncio.sleep(1.0)
        assert lab.api is not None
        signalled = time.monotonic()
        lab.api.send_signal(signal.SIGTERM)
        await asyncio.to_thread(lab.api.wait, 120)
        stopped_s = time.monotonic() - signalled
        ended_cleanly = sum(await asyncio.gather(*followers))
    phase.fault_ended = time.monotonic()
    await asyncio.to_thread(lab.start_api)
    back_s = time.monotonic() - phase.fault_ended
    phase.notes.append(
        f"API stopped {stopped_s:.1f}s after SIGTERM (grace 5s); streams ended with a last message"
        f" {ended_cleanly} of {len(waiting)}; a new API answered {back_s:.1f}s later"
    )
    return phase


async def fault_postgres_down(lab: Lab, count: int) -> Phase:
    phase = Phase("5 PostgreSQL stopped 3 s")
    await lab.enqueue_spread(phase, count // 2, 0.5)  # queued and running when it stops
    await asyncio.to_thread(lab.postgres.stop)
    down_until = time.monotonic() + 3.0
    probe = asyncio.create_task(api_probe(lab, down_until))
    refused = await lab.enqueue_spread(phase, count // 4, 3.0)
    statuses, durations = await probe
    await asyncio.to_thread(lab.postgres.start)
    phase.fault_ended = time.monotonic()
    after, _ = await api_probe(lab, time.monotonic() + 0.5)
    phase.notes.append(
        f"API while down: {_statuses(statuses)} (slowest {_slowest(durations)});"
        f" first requests after: {_statuses(after)}; enqueues refused while down {refused}"
        " (the caller was told; nothing half-created)"
    )
    return phase


async def fault_worker_kill(lab: Lab, count: int) -> Phase:
    phase = Phase("6 worker killed with SIGKILL")
    enqueuing = asyncio.create_task(lab.enqueue_spread(phase, count // 2, 1.0))
    await asyncio.sleep(0.7)
    victim = lab.workers[0]
    victim.kill()
    victim.wait(10)
    lab.workers[0] = lab.start_worker()
    lab.workers.pop()  # start_worker appended it too
    phase.fault_ended = time.monotonic()
    await enqueuing
    phase.notes.append(f"stalled-job check every {STALLED_INTERVAL_MS / 1000:g}s")
    return phase


async def run(args: argparse.Namespace) -> int:
    directory = Path(tempfile.mkdtemp(prefix="autodevops-faults-"))
    lab = Lab(directory, args.workers)
    totals: Counter[str] = Counter()
    try:
        await lab.start()
        print(
            f"PostgreSQL :{lab.postgres.port}, Redis :{lab.redis.port}, API :{lab.api_port}, {args.workers} workers"
            f" (4 slots each); time scale {TIME_SCALE:g}, stalled check {STALLED_INTERVAL_MS / 1000:g}s,"
            f" Redis bound {REDIS_TIMEOUT_S:g}s; logs in {lab.logs}\n"
        )
        faults = (
            lambda: fault_timeouts(lab, args.jobs),
            lambda: fault_redis_restart(lab, args.jobs),
            lambda: fault_redis_hang(lab, args.jobs),
            lambda: fault_api_sigterm(lab),
            lambda: fault_postgres_down(lab, args.jobs),
            lambda: fault_worker_kill(lab, args.jobs),
        )
        for make in faults:
            phase = await make()
            recovered = await lab.settle(phase)
            result = await lab.report(phase, recovered)
            totals.update(result)
        print(f"\ntotal: {totals['created']} jobs, lost {totals['lost']}, duplicated {totals['duplicated']}")
        return 0 if totals["lost"] == 0 and totals["duplicated"] == 0 else 1
    finally:
        await lab.stop()
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=40, help="Jobs per fault (some faults use a share).")
    parser.add_argument("--workers", type=int, default=2, help="Worker processes.")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary directory (logs, data).")
    args = parser.parse_args()
    if args.worker:
        run_worker(concurrency=4)
        return
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
