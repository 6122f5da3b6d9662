"""SQL for the `jobs` table: the durable record of every job. The only place jobs SQL is built.

Every function runs in the caller's session (a request's, or a job's tenant-bound one): row-level security
decides what is visible, and callers still scope by organization.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.db import add_or_conflict
from autodevops.models import Job, utcnow

# `failed` is an attempt that failed with attempts left: it becomes `active` again when its retry starts.
UNFINISHED_STATES = ("pending", "active", "failed")
_IN_STATES = text("SELECT id, organization_id, queue, state FROM app_jobs_in_states(:states, :before, :limit)")


async def insert(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    queue: str,
    name: str,
    payload: dict[str, Any],
    max_attempts: int,
    correlation_id: str | None,
    idempotency_key: str | None = None,
    priority: int | None = None,
) -> Job:
    job_id = uuid.uuid4()
    job = Job(
        id=job_id,
        organization_id=organization_id,
        queue=queue,
        name=name,
        payload=payload,
        state="pending",
        attempts=0,
        max_attempts=max_attempts,
        correlation_id=correlation_id,
        bullmq_job_id=str(job_id),
        idempotency_key=idempotency_key,
        priority=priority,
    )
    if idempotency_key is None:
        session.add(job)
        await session.flush()
    else:
        # Two requests with the same key at once: the second one's insert is refused, it retries and replays.
        await add_or_conflict(
            session, job, "A request with this Idempotency-Key is being processed; retry it in a moment."
        )
    return job


async def by_idempotency_key(session: AsyncSession, organization_id: uuid.UUID, key: str) -> Job | None:
    statement = select(Job).where(Job.organization_id == organization_id, Job.idempotency_key == key)
    job: Job | None = (await session.execute(statement)).scalar_one_or_none()
    return job


async def last_pending_priority(session: AsyncSession, organization_id: uuid.UUID, queue: str) -> int:
    """The highest priority among the organization's pending jobs in `queue`; 0 when it has none waiting."""
    found = await session.scalar(
        select(func.max(Job.priority)).where(
            Job.organization_id == organization_id, Job.queue == queue, Job.state == "pending"
        )
    )
    return int(found or 0)


async def get(session: AsyncSession, job_id: uuid.UUID, *, for_update: bool = False) -> Job | None:
    statement = select(Job).where(Job.id == job_id)
    if for_update:
        statement = statement.with_for_update()
    job: Job | None = (await session.execute(statement)).scalar_one_or_none()
    return job


async def get_in_organizations(
    session: AsyncSession, job_id: uuid.UUID, organization_ids: Sequence[uuid.UUID]
) -> Job | None:
    statement = select(Job).where(Job.id == job_id, Job.organization_id.in_(list(organization_ids)))
    job: Job | None = (await session.execute(statement)).scalar_one_or_none()
    return job


async def list_for_organizations(
    session: AsyncSession,
    organization_ids: Sequence[uuid.UUID],
    *,
    states: Sequence[str] | None = None,
    queue: str | None = None,
    limit: int,
    offset: int,
) -> list[Job]:
    """A page of jobs, newest first."""
    conditions: list[ColumnElement[bool]] = [Job.organization_id.in_(list(organization_ids))]
    if states:
        conditions.append(Job.state.in_(list(states)))
    if queue:
        conditions.append(Job.queue == queue)
    rows = await session.execute(
        select(Job).where(*conditions).order_by(Job.created_at.desc(), Job.id).limit(limit).offset(offset)
    )
    return list(rows.scalars())


async def latest_for_repository(
    session: AsyncSession, organization_id: uuid.UUID, name: str, repository_id: uuid.UUID
) -> Job | None:
    """The newest job called `name` about one repository (its payload's `repository_id`)."""
    statement = (
        select(Job)
        .where(
            Job.organization_id == organization_id,
            Job.name == name,
            Job.payload["repository_id"].astext == str(repository_id),
        )
        .order_by(Job.created_at.desc(), Job.id)
        .limit(1)
    )
    job: Job | None = (await session.execute(statement)).scalar_one_or_none()
    return job


async def in_states_across_organizations(
    session: AsyncSession, states: Sequence[str], *, created_before: datetime, limit: int
) -> Sequence[Row[uuid.UUID, uuid.UUID, str, str]]:
    """(id, organization_id, queue, state) of every organization's jobs in `states`, oldest first.

    Through `app_jobs_in_states`, a narrow security-definer lookup that only the maintenance role may execute
    (`session` is of `Database.maintenance`): the reconciler and operator tools find jobs across tenants with
    it, then read and change each one in an app-role session bound to its organization.
    """
    rows = await session.execute(_IN_STATES, {"states": list(states), "before": created_before, "limit": limit})
    return rows.all()


async def claim(session: AsyncSession, job_id: uuid.UUID) -> Row[Any] | None:
    """Start an attempt of a runnable job in one statement: `active`, attempts + 1.

    Returns (queue, name, attempts, max_attempts, payload, correlation_id, last_error), or None when the job
    is missing, finished, or out of attempts (the caller then looks at the row to say which).
    """
    now = func.clock_timestamp()  # the moment itself, not the transaction's start
    statement = (
        update(Job)
        .where(Job.id == job_id, Job.state.in_(UNFINISHED_STATES), Job.attempts < Job.max_attempts)
        .values(state="active", attempts=Job.attempts + 1, started_at=now, finished_at=None, updated_at=now)
        .returning(Job.queue, Job.name, Job.attempts, Job.max_attempts, Job.payload, Job.correlation_id, Job.last_error)
        .execution_options(synchronize_session=False)
    )
    row: Row[Any] | None = (await session.execute(statement)).one_or_none()
    return row


async def give_back_attempt(session: AsyncSession, job_id: uuid.UUID) -> None:
    """An attempt a database outage cut short does not count: back to `pending`, attempts - 1."""
    await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == "active", Job.attempts > 0)
        .values(state="pending", attempts=Job.attempts - 1, updated_at=func.clock_timestamp())
        .execution_options(synchronize_session=False)
    )


async def complete(session: AsyncSession, job_id: uuid.UUID) -> None:
    """The running attempt succeeded (one statement; the caller holds the job's advisory lock)."""
    now = func.clock_timestamp()  # the moment itself, not the transaction's start
    await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == "active")
        .values(state="completed", last_error=None, finished_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def mark_retry(session: AsyncSession, job: Job, error: str) -> None:
    """The attempt failed and another one is scheduled."""
    job.state = "failed"
    job.last_error = error
    await session.flush()


async def mark_dead(session: AsyncSession, job: Job, error: str) -> None:
    job.state = "dead_letter"
    job.last_error = error
    job.finished_at = utcnow()
    await session.flush()


async def mark_released(session: AsyncSession, job: Job) -> None:
    """Give an interrupted attempt back (graceful shutdown): the job waits again and the attempt is not counted."""
    job.state = "pending"
    job.attempts = max(0, job.attempts - 1)
    await session.flush()


async def requeue(session: AsyncSession, job: Job) -> None:
    """A dead letter back to pending with a fresh attempt budget."""
    job.state = "pending"
    job.attempts = 0
    job.finished_at = None
    job.started_at = None
    await session.flush()


async def delete_dead_letters(session: AsyncSession, job_ids: Sequence[uuid.UUID]) -> int:
    """Purge: delete these dead letters (only rows still in `dead_letter`). Returns how many went."""
    if not job_ids:
        return 0
    result = await session.execute(
        delete(Job)
        .where(Job.id.in_(list(job_ids)), Job.state == "dead_letter")
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
