"""Postgres is the record, Redis is the delivery mechanism: make Redis hold every job Postgres says is due.

The queue Redis keeps nothing on disk. After a restart or a `FLUSHALL` it has forgotten every waiting, delayed
and running job; the `jobs` table has not. On worker start and then periodically, the reconciler lists the
unfinished jobs (`pending`, `active`, `failed` awaiting a retry) and re-enqueues each one Redis does not know.
Re-enqueueing is safe to repeat: the bullmq job id is the job's id (a second add is a no-op) and a delivery of
a job that already finished is acknowledged without running it.

A job that failed and awaits its retry is re-enqueued with the rest of its delay (from its last update and
the un-jittered schedule). A job Redis lists in its own `failed` set while Postgres still has it unfinished
died in a way the worker could not record (its row is moved to `dead_letter`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from autodevops.config import Settings
from autodevops.db import Database, tenant_session
from autodevops.jobs import metrics, queries
from autodevops.jobs.broker import Broker
from autodevops.jobs.queues import BY_NAME
from autodevops.jobs.retry import base_delay_s
from autodevops.logging import get_logger
from autodevops.models import utcnow

log = get_logger(__name__)

# The PostgreSQL channel on which a process that committed a job but could not push it hands it over
# (payload: "<job id> <organization id>"); every worker listens and queues it at once.
HANDOVER_CHANNEL = "autodevops_job_handover"
# Jobs younger than this are left alone: their enqueue may still be on its way (it runs after COMMIT).
MIN_AGE_S = 5.0
BATCH = 1000
# The advisory lock that lets one reconciliation pass run at a time across every worker.
RECONCILE_LOCK_KEY = 0x6A6F62735F726563  # "jobs_rec"


@dataclass(slots=True)
class ReconcileReport:
    checked: int = 0
    requeued: list[str] = field(default_factory=list)
    dead_lettered: list[str] = field(default_factory=list)
    skipped: bool = False  # another worker's pass was running


class Reconciler:
    """Lists unfinished jobs through the maintenance role (its own small pool, `close()` it), then reads and
    changes each job as the app role bound to the job's organization."""

    def __init__(self, settings: Settings, database: Database, broker: Broker) -> None:
        self.settings = settings
        self.database = database
        self.maintenance = Database.maintenance(settings)
        self.broker = broker
        self.scale = settings.jobs_time_scale
        # Jobs handed over whose push has not succeeded yet: retried on every stalled-job check.
        self.handed_over: dict[uuid.UUID, uuid.UUID] = {}

    async def take_over(self, payload: str) -> None:
        """A job another process committed but could not push (`HANDOVER_CHANNEL`): queue it now."""
        try:
            job_text, organization_text = payload.split()
            self.handed_over[uuid.UUID(job_text)] = uuid.UUID(organization_text)
        except ValueError:
            log.warning("ignoring a malformed job hand-over", payload=payload[:100])
            return
        await self.push_handed_over()

    async def push_handed_over(self) -> None:
        """Queue the handed-over jobs; those Redis still refuses stay for the next call."""
        for job_id, organization_id in list(self.handed_over.items()):
            try:
                await self._requeue(job_id, organization_id)
            except Exception as exc:  # noqa: BLE001 - Redis or PostgreSQL away: try again at the next call
                log.warning("handed-over job not queued yet", job_id=str(job_id), error=str(exc))
                continue
            self.handed_over.pop(job_id, None)
            log.info("handed-over job queued", job_id=str(job_id))

    async def close(self) -> None:
        await self.maintenance.dispose()

    async def run_once(self, *, min_age_s: float | None = None) -> ReconcileReport:
        """One pass over the unfinished jobs, unless another worker's pass is running (`skipped`)."""
        # Every worker reconciles; one at a time is enough (and spares Redis and PostgreSQL the same work N
        # times over). The lock is a transaction's: it is freed with the pass, or with a worker that dies.
        async with self.database.engine.connect() as conn:
            if not await conn.scalar(select(func.pg_try_advisory_xact_lock(RECONCILE_LOCK_KEY))):
                return ReconcileReport(skipped=True)
            try:
                return await self._pass(min_age_s)
            finally:
                await conn.rollback()

    async def _pass(self, min_age_s: float | None) -> ReconcileReport:
        age = MIN_AGE_S * self.scale if min_age_s is None else min_age_s
        before = utcnow() - timedelta(seconds=age)
        async with self.maintenance.sessionmaker() as session:
            rows = await queries.in_states_across_organizations(
                session, queries.UNFINISHED_STATES, created_before=before, limit=BATCH
            )
            await session.rollback()
        report = ReconcileReport(checked=len(rows))
        for job_id, organization_id, queue, _state in rows:
            if queue not in BY_NAME:
                continue
            redis_state = await self.broker.state(queue, str(job_id))
            if redis_state is None:
                if await self._requeue(job_id, organization_id):
                    report.requeued.append(str(job_id))
            elif redis_state == "failed" and await self._dead_letter(job_id, organization_id, queue, before):
                report.dead_lettered.append(str(job_id))
        if report.requeued or report.dead_lettered:
            metrics.RECONCILED.inc(len(report.requeued))
            log.warning(
                "reconciled jobs with Redis",
                requeued=len(report.requeued),
                dead_lettered=len(report.dead_lettered),
                checked=report.checked,
            )
        return report

    async def _requeue(self, job_id: uuid.UUID, organization_id: uuid.UUID) -> bool:
        async with tenant_session(self.database, organization_id=organization_id) as session:
            job = await queries.get(session, job_id)
            if job is None or job.state not in queries.UNFINISHED_STATES:
                return False
            delay_s = 0.0
            if job.state == "failed":
                due = job.updated_at + timedelta(seconds=base_delay_s(job.attempts + 1) * self.scale)
                delay_s = max(0.0, (due - utcnow()).total_seconds())
            queue, name, priority = job.queue, job.name, job.priority
            data = job_message(job.id, job.organization_id, job.correlation_id)
        await self.broker.enqueue(queue, str(job_id), name, data, delay_s=delay_s, priority=priority)
        return True

    async def _dead_letter(
        self, job_id: uuid.UUID, organization_id: uuid.UUID, queue: str, unchanged_since: datetime
    ) -> bool:
        reason = await self.broker.failed_reason(queue, str(job_id)) or "failed in the queue"
        async with tenant_session(self.database, organization_id=organization_id) as session:
            job = await queries.get(session, job_id, for_update=True)
            if job is None or job.state not in queries.UNFINISHED_STATES:
                return False
            # A row changed since the pass's cutoff is in someone's hands: a dead letter requeued a moment ago is
            # `pending` in Postgres while bullmq still lists its old failed entry, until the requeue (after its
            # COMMIT) removes that and adds it again. Killing it now would undo the requeue.
            if job.updated_at > unchanged_since:
                return False
            await queries.mark_dead(session, job, reason)
        metrics.JOB_DEAD_LETTERS.labels(queue).inc()
        return True


def job_message(job_id: uuid.UUID, organization_id: uuid.UUID, correlation_id: str | None) -> dict[str, str]:
    """What a queued job carries: ids only (the worker reads the rest from its row)."""
    message = {"job_id": str(job_id), "organization_id": str(organization_id)}
    if correlation_id:
        message["correlation_id"] = correlation_id
    return message
