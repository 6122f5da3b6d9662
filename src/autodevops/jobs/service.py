"""Job business rules: create jobs (enqueued only after COMMIT), read them per tenant, manage dead letters.

Domains create jobs through `enqueue_job()` only; they never touch the queue library or Redis themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.config import Settings
from autodevops.db import after_commit
from autodevops.errors import Conflict, Forbidden, NotFound
from autodevops.jobs import queries
from autodevops.jobs.broker import MAX_PRIORITY, Broker
from autodevops.jobs.events import EventBus
from autodevops.jobs.queues import get_queue
from autodevops.jobs.reconciler import HANDOVER_CHANNEL, job_message
from autodevops.logging import get_logger, get_request_id
from autodevops.models import Job, Repository
from autodevops.organization import plans
from autodevops.organization.service import MANAGERS
from autodevops.redis_clients import background_client, bounded, request_client

log = get_logger(__name__)


@dataclass
class JobsRuntime:
    """The queue-side clients a process needs to enqueue jobs and stream their events.

    `broker` and `bus` are request-path clients: each push is bounded by `timeout_s`. `stream` reads the
    event streams with blocking reads (SSE) on a client of its own.
    """

    broker: Broker
    bus: EventBus
    stream: EventBus
    timeout_s: float = 1.0
    # Plans give queue priorities (docs/jobs.md); None: every job in plain queue order.
    settings: Settings | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> JobsRuntime:
        url = settings.effective_queue_redis_url
        prefix = settings.jobs_key_prefix
        broker = Broker(url, prefix=prefix, client=request_client(url, timeout_s=settings.redis_timeout_s, decode=True))
        return cls(
            broker=broker,
            bus=EventBus(broker.client, prefix=prefix),
            stream=EventBus(background_client(url), prefix=prefix),
            timeout_s=settings.redis_timeout_s,
            settings=settings,
        )

    async def close(self) -> None:
        await self.broker.close()
        await self.stream.client.aclose()


async def _push(
    runtime: JobsRuntime, queue: str, job_id: str, name: str, message: dict[str, str], priority: int | None
) -> None:
    with contextlib.suppress(RedisError):  # the "queued" event is a courtesy; the push below is what matters
        await runtime.bus.publish(job_id, "queued", percent=0)
    await runtime.broker.enqueue(queue, job_id, name, message, priority=priority)


async def fair_priority(session: AsyncSession, settings: Settings, organization_id: uuid.UUID, queue: str) -> int:
    """The queue priority of the organization's next job in `queue` (lower starts sooner; docs/jobs.md).

    Its plan's `queue_cost` past the highest priority among its jobs still waiting there: an organization's
    k-th waiting job gets k x cost, so organizations take turns (the ones with the lowest cost more often) and
    a backlog pushes back only its own organization's jobs. FIFO among equal priorities; within an
    organization its jobs keep their order.
    """
    plan = await plans.plan_of(session, settings, organization_id)
    last = await queries.last_pending_priority(session, organization_id, queue)
    return min(MAX_PRIORITY, last + plan.limits.queue_cost)


async def hand_over(session: AsyncSession, job_id: uuid.UUID, organization_id: uuid.UUID) -> None:
    """Ask the workers' reconcilers to queue this committed job now (its push to Redis failed).

    Through PostgreSQL (`NOTIFY`), which just committed the job, so the hand-over does not depend on Redis.
    Without a listening worker, the periodic reconciliation still finds the job.
    """
    await session.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {"channel": HANDOVER_CHANNEL, "payload": f"{job_id} {organization_id}"},
    )
    await session.commit()


async def enqueue_job(
    session: AsyncSession,
    runtime: JobsRuntime,
    *,
    organization_id: uuid.UUID,
    queue: str,
    name: str,
    payload: dict[str, Any],
    max_attempts: int | None = None,
    correlation_id: str | None = None,
    idempotency_key: str | None = None,
) -> Job:
    """Record a job in the caller's transaction and queue it once that transaction commits.

    `payload` holds ids only. Nothing reaches Redis if the transaction rolls back; if the push itself fails
    after COMMIT, the job stays `pending` in Postgres and the worker's reconciler queues it.
    """
    spec = get_queue(queue)
    priority = None
    if runtime.settings is not None:
        priority = await fair_priority(session, runtime.settings, organization_id, spec.name)
    job = await queries.insert(
        session,
        organization_id=organization_id,
        queue=spec.name,
        name=name,
        payload=payload,
        max_attempts=max_attempts or spec.max_attempts,
        correlation_id=correlation_id or get_request_id(),
        idempotency_key=idempotency_key,
        priority=priority,
    )
    job_id = str(job.id)
    message = job_message(job.id, organization_id, job.correlation_id)

    async def push() -> None:
        try:
            # Retries of a stale connection included, within the request path's Redis bound.
            await bounded(_push(runtime, spec.name, job_id, name, message, priority), runtime.timeout_s)
        except RedisError as exc:
            log.warning("job not queued; handed to the reconciler", job_id=job_id, error=str(exc))
            await hand_over(session, job.id, organization_id)

    after_commit(session, push)
    return job


async def replayed_job(
    session: AsyncSession, organization_id: uuid.UUID, key: str | None, *, name: str, repository_id: uuid.UUID
) -> Job | None:
    """The job an earlier request with this `Idempotency-Key` created, if any (then nothing new is created).

    The key names one request: reusing it for another kind of job or another repository is refused.
    """
    if key is None:
        return None
    job = await queries.by_idempotency_key(session, organization_id, key)
    if job is None:
        return None
    if job.name != name or job.payload.get("repository_id") != str(repository_id):
        raise Conflict("This Idempotency-Key was already used for a different request; use a new key.")
    return job


async def get_job(session: AsyncSession, job_id: uuid.UUID, organization_ids: Sequence[uuid.UUID]) -> Job:
    """The job if it belongs to one of `organization_ids`; another tenant's job is a 404 like a missing one."""
    job = await queries.get_in_organizations(session, job_id, organization_ids)
    if job is None:
        raise NotFound("Job not found.")
    return job


async def list_jobs(
    session: AsyncSession,
    organization_ids: Sequence[uuid.UUID],
    *,
    states: Sequence[str] | None = None,
    queue: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Job]:
    return await queries.list_for_organizations(
        session, organization_ids, states=states, queue=queue, limit=limit, offset=offset
    )


async def latest_for_repository(session: AsyncSession, repository: Repository, name: str) -> Job | None:
    """The repository's newest job called `name` (e.g. its latest pipeline generation), None before the first."""
    return await queries.latest_for_repository(session, repository.organization_id, name, repository.id)


def require_admin_role(role: str) -> None:
    """Dead-letter management is for owners and admins."""
    if role not in MANAGERS:
        raise Forbidden("Only organization owners and admins manage the dead-letter queue.")


def require_admin(job: Job, admin_organization_ids: Sequence[uuid.UUID]) -> None:
    """Dead-letter management is for owners and admins of the job's organization."""
    if job.organization_id not in admin_organization_ids:
        raise Forbidden("Only organization owners and admins manage the dead-letter queue.")


async def requeue_dead_letter(session: AsyncSession, runtime: JobsRuntime, job: Job) -> Job:
    """Give a dead letter a fresh attempt budget and queue it again (after COMMIT)."""
    if job.state != "dead_letter":
        raise NotFound("No such job in the dead-letter queue.")
    await queries.requeue(session, job)
    job_id = str(job.id)
    queue, name, priority = job.queue, job.name, job.priority
    message = job_message(job.id, job.organization_id, job.correlation_id)

    async def requeue() -> None:
        # The dead job still sits in bullmq's failed set under the same id; a fresh add needs it gone.
        await runtime.broker.remove(queue, job_id)
        with contextlib.suppress(RedisError):
            await runtime.bus.publish(job_id, "queued", percent=0, requeued=True)
        await runtime.broker.enqueue(queue, job_id, name, message, priority=priority)

    async def push() -> None:
        try:
            await bounded(requeue(), runtime.timeout_s)
        except RedisError as exc:
            log.warning("requeued job not queued; handed to the reconciler", job_id=job_id, error=str(exc))
            await hand_over(session, job.id, job.organization_id)

    after_commit(session, push)
    return job


async def purge_dead_letters(session: AsyncSession, runtime: JobsRuntime, jobs: Sequence[Job]) -> int:
    """Delete these dead letters from Postgres and from Redis's failed set (after COMMIT)."""
    dead = [job for job in jobs if job.state == "dead_letter"]
    count = await queries.delete_dead_letters(session, [job.id for job in dead])
    targets = [(job.queue, str(job.id)) for job in dead]

    async def drop() -> None:
        # A dead job Redis keeps after its row is gone is never delivered again (nothing requeues it).
        try:
            removals = asyncio.gather(*(runtime.broker.remove(queue, job_id) for queue, job_id in targets))
            await bounded(removals, runtime.timeout_s * 2)
        except RedisError as exc:
            log.warning("purged dead letters left in Redis", count=len(targets), error=str(exc))

    after_commit(session, drop)
    return count
