"""Job pages: an organization's jobs (states, attempts, errors), one job live, and the dead-letter queue."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, get_args

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from autodevops.jobs import explain, service
from autodevops.jobs.endpoints import jobs_runtime
from autodevops.jobs.progress import progress_context
from autodevops.jobs.schemas import JobState
from autodevops.models import Job
from autodevops.organization import service as organization_service
from autodevops.repository import service as repository_service
from autodevops.ui import PageRoute, PageViewer, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

JOBS_PAGE = 100
DEAD_LETTERS_PAGE = 100
REQUEUE_ALL_LIMIT = 10_000
STATES: tuple[str, ...] = get_args(JobState)


def _repository_id(job: Job) -> uuid.UUID | None:
    value = job.payload.get("repository_id")
    try:
        return uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None


async def _titles(viewer: PageViewer, jobs: Sequence[Job]) -> dict[uuid.UUID, dict[str, str | None]]:
    """Per job: its human title, kind and repository name ("Analysis of acme/api")."""
    ids = {rid for rid in (_repository_id(job) for job in jobs) if rid is not None}
    names = await repository_service.repository_names(viewer.session, sorted(ids))
    result: dict[uuid.UUID, dict[str, str | None]] = {}
    for job in jobs:
        rid = _repository_id(job)
        name = names.get(rid) if rid is not None else None
        result[job.id] = {"title": explain.title(job, name), "kind": explain.kind(job), "repository": name}
    return result


@router.get("/orgs/{organization_id}/jobs")
async def jobs_page(
    request: Request,
    organization_id: uuid.UUID,
    viewer: PageViewer,
    state: Annotated[JobState | None, Query()] = None,
) -> HTMLResponse:
    membership = await organization_service.get_membership(viewer.session, viewer.user, organization_id)
    jobs = await service.list_jobs(
        viewer.session, [organization_id], states=[state] if state else None, limit=JOBS_PAGE
    )
    is_admin = membership.can_manage
    dead = (
        await service.list_jobs(viewer.session, [organization_id], states=["dead_letter"], limit=DEAD_LETTERS_PAGE)
        if is_admin
        else []
    )
    context = {
        "jobs": jobs,
        "dead_letters": dead,
        "is_admin": is_admin,
        "state": state,
        "states": STATES,
        "titles": await _titles(viewer, [*jobs, *dead]),
    }
    return render(request, "jobs.html", context, viewer=viewer, organization=membership)


@router.get("/jobs/{job_id}")
async def job_page(request: Request, job_id: uuid.UUID, viewer: PageViewer) -> HTMLResponse:
    organization_ids = [m.organization.id for m in viewer.memberships]
    job = await service.get_job(viewer.session, job_id, organization_ids)
    membership = await organization_service.get_membership(viewer.session, viewer.user, job.organization_id)
    next_url = None
    repository_id = job.payload.get("repository_id")
    if job.name == "pipeline.generate" and isinstance(repository_id, str):
        next_url = f"/repositories/{uuid.UUID(repository_id)}/pipeline"
    elif job.name == "analysis.run" and isinstance(job.payload.get("analysis_id"), str):
        next_url = f"/analyses/{uuid.UUID(job.payload['analysis_id'])}"
    context = {
        "job": job,
        "title": (await _titles(viewer, [job]))[job.id]["title"],
        "explanation": explain.explain(job.last_error) if job.state in ("failed", "dead_letter") else None,
        "readable_error": explain.readable_error(job.last_error),
        "progress": progress_context(job, next_url=next_url),
        "is_admin": membership.can_manage,
    }
    return render(request, "job.html", context, viewer=viewer, organization=membership)


@router.post("/jobs/{job_id}/requeue")
async def requeue(request: Request, job_id: uuid.UUID, viewer: PageViewer) -> Response:
    """Requeue one dead letter (owners and admins of its organization), then follow it live."""
    organization_ids = [m.organization.id for m in viewer.memberships]
    job = await service.get_job(viewer.session, job_id, organization_ids)
    admin_of = [m.organization.id for m in viewer.memberships if m.can_manage]
    service.require_admin(job, admin_of)
    await service.requeue_dead_letter(viewer.session, jobs_runtime(request), job)
    return redirect(f"/jobs/{job.id}", notice="Requeued: a new run starts from its first attempt.", request=request)


@router.post("/orgs/{organization_id}/dead-letters/requeue")
async def requeue_all(request: Request, organization_id: uuid.UUID, viewer: PageViewer) -> Response:
    membership = await organization_service.get_membership(viewer.session, viewer.user, organization_id)
    service.require_admin_role(membership.role)
    runtime = jobs_runtime(request)
    dead = await service.list_jobs(viewer.session, [organization_id], states=["dead_letter"], limit=REQUEUE_ALL_LIMIT)
    for job in dead:
        await service.requeue_dead_letter(viewer.session, runtime, job)
    count = len(dead)
    notice = f"{count} job{'s' if count != 1 else ''} requeued."
    return redirect(f"/orgs/{organization_id}/jobs", notice=notice, request=request)
