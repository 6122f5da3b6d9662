"""The worker loop: fetch by priority, run with a timeout, record every transition in Postgres.

One `Runner` per worker process serves any subset of the queues with `concurrency` slots. For each delivered
job it:

1. takes a Postgres advisory lock on the job id (held by a transaction on a dedicated connection, so it dies
   with the worker) — a duplicate delivery while the job runs elsewhere is deferred, not run twice;
2. claims the job's row: a `completed` or `dead_letter` job is a duplicate delivery and is acknowledged without
   running; otherwise the attempt is counted *before* running (a crash still uses it up) and the row goes
   `active`;
3. runs the handler in the job's tenant-bound session, in a task of its own, and commits the handler's writes
   together with the `completed` state. The timeout is a hard deadline: at it the attempt's subprocesses are
   killed and its task cancelled, and the attempt fails whether or not the handler's code answers to the
   cancellation (a handler that returns past its deadline is rolled back, never counted a success);
4. on error or timeout, records the failure and either schedules the next attempt on the retry schedule
   (`failed`, the bullmq job moves to `delayed`) or moves the job to `dead_letter` (bullmq's `failed` set).

SIGTERM (`stop()`) stops fetching, lets running jobs finish within the grace period, then releases the rest:
their attempt is given back and they return to the queue for another worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from autodevops.config import Settings
from autodevops.db import Database, after_commit, database_unavailable, tenant_session
from autodevops.engine.processes import collect_processes, kill_collected
from autodevops.jobs import metrics, queries
from autodevops.jobs.broker import Broker, Consumer, Delivery, redis_client
from autodevops.jobs.events import EventBus
from autodevops.jobs.queues import in_priority_order
from autodevops.jobs.reconciler import HANDOVER_CHANNEL, Reconciler
from autodevops.jobs.registry import JobContext, TaskSpec, get_task
from autodevops.jobs.retry import retry_delay_s
from autodevops.jobs.slots import PARK_S, OrganizationSlots
from autodevops.logging import bind_request_id, get_logger
from autodevops.organization import plans
from autodevops.webhook_retention import prune_webhook_deliveries

log = get_logger(__name__)

T = TypeVar("T")

# Longest single wait for new work; a new job wakes the worker at once, this only bounds delayed-job latency.
IDLE_WAIT_S = 5.0
# A duplicate delivery of a job that is running elsewhere is looked at again after this long (scaled).
BUSY_RETRY_S = 10.0
ERROR_MESSAGE_MAX = 2000
# How long a cancelled attempt may take to unwind once its subprocesses are killed.
STOP_GRACE_S = 2.0
# The first pause of job intake when the database is unreachable (doubles with each failure).
DATABASE_BACKOFF_S = 1.0
# A plan's concurrent-job limit is read again after this long (a plan change applies within it).
SLOT_LIMIT_TTL_S = 5.0
SLOT_LIMITS_CACHED = 10_000


class JobFailed(Exception):
    """The job ended in the dead-letter queue; the message is the last error."""


class AttemptTimedOut(Exception):
    """The attempt reached its deadline."""


def _retrieve(task: asyncio.Task[None]) -> None:
    """Collect an abandoned attempt's outcome so asyncio does not report it as never retrieved."""
    if not task.cancelled():
        task.exception()


class Runner:
    """Runs jobs from `queues` with `concurrency` slots until `stop()`. One per worker process."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        *,
        queues: list[str] | tuple[str, ...],
        concurrency: int,
        rng: random.Random | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.settings = settings
        self.database = database
        self.queues = [q.name for q in in_priority_order(list(queues))]
        if not self.queues:
            raise ValueError("no queues to serve")
        self.concurrency = concurrency
        self.scale = settings.jobs_time_scale
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        url = settings.effective_queue_redis_url
        prefix = settings.jobs_key_prefix
        self.consumer = Consumer(
            url,
            prefix=prefix,
            queues=self.queues,
            processor=self._execute,
            lock_duration_ms=settings.jobs_lock_duration_ms,
            stalled_interval_ms=settings.jobs_stalled_interval_ms,
        )
        self.broker = Broker(url, prefix=prefix)
        self.slots = OrganizationSlots(
            self.broker.client,
            self.broker,
            prefix=prefix,
            lease_ms=settings.jobs_lock_duration_ms,
            park_s=self._park_s(),
        )
        # organization -> (its plan's concurrent jobs, until when that answer is used): one read per few seconds.
        self._slot_limits: dict[uuid.UUID, tuple[int, float]] = {}
        self.bus = EventBus(redis_client(url), prefix=prefix)
        self.reconciler = Reconciler(settings, database, self.broker)
        self._stopping = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._handlers: dict[str, asyncio.Task[None]] = {}
        self._releasing: set[str] = set()
        self._database_failures = 0
        self._paused_until = 0.0
        # Jobs whose attempt a database outage interrupted in this worker (their attempt is given back).
        self._interrupted: set[uuid.UUID] = set()

    # ---- lifecycle -------------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop taking jobs; `run()` then drains and returns. Safe to call from a signal handler."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def run(self) -> None:
        """Serve until `stop()`, then finish or release the running jobs within the grace period."""
        self.consumer.start()
        background = [
            asyncio.create_task(self._every(self.settings.jobs_stalled_interval_ms / 1000, self._check_stalled)),
            asyncio.create_task(self._every(self.settings.jobs_reconcile_interval_s, self._reconcile, now=True)),
            asyncio.create_task(self._listen_for_handovers()),
            asyncio.create_task(self._every(self.settings.jobs_lock_duration_ms / 3000, self.slots.renew)),
            # At start as well: workers redeployed more often than the interval would otherwise never prune.
            asyncio.create_task(
                self._every(self.settings.webhook_delivery_prune_interval_s, self._prune_webhook_deliveries, now=True)
            ),
        ]
        log.info("worker started", queues=self.queues, concurrency=self.concurrency)
        try:
            await self._fetch_loop()
            await self._drain()
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await self.consumer.close()
            await self.reconciler.close()
            await self.broker.close()
            await self.bus.client.aclose()
            log.info("worker stopped")

    async def _until_stopped(self, awaitable: Awaitable[T]) -> T | None:
        """Await `awaitable` unless `stop()` comes first (then it is cancelled and None returned)."""
        task = asyncio.ensure_future(awaitable)
        stop = asyncio.create_task(self._stopping.wait())
        try:
            await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if task.done():
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        return None

    async def _fetch_loop(self) -> None:
        slots = asyncio.Semaphore(self.concurrency)
        while not self.stopping:
            if await self._until_stopped(slots.acquire()) is None:
                break
            paused_s = self._paused_until - time.monotonic()
            if paused_s > 0:  # the database is down: leave the jobs in Redis until it may be back
                slots.release()
                await self._until_stopped(asyncio.sleep(paused_s))
                continue
            try:
                fetched = await self.consumer.fetch()
            except Exception as exc:  # noqa: BLE001 - Redis away: keep the worker alive and retry
                slots.release()
                log.warning("fetching a job failed", error=str(exc))
                await self._until_stopped(asyncio.sleep(1.0))
                continue
            if fetched is None:
                slots.release()
                delayed = self.consumer.next_delayed_s()
                timeout = IDLE_WAIT_S if delayed is None else min(IDLE_WAIT_S, delayed)
                try:
                    await self._until_stopped(self.consumer.wait_for_work(timeout))
                except Exception as exc:  # noqa: BLE001
                    log.warning("waiting for jobs failed", error=str(exc))
                    await self._until_stopped(asyncio.sleep(1.0))
                continue
            queue, job, token = fetched
            runnable_since_ms = max(int(job.timestamp or 0) + int(job.delay or 0), int(job.timestamp or 0))
            metrics.JOB_START_LATENCY.labels(queue).observe(max(0.0, time.time() - runnable_since_ms / 1000))
            task = asyncio.create_task(self.consumer.process(queue, job, token))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
            task.add_done_callback(lambda _t: slots.release())

    async def _drain(self) -> None:
        if not self._running:
            return
        grace = self.settings.jobs_shutdown_grace_s
        log.info("finishing running jobs", running=len(self._running), grace_s=grace)
        _done, pending = await asyncio.wait(set(self._running), timeout=grace)
        # Past the grace period: release what still runs. A job may be between its claim and the start of its
        # handler, so keep releasing until every job has handed its slot back.
        while pending:
            for job_id, handler in list(self._handlers.items()):
                if job_id not in self._releasing:
                    self._releasing.add(job_id)
                    handler.cancel()
            _done, pending = await asyncio.wait(pending, timeout=0.2)

    async def _every(self, interval_s: float, action: Any, *, now: bool = False) -> None:
        if not now:
            await asyncio.sleep(interval_s)
        while True:
            try:
                await action()
            except Exception:
                log.exception("periodic task failed", task=getattr(action, "__name__", "task"))
            await asyncio.sleep(interval_s)

    async def _prune_webhook_deliveries(self) -> None:
        await prune_webhook_deliveries(self.database, self.settings)

    async def _check_stalled(self) -> None:
        await self.reconciler.push_handed_over()
        stalled = await self.consumer.check_stalled()
        if stalled:
            log.warning("stalled jobs returned to the queue", job_ids=stalled)

    async def _listen_for_handovers(self) -> None:
        """Queue at once the jobs an API process committed but could not push (`HANDOVER_CHANNEL`).

        On a dedicated connection; when it is lost (PostgreSQL restarted) it is opened again.
        """
        while True:
            try:
                await self._listen_once()
            except Exception as exc:  # noqa: BLE001 - PostgreSQL away: listen again once it is back
                log.warning("listening for job hand-overs failed", error=str(exc))
            await asyncio.sleep(1.0)

    async def _listen_once(self) -> None:
        lost = asyncio.Event()
        payloads: asyncio.Queue[str] = asyncio.Queue()
        async with self.database.engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None
            await raw.add_listener(HANDOVER_CHANNEL, lambda *args: payloads.put_nowait(str(args[3])))
            raw.add_termination_listener(lambda _conn: lost.set())
            try:
                while not lost.is_set():
                    getter = asyncio.ensure_future(payloads.get())
                    ender = asyncio.ensure_future(lost.wait())
                    await asyncio.wait({getter, ender}, return_when=asyncio.FIRST_COMPLETED)
                    ender.cancel()
                    if getter.done():
                        await self.reconciler.take_over(getter.result())
                    else:
                        getter.cancel()
            finally:
                await conn.invalidate()  # never hand a connection with listeners back to the pool

    async def _reconcile(self) -> None:
        await self.reconciler.run_once()

    # ---- one job -----------------------------------------------------------------------------------------
    async def _execute(self, delivery: Delivery) -> None:
        """bullmq's processor: return = acknowledge (completed), raise = dead letter, DelayedError = later."""
        try:
            job_id = uuid.UUID(delivery.job_id)
            organization_id = uuid.UUID(str(delivery.data["organization_id"]))
        except (KeyError, ValueError):
            raise JobFailed(f"malformed job {delivery.job_id!r}: no job or organization id") from None
        bind_request_id(delivery.data.get("correlation_id"))
        spec = get_task(delivery.name)
        try:
            async with self._exclusive(job_id) as acquired:
                if not acquired:
                    log.info("job is running elsewhere; looking again later", job_id=str(job_id))
                    raise await delivery.defer(max(0.05, BUSY_RETRY_S * self.scale))
                if spec is not None and not await self._take_slot(delivery, organization_id):
                    raise await delivery.defer(self._park_s())
                try:
                    await self._run_claimed(delivery, spec, job_id, organization_id)
                finally:
                    await self._give_slot_back(delivery, organization_id)
        except Exception as exc:
            if not isinstance(exc, (SQLAlchemyError, OSError)) and not database_unavailable(exc):
                raise
            # The database is unreachable: the job's record cannot be kept, so it must not run or fail now.
            # It waits in Redis, without using an attempt, until the database is back; meanwhile this worker
            # stops taking jobs for a while that doubles with each failure (see `_database_down`).
            delay_s = self._database_down(exc)
            raise await delivery.defer(delay_s) from exc
        self._database_failures = 0

    def _park_s(self) -> float:
        """How long a parked job stays delayed unless a freed slot promotes it first."""
        return max(0.05, PARK_S * self.scale)

    async def _take_slot(self, delivery: Delivery, organization_id: uuid.UUID) -> bool:
        """One of the organization's concurrent-job slots for this job, or False: every slot is taken and the
        job is parked (the caller defers it; it is promoted when a slot frees). See `jobs.slots`."""
        limit = await self._concurrent_jobs(organization_id)
        try:
            taken = await self.slots.take(
                organization_id,
                delivery.queue,
                delivery.job_id,
                limit=limit,
                priority=int(getattr(delivery.job, "priority", 0) or 0),
            )
        except RedisError as exc:
            # The job came from this Redis a moment ago; if it cannot keep the count now, run the job rather
            # than hold it back (the same choice as the API's rate limits).
            log.warning("concurrent-job limit not enforced: redis unavailable", error=str(exc))
            return True
        if taken == "parked":  # said once per wait, not at every look while it waits
            log.debug("organization at its concurrent-job limit; job parked", job_id=delivery.job_id, limit=limit)
            await self._publish(delivery.job_id, "queued", waiting_for="concurrent_jobs", limit=limit)
        return taken == "taken"

    async def _concurrent_jobs(self, organization_id: uuid.UUID) -> int:
        cached = self._slot_limits.get(organization_id)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        async with tenant_session(self.database, organization_id=organization_id) as session:
            limit = (await plans.plan_of(session, self.settings, organization_id)).limits.concurrent_jobs
        if len(self._slot_limits) > SLOT_LIMITS_CACHED:
            self._slot_limits.clear()
        self._slot_limits[organization_id] = (limit, time.monotonic() + SLOT_LIMIT_TTL_S)
        return limit

    async def _give_slot_back(self, delivery: Delivery, organization_id: uuid.UUID) -> None:
        """Free the job's slot and wake the organization's next parked job; never masks the job's outcome."""
        try:
            await self.slots.give_back(organization_id, delivery.queue, delivery.job_id)
        except Exception as exc:  # noqa: BLE001 - the lease ends on its own; the parked job's delay bounds its wait
            log.warning("could not give back a concurrent-job slot", job_id=delivery.job_id, error=str(exc))

    def _database_down(self, error: BaseException) -> float:
        """Note a database outage; returns how long to wait before trying again (1 s doubling, jittered).

        The wait is capped at the stalled-check interval, so jobs resume within one interval of the end of
        the outage. Fetching pauses for as long, rather than taking jobs only to put them back.
        """
        self._database_failures += 1
        cap_s = max(1.0, self.settings.jobs_stalled_interval_ms / 1000)
        base_s: float = min(cap_s, DATABASE_BACKOFF_S * 2.0 ** min(self._database_failures - 1, 16))
        delay_s = base_s * self.rng.uniform(0.8, 1.2)
        resume_at = time.monotonic() + delay_s
        if resume_at > self._paused_until:
            self._paused_until = resume_at
            log.warning(
                "database unavailable; pausing job intake",
                pause_s=round(delay_s, 2),
                failures=self._database_failures,
                error=str(error)[:300],
            )
        return delay_s

    @contextlib.asynccontextmanager
    async def _exclusive(self, job_id: uuid.UUID) -> AsyncIterator[bool]:
        """A transaction-scoped advisory lock on the job id, held while the job runs and freed if we die."""
        key = uuid_lock_key(job_id)
        async with self.database.engine.connect() as conn:
            acquired = bool(await conn.scalar(select(func.pg_try_advisory_xact_lock(key))))
            try:
                yield acquired
            finally:
                await conn.rollback()

    async def _run_claimed(
        self, delivery: Delivery, spec: TaskSpec | None, job_id: uuid.UUID, organization_id: uuid.UUID
    ) -> None:
        key = str(job_id)
        async with tenant_session(self.database, organization_id=organization_id) as session:
            if job_id in self._interrupted:
                # Its last attempt here was cut short by a database outage: that attempt does not count.
                await queries.give_back_attempt(session, job_id)
            claimed = await queries.claim(session, job_id) if spec is not None else None
            if claimed is not None:
                verdict = "run"
                queue, attempt, max_attempts = claimed.queue, claimed.attempts, claimed.max_attempts
                payload, correlation_id, last_error = dict(claimed.payload), claimed.correlation_id, claimed.last_error
            else:
                row = await queries.get(session, job_id, for_update=True)
                if row is None:
                    log.warning("job has no record (organization deleted?); dropping it", job_id=key)
                    return
                if row.state in ("completed", "dead_letter"):
                    log.info("duplicate delivery of a finished job; acknowledged", job_id=key)
                    return
                if spec is None:
                    await queries.mark_dead(session, row, f"unknown task {row.name!r}")
                elif row.attempts >= row.max_attempts:
                    # The last attempt started and never recorded an outcome: its worker died mid-run.
                    lost = "the worker running the last attempt was lost"
                    await queries.mark_dead(session, row, lost)
                    if spec.on_dead_letter is not None:
                        await spec.on_dead_letter(session, dict(row.payload), lost)
                else:  # pragma: no cover - claim() takes every runnable job
                    raise RuntimeError(f"job {key} is runnable but could not be claimed")
                verdict = "dead"
                queue, max_attempts, attempt = row.queue, row.max_attempts, row.attempts
                payload, correlation_id, last_error = dict(row.payload), row.correlation_id, row.last_error
        self._interrupted.discard(job_id)  # committed: the attempt was given back
        if verdict == "dead":
            metrics.JOB_DEAD_LETTERS.labels(queue).inc()
            await self._publish(key, "failed", error=last_error, attempts=attempt)
            raise JobFailed(last_error or "failed")
        assert spec is not None
        await self._publish(key, "active", attempt=attempt, max_attempts=max_attempts)
        timeout_s = spec.timeout_s * self.scale
        started = time.perf_counter()
        error: str | None = None
        permanent = False
        outcome = "completed"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        processes: set[int] = set()
        run = asyncio.create_task(
            self._attempt(
                spec, job_id, organization_id, queue, payload, attempt, correlation_id, timeout_s, deadline, processes
            )
        )
        self._handlers[key] = run
        try:
            done, _ = await asyncio.wait({run}, timeout=timeout_s)
            if not done:
                raise AttemptTimedOut
            run.result()
        except AttemptTimedOut:
            await self._stop_attempt(key, run, processes)
            metrics.JOB_TIMEOUTS.labels(queue).inc()
            error = f"timed out after {timeout_s:g}s (attempt {attempt} of {max_attempts})"
        except asyncio.CancelledError:
            if key not in self._releasing or not run.done():
                await self._stop_attempt(key, run, processes)
                raise
            self._releasing.discard(key)
            outcome = "released"
        except Exception as exc:
            if database_unavailable(exc):
                # ...but the database going away under it: not the job's fault, and nothing can be recorded
                # now. The job waits for the database; its attempt is given back when it next runs here.
                self._interrupted.add(job_id)
                log.warning("job attempt interrupted by a database outage", job_id=key, error=str(exc)[:300])
                raise
            # An error that says it is permanent (`permanent = True`: not found, too large...) fails the job
            # now, with its own message: retrying would only repeat it and delay the answer.
            permanent = getattr(exc, "permanent", False) is True
            error = (str(exc) if permanent else f"{type(exc).__name__}: {exc}")[:ERROR_MESSAGE_MAX]
            log.warning("job attempt failed", job_id=key, error=error, permanent=permanent)
        finally:
            self._handlers.pop(key, None)
        if outcome == "released":
            await self._release(delivery, job_id, organization_id, queue, started)
            return
        if error is None:
            metrics.JOB_DURATION.labels(queue, "completed").observe(time.perf_counter() - started)
            return
        metrics.JOB_FAILURES.labels(queue).inc()
        await self._fail(delivery, job_id, organization_id, queue, error, started, permanent=permanent)

    async def _attempt(
        self,
        spec: TaskSpec,
        job_id: uuid.UUID,
        organization_id: uuid.UUID,
        queue: str,
        payload: dict[str, Any],
        attempt: int,
        correlation_id: str | None,
        timeout_s: float,
        deadline: float,
        processes: set[int],
    ) -> None:
        """One run of the handler in the job's tenant session, committed with the job's `completed` state."""
        collect_processes(processes)  # what `_stop_attempt` kills: this task's context (and its children's)
        key = str(job_id)
        async with tenant_session(self.database, organization_id=organization_id) as session:

            async def report(stage: str, **data: Any) -> None:
                await self._publish(key, stage, **data)

            context = JobContext(
                job_id=job_id,
                name=spec.name,
                queue=queue,
                organization_id=organization_id,
                payload=payload,
                attempt=attempt,
                correlation_id=correlation_id,
                session=session,
                report=report,
                deadline_s=timeout_s,
            )
            await spec.handler(context)
            if asyncio.get_running_loop().time() >= deadline:
                # The handler outlived its deadline (it did not answer to cancellation in time): its work is
                # rolled back and the attempt counts as timed out, never as a late success.
                raise AttemptTimedOut
            await queries.complete(session, job_id)

            async def announce_done() -> None:
                await self._publish(key, "done", percent=100, attempt=attempt)

            after_commit(session, announce_done)

    async def _stop_attempt(self, key: str, run: asyncio.Task[None], processes: set[int]) -> None:
        """End an attempt now, whether or not its code answers to cancellation.

        Its subprocesses (git, the analysis child) are killed with everything they started, the task is
        cancelled and given `STOP_GRACE_S` to unwind; a task that still runs after that is left to finish on
        its own (its transaction is never committed: see `_attempt`) and the attempt is failed without it.
        """
        run.cancel()
        killed = kill_collected(processes)
        done, _ = await asyncio.wait({run}, timeout=STOP_GRACE_S)
        if killed:
            log.warning("killed the subprocesses of a stopped job attempt", job_id=key, processes=killed)
        if not done:
            log.error("a job attempt did not stop when cancelled; failing it without waiting", job_id=key)
        run.add_done_callback(_retrieve)

    async def _fail(
        self,
        delivery: Delivery,
        job_id: uuid.UUID,
        organization_id: uuid.UUID,
        queue: str,
        error: str,
        started: float,
        *,
        permanent: bool = False,
    ) -> None:
        key = str(job_id)
        async with tenant_session(self.database, organization_id=organization_id) as session:
            row = await queries.get(session, job_id, for_update=True)
            if row is None or row.state != "active":
                return  # deleted meanwhile, or an attempt that overran its deadline committed at the last moment
            retry = not permanent and row.attempts < row.max_attempts
            if retry:
                delay_s = retry_delay_s(row.attempts + 1, time_scale=self.scale, rng=self.rng)
                await queries.mark_retry(session, row, error)
            else:
                delay_s = 0.0
                await queries.mark_dead(session, row, error)
                spec = get_task(row.name)
                if spec is not None and spec.on_dead_letter is not None:
                    await spec.on_dead_letter(session, dict(row.payload), error)
            attempts, max_attempts = row.attempts, row.max_attempts
        if retry:
            metrics.JOB_RETRIES.labels(queue).inc()
            metrics.JOB_DURATION.labels(queue, "retry").observe(time.perf_counter() - started)
            await self._publish(
                key, "retrying", error=error, attempt=attempts, max_attempts=max_attempts, delay_s=round(delay_s, 3)
            )
            raise await delivery.defer(delay_s)
        metrics.JOB_DEAD_LETTERS.labels(queue).inc()
        metrics.JOB_DURATION.labels(queue, "dead_letter").observe(time.perf_counter() - started)
        await self._publish(key, "failed", error=error, attempts=attempts)
        raise JobFailed(error)

    async def _release(
        self, delivery: Delivery, job_id: uuid.UUID, organization_id: uuid.UUID, queue: str, started: float
    ) -> None:
        async with tenant_session(self.database, organization_id=organization_id) as session:
            row = await queries.get(session, job_id, for_update=True)
            if row is not None and row.state == "active":
                await queries.mark_released(session, row)
        metrics.JOB_DURATION.labels(queue, "released").observe(time.perf_counter() - started)
        await self._publish(str(job_id), "released")
        raise await delivery.defer(0)

    async def _publish(self, job_id: str, stage: str, **data: Any) -> None:
        try:
            await self.bus.publish(job_id, stage, **data)
        except Exception as exc:  # noqa: BLE001 - progress is best effort; the jobs row is the record
            log.warning("could not publish job event", error=str(exc))


def uuid_lock_key(job_id: uuid.UUID) -> int:
    """A signed 64-bit advisory lock key from a job id (its first 8 bytes)."""
    return int.from_bytes(job_id.bytes[:8], "big", signed=True)
