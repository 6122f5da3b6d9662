"""Operator access to the dead-letter queue across organizations (`autodevops dlq ...`).

The CLI finds dead letters through the narrow `app_jobs_in_states` lookup (ids and organizations only), which
only the maintenance role may execute, and then reads and changes each job as the app role in a session bound
to that job's organization, so row-level security applies to every row it touches.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from autodevops.db import Database, tenant_session
from autodevops.jobs import queries, service
from autodevops.jobs.service import JobsRuntime
from autodevops.models import Job, utcnow

MAX_ROWS = 10_000


@dataclass(frozen=True, slots=True)
class Databases:
    """The maintenance role's database (finding jobs across organizations) and the app role's (each job)."""

    app: Database
    maintenance: Database


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: uuid.UUID
    organization_id: uuid.UUID
    queue: str
    name: str
    attempts: int
    last_error: str | None
    payload: dict[str, object]
    correlation_id: str | None
    finished_at: str | None

    @classmethod
    def of(cls, job: Job) -> DeadLetter:
        return cls(
            id=job.id,
            organization_id=job.organization_id,
            queue=job.queue,
            name=job.name,
            attempts=job.attempts,
            last_error=job.last_error,
            payload=dict(job.payload),
            correlation_id=job.correlation_id,
            finished_at=job.finished_at.isoformat() if job.finished_at else None,
        )


async def _dead_ids(databases: Databases) -> list[tuple[uuid.UUID, uuid.UUID]]:
    async with databases.maintenance.sessionmaker() as session:
        rows = await queries.in_states_across_organizations(
            session, ["dead_letter"], created_before=utcnow(), limit=MAX_ROWS
        )
        result = [(row.id, row.organization_id) for row in rows]
        await session.rollback()
    return result


async def _organization_of(databases: Databases, job_id: uuid.UUID) -> uuid.UUID | None:
    return next((org for jid, org in await _dead_ids(databases) if jid == job_id), None)


async def list_dead_letters(databases: Databases, *, queue: str | None = None) -> list[DeadLetter]:
    """Every dead letter, newest first."""
    found: list[DeadLetter] = []
    for job_id, organization_id in await _dead_ids(databases):
        async with tenant_session(databases.app, organization_id=organization_id) as session:
            job = await queries.get(session, job_id)
            if job is not None and job.state == "dead_letter" and (queue is None or job.queue == queue):
                found.append(DeadLetter.of(job))
    found.sort(key=lambda d: d.finished_at or "", reverse=True)
    return found


async def show_dead_letter(databases: Databases, job_id: uuid.UUID) -> DeadLetter | None:
    organization_id = await _organization_of(databases, job_id)
    if organization_id is None:
        return None
    async with tenant_session(databases.app, organization_id=organization_id) as session:
        job = await queries.get(session, job_id)
        return DeadLetter.of(job) if job is not None and job.state == "dead_letter" else None


async def requeue(databases: Databases, runtime: JobsRuntime, job_ids: list[uuid.UUID] | None) -> list[uuid.UUID]:
    """Requeue the given dead letters (all of them when `job_ids` is None). Returns the ids requeued."""
    done: list[uuid.UUID] = []
    for job_id, organization_id in await _dead_ids(databases):
        if job_ids is not None and job_id not in job_ids:
            continue
        async with tenant_session(databases.app, organization_id=organization_id) as session:
            job = await queries.get(session, job_id, for_update=True)
            if job is not None and job.state == "dead_letter":
                await service.requeue_dead_letter(session, runtime, job)
                done.append(job_id)
    return done


async def purge(databases: Databases, runtime: JobsRuntime, job_ids: list[uuid.UUID] | None) -> int:
    """Delete the given dead letters (all of them when `job_ids` is None). Returns how many went."""
    count = 0
    for job_id, organization_id in await _dead_ids(databases):
        if job_ids is not None and job_id not in job_ids:
            continue
        async with tenant_session(databases.app, organization_id=organization_id) as session:
            job = await queries.get(session, job_id, for_update=True)
            if job is not None:
                count += await service.purge_dead_letters(session, runtime, [job])
    return count
