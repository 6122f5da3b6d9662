"""The one module that speaks to the queue library (bullmq). Everything else goes through `Broker`.

What the job system takes from bullmq: Redis queues with atomic moves between states, per-job locks that a
live worker keeps renewing, stalled-job detection (a job whose lock expired goes back to `wait`), delayed
jobs, and idempotent adds (a job id that already exists is not added twice).

What it does itself, because Postgres is the durable record and Redis may lose everything: attempt counting,
the retry schedule, the dead-letter state and timeouts. Every bullmq job is therefore added with a single
attempt; a retry is the same job moved back to `delayed` by the worker (`Delivery.defer`), so its id and
lock discipline stay bullmq's. Completed jobs are removed from Redis at once; failed jobs (the dead letters)
stay in bullmq's `failed` set until requeued or purged.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from bullmq import DelayedError, Job, Queue, Worker

from autodevops.jobs.queues import QUEUE_NAMES
from autodevops.logging import get_logger
from autodevops.redis_clients import background_client

log = get_logger(__name__)

# Redis states bullmq reports, mapped to whether the job still exists there.
LIVE_STATES = frozenset({"waiting", "wait", "active", "delayed", "prioritized", "paused", "waiting-children"})
COUNTED_STATES = ("waiting", "active", "delayed", "prioritized", "failed")
# bullmq's largest job priority (2^21): lower numbers start first, equal ones in the order they were added.
MAX_PRIORITY = 2_097_152


def redis_client(url: str) -> aioredis.Redis:
    """A pooled background client in the shape bullmq's Lua scripts expect (decoded strings)."""
    return background_client(url)


@dataclass(slots=True)
class Delivery:
    """One job handed to this worker, with the lock token that proves ownership while it runs."""

    queue: str
    job_id: str
    name: str
    data: dict[str, Any]
    token: str
    job: Job
    deferred_failure: str | None

    async def defer(self, delay_s: float) -> DelayedError:
        """Put the job back in `delayed` for `delay_s` (0 = runnable at once) without counting an attempt.

        Returns the exception the processor must raise so the library leaves the job where it now is.
        """
        now_ms = int(time.time() * 1000)
        await self.job.moveToDelayed(now_ms + max(0, round(delay_s * 1000)), self.token)
        return DelayedError()


class Broker:
    """Enqueue, inspect and remove jobs on the queue Redis. One per process; close it on shutdown."""

    def __init__(self, redis_url: str, *, prefix: str, client: aioredis.Redis | None = None) -> None:
        self.redis_url = redis_url
        self.prefix = prefix
        self.client = client if client is not None else redis_client(redis_url)
        self._queues: dict[str, Queue] = {}

    def _queue(self, name: str) -> Queue:
        if name not in QUEUE_NAMES:
            raise KeyError(f"unknown queue {name!r}")
        queue = self._queues.get(name)
        if queue is None:
            queue = Queue(name, {"connection": self.client, "prefix": self.prefix})
            self._queues[name] = queue
        return queue

    async def enqueue(
        self,
        queue: str,
        job_id: str,
        name: str,
        data: dict[str, Any],
        *,
        delay_s: float = 0,
        priority: int | None = None,
    ) -> None:
        """Add job `job_id` unless Redis already holds a job with that id (then this is a no-op).

        `priority` (1..MAX_PRIORITY, lower first) places it among the queue's prioritized jobs; without one it
        waits in plain order, ahead of every prioritized job (bullmq takes its wait list first).
        """
        opts: dict[str, Any] = {
            "jobId": job_id,
            "attempts": 1,
            "removeOnComplete": True,
            "removeOnFail": False,
        }
        if delay_s > 0:
            opts["delay"] = round(delay_s * 1000)
        if priority is not None:
            opts["priority"] = max(1, min(MAX_PRIORITY, priority))
        await self._queue(queue).add(name, data, opts)

    async def state(self, queue: str, job_id: str) -> str | None:
        """bullmq's state for the job (`waiting`, `active`, `delayed`, `failed`...), or None if Redis lacks it."""
        state = await self._queue(queue).getJobState(job_id)
        return None if state in (None, "unknown") else str(state)

    async def is_live(self, queue: str, job_id: str) -> bool:
        """True while Redis will still deliver the job (waiting, delayed or being worked on)."""
        return (await self.state(queue, job_id)) in LIVE_STATES

    async def promote(self, queue: str, job_id: str) -> bool:
        """Move a `delayed` job to the queue now (keeping its priority); False when it is not delayed."""
        try:
            await self._queue(queue).backend.promote(job_id)
        except TypeError:  # bullmq's "not in the delayed state" / "missing key" answers
            return False
        return True

    async def remove(self, queue: str, job_id: str) -> bool:
        """Remove the job from Redis; False if it is locked by a worker right now (or already gone)."""
        result = await self._queue(queue).remove(job_id)
        return bool(result == 1)

    async def counts(self, queue: str) -> dict[str, int]:
        """Jobs per bullmq state in `queue` (waiting, active, delayed, prioritized, failed)."""
        raw = await self._queue(queue).getJobCounts(*COUNTED_STATES)
        return {state: int(raw.get(state, 0) or 0) for state in COUNTED_STATES}

    async def message(self, queue: str, job_id: str) -> dict[str, Any] | None:
        """The data a queued job carries (ids only), or None if Redis does not hold the job."""
        job = await self._queue(queue).getJob(job_id)
        return dict(job.data) if job is not None else None

    async def failed_reason(self, queue: str, job_id: str) -> str | None:
        """The reason bullmq recorded when it failed the job itself (a job stalled too often)."""
        raw = await self.client.hget(f"{self.prefix}:{queue}:{job_id}", "failedReason")
        return str(raw) if raw else None

    async def close(self) -> None:
        await self.client.aclose()


Processor = Callable[[Delivery], Awaitable[Any]]


def _log_error(queue: str, error: object, job: object = None) -> None:
    log.warning("queue library error", queue=queue, error=str(error), job_id=getattr(job, "id", None))


class Consumer:
    """The worker side for several queues at once, fetched in the order given (highest priority first).

    bullmq's own `Worker.run` serves one queue; here one loop asks each queue in turn, so a free slot always
    goes to the most important ready job. Each queue still gets a bullmq `Worker` (not auto-run) for its lock
    renewal, stalled checks and the atomic complete/fail moves.
    """

    def __init__(
        self,
        redis_url: str,
        *,
        prefix: str,
        queues: list[str],
        processor: Processor,
        lock_duration_ms: int,
        stalled_interval_ms: int,
    ) -> None:
        self.prefix = prefix
        self.queue_names = list(queues)
        self.client = redis_client(redis_url)
        # BZPOPMIN blocks its connection: give it one of its own so lock renewals never wait behind it.
        self.blocking_client = redis_client(redis_url)
        self._processor = processor
        self._stalled_interval_ms = stalled_interval_ms
        self._counter = 0
        self.workers: dict[str, Worker] = {}
        for name in self.queue_names:
            worker = Worker(
                name,
                self._make_processor(name),
                {
                    "connection": self.client,
                    "prefix": prefix,
                    "autorun": False,
                    "lockDuration": lock_duration_ms,
                    "stalledInterval": stalled_interval_ms,
                    # Attempts are counted in Postgres (a crash during a run counts there); bullmq must never
                    # fail a job on its own for stalling, so its own limit is out of reach.
                    "maxStalledCount": 1_000_000,
                },
            )
            # The library reports failures of its own bookkeeping (a lock it could not renew, a job Redis lost
            # while it ran) as events; without a listener they would vanish.
            worker.on("error", functools.partial(_log_error, name))
            self.workers[name] = worker

    def _make_processor(self, queue: str) -> Callable[[Job, str], Awaitable[Any]]:
        async def process(job: Job, token: str) -> Any:
            delivery = Delivery(
                queue=queue,
                job_id=str(job.id),
                name=str(job.name),
                data=dict(job.data or {}),
                token=token,
                job=job,
                deferred_failure=job.deferredFailure,
            )
            return await self._processor(delivery)

        return process

    def start(self) -> None:
        """Start lock renewal. Call from inside the running event loop."""
        for worker in self.workers.values():
            worker.lockManager.start()

    async def fetch(self) -> tuple[str, Job, str] | None:
        """Move the most important ready job to `active` under a fresh lock token; None if none is ready."""
        for name in self.queue_names:
            worker = self.workers[name]
            self._counter += 1
            token = f"{worker.id}:{self._counter}"
            job = await worker.moveToActive(token)
            if job is not None:
                return name, job, token
        return None

    def next_delayed_s(self) -> float | None:
        """Seconds until the earliest delayed job any queue reported on the last fetch, if known."""
        now_ms = time.time() * 1000
        future = [w.blockUntil for w in self.workers.values() if w.blockUntil and w.blockUntil > now_ms]
        return (min(future) - now_ms) / 1000 if future else None

    async def wait_for_work(self, timeout_s: float) -> None:
        """Block until a queue signals a new or due job, or `timeout_s` passes."""
        keys = [f"{self.prefix}:{name}:marker" for name in self.queue_names]
        await self.blocking_client.bzpopmin(keys, timeout=max(0.01, timeout_s))

    async def process(self, queue: str, job: Job, token: str) -> None:
        """Run the processor for a fetched job; bullmq then completes or fails it (or not, if deferred)."""
        await self.workers[queue].processJob(job, token)

    async def check_stalled(self) -> list[str]:
        """Move jobs whose lock expired (their worker died) back to `wait`. Returns their ids."""
        moved: list[str] = []
        for name in self.queue_names:
            worker = self.workers[name]
            stalled = await worker.backend.moveStalledJobsToWait(1_000_000, self._stalled_interval_ms)
            moved.extend(str(job_id) for job_id in stalled or [])
        return moved

    async def close(self) -> None:
        for worker in self.workers.values():
            await worker.lockManager.close()
        await self.blocking_client.aclose()
        await self.client.aclose()


def sync_counts(redis_url: str, prefix: str) -> dict[str, dict[str, int]]:
    """Jobs per queue and state, read synchronously (for Prometheus collectors, which cannot await)."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        pipe = client.pipeline(transaction=False)
        for queue in QUEUE_NAMES:
            base = f"{prefix}:{queue}"
            pipe.llen(f"{base}:wait")
            pipe.llen(f"{base}:active")
            pipe.zcard(f"{base}:delayed")
            pipe.zcard(f"{base}:prioritized")
            pipe.zcard(f"{base}:failed")
        values = pipe.execute()
    finally:
        client.close()
    result: dict[str, dict[str, int]] = {}
    for index, queue in enumerate(QUEUE_NAMES):
        chunk = values[index * 5 : index * 5 + 5]
        result[queue] = dict(zip(COUNTED_STATES, (int(v) for v in chunk), strict=True))
    return result
