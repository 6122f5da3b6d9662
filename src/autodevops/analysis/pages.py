"""The analysis run page: live progress of the job (Server-Sent Events) and the result once it is stored."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from autodevops.ai.status import analysis_review
from autodevops.analysis import service
from autodevops.jobs import service as jobs_service
from autodevops.jobs.progress import ANALYSIS_STEPS, progress_context
from autodevops.organization import service as organization_service
from autodevops.repository import service as repository_service
from autodevops.ui import PageRoute, PageViewer, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/analyses/{analysis_id}")
async def analysis_page(request: Request, analysis_id: uuid.UUID, viewer: PageViewer) -> HTMLResponse:
    analysis = await service.get_analysis(viewer.session, viewer.user, analysis_id)
    repository = await repository_service.get_repository(viewer.session, viewer.user, analysis.repository_id)
    membership = await organization_service.get_membership(viewer.session, viewer.user, analysis.organization_id)
    job = (
        await jobs_service.get_job(viewer.session, analysis.job_id, [analysis.organization_id])
        if analysis.job_id is not None
        else None
    )
    context = {
        "analysis": analysis,
        "repository": repository,
        "result": analysis.result,
        "review": await analysis_review(viewer.session, viewer.user, analysis.id),
        "progress": progress_context(job, ANALYSIS_STEPS, result_url=f"/analyses/{analysis.id}/result")
        if job is not None
        else None,
    }
    return render(request, "analysis.html", context, viewer=viewer, organization=membership)


@router.get("/analyses/{analysis_id}/result")
async def analysis_result_fragment(request: Request, analysis_id: uuid.UUID, viewer: PageViewer) -> HTMLResponse:
    """The result section alone: the progress script swaps it in when the job is done (no reload)."""
    analysis = await service.get_analysis(viewer.session, viewer.user, analysis_id)
    review = await analysis_review(viewer.session, viewer.user, analysis.id)
    context = {"analysis": analysis, "result": analysis.result, "review": review}
    return render(request, "analysis_fragment.html", context, viewer=viewer, fragment=True)
