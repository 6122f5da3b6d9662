"""Job endpoints: start analyses and pipeline generation (202), read jobs, follow them live, manage dead letters.

Every job is scoped to the caller's organizations: another tenant's job (or its event stream) is a 404.
Dead-letter management is for owners and admins of the job's organization.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from redis.exceptions import RedisError

from autodevops.auth.dependencies import CurrentUser
from autodevops.config import Settings
from autodevops.db import DBSession, get_database, tenant_of, tenant_session
from autodevops.errors import NotFound, ServiceUnavailable
from autodevops.jobs import queries, service
from autodevops.jobs.events import JobEvent, valid_event_id
from autodevops.jobs.metrics import QUEUE_DEPTH
from autodevops.jobs.queues import QUEUE_NAMES
from autodevops.jobs.schemas import DeadLetterResult, JobRead, JobState
from autodevops.jobs.service import JobsRuntime
from autodevops.logging import get_logger
from autodevops.models import Job, User
from autodevops.organization import queries as organization_queries
from autodevops.organization.service import MANAGERS
from autodevops.pagination import Page, Pagination, to_page
from autodevops.repository import service as repository_service

log = get_logger(__name__)


@asynccontextmanager
async def jobs_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Merged into the app's lifespan by `include_router`: the queue clients and the queue-depth metrics."""
    settings: Settings = app.state.settings
    runtime = JobsRuntime.from_settings(settings)
    app.state.jobs_runtime = runtime
    QUEUE_DEPTH.bind(settings.effective_queue_redis_url, settings.jobs_key_prefix)
    try:
        yield
    finally:
        QUEUE_DEPTH.bind(None)
        app.state.jobs_runtime = None
        await runtime.close()


router = APIRouter(tags=["jobs"], lifespan=jobs_lifespan)

# An SSE connection re-checks the job's durable state (and sends a keep-alive comment) this often.
SSE_POLL_MS = 15_000
_FINISHED = {"completed": "done", "dead_letter": "failed"}


def jobs_runtime(request: Request) -> JobsRuntime:
    """The app's queue clients (created by `jobs_lifespan`)."""
    runtime: JobsRuntime | None = getattr(request.app.state, "jobs_runtime", None)
    if runtime is None:
        raise ServiceUnavailable("The job queue is not available.")
    return runtime


async def _scope(session: DBSession, user: User) -> dict[uuid.UUID, str]:
    return await organization_queries.roles_by_organization(session, user.id)


def _admin_orgs(roles: dict[uuid.UUID, str]) -> list[uuid.UUID]:
    return [org for org, role in roles.items() if role in MANAGERS]


def _accepted(response: Response, job: Job) -> JobRead:
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return JobRead.model_validate(job)


# ---- starting work ----------------------------------------------------------------------------------------
# A client that retries a POST below with the same key gets the job its first request created.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=r"^[\x21-\x7e]{1,255}$",
        description="Retrying with the same key returns the job the first request created (printable ASCII, "
        "up to 255 characters, unique per organization).",
    ),
]


@router.post("/repositories/{repository_id}/analyses", response_model=JobRead, status_code=status.HTTP_202_ACCEPTED)
async def start_analysis(
    repository_id: uuid.UUID,
    request: Request,
    response: Response,
    user: CurrentUser,
    session: DBSession,
    idempotency_key: IdempotencyKey = None,
) -> JobRead:
    """Analyze the repository in the background. Follow the returned job (or its `/events`)."""
    from autodevops.analysis.tasks import NAME, submit

    repository = await repository_service.get_repository(session, user, repository_id)
    job = await service.replayed_job(
        session, repository.organization_id, idempotency_key, name=NAME, repository_id=repository.id
    )
    if job is None:
        job, _analysis = await submit(session, jobs_runtime(request), repository, idempotency_key=idempotency_key)
    return _accepted(response, job)


@router.post("/repositories/{repository_id}/pipelines", response_model=JobRead, status_code=status.HTTP_202_ACCEPTED)
async def start_pipeline_generation(
    repository_id: uuid.UUID,
    request: Request,
    response: Response,
    user: CurrentUser,
    session: DBSession,
    idempotency_key: IdempotencyKey = None,
) -> JobRead:
    """Generate the pipeline from the repository's latest successful analysis (409 without one)."""
    from autodevops.pipeline.tasks import NAME, submit

    repository = await repository_service.get_repository(session, user, repository_id)
    job = await service.replayed_job(
        session, repository.organization_id, idempotency_key, name=NAME, repository_id=repository.id
    )
    if job is None:
        job = await submit(session, jobs_runtime(request), repository, idempotency_key=idempotency_key)
    return _accepted(response, job)


@router.post("/repositories/{repository_id}/sync", response_model=JobRead, status_code=status.HTTP_202_ACCEPTED)
async def start_sync(
    repository_id: uuid.UUID,
    request: Request,
    response: Response,
    user: CurrentUser,
    session: DBSession,
    idempotency_key: IdempotencyKey = None,
) -> JobRead:
    """Refresh the repository's metadata (default branch) from its remote."""
    from autodevops.repository.tasks import NAME, submit

    repository = await repository_service.get_repository(session, user, repository_id)
    job = await service.replayed_job(
        session, repository.organization_id, idempotency_key, name=NAME, repository_id=repository.id
    )
    if job is None:
        job = await submit(session, jobs_runtime(request), repository, idempotency_key=idempotency_key)
    return _accepted(response, job)


# ---- reading jobs -------------------------------------------------------------------------------------------
@router.get("/jobs", response_model=Page[JobRead])
async def list_jobs(
    user: CurrentUser,
    session: DBSession,
    page: Pagination,
    state: Annotated[list[JobState] | None, Query(description="Only jobs in these states.")] = None,
    queue: Annotated[str | None, Query(description="Only this queue's.", pattern="^[a-z_]{1,32}$")] = None,
    organization_id: Annotated[uuid.UUID | None, Query(description="Only this organization's.")] = None,
) -> Page[JobRead]:
    """The caller's organizations' jobs, newest first."""
    roles = await _scope(session, user)
    orgs = [org for org in roles if organization_id is None or org == organization_id]
    if queue is not None and queue not in QUEUE_NAMES:
        orgs = []
    rows = await service.list_jobs(session, orgs, states=state, queue=queue, limit=page.limit + 1, offset=page.offset)
    return to_page(rows, page, JobRead.model_validate)


@router.get("/jobs/{job_id}", response_model=JobRead)
async def get_job(job_id: uuid.UUID, user: CurrentUser, session: DBSession) -> JobRead:
    roles = await _scope(session, user)
    return JobRead.model_validate(await service.get_job(session, job_id, list(roles)))


UNAVAILABLE = "Live progress is unavailable right now; reconnect to resume."
STOPPING = "The server is restarting; reconnect to resume."


async def _unless_stopping(request: Request, read: Awaitable[list[JobEvent]]) -> list[JobEvent] | None:
    """`read`'s events, or None when the server starts stopping first (the read is then cancelled)."""
    stopping: asyncio.Event | None = getattr(request.app.state, "stopping", None)
    if stopping is None:
        return await read
    reading = asyncio.ensure_future(read)
    stop = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait({reading, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    if reading.done():
        return reading.result()
    # Not awaited: redis-py may not give up a blocking read when cancelled (it can swallow the cancellation).
    reading.cancel()
    reading.add_done_callback(_ignore_outcome)
    return None


def _ignore_outcome(task: asyncio.Future[list[JobEvent]]) -> None:
    if not task.cancelled():
        task.exception()


def _now() -> str:
    """The server's time, as event data's `at` (ISO 8601 UTC)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fallback(state: str | None, detail: str) -> str:
    """The last message of a stream that ends before its job does: how the job ended, or where it stands."""
    if state in _FINISHED:
        data = json.dumps({"stage": _FINISHED[state], "state": state, "replayed": False, "at": _now()})
        return f"event: {_FINISHED[state]}\ndata: {data}\n\n"
    return f"event: unavailable\ndata: {json.dumps({'state': state, 'detail': detail, 'at': _now()})}\n\n"


def _sse(event: JobEvent) -> str:
    data = {**event.data, "at": event.at}
    return f"id: {event.id}\nevent: {event.stage}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@router.get(
    "/jobs/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events until the job ends."}},
)
async def job_events(
    job_id: uuid.UUID,
    request: Request,
    user: CurrentUser,
    session: DBSession,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=64)] = None,
) -> StreamingResponse:
    """Live progress (`queued`, `active`, `cloning`, `analyzing`, `generating`, `done`/`failed`) as SSE.

    Each event's `id` resumes the stream: reconnect with `Last-Event-ID` to get only what came after it.
    Without it the stream starts at the job's latest run: a requeued dead letter's earlier attempts (and their
    `failed`) are history, not its progress. Every event's data carries `at`, when the server stored it.
    The stream ends after the terminal event (`done` or `failed`).
    """
    roles = await _scope(session, user)
    job = await service.get_job(session, job_id, list(roles))
    runtime = jobs_runtime(request)
    database = get_database(request)
    context = tenant_of(session)  # how the user authenticated decides what they reach (single sign-on)
    start = valid_event_id(last_event_id)

    async def durable_state() -> str | None:
        async with tenant_session(database, context=context) as fresh:
            row = await queries.get(fresh, job_id)
            return row.state if row is not None else None

    async def stream() -> AsyncIterator[str]:
        after = start
        if after is None:
            with contextlib.suppress(RedisError):  # unreachable now: the read below reports it
                after = await runtime.stream.latest_run_start(str(job_id))
        state: str | None = job.state
        yield "retry: 3000\n\n"
        while True:
            try:
                events = await runtime.stream.read(str(job_id), after=after)
                if not events and state not in _FINISHED:
                    waiting = await _unless_stopping(
                        request, runtime.stream.read(str(job_id), after=after, block_ms=SSE_POLL_MS)
                    )
                    if waiting is None:  # the server is stopping: end the stream, the client reconnects elsewhere
                        yield _fallback(await durable_state(), STOPPING)
                        return
                    events = waiting
            except RedisError as error:
                # Live events are out of reach (reconnects included): say where the job stands from its durable
                # record, and end the stream cleanly; the client's reconnect resumes from its last event.
                log.warning("job events unavailable; ending the stream", job_id=str(job_id), error=str(error))
                yield _fallback(await durable_state(), UNAVAILABLE)
                return
            for event in events:
                yield _sse(event)
                after = event.id
                if event.terminal:
                    return
            if not events:
                state = await durable_state()
                if state is None:
                    return
                if state in _FINISHED:
                    # Finished but its events are gone (expired, or Redis lost them): say how it ended.
                    data = json.dumps({"stage": _FINISHED[state], "state": state, "replayed": False, "at": _now()})
                    yield f"event: {_FINISHED[state]}\ndata: {data}\n\n"
                    return
                yield ": keep-alive\n\n"
            if await request.is_disconnected():
                return

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


# ---- dead-letter queue (organization owners and admins) -----------------------------------------------------
@router.get("/organizations/{organization_id}/dead-letters", response_model=Page[JobRead])
async def list_dead_letters(
    organization_id: uuid.UUID, user: CurrentUser, session: DBSession, page: Pagination
) -> Page[JobRead]:
    """Jobs of the organization that used up their attempts, with their last error."""
    orgs = await _managed(session, user, organization_id)
    rows = await service.list_jobs(session, orgs, states=["dead_letter"], limit=page.limit + 1, offset=page.offset)
    return to_page(rows, page, JobRead.model_validate)


@router.post("/organizations/{organization_id}/dead-letters/requeue", response_model=DeadLetterResult)
async def requeue_all_dead_letters(
    organization_id: uuid.UUID, request: Request, user: CurrentUser, session: DBSession
) -> DeadLetterResult:
    """Requeue every dead letter of the organization with a fresh attempt budget."""
    orgs = await _managed(session, user, organization_id)
    runtime = jobs_runtime(request)
    rows = await service.list_jobs(session, orgs, states=["dead_letter"], limit=10_000)
    for job in rows:
        await service.requeue_dead_letter(session, runtime, job)
    return DeadLetterResult(count=len(rows))


@router.delete("/organizations/{organization_id}/dead-letters", response_model=DeadLetterResult)
async def purge_dead_letters(
    organization_id: uuid.UUID, request: Request, user: CurrentUser, session: DBSession
) -> DeadLetterResult:
    """Delete every dead letter of the organization."""
    orgs = await _managed(session, user, organization_id)
    rows = await service.list_jobs(session, orgs, states=["dead_letter"], limit=10_000)
    return DeadLetterResult(count=await service.purge_dead_letters(session, jobs_runtime(request), rows))


@router.post("/jobs/{job_id}/requeue", response_model=JobRead, status_code=status.HTTP_202_ACCEPTED)
async def requeue_job(job_id: uuid.UUID, request: Request, user: CurrentUser, session: DBSession) -> JobRead:
    """Requeue one dead letter (organization owners and admins)."""
    job = await _dead_letter_for_admin(session, user, job_id)
    return JobRead.model_validate(await service.requeue_dead_letter(session, jobs_runtime(request), job))


@router.delete("/jobs/{job_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def purge_job(job_id: uuid.UUID, request: Request, user: CurrentUser, session: DBSession) -> None:
    """Delete one dead letter (organization owners and admins). Only dead letters can be deleted."""
    job = await _dead_letter_for_admin(session, user, job_id)
    await service.purge_dead_letters(session, jobs_runtime(request), [job])


async def _managed(session: DBSession, user: User, organization_id: uuid.UUID) -> list[uuid.UUID]:
    roles = await _scope(session, user)
    if organization_id not in roles:
        raise NotFound("organization not found")
    service.require_admin_role(roles[organization_id])
    return [organization_id]


async def _dead_letter_for_admin(session: DBSession, user: User, job_id: uuid.UUID) -> Job:
    roles = await _scope(session, user)
    job = await service.get_job(session, job_id, list(roles))
    service.require_admin(job, _admin_orgs(roles))
    if job.state != "dead_letter":
        raise NotFound("No such job in the dead-letter queue.")
    return job
